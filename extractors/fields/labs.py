"""Cytokines and markers before and after plasma exchange, in the registry's units.

pre = the last value before the first exchange (the peak when only a peak is given);
post = the value nearest after the last exchange.
"""

from __future__ import annotations

import re
from dataclasses import replace

from spacy.tokens import Span

from extractors.cues import EXCHANGE_NAME, GROUP_SUMMARY_WORD
from extractors.evidence import CLAUSE_BREAK_WORDS, Finding, concepts_in, in_one_clause, quantities_in, sentence_of
from extractors.fields.inputs import Cell, PatientContext
from extractors.fields.purification import exchange_days, pe_mentions
from extractors.lexicon import concept_of
from extractors.table_rules import is_missing
from extractors.values import ORDINAL, days_in, hours_in, number_in
from extractors.quantities import NUMBER_PATTERN, UNIT, Quantity, normalize_unit, parse_number, units
from pipeline.schema import MARKER_BY_ID, MARKER_UNITS

TARGET_UNITS = MARKER_UNITS  # a marker's values are converted to the unit the registry stores it in
# between the two values of "from X to Y": "on day +2", "on admission", "(peak)", "immediately before the first exchange"
_WHEN = r"(?:\s*(?:on|at|by)\s+(?:day|d)\s*[+\-−]?\d{1,3}|\s*(?:on|at)\s+admission|\s*\([^)]{0,30}\)|(?:\s+[a-z]+){1,7}?)?"
_SECOND = rf"(?:(?:>|≥|<|≤|above|over|below|under|less\ than)\s*)?(?P<b>{NUMBER_PATTERN})\s*(?P<unit>[^\s,;)]*)"  # "to <10 pg/mL"
FROM_TO = re.compile(rf"""
    # "IL-6 fell from 5,230 to 210 pg/mL", "from > 5,000 pg/mL on day +2 down to 1,020"
    \bfrom\s+(?P<bound>(?:>|≥|above|over)\s*)?(?P<a>{NUMBER_PATTERN})\s*(?P<unit_a>[^\s\d,;→]*?){_WHEN}\s*
    (?:to|down\ to|up\ to)\s+{_SECOND}
    # "2 310 → 410 pg/mL", "5,230 -> 210"; right after the marker, "ferritin 8,900 to 3,200 ng/mL" (see BARE_TO)
  | (?<=[:\s(])(?P<bound2>(?:>|≥)\s*)?(?P<a2>{NUMBER_PATTERN})\s*(?P<unit_a2>[^\s\d,;→]*?)\s*(?:→|->|(?P<bare_to>to)(?=\s))\s*
    (?:(?:>|≥)\s*)?(?P<b2>{NUMBER_PATTERN})\s*(?P<unit2>[^\s,;)]*)
    """, re.IGNORECASE | re.VERBOSE)
# two values of one marker, in the order a sentence's frame gives: "interleukin-6 4 850 and 290 ng/l"
PAIRED = re.compile(rf"""
    (?<![\w\-‐.,])(?P<a>{NUMBER_PATTERN})\s*(?P<unit_a>[^\s\d,;]*?)\s*(?:and(?:\s+then)?|then|vs\.?|versus)\s+
    (?P<b>{NUMBER_PATTERN})\s*(?P<unit>[^\s,;)]+)
    """, re.IGNORECASE | re.VERBOSE)
# the frame of such pairs: "before the first exchange (day +5) and on the morning after the third (day +8) were:",
# "before and after plasma exchange"
BEFORE_THEN_AFTER = re.compile(r"""
    \b(?:before|prior\ to|pre-?)\b.{0,80}?                        # "before the first exchange (day +5)"
    \b(?:and|vs\.?|versus)\s.{0,60}?\b(?:after|following|post-?)\b  # "and on the morning after the third",
    """, re.IGNORECASE | re.VERBOSE)                                # "Labs pre-PE vs post-PE:"
# a value of the patient's state before the cells: "baseline", "before lymphodepletion", "at infusion"
BASELINE = re.compile(r"\bbaseline\b|\b(?:before|prior\ to)\s+(?:the\s+)?(?:CAR|infusion|lymphodepletion)|\bat\s+(?:the\s+)?infusion\b",
                      re.IGNORECASE)
# a value told as not yet the highest: "and it kept rising", "still rising", "continued to climb"
KEPT_RISING = re.compile(r"\b(?:kept|continued|went\ on)\s+(?:to\s+)?(?:ris|climb|increas)\w*|\bstill\s+(?:rising|climbing)\b",
                         re.IGNORECASE)
RISING = re.compile(r"""\b(
    rose|risen|rising|increased|increasing|climbed|climbing|peaked|went\ up|jumped|escalated   # "ferritin rose from"
    )\b""", re.IGNORECASE | re.VERBOSE)
PRE_CUE = re.compile(rf"""\b(
    before|prior\ to|pre-?(?:{EXCHANGE_NAME}|exchange|procedure)     # "before the first TPE", "pre-exchange"
  | peak(?:ed|ing)?|maximum|rose|rising|increased|elevated|reached   # "peaked at", "rising markers"
    )\b""", re.IGNORECASE | re.VERBOSE)
POST_CUE = re.compile(rf"""\b(
    after|following|post-?(?:{EXCHANGE_NAME}|exchange|procedure)          # "after the third session", "post-TPE"
  | fell|fallen|decreased|dropped|declined|reduced|normali[sz]ed         # "fell to", "has fallen by 88%"
    )\b""", re.IGNORECASE | re.VERBOSE)


# grams per mole of the markers some laboratories report in moles: ferritin in pmol/L (2.247 pmol/L to 1 µg/L), CRP
# in nmol/L (9.524 nmol/L to 1 mg/L)
MOLAR_MASSES = {"ferritin": 1e6 / 2.247, "crp": 1e6 / 9.524}
SUBSTANCE_CONCENTRATION = "[substance] / [length] ** 3"


def marker_value(number: float, unit: str | None, marker: str) -> float | None:
    """``number`` in ``unit`` (as written; None when it is in the registry's unit already) as a value of ``marker``
    in the registry's unit; None when the unit is none of the marker's."""
    target = TARGET_UNITS[marker]
    try:
        value = units().Quantity(number, target if unit is None else normalize_unit(unit))
        if marker in MOLAR_MASSES and value.check(SUBSTANCE_CONCENTRATION):
            value = value * units().Quantity(MOLAR_MASSES[marker], "g/mol")
        return float(value.to(target).magnitude)
    except Exception:  # pint raises assorted errors (undefined names, dimensions, syntax) on text that is no unit
        return None


def _marker_before(analytes: list[Span], position: int) -> Span | None:
    """The analyte named last before ``position``, if it is one of our markers."""
    before = [a for a in analytes if a.end_char <= position]
    return before[-1] if before and before[-1].label_ == "MARKER" else None


def _marker_quantities(sentence: Span) -> list[tuple[str, Quantity, Span]]:
    """(marker, quantity, marker span): each quantity goes to the nearest analyte named before it,
    which must be one of ours ("fibrinogen 1.1 g/L" after "ferritin ..." is fibrinogen's)."""
    analytes = sorted(concepts_in(sentence, ("MARKER", "LAB")), key=lambda s: s.start_char)
    if not any(a.label_ == "MARKER" for a in analytes):
        return []
    pairs = []
    for quantity in quantities_in(sentence):
        marker = _marker_before(analytes, quantity.start)
        if marker is None:
            continue
        if marker_value(quantity.value, quantity.unit, marker.id_) is not None:
            pairs.append((marker.id_, quantity, marker))
    return pairs


# a value told of a marker named in the sentence before: "Before the first exchange his IL-6 was 3,450 pg/mL. ...
# The next morning it had fallen to 210 pg/mL."
ANAPHOR_REACH = 2  # sentences between the antecedent and "it", chains of "it" not counted
ANAPHOR = re.compile(r"\b(?:it|this|the\ (?:level|value|concentration)|levels)\b", re.IGNORECASE | re.VERBOSE)


def _anaphoric_quantities(sentence: Span, antecedent: Span | None) -> list[tuple[str, Quantity, int]]:
    """(marker, quantity, anaphor start) for a value that refers back with "it" or "the level" and follows no analyte
    of its own sentence, when the sentence before named exactly one analyte, one of our markers, in a unit the value
    converts to ("The morning after the second it was 4 350 µg/L, and her CRP had fallen ...")."""
    if antecedent is None:
        return []
    named_here = concepts_in(sentence, ("MARKER", "LAB"))
    named = {(a.label_, a.id_) for a in concepts_in(antecedent, ("MARKER", "LAB"))}
    if len(named) != 1 or next(iter(named))[0] != "MARKER":
        return []
    marker = next(iter(named))[1]
    pairs = []
    for quantity in quantities_in(sentence):
        if any(a.start_char < quantity.start for a in named_here):
            continue  # a value after an analyte named in its own sentence is that analyte's
        anaphors = [m for m in ANAPHOR.finditer(sentence.text) if sentence.start_char + m.end() <= quantity.start]
        if anaphors and quantity.convertible_to(TARGET_UNITS[marker]):
            pairs.append((marker, quantity, sentence.start_char + anaphors[-1].start()))
    return pairs


# a pair told at the times the sentence before gave: "Ferritin was 9,640 ng/mL and then 3,210 ng/mL at the same time
# points"
AT_THE_SAME_TIMES = re.compile(r"\bat\s+(?:the\s+)?(?:same|these|those|both)\s+(?:two\s+)?(?:time\s*points|times|samplings)\b",
                               re.IGNORECASE)


def _paired(sentence: Span) -> list[tuple[str, float, float, int, int, bool]]:
    """(marker, before, after, start, end, False) for "Markers before the first exchange and after the third were:
    interleukin-6 4 850 and 290 ng/l; ferritin 14 200 and 3 150 micrograms/l", or for a pair "at the same time points"
    as the sentence before, which told of a value before and one after."""
    frame = BEFORE_THEN_AFTER.search(sentence.text)
    previous = _previous_sentence(sentence)
    if frame is not None:
        begin = frame.end()
    elif AT_THE_SAME_TIMES.search(sentence.text) and previous is not None and BEFORE_THEN_AFTER.search(previous.text):
        begin = 0
    else:
        return []
    results = []
    analytes = sorted(concepts_in(sentence, ("MARKER", "LAB")), key=lambda s: s.start_char)
    for match in PAIRED.finditer(sentence.text, begin):
        start = sentence.start_char + match.start()
        marker = _marker_before(analytes, start)
        named = [a for a in analytes if a.end_char <= start]
        # "IL-6 and IL-10 were 450 and 120 pg/mL": two markers with two values each is no pair of one marker's
        if marker is None or len(named) >= 2 and named[-1].start_char - named[-2].end_char <= 6:
            continue
        unit = match.group("unit").rstrip(".,;)")
        if match.group("unit_a") and match.group("unit_a") != unit:
            continue  # "15,600 ng/mL and 3.9 mg/dL": the values of two markers, not one marker's pair
        before = marker_value(parse_number(match.group("a"), sentence.doc._.decimal_comma), unit, marker.id_)
        after = marker_value(parse_number(match.group("b"), sentence.doc._.decimal_comma), unit, marker.id_)
        if before is not None and after is not None:
            results.append((marker.id_, before, after, marker.start_char, sentence.start_char + match.end(), False))
    return results


# the words a bare "X to Y" may follow its marker by: "ferritin 8,900 to 3,200", "CRP fell 210 to 35 mg/L"
BARE_TO_LEAD = re.compile(r"^[\s:]*(?:(?:fell|dropped|decreased|declined|went\s+down|was|were)\s+)?$", re.IGNORECASE)


def _a_fall_right_after_the_marker(between: str, first: float, second: float) -> bool:
    """A bare "X to Y" is a course only right after its marker and falling: a range ("CRP (normal range 0 to 5 mg/L)",
    "IL-6 of 100 to 200") rises from its lower bound."""
    return bool(BARE_TO_LEAD.match(between)) and first > second


def _from_to(sentence: Span) -> list[tuple[str, float, float, int, int]]:
    """(marker, first, second, start, end, rising) for "IL-6 fell from 5,230 to 210 pg/mL"."""
    results = []
    analytes = sorted(concepts_in(sentence, ("MARKER", "LAB")), key=lambda s: s.start_char)
    for match in FROM_TO.finditer(sentence.text):
        start = sentence.start_char + match.start()
        marker = _marker_before(analytes, start)
        if marker is None:
            continue
        unit = (match.group("unit") or match.group("unit2")).rstrip(".,;)")
        between = sentence.text[marker.end_char - sentence.start_char:match.start()]
        if not UNIT.fullmatch(unit) and (labelled := UNIT_LABEL.match(between)):
            unit = labelled.group(1) or labelled.group(2)  # "IL-6 (pg/mL): 6,380->415 (last before ...)": the unit the marker's label gives
        pre = marker_value(parse_number(match.group("a") or match.group("a2"), sentence.doc._.decimal_comma), unit, marker.id_)
        post = marker_value(parse_number(match.group("b") or match.group("b2"), sentence.doc._.decimal_comma), unit, marker.id_)
        if pre is None or post is None:
            continue
        if match.group("bare_to") and not _a_fall_right_after_the_marker(between, pre, post):
            continue
        # "rose from 1,420 ng/mL before to 1,880 ng/mL after the exchanges": each value tells its own time
        rising = bool(RISING.search(between)) and not (
            BEFORE_NEARBY.search(match.group(0)) and AFTER_RIGHT_AFTER.match(sentence.text, match.end()))
        results.append((marker.id_, pre, post, marker.start_char, sentence.start_char + match.end(), rising))
    return results


# a marker's label giving its unit before its values: "IL-6 (pg/mL): ", "CRP, mg/dL: "
UNIT_LABEL = re.compile(rf"^\s*(?:\(\s*({UNIT.pattern})\s*\)|,\s*({UNIT.pattern}))\s*:?\s*$", re.IGNORECASE)
AFTER_RIGHT_AFTER = re.compile(r"\s*(?:after|following|post-?)\b", re.IGNORECASE)
EXCHANGE_WORD = rf"(?:{EXCHANGE_NAME}|exchanges?|procedures?|sessions?|runs?)"  # "after the 2nd run"
EXCHANGE = re.compile(EXCHANGE_WORD, re.IGNORECASE)


# -- parallel lists: "IL-6, IFN-γ and IL-10 were 4210, 862 and 318 pg/ml"; "...; after it they decreased to 356 pg/ml,
# 95.6 pg/ml, 41.2 pg/ml and 2480 ng/ml respectively" --------------------------------------------------------------
LIST_JOIN = re.compile(r"^\s*(?:,\s*(?:and\s+)?|and\s+|&\s*|/\s*)$", re.IGNORECASE)  # ", ", " and ", ", and "
# a number before a listed value that shares its unit: "4210, " and "862 and " of "4210, 862 and 318 pg/ml"
SHARED_UNIT_NUMBER = re.compile(rf"""
    (?<![\w\-‐.,+])(?<!day\ )(?<!days\ )({NUMBER_PATTERN})   # not a day's number ("day 5 and", "D+5,")
    \s*(?:,\s*(?:and\s+)?|\s+and\s+)$
    """, re.IGNORECASE | re.VERBOSE)
RESPECTIVELY = re.compile(r"\brespectively\b", re.IGNORECASE)
# between a list's values before and after: "from 4210 pg/mL and 5630 ng/mL to 356 pg/mL and 2480 ng/mL"
LIST_TO = re.compile(r"^\s*,?\s*(?:(?:down|up)\s+)?(?:to|→|->)\s*$", re.IGNORECASE)
# a clause whose values belong to the markers named before it: "they decreased to", "these fell to", "both were",
# "the values were"
PLURAL_ANAPHOR = re.compile(r"""\b(?:
    they|these|those|them|both|all\ (?:three|four|of\ them)
  | the\ (?:corresponding\ |same\ )?(?:values|levels|results|concentrations)   # "after the second the values were"
    )\b""", re.IGNORECASE | re.VERBOSE)
# a clause opening on its time against the exchange or a treatment not named otherwise: "Before treatment, ...",
# "after the second treatment they ..." (not "after treatment with tocilizumab")
CLAUSE_TIME = re.compile(rf"""
    \W*(?:(?:and|but|while|whereas)\s+)?(?:(?P<pre>before|prior\ to)|after|following)\s+
    (?:the\s+)?(?:(?:{ORDINAL}|last|final)\s+)?
    (?:{EXCHANGE_WORD}\b
      | (?:treatments?|therap(?:y|ies))\b(?!\s+(?:with|of|by|using)\s+(?!(?:the\s+)?(?:plasma|{EXCHANGE_WORD})))
    )""", re.IGNORECASE | re.VERBOSE)


# a clause opening on a time later than the one before it: "the following morning", "the day after", "36 hours later"
LATER_CLAUSE = re.compile(rf"""
    \W*(?:(?:and|but|while|whereas)\s+)?(?:(?:by|on|in)\s+)?(?:
        the\s+(?:following|next)\s+(?:morning|day|evening|afternoon)
      | the\s+(?:morning|day)\s+after\b
      | (?:\d{{1,2}}|one|two|three|twelve|twenty-four|forty-eight)\s+(?:hours?|days?)\s+later
      | [^;]{{0,50}}?\bafter\s+the\s+(?:(?:{ORDINAL}|last|final)\s+)?{EXCHANGE_WORD}\b  # "on the morning of day 7,
    )""", re.IGNORECASE | re.VERBOSE)                                                #  after the second session"
# a clause telling the time of its value against the exchanges: "3 960 µg/L before the plasmapheresis"
BEFORE_EXCHANGE = re.compile(rf"""
    \b(?:before|prior\ to|ahead\ of)\s+    # "before", "prior to"
    (?:the\s+)?(?:(?:{ORDINAL})\s+)?       # "the first"
    {EXCHANGE_WORD}\b                       # "plasmapheresis"
    """, re.IGNORECASE | re.VERBOSE)


# a time before an exchange that is not the first: "before the second session", "prior to the last TPE"
BEFORE_A_LATER = re.compile(rf"""
    \b(?:before|prior\ to|ahead\ of)\s+the\s+
    (?:second|third|fourth|fifth|sixth|seventh|2nd|3rd|[4-7]th|last|final|next)\s+{EXCHANGE_WORD}\b
    """, re.IGNORECASE | re.VERBOSE)


def _before_a_later_exchange(sentence: Span, position: int) -> bool:
    """Whether the value at ``position`` is told, in its own clause, as drawn before an exchange that is not the first
    (and so after another)."""
    text, offset = sentence.text, position - sentence.start_char
    start = max((m.end() for m in CLAUSE_BREAK_WORDS.finditer(text, 0, offset)), default=0)
    # or right after it: "it rose a little again, to 1,020 pg/ml, before the second session"
    after = re.match(r"[\s,]*", text[offset:])
    return bool(BEFORE_A_LATER.search(text, start, offset) or BEFORE_A_LATER.match(text, offset + after.end()))


def _later_clause(sentence: Span, position: int) -> bool:
    """Whether the value at ``position`` stands in a clause that opens on a later time than a clause before it told
    as before the exchange ("Ferritin was 3 960 µg/L before the plasmapheresis; the following morning it was 2 410
    µg/L", "... before the exchange, and the day after it was ..."): after it."""
    text, offset = sentence.text, position - sentence.start_char
    bounds = [m for m in CLAUSE_BREAK_WORDS.finditer(text, 0, offset)]
    if not bounds:
        return False
    opening = bounds[-1]
    return bool(LATER_CLAUSE.match(text, opening.end(), offset)) and bool(BEFORE_EXCHANGE.search(text, 0, opening.start()))


def _contrast_time(sentence: Span, position: int) -> str | None:
    """The time of the clause holding ``position`` in a sentence that sets a clause before a treatment against one
    after it ("Before treatment, IL-6 was ...; after the second treatment it was ..."); None in any other sentence."""
    times = {}
    for start, end in _clauses(sentence):
        time = CLAUSE_TIME.match(sentence.doc.text, start, end)
        if time is not None:
            times[(start, end)] = "pre" if time.group("pre") else "post"
    if set(times.values()) != {"pre", "post"}:
        return None
    return next((when for (start, end), when in times.items() if start <= position <= end), None)


def _listed_values(sentence: Span, start: int, end: int) -> list[Quantity]:
    """The values between ``start`` and ``end`` in order, each number of a list that writes its unit once
    ("4210, 862 and 318 pg/ml") given that unit."""
    values = []
    for quantity in quantities_in(sentence):
        if not start <= quantity.start < end:
            continue
        shared, at = [], quantity.start
        while (number := SHARED_UNIT_NUMBER.search(sentence.doc.text, max(start, at - 40), at)) is not None:
            value = parse_number(number.group(1), sentence.doc._.decimal_comma)
            shared.insert(0, Quantity(value, quantity.unit, number.start(1), number.end(1)))
            at = number.start(1)
        values += shared + [quantity]
    return values


def _clauses(sentence: Span) -> list[tuple[int, int]]:
    """(start, end) of the sentence's clauses, the parts between semicolons, in document offsets."""
    bounds, at = [], sentence.start_char
    for part in sentence.text.split(";"):
        bounds.append((at, at + len(part)))
        at += len(part) + 1
    return bounds


Listed = tuple[str, float, Span, Quantity]  # (marker, value in its unit, the analyte's span, the value as written)


def _aligned(analytes: list[Span], values: list[Quantity]) -> list[Listed] | None:
    """(marker, value in its unit, marker span, quantity) pairing the n-th analyte with the n-th value; None when the
    counts differ or a value is in no unit of its analyte (the lists are not parallel). Other analytes (LAB) keep
    their place in the order and give nothing."""
    if len(analytes) != len(values):
        return None
    pairs = []
    for analyte, quantity in zip(analytes, values):
        if analyte.label_ != "MARKER":
            continue
        value = marker_value(quantity.value, quantity.unit, analyte.id_)
        if value is None:
            return None
        pairs.append((analyte.id_, value, analyte, quantity))
    return pairs


def _list_ranges(sentence: Span, listed: list[Span], values: list[Quantity]) -> list[tuple] | None:
    """(marker, first, second, start, end, rising) for a list of analytes followed by their values from and to ("IL-6
    and ferritin fell from 4210 pg/mL and 5630 ng/mL to 356 pg/mL and 2480 ng/mL"); None when the values are not
    twice as many as the analytes, with "to" between the halves, each half in the analytes' units."""
    n, text = len(listed), sentence.doc.text
    if len(values) != 2 * n or not LIST_TO.match(text[values[n - 1].end:values[n].start]):
        return None
    firsts, seconds = _aligned(listed, values[:n]), _aligned(listed, values[n:])
    if firsts is None or seconds is None:
        return None
    rising = bool(RISING.search(text, listed[-1].end_char, values[0].start))
    return [(marker, first, second, analyte.start_char, after.end, rising)
            for (marker, first, analyte, _), (_, second, _, after) in zip(firsts, seconds)]


# values joined by slashes as their markers are: "IL-6/ferritin/CRP: 2,450/8,900/176; post-TPE: 215/3,980/39 (pg/mL,
# ng/mL, mg/L)"; a later group has a label of its own before the colon
SLASHED_VALUES = re.compile(rf"""
    (?P<label>[^\W\d][\w\s-]{{0,30}}?)?\s*(?:\([^)]{{0,20}}\)\s*)?:\s*      # "post-TPE:", ": "
    (?P<values>(?:{NUMBER_PATTERN})(?:\s*/\s*(?:{NUMBER_PATTERN}))+)        # "2,450/8,900/176"
    """, re.IGNORECASE | re.VERBOSE)
UNITS_IN_PARENTHESIS = re.compile(rf"\(\s*(?P<units>(?:{UNIT.pattern})(?:\s*[,;]\s*(?:{UNIT.pattern}))+)\s*\)", re.IGNORECASE)


def _slashed_lists(sentence: Span) -> tuple[list[Listed], list[tuple[int, int]]]:
    """Values paired with markers named one after the other joined by slashes, each group of values joined the same
    way and as many, with their units in one parenthesis after the groups, in the markers' order: "Pre-TPE
    IL-6/ferritin/CRP: 2,450/8,900/176; post-TPE: 215/3,980/39 (pg/mL, ng/mL, mg/L)". The analyte's span of a
    later group's value is its label ("post-TPE"), which tells its time."""
    text, doc = sentence.doc.text, sentence.doc
    for listed in _slashed_analytes(sentence):
        groups, at = [], listed[-1][3]
        while (match := SLASHED_VALUES.match(text, at, sentence.end_char)) is not None and (
                not groups or match.group("label")):
            if len(re.findall(NUMBER_PATTERN, match.group("values"))) != len(listed):
                break
            groups.append(match)
            at = match.end()
            at += len(re.match(r"\s*[;,]?\s*(?:and\s+)?", text[at:sentence.end_char]).group(0))
        units = UNITS_IN_PARENTHESIS.match(text, at, sentence.end_char) if groups else None
        written = [u.strip() for u in re.split(r"\s*[,;]\s*", units.group("units"))] if units else []
        if len(written) != len(listed):
            continue
        found = []
        for g, group in enumerate(groups):
            first, end = (listed[0][2], listed[-1][3]) if g == 0 else (group.start("label"), group.end("label"))
            anchor = doc.char_span(first, end, alignment_mode="expand")
            for (marker, label, _, _), unit, number in zip(listed, written, re.finditer(NUMBER_PATTERN, group.group("values"))):
                value = marker_value(parse_number(number.group(0), doc._.decimal_comma), unit, marker)
                start = group.start("values") + number.start()
                if label == "MARKER" and value is not None and anchor is not None:
                    found.append((marker, value, anchor, Quantity(value, unit, start, start + len(number.group(0)))))
        return found, [(listed[0][2], units.end())]
    return [], []


def _slashed_analytes(sentence: Span) -> list[list[tuple[str, str, int, int]]]:
    """The runs of two or more analytes joined by slashes, each as (id, label, start, end): concepts so joined ("IL-6
    / ferritin"), or words the lexicon spells so joined, which the tokenizer may leave whole ("IL-6/ferritin/CRP")."""
    analytes = sorted(concepts_in(sentence, ("MARKER", "LAB")), key=lambda s: s.start_char)
    runs = [[(a.id_, a.label_, a.start_char, a.end_char) for a in analytes[i:j + 1]]
            for i, j in _joined_runs(analytes, sentence.doc.text, SLASH)]
    for joined in SLASH_JOINED.finditer(sentence.text):  # "IL-6/ferritin/CRP", which the tokenizer may leave whole
        run, at = [], sentence.start_char + joined.start()
        for part in joined.group(0).split("/"):
            concept = concept_of(part)
            if concept is None or concept[0] not in ("MARKER", "LAB"):
                break
            start = at + len(part) - len(part.lstrip())
            run.append((concept[1], concept[0], start, start + len(part.strip())))
            at += len(part) + 1
        else:
            if not any(r[0][2] == run[0][2] for r in runs):
                runs.append(run)
    return runs


SLASH_JOINED = re.compile(r"[^\s/,;:()]+(?:\s*/\s*[^\s/,;:()]+)+")
SLASH = re.compile(r"\s*/\s*$")


def _joined_runs(spans: list[Span], text: str, join: re.Pattern) -> list[tuple[int, int]]:
    """(i, j) of each run spans[i..j] of two or more spans named one after the other, ``join`` matching all that
    stands between two of them (", ", " and ", "/")."""
    runs, i = [], 0
    while i < len(spans):
        j = i
        while j + 1 < len(spans) and join.match(text[spans[j].end_char:spans[j + 1].start_char]):
            j += 1
        if j > i:
            runs.append((i, j))
        i = j + 1
    return runs


def _parallel_lists(sentence: Span) -> tuple[list[Listed], list[tuple], list[tuple[int, int]]]:
    """Values paired with analytes by order, ranges of values so paired (as _from_to gives them), and the spans of
    text read this way, good pairs or none: a list of analytes followed by as many values ("serum IL-6, IFN-γ and
    IL-10 were 4210 pg/ml, 862 pg/ml and 318 pg/ml") or twice as many from and to, and a clause naming no analyte
    whose values go, in order, to those the sentence named before ("...; after the second treatment they decreased to
    356 pg/ml, ... and 2480 ng/ml respectively"). When the counts differ nothing is read from the list."""
    analytes = sorted(concepts_in(sentence, ("MARKER", "LAB")), key=lambda s: s.start_char)
    text = sentence.doc.text
    found, ranges, covered, named_before = [], [], [], []
    for start, end in _clauses(sentence):
        own = [a for a in analytes if start <= a.start_char < end]
        if not own:
            values = _listed_values(sentence, start, end)
            ordered = list({a.id_: a for a in reversed(named_before)}.values())[::-1]  # first mention of each
            if len(values) >= 2 and len(ordered) >= 2 and (
                    RESPECTIVELY.search(sentence.text) or PLURAL_ANAPHOR.search(text, start, end)):
                pairs = _aligned(ordered, values)
                found += pairs or []
                covered.append((values[0].start, values[-1].end))
        for i, j in _joined_runs(own, text, LIST_JOIN):
            listed = own[i:j + 1]
            stop = own[j + 1].start_char if j + 1 < len(own) else end
            values = _listed_values(sentence, listed[-1].end_char, stop)
            if values:
                from_to = _list_ranges(sentence, listed, values)
                if from_to is None:
                    found += _aligned(listed, values) or []
                ranges += from_to or []
                covered.append((values[0].start, values[-1].end))
        named_before += own
    return found, ranges, covered

# a sentence opening on the time of its values: "Before the first exchange, IL-6 was ...", "On day 5, after TPE, ..."
# an exchange named, or left out after its ordinal: "after the second TPE", "after the third,"
_AN_EXCHANGE = rf"(?:[^,;]{{0,40}}\b{EXCHANGE_WORD}|\s+the\s+(?:{ORDINAL}|last|final)\b)"
SENTENCE_PRE = re.compile(rf"""
    ^\W*(?:[\w,()+-]+\s+){{0,8}}?(?:before|prior\ to|ahead\ of)\b{_AN_EXCHANGE}
    """, re.IGNORECASE | re.VERBOSE)
SENTENCE_POST = re.compile(rf"""
    ^\W*(?:[\w,()+-]+\s+){{0,8}}?(?:after|following|post-?)\b{_AN_EXCHANGE}
    """, re.IGNORECASE | re.VERBOSE)
BEFORE_NEARBY = re.compile(rf"""\b(
    before|prior\ to|directly\ before|pre-?(?:{EXCHANGE_NAME}|exchange|procedure)   # "directly before", "pre-TPE"
    )\b""", re.IGNORECASE | re.VERBOSE)
COMPARED_WITH = re.compile(r"""
    \b(?:compared|relative)\s+(?:with|to)\s+(?:the\s+|its\s+)?(?:[\w-]+\s+){0,2}?   # "compared with the sample
    (?:before|prior\s+to|pre-?)\b[^;,.]*                                             #  before the first TPE"
  | \bfrom\s+(?:the|its)\s+(?:values?|levels?|samples?)\s+(?:before|prior\s+to)\b[^;,.]*  # "from the value before"
    """, re.IGNORECASE | re.VERBOSE)
AFTER_NEARBY = re.compile(rf"\b(after|following|post-?(?:{EXCHANGE_NAME}|exchange|procedure))\b", re.IGNORECASE)
DAY_WINDOW = 30
# a second value between a value and a day after it, whose day it is: "14.2 mg/dL before and 3.1 mg/dL on day 6"
NEXT_VALUE = re.compile(r"(?:\band|\bor|,)\s+[<>≥≤~]?\s*\d")
OWN_WORDS_REACH = 80  # how far after a value its own clause may go on telling its time
# a value told as the ceiling of the whole course: "did not exceed", "never rose above", "remained below"
CEILING = re.compile(r"""
    \b(?:did\s+not|does\s+not|never|at\s+no\s+(?:time|point))\s+(?:\w+\s+)?(?:exceed|r[io]se?\s+above|went\s+above|go\s+above)
  | \b(?:remained|stayed|was\s+always)\s+(?:below|under)\b
    """, re.IGNORECASE | re.VERBOSE)
LEADING_DAY_REACH = 25  # how far into its sentence a day may stand and still head it
CLAUSE_COMMA = re.compile(r",(?=\s)")
SHARED_DAY = re.compile(r"\(\s*(?:all|each|both)\b[^)]{0,80}\)", re.IGNORECASE)
# the values after a value, up to a parenthesis that dates the run: "IL-6 188 pg/mL, CRP 41 mg/L, ferritin 1,960 ng/mL
# (20 March, morning)": each piece between commas holds a figure
VALUES_THEN_DATE = re.compile(r"(?:\s*[,;]\s*(?:and\s+)?[^,;()]*?\d[^,;()]*?)*\s*(?P<dated>\([^)]{0,80}\))")
# "after the last exchange", "after the third and final procedure"
AFTER_THE_LAST = re.compile(rf"""
    \b(?:after|following)\s+the\s+(?:\w+\s+and\s+)?   # "after the", "after the third and"
    (?:last|final)\s+{EXCHANGE_WORD}\b                  # "last procedure", "final TPE"
    """, re.IGNORECASE | re.VERBOSE)
# right after a value, its time against the exchanges: "before plasma exchange", "after two sessions", "post-TPE",
# "on the morning after the last procedure", "on the morning of the first exchange"; or a bare "before"/"after" that
# a sentence naming an exchange, or the sentence before it, sets against it: "27.5 mg/dL before, 6.2 mg/dL after the
# exchanges", "Two sessions were done. Ferritin was 9,300 ng/mL before and 4,100 ng/mL after."
VALUE_THEN_TIME = re.compile(rf"""
    \s*(?P<arrival>(?:on|at)\s+(?:(?:ICU|hospital)\s+)?(?:admission|presentation|baseline)\b)  # "on admission": before
  | \s*(?P<of_first>(?:on\s+)?the\s+(?:morning|day)\s+of\s+the\s+(?:first|initial|1st)\s+{EXCHANGE_WORD}\b)  # before it
  | \s*(?:\([^)]{{0,30}}\)\s*)?                                      # "(peak)"
    (?:(?:on\s+|in\s+)?the\s+(?:(?:next|following|same)\s+)?   # "on the morning", "the next day"
       (?:morning|evening|afternoon|night|day)\s+)?
    (?:in\s+the\s+(?:sample|specimen)\s+(?:drawn|taken|obtained|collected)\s+)?  # "in the sample drawn just before"
    (?:just\s+|immediately\s+|right\s+|shortly\s+|directly\s+)?               # "immediately before plasmapheresis"
    (?:(?P<before>before|prior\ to|pre-?)|(?:after|following|post-?))   # "before", "post-"
    (?:\s*(?:the\s+)?(?:(?:first|last|final|second|third|\w+)\s+)?{EXCHANGE_WORD}\b  # "the first TPE", "two sessions"
      | (?P<bare>(?<=[a-z])(?=\s*(?:[,;.)]|and\b|$)))                 # "before," "after."
      | \s+the\s+(?:{ORDINAL}|last|final)(?:\s+one)?(?P<elided>(?=\s*(?:[,;.)]|and\b|$)))  # "after the third.", "after
    #                                                                                         the last one" (exchange left out)
    )""", re.IGNORECASE | re.VERBOSE)


def _told_time(sentence: Span, at: int) -> str | None:
    """"pre" or "post" when the words right after the value at ``at`` (in the sentence's text) tell its time."""
    told = VALUE_THEN_TIME.match(sentence.text, at)
    elliptic = told is not None and (told.group("bare") is not None or told.group("elided") is not None)
    if told is None or elliptic and not _exchange_named_by(sentence):
        return None
    return "pre" if told.group("before") or told.group("arrival") or told.group("of_first") else "post"


# a value of the sample the sentence before told of: "The same sample showed a ferritin of ..."
SAME_SAMPLE = re.compile(r"""\b(?:
    (?:the|that|this)\s+same\s+(?:blood\s+)?(?:sample|specimen|draw|time\s*point)   # "the same sample"
  | (?:that|this)\s+(?:blood\s+)?(?:sample|specimen)                             # "that sample"
  | simultaneously|at\s+the\s+same\s+time                                      # "at the same time"
    )\b""", re.IGNORECASE | re.VERBOSE)


def _previous_sentence(sentence: Span) -> Span | None:
    return sentence.doc[sentence.start - 1].sent if sentence.start > 0 else None


def _timed_as_the_sample_before(sentence: Span) -> str | None:
    """"pre" or "post" when the sentence gives values of the sample the sentence before dated by the exchange ("His
    IL-6 on day 4, drawn just before the first exchange, was 2,480 pg/mL. The same sample showed a ferritin of ...")."""
    previous = _previous_sentence(sentence)
    if previous is None or not SAME_SAMPLE.search(sentence.text) or not EXCHANGE.search(previous.text):
        return None
    before, after = BEFORE_NEARBY.search(previous.text), AFTER_NEARBY.search(previous.text)
    return "pre" if before and not after else "post" if after and not before else None


def _framed_before_by_previous(sentence: Span) -> bool:
    """Whether the sentence before, in the same paragraph, frames its values as before the exchanges, a frame a
    sentence telling no time of its own goes on in: "IL-6 before the first exchange was 890 pg/mL. Ferritin was
    2,340 ng/mL." """
    previous = _previous_sentence(sentence)
    if previous is None:
        return False
    same_paragraph = "\n" not in sentence.doc.text[previous.end_char:sentence.start_char]
    return same_paragraph and bool(SENTENCE_PRE.search(previous.text)) and not SENTENCE_POST.search(previous.text)


def _exchange_named_by(sentence: Span) -> bool:
    """Whether the sentence, or the one before it, names the exchanges an elliptic "before"/"after" refers to."""
    previous = _previous_sentence(sentence)
    return bool(EXCHANGE.search(sentence.text) or previous is not None and EXCHANGE.search(previous.text))


# what may stand before a day heading a clause: "; on day +5, ...", "; and by the morning of day 7, ..."
CLAUSE_DAY_LEAD = re.compile(r"\s*(?:(?:and|then|but)\s+)?(?:(?:on|at|by)\s+)?(?:the\s+(?:morning|evening)\s+of\s+)?",
                             re.IGNORECASE)


def _day_of(sentence: Span, position: int, patient: PatientContext, in_hours: bool = False) -> float | None:
    """The day a value was measured: a day named right after it ("412 pg/mL on day +1") or heading its
    sentence ("On day +10, IL-6 was 38 pg/mL"); ``in_hours``, the hour mark so placed, as a fraction of days
    ("7,900 ng/mL at H+106" is day 4.42)."""
    if in_hours:
        days = [(hours / 24, start, end) for hours, start, end in hours_in(sentence)]
    else:
        days = days_in(sentence, patient.infusion_date, patient.hours_from_infusion)
    offset = position - sentence.start_char
    after = [d for d in days if 0 <= d[1] - offset <= DAY_WINDOW and in_one_clause(sentence.text, offset, d[1])
             and not NEXT_VALUE.search(sentence.text, offset, d[1])]
    if after:
        return after[0][0]
    # a day told just before the value in its own clause: "...; after the third procedure on day +7 it was 205 pg/mL"
    # (a comma of a clause is followed by a space; the comma of "3,110 ng/mL" is not)
    clause_start = max([sentence.text.rfind(";", 0, offset),
                        *(m.start() for m in CLAUSE_COMMA.finditer(sentence.text, 0, offset))]) + 1
    own = [d for d in days if clause_start <= d[1] < offset and offset - d[1] <= DAY_WINDOW]
    if own:
        return own[-1][0]
    # a day heading the value's clause after a semicolon: "Before the first TPE, IL-6 was 5,870 pg/mL; on day +5, IL-6
    # was 402 pg/mL"
    clause_head = sentence.text.rfind(";", 0, offset) + 1
    heading = [d for d in days
               if clause_head <= d[1] < offset and CLAUSE_DAY_LEAD.fullmatch(sentence.text, clause_head, d[1])]
    if clause_head and heading and not [d for d in days if heading[0][1] < d[1] < offset]:
        return heading[0][0]
    # a day heading the sentence, no other day told between it and the value: "On D+7 IL-6 was 380 pg/mL, ferritin
    # 3,110 ng/mL ...; vasopressors stopped D+9"
    before = [d for d in days if d[1] < offset]
    if before and all(d[1] < LEADING_DAY_REACH for d in before):
        return before[0][0]
    # a day said once for a list of values after it: "IL-6 3,650 ng/L, ferritin 7,900 µg/L (all at 94 h)"
    for shared in SHARED_DAY.finditer(sentence.text, offset):
        within = [d for d in days if shared.start() <= d[1] < shared.end()]
        if within:
            return within[0][0]
    # the parenthesis closing the run of values the value opens: "IL-6 188 pg/mL, CRP 41 mg/L (20 March, morning)"
    run = VALUES_THEN_DATE.match(sentence.text, offset)
    within = [d for d in days if run and run.start("dated") <= d[1] < run.end("dated")]
    return within[0][0] if within else None


LATER_IN_DAY = re.compile(r"\b(?:that|the\s+same|in\s+the|this)\s+(?:afternoon|evening|night)\b", re.IGNORECASE)
MORNING = re.compile(r"\bmorning\b", re.IGNORECASE)
APPROXIMATE = re.compile(r"\b(?:approaching|approximately|about|around|nearly|almost|roughly|close\s+to)\b|[~≈]"
                         r"|\b(?:exceed\w*|in\s+excess\s+of|more\s+than|greater\s+than)\b",  # a bound: "ferritin exceeded 20,000"
                         re.IGNORECASE)


# a figure summarising a group, told just before a value: "a median IL-6 fall from", "IL-6 fell by a mean of"
AGGREGATE = re.compile(rf"\b{GROUP_SUMMARY_WORD}\b", re.IGNORECASE)
AGGREGATE_REACH = 40


# a drug a value is told after: "After two doses of tocilizumab her IL-6 stood at 3,960 pg/mL"
OTHER_TREATMENTS = ("DRUG", "STEROID", "TOCILIZUMAB")
AFTER_BEFORE_A_DRUG = re.compile(r"\b(?:after|following)\s+(?:[\w-]+\s+){0,4}?$", re.IGNORECASE)


def _after_other_treatments(sentence: Span, offset: int, local: str) -> str:
    """The words around a value (``local``, at ``offset`` in the document) less the "after" of a drug given before the
    sample, which tells nothing of the exchange's time ("After two doses of tocilizumab her IL-6 stood at 3,960
    pg/mL, and she was taken for two sessions of TPE": before the exchange)."""
    for drug in concepts_in(sentence, OTHER_TREATMENTS):
        at = drug.start_char - offset
        if 0 < at <= len(local):
            cue = AFTER_BEFORE_A_DRUG.search(local, 0, at)
            if cue:
                local = local[:cue.start()] + " " * (cue.end() - cue.start()) + local[cue.end():]
    return local


def _summarises_a_group(sentence: Span, start: int) -> bool:
    """Whether the value at ``start`` is told as a group's median or mean ("a median IL-6 fall from 5,600 to 420
    pg/mL" in six patients): no patient's value."""
    return bool(AGGREGATE.search(sentence.doc.text, max(sentence.start_char, start - AGGREGATE_REACH), start))


class _Timeline:
    """Pre and post candidates per marker: by measurement day against the exchange days when both are
    known, otherwise by what the sentence says ("before the first TPE", "fell ... after") and by order."""

    def __init__(self, sentences: list[Span], patient: PatientContext):
        mentions = pe_mentions(sentences)
        self.first_pe = min((sentence_of(s).start_char for s in mentions), default=None)
        # "First plasma exchange that afternoon": a morning sample of that day was drawn before it
        first_sentence = min((sentence_of(s) for s in mentions), key=lambda s: s.start_char, default=None)
        self.first_pe_later_in_day = bool(first_sentence is not None and LATER_IN_DAY.search(first_sentence.text))
        self.last_pe = max((sentence_of(s).start_char for s in mentions), default=None)
        days = exchange_days(sentences, patient)
        self.patient = patient
        self.pe_days = (min(days), max(days)) if days else None
        # an account counting hours places values and exchanges by the hour: "at H+106" is after the exchange "at
        # H+102" on the same day
        hours = exchange_days(sentences, patient, in_hours=True) if patient.hours_from_infusion else []
        self.in_hours = bool(hours)
        if hours:
            self.pe_days = (min(hours) / 24, max(hours) / 24)
        self.pre: dict[str, tuple[tuple, Finding]] = {}
        self.post: dict[str, tuple[tuple, Finding]] = {}

    def offer(self, marker: str, when: str, rank: tuple, finding: Finding) -> None:
        """Keep, per marker, the best candidate: the latest before the exchanges, the earliest after."""
        table = self.pre if when == "pre" else self.post
        current = table.get(marker)
        if current is None or (rank > current[0] if when == "pre" else rank < current[0]):
            table[marker] = (rank, finding)

    def place(self, marker: str, value: float, sentence: Span, start: int, end: int, extractor: str) -> None:
        if _summarises_a_group(sentence, start):
            return
        # a value told as approximate ("ferritin approaching 25,000 ng/mL") yields to one a table gives exactly
        approximate = bool(APPROXIMATE.search(sentence.doc.text, start, end))
        # "IL-6 at H60 was 2,950 pg/mL, ... and it kept rising": a later value before the exchange (a table's) is nearer
        still_rising = bool(KEPT_RISING.search(sentence.doc.text, end, sentence.end_char))
        # "Baseline IL-6 was 6 pg/mL and CRP 4 mg/L" (at the infusion): a value nearer the exchange is the one before it
        baseline = bool(BASELINE.search(sentence.doc.text, max(sentence.start_char, start - 60), end))
        pre = Finding(MARKER_BY_ID[marker].pre, f"{value:g}", start, end, extractor,
                      weak=approximate or still_rising or baseline)
        post = Finding(MARKER_BY_ID[marker].post, f"{value:g}", start, end, extractor, weak=approximate)
        # the value's own clause, where it tells its time ("Before TPE, CRP was 25,6 mg/dL; after the second TPE it
        # was 4,1 mg/dL"); else the sentence's frame ("Before the first PE, IL-6 was ...; the ferritin was ...")
        text, at = sentence.text, end - sentence.start_char
        clause_start = text.rfind(";", 0, at) + 1
        clause_end = text.find(";", at) if ";" in text[at:] else len(text)
        clause = text[clause_start:clause_end]
        if SENTENCE_PRE.search(clause) or SENTENCE_POST.search(clause):
            text = clause
        else:
            clause_start, clause_end = 0, len(text)
        local_from = max(0, at - clause_start - 90)
        local = _after_other_treatments(sentence, sentence.start_char + clause_start + local_from,
                                        text[local_from: at - clause_start + 30])
        # the sample a value is compared with is not the value's time: "fallen by 88% compared with the sample before
        # the first TPE; today's value 402 pg/mL"
        text, local = COMPARED_WITH.sub(" ", text), COMPARED_WITH.sub(" ", local)
        if CEILING.search(sentence.doc.text, start, end):
            # "ferritin did not exceed 2 880 µg/L": the course's peak, whenever told; any value dated before wins
            self.offer(marker, "pre", (-2, 0, start), pre)
            return
        day = self.in_hours and _day_of(sentence, end, self.patient, in_hours=True) or _day_of(sentence, end, self.patient)
        if day is None and self.pe_days is not None and AFTER_THE_LAST.search(local) and \
                _told_time(sentence, at) != "pre":
            # "after the third and last procedure it was 205 pg/mL": after the last one, whatever a value before it
            # in the sentence was told as ("6,480 ug/L immediately before plasmapheresis and 3,150 ug/L after the
            # last session")
            self.offer(marker, "post", (-1, self.pe_days[1], start), post)
            return
        if day is not None and self.pe_days is not None:
            first, last = self.pe_days
            # the value's own words after it, to its clause's end: "3 240 pg/mL on the morning of day +5, directly
            # before the first procedure"
            own = sentence.doc.text[end:min(sentence.end_char, end + OWN_WORDS_REACH)]
            own = own[:m.start()] if (m := CLAUSE_BREAK_WORDS.search(own)) else own
            morning_before = day == first and self.first_pe_later_in_day and MORNING.search(local)
            if day < first or day == first and (BEFORE_NEARBY.search(local) or BEFORE_EXCHANGE.search(own)) or morning_before:
                self.offer(marker, "pre", (1, day, start), pre)
                return
            if day > last or day == last and AFTER_NEARBY.search(local):
                self.offer(marker, "post", (-1, day, start), post)
                return
            if day == first and not POST_CUE.search(local):
                # "CRP was 286 mg/L on day +6", the day the exchanges began: drawn before the first, unless a value
                # told as before it says otherwise; not a value told as after it or as fallen ("fell to ... on day 5")
                self.offer(marker, "pre", (-1, day, start), pre)
                return
            if first <= day <= last:
                return  # between exchanges: neither before the first nor after the last
        # a time told right after the value wins over the sentence's frame: "15 200 µg/L before plasma exchange and
        # 6 100 µg/L after two sessions"
        told = _told_time(sentence, at) or _contrast_time(sentence, end) or ("post" if _later_clause(sentence, end) else None)
        if told != "post" and _before_a_later_exchange(sentence, end):
            return  # "The next morning, before the second session, it had fallen to 2,450": between the exchanges
        # told as before the exchange, a value is nearer to it than any value dated days before ("IL-6 was 1,880
        # pg/mL on D+3. Before the first session it was 4,150 pg/mL"); not one told as before something else ("had
        # been 4,300 on admission"), nor one told as after an exchange, which may be after any of them
        before_exchange = SENTENCE_PRE.search(text) or BEFORE_NEARBY.search(local) and EXCHANGE.search(local)
        right_before = (1, self.pe_days[0], start) if self.pe_days and before_exchange else (0, 0, start)
        if told == "pre":
            self.offer(marker, "pre", right_before, pre)
        elif told == "post":
            self.offer(marker, "post", (0, 0, -end), post)
        elif before_exchange:
            self.offer(marker, "pre", right_before, pre)
        elif SENTENCE_POST.search(text) or POST_CUE.search(local) and (
                self.first_pe is not None and sentence.start_char >= self.first_pe or EXCHANGE.search(local)):
            self.offer(marker, "post", (0, 0, -end), post)
        elif (same := _timed_as_the_sample_before(sentence)) is not None:
            self.offer(marker, same, right_before if same == "pre" else (0, 0, -end), pre if same == "pre" else post)
        elif _framed_before_by_previous(sentence):
            self.offer(marker, "pre", (0, 0, start), replace(pre, weak=True))
        # told only where its sentence stands in the account: a table of the course by day knows better
        elif self.first_pe is None or sentence.start_char <= self.first_pe:
            self.offer(marker, "pre", (0, 0, start), replace(pre, weak=True))
        elif self.last_pe is not None and sentence.start_char > self.last_pe:
            self.offer(marker, "post", (0, 0, start), replace(post, weak=True))
        elif PRE_CUE.search(local):
            self.offer(marker, "pre", (0, 0, start), pre)

    def findings(self) -> list[Finding]:
        return [f for _, f in self.pre.values()] + [f for _, f in self.post.values()]


def markers(sentences: list[Span], patient: PatientContext) -> list[Finding]:
    """Markers before and after the exchanges from the account."""
    return _timeline_findings(sentences, patient)


def _timeline_findings(sentences: list[Span], patient: PatientContext) -> list[Finding]:
    timeline = _Timeline(sentences, patient)
    antecedent, since = None, 0  # the last sentence naming an analyte, and how many sentences ago
    for sentence in sentences:
        referring = _anaphoric_quantities(sentence, antecedent if since <= ANAPHOR_REACH else None)
        for marker, quantity, start in referring:
            timeline.place(marker, quantity.to(TARGET_UNITS[marker]), sentence, start, quantity.end, "labs.anaphor")
        if concepts_in(sentence, ("MARKER", "LAB")):
            antecedent, since = sentence, 1
        elif not referring:  # a chain of "it was ..." keeps its antecedent ("it had come down to ...; it was ...")
            since += 1
        listed, ranges, covered = _parallel_lists(sentence)
        slashed, slashed_covered = _slashed_lists(sentence)
        listed, covered = listed + slashed, covered + slashed_covered
        for marker, value, analyte, quantity in listed:
            timeline.place(marker, value, sentence, analyte.start_char, quantity.end, "labs.list")
        # "41.2 pg/ml and 2480 ng/ml" of a longer list is no pair of one marker's
        own_ranges = [r for r in _from_to(sentence) + _paired(sentence) if not any(a < r[4] <= b for a, b in covered)]
        for marker, first, second, start, end, rising in ranges + own_ranges:
            covered.append((start, end))
            if _summarises_a_group(sentence, start):
                continue
            if rising:
                # "rose from 2,850 to 18,600": the later value is the later measurement, before or after
                timeline.place(marker, second, sentence, start, end, "labs.rise")
                continue
            fields = MARKER_BY_ID[marker]
            timeline.offer(marker, "pre", (2, 0, start), Finding(fields.pre, f"{first:g}", start, end, "labs.from_to"))
            timeline.offer(marker, "post", (-2, 0, start), Finding(fields.post, f"{second:g}", start, end, "labs.from_to"))
        for marker, quantity, span in _marker_quantities(sentence):
            if any(a <= quantity.start < b for a, b in covered):
                continue
            timeline.place(marker, marker_value(quantity.value, quantity.unit, marker), sentence, span.start_char,
                           quantity.end, "labs.value")
    return timeline.findings()


# -- table cells --------------------------------------------------------------------------------------------------
# a cell holding two values, before and after: "6,840/512", "> 5,000 → 1 020", "12.4 to NA", "4,870 > 520" (a bound
# stands before its number: "> 5,000")
PAIR = re.compile(r"""
    ^(?P<bound_a>[<>≥≤]\s*)?(?P<a>[\d.,\s\u2009\u202f]+|na|nr|ne|—|-|not\s+[a-z]+)   # "> 5,000", "NA"
    (?:\s*(?:/|→|->|to)\s*|\s+>\s+)                                   # "/", "→", "to"; "4,870 > 520" spaced
    (?P<bound_b>[<>≥≤]\s*)?(?P<b>[\d.,\s\u2009\u202f]+|na|nr|ne|—|-|not\s+[a-z]+)$  # "1,020 / not recorded"
    """, re.IGNORECASE | re.VERBOSE)


def header_time(header: str) -> str | None:
    """The time a marker column's header gives its values: "post" ("CRP post-TPE", "IL-6 after"), "pre" ("IL-6
    before", "Ferritin, peak", "baseline"), None when it names none."""
    if re.search(r"\b(post|after)\b", header, re.IGNORECASE):
        return "post"
    return "pre" if re.search(r"\b(pre|before|peak|baseline)\b", header, re.IGNORECASE) else None


def marker_cell(cell: Cell) -> list[Finding]:
    """A marker's column: its pre and post values when the header pairs them ("IL-6 pre/post (pg/mL)": "6,840/512"),
    else the one value the header says it holds ("CRP post-TPE", "Ferritin, peak"), in the header's unit."""
    marker, header = MARKER_BY_ID[cell.key], cell.header.lower()
    pair = PAIR.match(cell.text)
    values: list[tuple[str, str]] = []
    if pair and ("/" in header or "→" in header or ("pre" in header and "post" in header)
                 or ("before" in header and "after" in header)):
        values = [(marker.pre, pair.group("a")), (marker.post, pair.group("b"))]
    elif header_time(header) == "post":
        values = [(marker.post, cell.text.replace(" ", ""))]
    elif header_time(header) == "pre":
        values = [(marker.pre, cell.text.replace(" ", ""))]
    findings = []
    for name, raw in values:
        number = number_in(raw, cell.doc._.decimal_comma)
        if number is None or is_missing(raw.strip()):
            continue
        value = marker_value(number, cell.unit, marker.id)
        if value is not None:
            findings.append(cell.finding(name, f"{value:g}", "marker"))
    return findings
