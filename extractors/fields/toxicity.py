"""CRS grade and onset, ICANS grade, HLH."""

from __future__ import annotations

import re

from spacy.tokens import Span

from extractors.assertion import flagged, hypothetical, is_affirmed, negated, target
from extractors.components import DOCUMENT
from extractors.evidence import Finding, concepts_in, gap, in_one_clause, sentence_of
from extractors.fields.inputs import Cell, PatientContext
from extractors.fields.purification import CAR_T_LABELS
from extractors.values import DATED_ENTRY, GRADE, ROMAN_GRADE, days_in, entry_day, grade_value
from pipeline.schema import FIELD_BY_NAME

GRADE_MENTION = re.compile(rf"""
    \b(?:grade[sd]?|gr\.?|G(?=[1-5]\b))\s*(?:of\s*|was\s*|were\s*|:\s*)?(?P<g>{GRADE})  # "grade IV", "graded 3", "G2",
    #                                                                      "grade: 3", "the grades were 3, 4 and 3"
    (?:\s*(?:-|–|to|/)\s*(?P<g2>{GRADE}))?                                   # "grade 3-4", "grade 2 to 3"
  | \b(?P<g3>{GRADE})\s*grade\b                                              # "a 3 grade"
  | \bgrade\s+(?:was\s+|had\s+been\s+)?(?:later\s+)?                          # "the grade was revised to 4"
    (?:revised|upgraded|raised|escalated|increased|changed|reclassified)\s+to\s+(?P<revised>{GRADE})\b
    """, re.IGNORECASE | re.VERBOSE)
SYNDROMES = ("CRS", "ICANS", "HLH")
# words of a neurological grade: "ICE score", "encephalopathy", "seizures"
NEURO_WORDS = re.compile(r"""\b(
    ICE|encephalopath\w*|neuro\w*|seizure\w*|aphasia|confusion|CAPD|delirium
    )\b""", re.IGNORECASE | re.VERBOSE)
MAX_DISTANCE = 45
CRS_GRADE = FIELD_BY_NAME["crs_grade"]
ONSET_CUE = re.compile(r"""
    \b(develop|onset|occur|start|began|begin|begun|commenc|bec[oa]me|present|appear|emerg|fever|febrile  # "developed
       |manifest|came\ on)                                                              #  CRS", "onset of", "came on"
  | \b(spik|diagnos)\w*                                                  # "spiked a fever", "CRS was diagnosed"
  | \b(?:initiat|debut)\w*\s+with\b                                     # "she initiated with fever"
  | \bfrom(?=\s+(?:day|d)\s?[+]?\d)                                                     # "CRS from day 2"
    """, re.IGNORECASE | re.VERBOSE)
# words of the end of CRS or fever: a day after them ("resolved by day 6") dates no onset
END_CUE = re.compile(r"\b(resolv|subsid|abat|settl|afebrile|apyrexi|defervesc|disappear|free\ of)", re.IGNORECASE)
FEVER = re.compile(r"""\b(fever|feverish|febrile|(?:hyper)?pyrexia
  | temperature\ (?:(?:went|rose|climbed|spiked|jumped)\ (?:up\ )?)?(?:of|to|above|over|exceeding|>|≥)\s*(?:3[89]|4[0-2])  # "a
    #                                                                      temperature above 38 °C", "temperature went to 39"
    )\b""", re.IGNORECASE | re.VERBOSE)
# ConText target type of a fever word (context_rules.json may name it in allowed_types)
FEVER_TARGET = "FEVER"


# a clause break a grade is not carried across: "CRS onset D+2, max G3; no ICANS"
CLAUSE_BREAK = re.compile(r";")


def same_clause(offset: int, span: Span) -> bool:
    """Whether no clause break stands between the document's character ``offset`` and ``span``."""
    lo, hi = sorted((offset, span.start_char))
    return not CLAUSE_BREAK.search(span.doc.text[lo:hi])


def takes_grade(syndrome: Span, start: int, end: int) -> bool:
    """Whether the syndrome may take the grade at the document's characters ``start:end``: not across a clause
    break, and not a syndrome said to be absent ("max G3; no ICANS") unless the grade is written against it
    ("ICANS grade 3", which a negation cue elsewhere in the sentence may reach)."""
    if not same_clause(start, syndrome):
        return False
    return gap(start, end, syndrome) <= 1 or not negated(syndrome)


def _graded(sentences: list[Span]) -> list[tuple[str, int, int, int]]:
    """(syndrome, grade, start, end) for each "grade N" attached to the nearest syndrome mention."""
    graded = []
    for sentence in sentences:
        syndromes = concepts_in(sentence, SYNDROMES)
        # "her worst stage was graded 3 on the ASTCT consensus scale", "CRS was graded by the ASTCT criteria; he
        # reached grade 3": a grade told against a CRS grading system, in a sentence that names no other syndrome
        # and no neurological words, is a CRS grade
        scales = []
        if all(s.label_ == "CRS" for s in syndromes) and not NEURO_WORDS.search(sentence.text):
            scales = [Span(sentence.doc, s.start, s.end, label="CRS") for s in concepts_in(sentence, "GRADING")]
        if not syndromes and not scales:
            continue
        mentions = [(sentence.start_char + m.start(), sentence.start_char + m.end(), m)
                    for m in GRADE_MENTION.finditer(sentence.text)]
        for start, end, match in mentions:
            grades = [grade_value(g) for g in match.group("g", "g2", "g3", "revised") if g]
            grades = [g for g in grades if g is not None]
            if not grades:
                continue

            # "CRS ... became grade 4 on day 4, with grade 3 ICANS": a syndrome written against a grade of its own
            # takes no other
            free = [s for s in syndromes
                    if not any(gap(a, b, s) <= 1 for a, b, _ in mentions if (a, b) != (start, end))]
            # the syndrome named nearest, else the scale (the syndrome's own mention is the better evidence); a grade
            # written on a scale of CRS alone is CRS's, whatever else the sentence names ("on two vasopressors, Penn
            # grade 4, and IEC-HS was diagnosed")
            on_a_crs_scale = [Span(sentence.doc, g.start, g.end, label="CRS") for g in concepts_in(sentence, "GRADING")
                              if g.id_ in CRS_ONLY_SCALES and gap(start, end, g) <= 1]
            nearest = None
            for anchors in (on_a_crs_scale, [s for s in free if takes_grade(s, start, end)], scales,
                            _sole_syndrome(free, start, end)):
                if anchors:
                    nearest = min(anchors, key=lambda s: (gap(start, end, s), s.start_char < start))
                    if gap(start, end, nearest) <= MAX_DISTANCE:
                        break
            # "CRS was graded 3 in the notes at 21:00; by 02:00 ... the grade was revised to 4": a revision grades
            # the one syndrome its sentence names, however far back;
            # so does a bare grade in a sentence on how CRS was graded: "We graded CRS with CTCAE v5 because that is
            # what the trial protocol used, and the worst grade was 3"
            # and a grade the syndrome is said to reach, in a later clause of the sentence that names it alone ("CRS
            # began late, on day 7, with fever and a need for oxygen, and never went beyond grade 2")
            reached = REACHED.search(sentence.doc.text, max(sentence.start_char, start - 30), start)
            sole = _sole_syndrome(free, start, end) if match.group("revised") or scales or reached else []
            if sole and (nearest is None or gap(start, end, nearest) > MAX_DISTANCE):
                nearest = sole[0]
            near = nearest is not None and (gap(start, end, nearest) <= MAX_DISTANCE or nearest in sole)
            if near and not hypothetical(nearest):
                lo, hi = min(start, nearest.start_char), max(end, nearest.end_char)
                graded.append((nearest.label_, max(grades), lo, hi))
    return graded


# the scales (gradings.jsonl ids) that grade CRS alone: a grade written on one of them is CRS's
CRS_ONLY_SCALES = frozenset({"Penn", "Lee 2014", "MSKCC"})
# a verb of reaching right before a grade: "never went beyond grade 2", "progressed to grade 4", "peaked at grade 3"
REACHED = re.compile(r"""
    (?:reach\w*|progress\w*\s+to|escalat\w*\s+to|worsen\w*\s+to|rose\s+to|peak\w*\s+at
     |went\s+(?:up\s+)?(?:to|beyond|above|past)|beyond|exceed\w*)
    \s+(?:a\s+)?(?:maximum\s+(?:of\s+)?|max\.?\s+)?$
  | \b(?:maxim(?:um|al)|highest|worst|peak)\s+$                       # "and the maximum grades were 3, 4 and 3"
    """, re.IGNORECASE | re.VERBOSE)
# what may follow a grade that grades nothing named after it: "G3 on D+3", "grade 3 (hypotension)", "max G3."; not
# "grade 3 anaemia"
BARE_GRADE_END = re.compile(r"^\s*(?:$|[.,;(]|(?:on|at|by|from|within|after|until)\b|d\s?\+)", re.IGNORECASE)


def _sole_syndrome(syndromes: list[Span], start: int, end: int) -> list[Span]:
    """A bare grade in a later clause of a terse note ("CRS from D+1 (fever); G3 on D+3") grades the one syndrome
    the sentence opens with, if it names no other and does not deny it."""
    before = [s for s in syndromes if s.end_char <= start]
    if len({s.label_ for s in syndromes}) != 1 or not before or any(negated(s) for s in syndromes):
        return []
    if not BARE_GRADE_END.match(before[0].doc.text[end:end + 20]):
        return []
    return before[:1]


def crs_grade(sentences: list[Span], patient: PatientContext) -> list[Finding]:
    grades = [g for g in _graded(sentences) if g[0] == "CRS" and CRS_GRADE.admits(g[1])]
    if not grades:
        return []
    best = max(grades, key=lambda g: g[1])
    return [Finding("crs_grade", str(best[1]), best[2], best[3], "toxicity.crs_grade")]


def icans(sentences: list[Span], patient: PatientContext) -> list[Finding]:
    grades = [g for g in _graded(sentences) if g[0] == "ICANS"]
    if grades:
        best = max(grades, key=lambda g: g[1])
        return [Finding("icans_grade", str(best[1]), best[2], best[3], "toxicity.icans_grade")]
    mentions = [s for sentence in sentences if not _names_a_scale(sentence)
                for s in concepts_in(sentence, "ICANS") if not _names_a_score(s)]
    if any(NOT_ASSESSED.search(sentence_of(s).text) for s in mentions):
        return []  # "sedated, ICANS was not graded": nobody could tell, which is no absence
    if mentions and all(negated(s) for s in mentions):
        s = mentions[0]
        return [Finding("icans_grade", "0", sentence_of(s).start_char, sentence_of(s).end_char, "toxicity.icans_absent")]
    return []


# "immune effector cell-associated encephalopathy (ICE) score was 10": the score's name, not the syndrome
SCORE_AFTER = re.compile(r"^\s*(?:\(ICE\)\s*)?(?:score|assessment)\b", re.IGNORECASE)
# "CRS and neurotoxicity were graded using the ASTCT consensus": the method, no word on whether it occurred
GRADED_BY = re.compile(r"""
    \b(?:were|was|are|is)\s+                   # "were"
    (?:graded|assessed|scored)\s+              # "graded"
    (?:using|by|according|per|with)\b          # "using", "according to"
    """, re.IGNORECASE | re.VERBOSE)

# "ICANS was not graded", "neurotoxicity could not be assessed", "was not evaluable": unknown, not absent
NOT_ASSESSED = re.compile(r"""
    \b(?:not|never|cannot|could\s+not|couldn't)\s+(?:be\s+)?(?:reliably\s+)?   # "could not be"
    (?:graded|assessed|evaluated|scored|evaluable|assessable|gradable)\b        # "assessed", "evaluable"
  | \b(?:un|non-?)(?:evaluable|assessable|gradable)\b                          # "unevaluable", "non-assessable"
    """, re.IGNORECASE | re.VERBOSE)


def _names_a_score(mention: Span) -> bool:
    return bool(SCORE_AFTER.match(mention.doc.text[mention.end_char:mention.end_char + 20]))


def _names_a_scale(sentence: Span) -> bool:
    """A sentence on how toxicities were graded, with no grade of its own."""
    return bool(GRADED_BY.search(sentence.text)) and not GRADE_MENTION.search(sentence.text)


def hlh(sentences: list[Span], patient: PatientContext) -> list[Finding]:
    """The account's last word on HLH: "raised the question of IEC-HS ... the diagnosis was not made" is no.
    A negated mention is the value no (ConText; its rules on HLH criteria govern the whole sentence)."""
    verdict = None
    for sentence in sentences:
        for span in concepts_in(sentence, "HLH"):
            if is_affirmed(span):
                verdict = Finding("hlh", "yes", span.start_char, span.end_char, "toxicity.hlh")
            elif negated(span) and not flagged(span, "NOT_ASSESSED"):  # not "No HLH work-up was done": not looked for
                verdict = Finding("hlh", "no", sentence.start_char, sentence.end_char, "toxicity.hlh_absent")
    return [verdict] if verdict else []


ONSET_WINDOW = 60
# day 0: "on the day of infusion", "the same day", "within a few hours", "on the evening of the infusion itself"
DAY_OF_INFUSION = re.compile(r"""\b(
    (?:day|evening|night|morning)\ of\ (?:the\ )?infusion    # "on the evening of the infusion"
  | same\ day | within\ (?:a\ few\ |\d{1,2}\ )?hours           # "the same day", "within 6 hours", "within hours"
    )\b""", re.IGNORECASE | re.VERBOSE)


# the cells given again: "a second infusion of the same CAR-T cells", "reinfusion", "a repeat infusion"
REPEAT_INFUSION = re.compile(r"\b(?:second|repeat(?:ed)?|another|re-?)\s*(?:CAR[\s-]?T\s+(?:cell\s+)?)?infusion\b|\breinfus",
                             re.IGNORECASE)


def since_the_cells_were_given_again(sentences: list[Span]) -> list[Span]:
    """The account from the cells' infusion again on, where the case report tells of one: the days before it count
    from the first infusion ("the CRS of grade 1 developed on the 1st day after infusion" of a first course)."""
    document = sentences[0].doc.user_data.get(DOCUMENT) if sentences else None
    if document is None:
        return sentences
    repeats = [i for i, s in enumerate(sentences) if REPEAT_INFUSION.search(s.text) and concepts_in(s, CAR_T_LABELS)
               and getattr(document.section_at(s.start_char), "kind", None) in ("case", "results")]
    return sentences[repeats[0]:] if repeats else sentences


def crs_onset(sentences: list[Span], patient: PatientContext) -> list[Finding]:
    """The day CRS (or its first fever) began: an onset cue close to a CRS mention, and the nearest day."""
    sentences = since_the_cells_were_given_again(sentences)
    for sentence in sentences:
        crs = [s for s in concepts_in(sentence, "CRS") if is_affirmed(s)]
        cues = [m for m in ONSET_CUE.finditer(sentence.text)
                if any(abs((c.start_char - sentence.start_char) - m.start()) <= ONSET_WINDOW for c in crs)
                and not _dates_a_treatment(sentence, m)]
        if not crs or not cues:
            continue
        days = _onset_days(sentence.text, days_in(sentence, patient.infusion_date, patient.hours_from_infusion))
        if days:
            day, start, end = _nearest_day(sentence.text, days, cues[0].start())
            entry = entry_day(sentence, patient.infusion_date)
            if entry is not None and HOURS_WORD.search(sentence.text, start, end) and abs(entry[0] - day) <= 1:
                # "Day 1. Fever to 39.4 °C about 20 hours after the infusion: onset of CRS": the entry's day, which
                # the account counts by, over the hours turned into days
                day, start, end = entry
            # fever is the first sign of CRS: a fever the account dates earlier ("On day 2 the patient had fever. On
            # day 4 hypotension occurred, CRS reached grade 4") began it
            fever = _fever_onset([s for s in sentences if s.start_char < sentence.start_char], patient)
            if fever and int(fever[0].value) < day:
                return fever
            return [Finding("crs_onset_day", str(day), sentence.start_char + start, sentence.start_char + end,
                            "toxicity.crs_onset")]
        if DAY_OF_INFUSION.search(sentence.text) and not END_CUE.search(sentence.text):
            cue = cues[0]
            return [Finding("crs_onset_day", "0", sentence.start_char + cue.start(), sentence.start_char + cue.end(),
                            "toxicity.crs_onset_day0")]
    return _timeline_onset(sentences, patient) or _fever_onset(sentences, patient)




def _timeline_onset(sentences: list[Span], patient: PatientContext) -> list[Finding]:
    """The day heading a timeline's first entry that names CRS, in a clause not telling of its end ("D+9: CRS
    resolved"), in the entry's first sentence or one it goes on with ("Day 1 - S: warm. A: CRS, grade 1.")."""
    for sentence in sentences:
        entry = DATED_ENTRY.match(sentence.text)
        went_on = entry_day(sentence, patient.infusion_date) if not entry else None  # "Day 1 - S: warm. A: CRS, grade 1."
        if not entry and not went_on:
            continue
        first_clause = _clause_at(sentence.text, entry.end() if entry else 0)
        crs = [s for s in concepts_in(sentence, "CRS") if is_affirmed(s)
               and s.start_char - sentence.start_char < len(first_clause)]
        if not crs or END_CUE.search(first_clause):
            continue
        days = [went_on] if went_on else \
            [d for d in days_in(sentence, patient.infusion_date, patient.hours_from_infusion) if d[1] < entry.end()]
        if days:
            day, start, end = days[0]
            return [Finding("crs_onset_day", str(day), sentence.start_char + start, sentence.start_char + end,
                            "toxicity.timeline_onset")]
    return []


TREATMENTS = ("PE", "DRUG", "STEROID", "TOCILIZUMAB", "PURIFICATION")


def _dates_a_treatment(sentence: Span, cue: re.Match) -> bool:
    """"received three plasma exchanges from day +6 for grade 4 CRS": a "from" right after a treatment dates it, not
    the syndrome."""
    if not cue.group(0).lower().startswith("from"):
        return False
    at = sentence.start_char + cue.start()
    return any(0 <= at - span.end_char <= 2 for span in concepts_in(sentence, TREATMENTS))


HOURS_WORD = re.compile(r"\bh(?:ours?|rs?)?\b", re.IGNORECASE)


def _onset_days(text: str, days: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """The days of a sentence that date an onset. In a sentence that also tells of an end ("CRS G2 from D+1,
    resolved after one dose"), only a day in a clause of its own with an onset word ("from", "onset", "developed"; a
    fever word alone may be the fever ending) and no word of an end."""
    if not END_CUE.search(text):
        return days
    kept = []
    for clause in re.finditer(r"[^,;]+", text):
        words = clause.group(0)
        if END_CUE.search(words) or not any(not FEVER.fullmatch(m.group(0)) for m in ONSET_CUE.finditer(words)):
            continue
        kept += [d for d in days if clause.start() <= d[1] < clause.end()]
    return kept


def _nearest_day(text: str, days: list[tuple[int, int, int]], position: int) -> tuple[int, int, int]:
    """Of ``days``, the one nearest ``position`` in its clause, else in the sentence."""
    candidates = [d for d in days if in_one_clause(text, d[1], position)] or days
    return min(candidates, key=lambda d: abs(d[1] - position))


# A sentence telling of the fever's course ("afebrile by day 5", "fever persisted", "fever recurred") dates no onset;
# a fever said to be absent ("no fever", "without fever") is ConText's reading, not these words'.
FEVER_COURSE = re.compile(r"\b(afebrile|resolv|subsid|recur|persist)", re.IGNORECASE)
# a fever the patient had on a day, the account's first dated fever: "on day 1 she had a fever of 39.4 °C", "she was
# febrile 72 h after infusion", "the first temperature above 38 °C" (not "still febrile", "febrile again")
FEVER_HAD = re.compile(r"""
    \b(?:had|ran)\s+(?:a\s+)?(?:high\s+|spiking\s+)?(?:fever|temperature)\b(?!\s+again)
  | \b(?:was|were|became|becomes)\s+(?:(?:noted|found|documented)\s+to\s+be\s+)?(?:febrile|pyrexial)\b(?!\s+again)  # "was noted
  | \bfirst\s+(?:fever|temperature|febrile\ episode)\b                                          #  to be febrile"
  | \b(?:fever|temperature)\s+(?:was\s+)?first\s+(?:recorded|noted|documented|observed)\b       # "Fever was first
    #                                                                                               recorded 72 h after"
  | \btemperature\s+(?:went|rose|climbed|spiked|jumped)\s+(?:up\s+)?to\s+(?:3[89]|4[0-2])            # "her temperature
    #                                                                                               went to 38.9 °C"
    """, re.IGNORECASE | re.VERBOSE)


def _clause_at(text: str, position: int) -> str:
    """The clause of ``text`` (between semicolons) that holds ``position``: "fever began 72 h after infusion; the
    CRS had resolved by day 5" tells of the fever's course only in its second clause."""
    start = max((m.end() for m in CLAUSE_BREAK.finditer(text, 0, position)), default=0)
    end = next((m.start() for m in CLAUSE_BREAK.finditer(text, position)), len(text))
    return text[start:end]


def _fever_onset(sentences: list[Span], patient: PatientContext) -> list[Finding]:
    """Fever is the first sign of CRS: when no sentence dates CRS itself, the day fever began."""
    for sentence in sentences:
        fever = FEVER.search(sentence.text)
        if not fever:
            continue
        told_as_onset = ONSET_CUE.search(sentence.text.replace(fever.group(0), "")) or FEVER_HAD.search(sentence.text)
        if not told_as_onset or FEVER_COURSE.search(_clause_at(sentence.text, fever.start())) or \
                negated(target(sentence, fever.start(), fever.end(), FEVER_TARGET)):
            continue
        days = [d for d in days_in(sentence, patient.infusion_date, patient.hours_from_infusion) if d[0] >= 0]
        if not any(day == 0 for day, _, _ in days):  # "on the evening of the infusion" where no "day 0" numbers it
            days += [(0, m.start(), m.end()) for m in DAY_OF_INFUSION.finditer(sentence.text)]
        if days:
            day, start, end = _nearest_day(sentence.text, days, fever.start())
            return [Finding("crs_onset_day", str(day), sentence.start_char + start, sentence.start_char + end,
                            "toxicity.fever_onset")]
    return []


# -- table cells --------------------------------------------------------------------------------------------------
# a grade in a cell: "3", "IV" (capitals only: a lower-case "i" or "v" in a cell is no grade)
CELL_GRADE = re.compile(rf"\b([0-5]|{ROMAN_GRADE})\b")


def grade_cell(cell: Cell) -> list[Finding]:
    """A CRS or ICANS grade column: "3", "IV", or a wording ("none" under ICANS is grade 0)."""
    match = CELL_GRADE.search(cell.text)
    grade = grade_value(match.group(1)) if match else None
    if grade is None and cell.wording() is not None:
        grade = int(cell.wording())
    admitted = grade is not None and FIELD_BY_NAME[cell.key].admits(grade)
    return [cell.finding(cell.key, str(grade), "grade")] if admitted else []


def hlh_cell(cell: Cell) -> list[Finding]:
    """An HLH column's wording: "present", "absent"."""
    return cell.wording_findings()


def onset_cell(cell: Cell) -> list[Finding]:
    """A CRS onset column: the day, "2", "D+3"."""
    day = cell.integer()
    return [cell.finding("crs_onset_day", str(day), "count")] if day is not None else []
