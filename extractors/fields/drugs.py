"""Tocilizumab doses, corticosteroids and other drugs given against CRS, ICANS or HLH."""

from __future__ import annotations

import re

from spacy.tokens import Span

from extractors.assertion import flagged, is_affirmed, negated, target
from extractors.cues import GROUP_SUMMARY_WORD
from extractors.evidence import Finding, concepts_in, section_of, sentence_of
from extractors.fields.inputs import Cell, PatientContext
from extractors.values import COUNT, ORDINALS, count_value, find_days
from pipeline.schema import FIELD_BY_NAME

TOCILIZUMAB_DOSES = FIELD_BY_NAME["tocilizumab_doses"]  # its bounds tell a count of doses from other numbers
# the STEROID concept of the class word ("corticosteroids", "steroids"): it names no drug, though "no steroids" is none
STEROID_CLASS = "corticosteroids"

# "two doses of", "3 further doses of"; not the day in "on day +4 despite two doses of"
DOSES_BEFORE = re.compile(rf"""
    (?<![+\-−])\b(?<!day\ )(?P<n>{COUNT})\s+      # "two", "3"; not "+4" or "day 4"
    (?:(?!{COUNT}\b)[a-z]+\s+){{0,2}}             # "further", "more"
    (?:doses?|administrations?|infusions?|injections?|applications?|times)\s+(?:of\s+)?$   # "two times of"
    """, re.IGNORECASE | re.VERBOSE)
# "8 mg/kg", "400 mg iv"
DOSE = r"(?:\d+(?:\.\d+)?\s*(?:mg/kg|mg/m2|mg/m²|mg|g)\b\s*(?:(?:iv|i\.v\.|intravenously)\s*)?,?\s*)"  # "8 mg/kg, two doses"
# how often a dose is given: "q8h", "every 8 hours"
FREQUENCY = r"(?:(?:q\s?\d{1,2}\s?h|every\s+(?:\d{1,2}|six|eight|twelve)\s+hours?)\s*,?\s*)"
# right after the drug's name: "(TCZ) 8 mg/kg twice", "×3", "two doses", "was repeated three times", "8 mg/kg q8h x3"
DOSES_AFTER = re.compile(rf"""
    ^\W{{0,3}}(?:\([^)]{{0,40}}\)\s*)?{DOSE}?{FREQUENCY}?
    (?:(?:beforehand|previously|earlier|already|initially)\s*,?\s*)?  # "tocilizumab beforehand, two doses"
    (?:(?:×|x)\s?(?P<x>\d{{1,2}})\b                                # "×3", "x 2"
      | (?P<n>{COUNT})\s+(?:doses|administrations|infusions)\b     # "two doses"
      | (?:was\s+)?(?:given|administered|repeated)?\s*
        (?P<adv>once|twice|thrice|(?P<times>{COUNT})\s+times)\b    # "twice", "was given three times"
      | (?:was\s+)?(?:given\s+|administered\s+)?(?:on|in)\s+
        (?P<occasions>{COUNT})\s+(?:separate\s+|different\s+)?occasions\b   # "in two occasions"
      | \(?\s*dose\s+(?:no\.\s*)?(?P<numbered>\d{{1,2}})(?=\s*(?:[);,.:]|$))   # "(dose 2)", "dose 2;" of a
    )""", re.IGNORECASE | re.VERBOSE)          # timeline: the second, so two at least (not "dose 8 h later")
# a count before the drug's name and the dose noun after it: "a single TCZ dose", "two tocilizumab doses"
COUNT_BEFORE = re.compile(rf"(?<![+\-−])\b(?<!day\ )(?P<n>{COUNT})\s+$", re.IGNORECASE)
DOSE_NOUN_AFTER = re.compile(r"^\s*(?:doses?|administrations?|injections?)\b", re.IGNORECASE)
# "the second dose", "a third application", "given on day +1 and a second time on day +2"
# "the second dose", "the third tocilizumab dose" (the drug's own name between; no other drug's), "a fourth and final
# dose"
ORDINAL_DOSE = re.compile(rf"""
    \b(?P<o>{'|'.join(ORDINALS)})\s+                           # "the second"
    (?:(?:and|,)\s*(?:final|last)\s+)?                         # "a fourth and final"
    (?:(?:tocilizumab|TCZ)\s+)?                                # "the third tocilizumab"
    (?:dose|administration|infusion|application|time|one)\b   # "dose", "time", "a second one"
    """, re.IGNORECASE | re.VERBOSE)
# the days of the doses told before the drug, opening its clause: "On day +2 and again on day +3 he got tocilizumab"
DAYS_LEADING = re.compile(r"""
    (?:^|[;,]\s*)(?:on\s+)?
    (?P<days>(?:days?|D)\s?\+?\s?\d{1,3}(?:\s*(?:,|and|&)\s*(?:again\s+|then\s+)?(?:on\s+)?(?:(?:days?|D)\s?)?\+?\s?\d{1,3})+)
    \s*,?\s+(?:[\w-]+\s+){0,3}?(?:got|received|was\s+given|were\s+given|had|was\s+administered)\s+$   # "he got"
    """, re.IGNORECASE | re.VERBOSE)
# a count summarising a group: "(median 2 doses)", "a mean of 2.5 doses"
GROUP_SUMMARY = re.compile(rf"\b(?:{GROUP_SUMMARY_WORD}|range)\b", re.IGNORECASE)
# "on days 2 and 3", "on D+2 and D+3"
DAY_LIST = re.compile(r"\b(?:days?\s*\+?|D\s?\+)\d{1,3}(?:\s*(?:,|and|&)\s*(?:D\s?)?\+?\d{1,3})+", re.IGNORECASE)
# the count told in a parenthesis of the drug's clause: "given on D+2 and D+3 (two doses)"
DOSES_IN_PARENTHESIS = re.compile(rf"""
    ^[^;()]{{0,60}}                                            # "given on D+2 and D+3 "
    \(\s*(?P<n>{COUNT})\s+(?:doses|administrations|infusions)\s*\)  # "(two doses)"
    """, re.IGNORECASE | re.VERBOSE)
# the count the account settles on: "for a total of three", "three doses in total"
TOTAL = re.compile(rf"""
    \b(?:a\ total\ of|in\ all|altogether)\s+(?P<n>{COUNT})\b(?!\s*(?:mg|g|mL|L|%))    # "for a total of three"
  | \b(?P<m>{COUNT})\s+(?:doses\s+)?(?:in\ all|in\ total|altogether)\b              # "(four doses in all)"
    """, re.IGNORECASE | re.VERBOSE)
# a dose given at times listed right after the drug: "TCZ 8 mg/kg at 32 h and 58 h", "at 10:00 and 22:00" not read
TIME_LIST = re.compile(rf"""
    ^\W{{0,3}}{DOSE}?\s*(?:at|on)\s+
    (?P<marks>\d{{1,3}}\s*(?:h|hrs?|hours)\b(?:\s*(?:,|and|&)\s*\d{{1,3}}\s*(?:h|hrs?|hours)\b)+)   # "32 h and 58 h"
    """, re.IGNORECASE | re.VERBOSE)
# "given on day 3 and repeated on day 4", "administered ... and then given again", "received X on day 2 and again on day 3"
REPEATED = re.compile(r"""
    (?:\b(?:given|administered|infused|injected)\b)?[^;]{0,60}?    # the verb may stand before the drug ("received X")
    \band\ (?:was\ |then\ )?(?:repeated|re-?dosed|given\ again|again\b)
    (?:\s+on\s+(?:day|D)\s*\+?\d{1,3})?                                  # "and again on day 3"
    """, re.IGNORECASE | re.VERBOSE)
LYMPHODEPLETION = re.compile(r"\b(lymphodeplet|lympho-deplet|conditioning|fludarabine|bridging)", re.IGNORECASE)
# a drug of the bridging regimen: "Bridging consisted of vincristine and dexamethasone", "dexamethasone as bridging"
BRIDGING = re.compile(r"""
    \bbridging\s+(?:therapy|chemotherapy|treatment|regimen|consisted|comprised|included|was|with)\b
  | \b(?:as|for)\s+bridging\b
    """, re.IGNORECASE | re.VERBOSE)
# where a drug's clause goes on to another treatment, whose days are not the drug's
ANOTHER_TREATMENT = re.compile(r"\b(?:then|underw\w+|T?PE|PLEX|PEX|(?:plasma\s*)?exchang\w*|plasmapheresis|apheresis)\b",
                               re.IGNORECASE)
# a drug given for something other than the toxicity, told right after it: "IVIG (0.5 g/kg) for hypogammaglobulinaemia",
# "immunoglobulin replacement"
OTHER_INDICATION = re.compile(r"""
    ^(?:[^.;]|\.(?=\d)){0,60}?(?:\bfor\s+|\(\s*)(?:(?:the|her|his|a)\s+)?(?:   # "(IVIG, 0.5 g/kg) for", "IVIG monthly
    #                                                                       (hypogammaglobulinaemia)", within the sentence
      hypogammaglobulin\w* | (?:antimicrobial\ |antifungal\ |antiviral\ |seizure\ |PJP\ |PCP\ )?prophyla\w*
      | (?:bacterial\ |fungal\ |viral\ )?infections? | sepsis | pneumonia | nausea | emesis | adrenal\ insufficiency
      | B[-\ ]cell\ aplasia
    )\b
  | ^\s*(?:\([^)]{0,30}\)\s*)?(?:replacement|substitution)\b     # "receiving intravenous immunoglobulin replacement"
    """, re.IGNORECASE | re.VERBOSE)

# the drugs a patient leaves hospital with, prophylaxis and the like, not those given against the toxicity:
# "Medication on discharge: aciclovir, ...", "discharge medications included", "discharged home on valaciclovir"
DISCHARGE_MEDICATION = re.compile(r"""
    \b(?:medications?|medicines?|meds|drugs?|prescriptions?|treatment)\s+(?:on|at|upon)\s+discharge\b
  | \bdischarge\s+(?:medications?|medicines?|meds|prescriptions?|drugs?)\b
  | \bdischarged\s+(?:home\s+)?(?:on|with)\b(?!\s+(?:day|d\b))
    """, re.IGNORECASE | re.VERBOSE)


def _given_for_something_else(span: Span) -> bool:
    """Whether ``span``'s drug is told as given for another indication (IVIG for hypogammaglobulinaemia), as part
    of the bridging regimen, among the medications the patient went home with, or under a heading of drugs not
    given ("Drugs considered but not given")."""
    after = span.doc.text[span.end_char:span.end_char + 120]  # not the sentence's end: "0.5 g/kg" may split it
    sentence = sentence_of(span)
    before = span.doc.text[sentence.start_char:span.start_char]
    return bool(OTHER_INDICATION.search(after) or BRIDGING.search(sentence.text) or DISCHARGE_MEDICATION.search(before)
                or _under_a_heading(span, NOT_GIVEN_HEADING) or _under_a_heading(span, DISCHARGE_MEDICATION))


# a section of the drugs the patient did not get: "Drugs considered but not given", "Treatments not used"
NOT_GIVEN_HEADING = re.compile(r"\b(?:not|never)\s+(?:given|used|administered|started)\b|\bwithheld\b", re.IGNORECASE)


def _under_a_heading(span: Span, heading: re.Pattern) -> bool:
    """Whether the title of the section ``span`` stands in says ``heading`` ("MEDS ON DISCHARGE")."""
    section = section_of(span)
    return section is not None and bool(heading.search(section.title))


def _dose_of(sentence: Span, dose: re.Match, drug: Span) -> bool:
    """Whether an ordinal's dose is the drug's own: "a third dose of tocilizumab", "the second tocilizumab dose"."""
    dose_start, dose_end = sentence.start_char + dose.start(), sentence.start_char + dose.end()
    return dose_start <= drug.start_char < dose_end or \
        bool(re.fullmatch(r"\s+of\s+", sentence.doc.text[dose_end:drug.start_char]))


NOT_GIVEN = ("NEGATED_EXISTENCE", "HYPOTHETICAL")  # ConText's readings of a dose denied or only considered


def _ordinal_doses(sentence: Span, drug: Span | None = None) -> list[int]:
    """Doses an ordinal tells of: "the second dose" is two; "a third dose was not given" is two, the one before it.
    A dose only considered is not given ("A third dose was considered"). A denial of the drug the dose is of denies the dose ("A third dose of tocilizumab was discussed on day 5 but not
    given": the cue may reach the drug's name and not the ordinal before it)."""
    counts = []
    for match in ORDINAL_DOSE.finditer(sentence.text):
        number = ORDINALS[match.group("o").lower()]
        denied = flagged(target(sentence, match.start(), match.end(), "TOCILIZUMAB"), *NOT_GIVEN) or \
            (drug is not None and _dose_of(sentence, match, drug) and negated(drug))
        counts.append(number - 1 if denied else number)
    return counts


def tocilizumab(sentences: list[Span], patient: PatientContext) -> list[Finding]:
    best = None
    none_given = None
    affirmed = False
    for sentence in sentences:
        for span in concepts_in(sentence, "TOCILIZUMAB"):
            if not is_affirmed(span):
                # "A third dose of tocilizumab was not given": the doses before it were
                withheld_after = [c for c in _ordinal_doses(sentence, span) if c and TOCILIZUMAB_DOSES.admits(c)]
                if negated(span) and withheld_after:
                    affirmed = True
                    if best is None or max(withheld_after) > int(best.value):
                        best = Finding("tocilizumab_doses", str(max(withheld_after)), sentence.start_char,
                                       sentence.end_char, "drugs.tocilizumab_withheld_after")
                    continue
                if negated(span) and none_given is None:
                    none_given = Finding("tocilizumab_doses", "0", sentence.start_char, sentence.end_char, "drugs.tocilizumab_none")
                continue
            affirmed = True
            text = sentence.text
            before = text[max(0, span.start_char - sentence.start_char - 40): span.start_char - sentence.start_char]
            after = text[span.end_char - sentence.start_char: span.end_char - sentence.start_char + 120]
            candidates = []
            match = DOSES_BEFORE.search(before)
            if match:
                candidates.append(count_value(match.group("n")))
            match = DOSES_AFTER.search(after)
            if match and not GROUP_SUMMARY.search(after, 0, match.end()):  # not "(median 2 doses)"
                raw = match.group("x") or match.group("n") or match.group("times") or match.group("adv") or \
                    match.group("occasions") or match.group("numbered")
                candidates.append(count_value(raw))
            match = COUNT_BEFORE.search(before)
            if match and DOSE_NOUN_AFTER.match(after):
                candidates.append(count_value(match.group("n")))
            match = DAYS_LEADING.search(before)
            if match:
                candidates.append(len(re.findall(r"\d{1,3}", match.group("days"))))
            candidates += _ordinal_doses(sentence)
            # the drug's own: not "TCZ x2; TPE x3 (D+3, D+4, D+5)", "two doses of tocilizumab, then PE on D+3, D+4"
            clause = re.split(r"[;]|\.\s", after)[0]
            clause = clause[:m.start()] if (m := ANOTHER_TREATMENT.search(clause)) else clause
            days = DAY_LIST.search(clause)
            if days:
                candidates.append(len(re.findall(r"\d{1,3}", days.group(0))))
            times = TIME_LIST.search(after)
            if times:
                candidates.append(len(re.findall(r"\d{1,3}", times.group("marks"))))
            repeated = REPEATED.search(clause)
            if repeated:  # the days of the repeat only: not "..., and dexamethasone was begun on day 3"
                candidates.append(max(2, len({day for day, _, _ in find_days(clause[:repeated.end()])})))
            match = DOSES_IN_PARENTHESIS.search(clause)
            if match:
                candidates.append(count_value(match.group("n")))
            total = TOTAL.search(after)
            if total:  # "Two further doses were given on day +4, for a total of three; no fourth dose was given"
                candidates = [count_value(total.group("n") or total.group("m"))]
            candidates = [c for c in candidates if c and TOCILIZUMAB_DOSES.admits(c)]
            if candidates and (best is None or max(candidates) > int(best.value)):
                best = Finding("tocilizumab_doses", str(max(candidates)), span.start_char, span.end_char, "drugs.tocilizumab")
    # "the third dose was withheld" says nothing of the doses given: 0 only when no dose is told of
    return [best] if best else ([none_given] if none_given and not affirmed else [])


def corticosteroids(sentences: list[Span], patient: PatientContext) -> list[Finding]:
    found: dict[str, Finding] = {}
    none = None
    for sentence in sentences:
        for span in concepts_in(sentence, "STEROID"):
            if span.id_ == STEROID_CLASS:
                if negated(span) and none is None:
                    none = Finding("corticosteroids", "none", sentence.start_char, sentence.end_char, "drugs.steroids_none")
                continue
            if is_affirmed(span) and span.id_ not in found and not _given_for_something_else(span):
                found[span.id_] = Finding("corticosteroids", span.id_, span.start_char, span.end_char, "drugs.corticosteroids")
    if found:
        return list(found.values())
    return [none] if none else []


def other_drugs(sentences: list[Span], patient: PatientContext) -> list[Finding]:
    found: dict[str, Finding] = {}
    for sentence in sentences:
        for span in concepts_in(sentence, "DRUG"):
            if not is_affirmed(span) or span.id_ in found or _given_for_something_else(span):
                continue
            if span.id_ == "cyclophosphamide" and LYMPHODEPLETION.search(sentence.text):
                continue
            found[span.id_] = Finding("other_drugs", span.id_, span.start_char, span.end_char, "drugs.other_drugs")
    return list(found.values())


# -- table cells --------------------------------------------------------------------------------------------------
def tocilizumab_cell(cell: Cell) -> list[Finding]:
    """A tocilizumab column: the doses, "2"; a wording ("none" is 0 doses)."""
    doses = cell.count()
    if doses is None and cell.wording() is not None:
        doses = int(cell.wording())
    return [cell.finding("tocilizumab_doses", str(doses), "count")] \
        if doses is not None and TOCILIZUMAB_DOSES.admits(doses) else []


def corticosteroids_cell(cell: Cell) -> list[Finding]:
    """A corticosteroids column: the drugs it names ("DEX, MP" where a footnote spells them out); "no" is none."""
    found = sorted({span.id_ for span in cell.concepts("STEROID") if span.id_ != STEROID_CLASS})
    if not found and cell.wording() is not None:
        found = [cell.wording()]
    return [cell.finding("corticosteroids", value, "steroids") for value in found]


def other_drugs_cell(cell: Cell) -> list[Finding]:
    return [cell.finding("other_drugs", value, "drugs")
            for value in sorted({span.id_ for span in cell.concepts("DRUG")})]
