"""Small value readers shared by the field rules: counts in words, Roman numerals, days, ages."""

from __future__ import annotations

import re
from datetime import date

from text_to_num import text2num

from extractors.components import DOCUMENT
from extractors.quantities import NUMBER_PATTERN, parse_number

WORD_NUMBERS = {
    "one": 1, "single": 1, "once": 1, "two": 2, "twice": 2, "both": 2, "three": 3, "thrice": 3, "four": 4,
    "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}
ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "fourteenth": 14, "twentieth": 20,
}
# Roman numerals as case reports write them in patients' labels ("Case VII") and grades ("grade IV")
ROMAN_NUMERALS = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8, "ix": 9, "x": 10}
MAX_GRADE = 5


def roman_alternation(maximum: int = max(ROMAN_NUMERALS.values()), upper: bool = False) -> str:
    """The numerals up to ``maximum`` as a regular-expression alternation, longest first ("III" before "I")."""
    numerals = sorted((r for r, n in ROMAN_NUMERALS.items() if n <= maximum), key=len, reverse=True)
    return "|".join(r.upper() if upper else r for r in numerals)


COUNT = r"(?:\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|single|once|twice|thrice)"
# a grade: "3", "III", "IV" (matched case-insensitively by the rules that use it)
ROMAN_GRADE = roman_alternation(MAX_GRADE, upper=True)
GRADE = rf"(?:[1-5]|{ROMAN_GRADE})(?![\w])"
ORDINAL = "|".join(ORDINALS)  # "first|second|...": an ordinal word
# a day's number in words, up to a month: "day two", "days five, six, seven and nine", "day twenty-one"
_UNITS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_TEENS = ("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen")
DAY_WORD = "|".join(sorted({*_UNITS, *_TEENS, "twenty", "thirty", *(f"twenty-{u}" for u in _UNITS), "thirty-one"},
                           key=len, reverse=True))
# after the cells were given: "after the infusion", "post CAR-T", "following the CAR-T cell infusion", "after the cells"
AFTER_THE_INFUSION = r"""(?:after|post|following)\s+(?:the\s+)?
    (?:(?:(?:CAR[\s\-‐]?T(?:[\s\-‐]?cells?)?|cell|product)\s+)?(?:infusion|CAR[\s\-‐]?T)\b
      | (?:CAR[\s\-‐]?T\s+)?cells\b(?!\s+(?:of|from|in|were\s+(?:collected|harvested))\b))"""
DAY = re.compile(rf"""
    # not "hospital day 9" or "day 12 of admission": those count from admission, not from the infusion
    (?<!hospital\ )(?<!ICU\ )(?<!illness\ )(?<!admission\ )(?<!treatment\ )(?<!study\ )
    \b(?:(?:post-?infusion\s+)?days?|d|PID)\s?(?P<sign>[+\-−]?)\s?(?P<n>\d{{1,3}})\b  # "day +5", "D+5", "d5", "day −1",
    #                                                                                  "PID 5" (post-infusion day)
    (?!\s+(?:of|in)\s+(?:admission|hospitali[sz]ation|ICU|(?:the\s+)?illness|(?:the\s+)?stay))
  | \bdays?\s+(?P<word>{DAY_WORD})\b(?!-)                                            # "day two", "days five"
  | \b(?:on|by|from)\s+the\s+(?:(?:morning|afternoon|evening|night)\s+of\s+the\s+)?   # "on the fifth (and the sixth)
    (?:(?P<ord>{ORDINAL})|(?P<ord_n4>\d{{1,2}})(?:st|nd|rd|th))                          #  day(s)", "by the fourth day",
    \s+(?:and\s+(?:the\s+)?(?:{ORDINAL})\s+)?days?\b                                   #  "on the 4th day",
    #                                                                                  "on the afternoon of the fifth day"
  | \b(?:(?P<ord2>{ORDINAL})|(?P<ord_n>\d{{1,2}})(?:st|nd|rd|th))\s+day\s+(?:after|post|following)\b  # "the third
    #                                                                             (5th) day after infusion"
  | \b(?P<ord3>{ORDINAL})\s+post-?infusion\s+day\b                                    # "the first post-infusion day"
    # "30 h after infusion", "at 96 hours post CAR-T": terse reports count hours; day = completed days
  | \b(?:(?P<hours>\d{{1,4}})\s*(?:h|hrs?|hours?)|(?P<hour_words>[a-z]+(?:-[a-z]+)?)\s+hours?   # "30 h", "Seventy-two hours",
       |hour\s+(?P<hour_n>\d{{1,4}}))                                                    # "hour 30 after infusion"
    \s+{AFTER_THE_INFUSION}
    # "the day after the infusion", "two days after infusion": days counted from it
  | \b(?:the|a)\s+(?P<next_day>day)\s+{AFTER_THE_INFUSION}
  | \b(?:(?P<days_n>\d{{1,2}})|(?P<days_word>{DAY_WORD}))\s+days\s+{AFTER_THE_INFUSION}
    """, re.IGNORECASE | re.VERBOSE)


def count_value(text: str) -> int | None:
    text = text.lower().strip()
    if text.isdigit():
        return int(text)
    return WORD_NUMBERS.get(text)


def grade_value(text: str) -> int | None:
    text = text.strip()
    value = int(text) if text.isdigit() else ROMAN_NUMERALS.get(text.lower())
    return value if value is not None and 0 <= value <= MAX_GRADE else None


def number_in_words(words: str) -> int | None:
    """"seventy-two" -> 72, "five" -> 5; None for words that are no number."""
    try:
        return text2num(words.lower().replace("-", " "), "en")
    except ValueError:
        return None


def day_value(match: re.Match) -> int | None:
    if match.group("hours") is not None or match.group("hour_n") is not None:
        return int(match.group("hours") or match.group("hour_n")) // 24
    if match.group("hour_words") is not None:
        hours = number_in_words(match.group("hour_words"))
        return None if hours is None else hours // 24
    if match.group("n") is not None:
        value = int(match.group("n"))
        return -value if match.group("sign") in ("-", "−", "–") else value
    if match.group("word") is not None:
        return number_in_words(match.group("word"))
    if match.group("next_day") is not None:
        return 1
    if match.group("days_n") is not None or match.group("days_word") is not None:
        return count_value(match.group("days_n") or match.group("days_word")) or number_in_words(match.group("days_word"))
    if match.group("ord_n") is not None or match.group("ord_n4") is not None:
        return int(match.group("ord_n") or match.group("ord_n4"))
    return ORDINALS[(match.group("ord") or match.group("ord2") or match.group("ord3")).lower()]


# what follows a number that is no day in a list of days: "6.5", "6 mg", ", 1.0 plasma volume each", "1 PV"
# not a number of a measure: "530 pg/mL", "12 mg/dL", "3 L", "2 doses"
NOT_A_DAY_AFTER = r"(?![.,:]\d)(?!\s*(?:%|(?:mg|g|mL|L|h|hours|times|doses|plasma|PV|TPV)\b|[^\W\d_]{0,4}/[^\W\d_]))"  # not "19:00"
# the rest of a list after "days +5": ", +6 and +7"
DAY_LIST_TAIL = re.compile(rf"""
    \s*(?:,|and|&|to|–|-)\s*                     # ", " "and" "to"
    (?:(?:D|days?\s*)?(?P<sign>[+\-−]?)(?P<n>\d{{1,3}})\b  # "+6", "D7", "day 8"
      | (?:days?\s+)?(?P<word>{DAY_WORD})\b(?!-))  # ", six, seven and nine"
    {NOT_A_DAY_AFTER}
    """, re.VERBOSE)
# a list of days something was done on: "on days 3, 4 and 5", "on day +5 and day +6", "on day 4 and a second on day 5"
DAY_SERIES = re.compile(rf"""
    \b(?:days?|D)\s*[+]?\d{{1,3}}                                     # "days 3", "day +5", "D4"
    (?:\s*(?:,|and|&)\s*(?:again\s+|once\ more\s+)?                 # ", " "and again"
       (?:(?:a|the)\s+(?:second|third|fourth|fifth)\s+(?:\w+\s+)?on\s+   # "a second on", "on",
        |(?:(?:was\s+)?(?:repeated|continued)\s+)?on\s+)?                  #  "repeated on"
       (?:days?\s*|D\s*)?[+]?\d{{1,3}}\b{NOT_A_DAY_AFTER}                # "4", "day +6", "days 6", "D5"
    )+""", re.IGNORECASE | re.VERBOSE)


# between an hour count and the day that restates it: "20 hours after infusion, on day +1", "30 h post CAR-T (day 1)"
RESTATED_AS = re.compile(r"\s*[,(–—-]?\s*(?:i\.e\.,?\s*|that\s+is,?\s*|on\s+|or\s+)?")


def _restated(match: re.Match, matches: list[re.Match], text: str) -> bool:
    """Whether an hour count is restated as the day right after it, the day the account gives (hours counted as
    completed days may differ from it by one)."""
    hours = match.group("hours") is not None or match.group("hour_words") is not None
    following = [m for m in matches if m.start() >= match.end()]
    return hours and bool(following) and bool(RESTATED_AS.fullmatch(text, match.end(), following[0].start()))


def find_days(text: str) -> list[tuple[int, int, int]]:
    """(day, start, end) for every day reference in ``text`` ("days +5, +6 and +7" gives three)."""
    matches = [m for m in DAY.finditer(text) if day_value(m) is not None]
    matches = [m for m in matches if not _restated(m, matches, text)]
    found = [(day_value(m), m.start(), m.end()) for m in matches]
    for match in matches:
        position = match.end() if match.group("n") is not None or match.group("word") is not None else None
        while position is not None:
            tail = DAY_LIST_TAIL.match(text, position)
            number = ("n" if tail.group("n") else "word") if tail else None
            # a list goes on in its own way of writing days: "day +7, two sessions in all" names no day two
            written_as = "n" if match.group("n") is not None else "word"
            if not tail or number != written_as or any(m.start() <= tail.start(number) < m.end() for m in matches):
                break
            if number == "n":
                value = int(tail.group("n"))
                value = -value if tail.group("sign") in ("-", "−") else value
            else:
                value = number_in_words(tail.group("word"))
            found.append((value, tail.start(number), tail.end()))
            position = tail.end()
    return sorted(found, key=lambda d: d[1])


def day_series(text: str) -> list[tuple[list[int], int, int]]:
    """(days, start, end) for every list of two or more days in ``text``, its days in ascending order."""
    found = []
    for series in DAY_SERIES.finditer(text):
        days = {d for d, _, _ in find_days(series.group(0))}
        # "day +5 and again on +6": a bare number the day readers leave is a day of the list too
        days |= {int(n) for n in re.findall(r"\d{1,3}", series.group(0))}
        if len(days) >= 2:
            found.append((sorted(days), series.start(), series.end()))
    return found


MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
# "Jan", "January", "Sept.", "june"
_MONTH = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
DATE = re.compile(rf"""
    \b(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<m1>{_MONTH})(?:,?\s+(?P<y1>(?:19|20)\d{{2}}))?\b    # "12 March 2020", "3rd May"
  | \b(?P<m2>{_MONTH})\s+(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(?P<y2>(?:19|20)\d{{2}}))?\b  # "March 12, 2020", "May 3"
  | \b(?P<y3>(?:19|20)\d{{2}})-(?P<m3>\d{{2}})-(?P<d3>\d{{2}})\b                                # "2020-03-12"
  | \b(?P<d4>\d{{1,2}})\.(?P<m4>\d{{1,2}})\.(?P<y4>(?:19|20)\d{{2}})\b                           # "07.03.2024"
    """, re.IGNORECASE | re.VERBOSE)


def find_dates(text: str, default_year: int | None = None) -> list[tuple[date, int, int]]:
    """(date, start, end) for calendar dates; a date without a year takes ``default_year``."""
    found = []
    for match in DATE.finditer(text):
        try:
            if match.group("y3"):
                value = date(int(match.group("y3")), int(match.group("m3")), int(match.group("d3")))
            elif match.group("y4"):
                value = date(int(match.group("y4")), int(match.group("m4")), int(match.group("d4")))
            else:
                day = int(match.group("d1") or match.group("d2"))
                month = MONTHS[(match.group("m1") or match.group("m2"))[:3].lower()]
                year = match.group("y1") or match.group("y2") or default_year
                if year is None:
                    continue
                value = date(int(year), month, day)
        except ValueError:
            continue
        found.append((value, match.start(), match.end()))
    return found


# an hour mark, in an account that counts hours from the infusion ("CRS began 30 h after infusion ... TPE was started at
# 96 h"); not a duration ("for 48 h", "every 6 hours", "within 24 h")
HOUR_MARK = re.compile(r"""
    (?<!every\ )\b(?:at|by|from|until|till)\s+(?P<hours>\d{1,4})\s*(?:h|hrs?|hours)\b   # "at 96 h", "by 168 h"
    (?!\s+(?:after|post|following|later|apart))                                        # not "at 30 h after ..."
  | \b(?-i:H)\s?\+?\s?(?P<clock>\d{1,4})\b(?![.,]\d)                                  # "H+54", "H20": the account's
    (?!\s*(?:blockers?|receptors?|antagonists?|antihistamines?))                       # clock (not "H2 blocker")
  | \bhour\s+(?P<hour>\d{1,4})\b                                                      # "at hour 30", "by hour 40"
    """, re.IGNORECASE | re.VERBOSE)
# an account that sets its clock at the infusion: "All times are hours after the end of the infusion (H0)", "Infusion
# was at hour 0", "we describe his course in hours after infusion"
HOUR_ZERO = re.compile(r"""
    \b(?:hour\s*0|(?-i:H)\s?\+?\s?0)\b
  | \bin\s+hours\s+(?:after|from|since)\s+(?:the\s+)?(?:\w+\s+){0,3}?infusion\b
  | \btimes\s+are\s+(?:given\s+(?:as|in)\s+)?hours\b
    """, re.IGNORECASE | re.VERBOSE)


def counts_hours_from_infusion(sentences) -> bool:
    """Whether an account dates its events in hours after the infusion ("CRS began 30 h after infusion"; "All times
    are hours after the infusion (H0)")."""
    return any(HOUR_ZERO.search(sentence.text) for sentence in sentences) or any(
        match.group("hours") or match.group("hour_n") or match.group("hour_words") and day_value(match) is not None
        for sentence in sentences for match in DAY.finditer(sentence.text))


def _hour_marks(text: str) -> list[tuple[int, int, int]]:
    """(hours, start, end) of each bare hour mark ("at 96 h", "H+54", "at hour 30")."""
    return [(int(next(m.group(g) for g in ("hours", "clock", "hour") if m.group(g) is not None)), m.start(), m.end())
            for m in HOUR_MARK.finditer(text)]


def hours_in(sentence) -> list[tuple[int, int, int]]:
    """(hours, start, end) of the hour marks of a spaCy sentence in an account that counts hours from the infusion:
    "30 h after infusion", "at hour 30", "H+54", "at 96 h"."""
    found = [(int(m.group("hours") or m.group("hour_n")), m.start(), m.end()) for m in DAY.finditer(sentence.text)
             if m.group("hours") or m.group("hour_n")]
    found += [mark for mark in _hour_marks(sentence.text) if not any(s <= mark[1] < e for _, s, e in found)]
    return sorted(found, key=lambda h: h[1])


# a section titled by a day and nothing else: "Day +4", "### Day 2", "D5"
HEADING_DAY = re.compile(r"^\s*(?:day|d)\s*\+?\s*(?P<n>\d{1,3})\s*:?\s*$", re.IGNORECASE)


# a timeline's entry, headed by its day or its date: "D+2: fever and hypotension", "- Day 3 – CRS grade 1", "6) D+5:
# ...", "18 March: confused"
DATED_ENTRY = re.compile(rf"""
    ^\W{{0,3}}(?:\d{{1,2}}[.)]\s*)?                 # "6) "
    (?P<day>(?:day|D)\s?\+?(?P<n>\d{{1,3}})         # "D+5", "Day 1"
      | (?P<date>\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}(?:,?\s+(?:19|20)\d{{2}})?   # "18 March", "3rd May 2024"
        | {_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+(?:19|20)\d{{2}})?))         # "March 18"
    (?:\s*[:–—-]\s|\.\s+(?-i:(?=[A-Z])))          # "D+5: persistent ...", "Day 1. Fever to 39.4 °C ..."
    """, re.IGNORECASE | re.VERBOSE)


def entry_value(entry: re.Match, infusion_date: date | None) -> int | None:
    """The day a timeline entry's heading names: its number, or its date counted from the infusion's."""
    if entry.group("n"):
        return int(entry.group("n"))
    dates = find_dates(entry.group("date"), infusion_date.year) if infusion_date is not None else []
    return (dates[0][0] - infusion_date).days if dates else None


def entry_day(sentence, infusion_date: date | None = None) -> tuple[int, int, int] | None:
    """The day of the timeline entry a sentence goes on in, after the entry's first sentence ("6) D+5: persistent
    hypotension. The team decided to start TPE."), as (day, start, end) counted from the sentence's start; an entry
    headed by a date has its day when the infusion's date is known."""
    document = sentence.doc.user_data.get(DOCUMENT)
    paragraph = document.paragraph_at(sentence.start_char) if document is not None else None
    entry = DATED_ENTRY.match(sentence.doc.text[paragraph.start:paragraph.end]) if paragraph is not None else None
    if entry is None or paragraph.start + entry.start("day") >= sentence.start_char:
        return None
    day = entry_value(entry, infusion_date)
    offset = paragraph.start - sentence.start_char
    return None if day is None else (day, offset + entry.start("day"), offset + entry.end("day"))


def _heading_day(sentence, infusion_date: date | None = None) -> list[tuple[int, int, int]]:
    """The day of a sentence's section where the section is titled by a day alone (an account told day by day under
    "Day +4" headings), or of its paragraph where that is a timeline's entry opening on its day ("6) D+5: persistent
    hypotension. The team decided to start TPE."), as (day, start, end) of the heading or the entry's day counted
    from the sentence's start (so negative)."""
    entry = entry_day(sentence, infusion_date)
    if entry is not None:
        return [entry]
    document = sentence.doc.user_data.get(DOCUMENT)
    section = document.section_at(sentence.start_char) if document is not None else None
    match = HEADING_DAY.match(section.title) if section is not None else None
    if match is None:
        return []
    heading = next((p for p in document.paragraphs if p.kind == "heading" and p.section_id == section.id), None)
    if heading is None or heading.start >= sentence.start_char:
        return []
    return [(int(match.group("n")), heading.start - sentence.start_char, heading.end - sentence.start_char)]


def days_in(sentence, infusion_date: date | None, hours_from_infusion: bool = False) -> list[tuple[int, int, int]]:
    """Day references of a spaCy sentence, calendar dates counted from ``infusion_date`` (day 0) when it is known,
    and bare hour marks ("at 96 h") as completed days when the account counts hours from the infusion; a sentence
    saying "that evening" has the day the sentence before named there; a sentence naming no day of its own has the
    day its section's heading names, if that is all the heading names."""
    found = find_days(sentence.text)
    if hours_from_infusion:
        found += [(hours // 24, start, end) for hours, start, end in _hour_marks(sentence.text)
                  if not any(s <= start < e for _, s, e in found)]
    if infusion_date is not None:
        for value, start, end in find_dates(sentence.text, infusion_date.year):
            if not any(s <= start < e for _, s, e in found):
                found.append(((value - infusion_date).days, start, end))
    found += _day_told_before(sentence, found)
    return sorted(found, key=lambda d: d[1]) or _heading_day(sentence, infusion_date)


# a day the sentence before named: "At 14:00 on D+3 a catheter was placed. We did the first exchange that evening."
THAT_DAY = re.compile(r"\b(?:that|the\s+same)\s+(?:day|evening|night|morning|afternoon)\b|\blater\s+that\s+day\b"
                      r"|\btoday\b", re.IGNORECASE)
# a handover's day before: "S: day 6 after liso-cel. First TPE completed yesterday"
YESTERDAY = re.compile(r"\byesterday\b", re.IGNORECASE)


# the day after the one told before: "Fever began the next day", "on the following day"
NEXT_DAY = re.compile(r"\b(?:the\s+)?(?:next|following)\s+day\b|\bthe\s+day\s+after\b(?!\s+(?:the\s+)?\w)|\btomorrow\b",
                      re.IGNORECASE)
# a sentence telling of the cells' infusion, day 0: "He received axicabtagene ciloleucel", "the cells were infused"
INFUSED = re.compile(r"\b(?:infus\w*|received|was\s+given|were\s+given)\b", re.IGNORECASE)


# a day set right after the words for it: "the same morning, on day +4", "that evening (D+3)"
APPOSED_DAY = re.compile(r"\s*[,(]?\s*(?:on|at|of)?\s*", re.IGNORECASE)


def _day_told_before(sentence, own: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """"that evening", "the same day": the last day told before it, in its sentence ("on the morning of D+4, TPE was
    started that day") or else in the sentence before, in the same paragraph (as the day at the words "that day");
    "the next day" is the day after that one, or day 1 after a sentence telling of the infusion of the cells and of
    no day ("He received axicabtagene ciloleucel. Fever began the next day.")."""
    anaphor, shift = THAT_DAY.search(sentence.text), 0
    if anaphor is None:
        anaphor, shift = NEXT_DAY.search(sentence.text), 1
    if anaphor is None:
        anaphor, shift = YESTERDAY.search(sentence.text), -1
    if anaphor is None:
        return []
    if any(APPOSED_DAY.fullmatch(sentence.text, anaphor.end(), d[1]) for d in own):
        return []  # "started the same morning, on day +4": the sentence names the day itself
    earlier = [d for d in own if d[2] <= anaphor.start()]
    if earlier:
        return [(earlier[-1][0] + shift, anaphor.start(), anaphor.end())]
    if sentence.start == 0:
        return []
    previous = sentence.doc[sentence.start - 1].sent
    if "\n" in sentence.doc.text[previous.start_char + len(previous.text.rstrip()):sentence.start_char]:
        return []  # another paragraph's (a sentence's span keeps the line break after it)
    days = find_days(previous.text)
    if days:
        return [(days[-1][0] + shift, anaphor.start(), anaphor.end())]
    cells = [s for s in sentence.doc.spans.get("concepts", []) if s.label_ in ("CART", "CART_PRODUCT")
             and previous.start_char <= s.start_char < previous.end_char]
    if shift and cells and INFUSED.search(previous.text):
        return [(1, anaphor.start(), anaphor.end())]
    return []


def number_in(text: str, decimal_comma: bool = False) -> float | None:
    """The first number written in ``text``: "5,230", "1 234", "12.5" ("18.500" is 18,500 in a document that writes
    decimal commas)."""
    match = re.search(NUMBER_PATTERN, text)
    return parse_number(match.group(0), decimal_comma) if match else None
