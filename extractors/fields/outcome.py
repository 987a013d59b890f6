"""Vital status at last follow-up, best response of the malignancy, and whether CRS resolved."""

from __future__ import annotations

import re

from spacy.tokens import Span

from extractors.assertion import hypothetical, is_affirmed, negated, target
from extractors.evidence import Finding, concepts_in, sentence_of
from extractors.fields.inputs import Cell, PatientContext
from extractors.fields.toxicity import since_the_cells_were_given_again

DIED = re.compile(r"""\b(
    died|death|passed\ away|succumbed|expired|deceased     # "he died on day 27", "she passed away"
  | was\ declared\ dead|fatal\ outcome                      # "a fatal outcome"
  | lost\ (?:his|her)\ life
    )\b""", re.IGNORECASE | re.VERBOSE)
# death spoken of in general ("the risk of death", "a leading cause"), not the patient's; "no death" is ConText's
DEATH_IN_GENERAL = re.compile(r"""\b(
    risk\ of\ death|cause\ of\ death\ in|leading\ cause|mortality\ rate    # "the leading cause of death in"
  | deaths?\ (?:occur|were\ reported)\ in                                 # "deaths were reported in 3%"
    )\b""", re.IGNORECASE | re.VERBOSE)
ALIVE = re.compile(r"""\b(
    discharged|alive|survived|survives|is\ doing\ well                                 # "discharged on day 30"
  | remains?\ (?:well|in\ (?:complete\ )?remission)|recovered\ fully|full\ recovery   # "remains in complete remission"
  | was\ transferred\ (?:back\ )?to\ the\ (?:ward|general\ ward|referring\ hospital)  # "was transferred back to the ward"
  | left\ the\ hospital|returned\ home|went\ home
  | (?:at|back)\ home,?\ (?:and\ )?well                                             # "D+60: at home, well"
    )\b""", re.IGNORECASE | re.VERBOSE)
RESOLVED = re.compile(r"""\b(
    resolv\w*|resolution|subsided|abated|settled|brought\ under\ control|controlled  # "CRS resolved", "settled"
  | relieved|remitted|regressed                                                # "CRS was relieved on D+8"
  | recover\w*|normali[sz]\w*|disappeared|defervesc\w*|afebrile               # "she defervesced", "afebrile by day 6"
  | (?:was|were|had\ been)\ (?:all\ )?over                                     # "His CRS was over by day 13"
    )\b""", re.IGNORECASE | re.VERBOSE)
# the value no, read as such: "CRS never resolved", "persisted", "died of refractory CRS"
UNRESOLVED = re.compile(r"""\b(
    never\ (?:resolved|settled|subsided|abated)|did\ not\ (?:resolve|settle|subside|abate)
  | failed\ to\ (?:resolve|settle|subside)|persist\w*
  | (?:had|has|have)\ not\ (?:yet\ )?(?:resolved|settled|subsided)(?!\s+(?:until|before|by)\b)  # "CRS that had not
  | not\ yet\ (?:resolved|settled)                                                             #  resolved"
  | unresolv\w*|non-?resolving                                           # "died with CRS unresolved"
  | refractory\ (?:CRS|cytokine)\ until\ death                          # "refractory CRS until death"
  | (?:died|death)\b[^.;,]{0,25}?\b(?:of|from|due\ to|caused\ by)\s+     # "died of refractory cytokine release
    (?:[\w-]+\s+){0,2}?(?:CRS|cytokine)                                 # syndrome", "died on day +11 of refractory CRS"
  | (?:CRS|cytokine\ release\ syndrome)[-\ ]related\ death               # "a CRS-related death"
    )\b""", re.IGNORECASE | re.VERBOSE)
# a persisting CRS as the reason for what followed, not the account's verdict: "CRS persisted after two doses of
# tocilizumab, so TPE was started", "persisted, prompting plasma exchange"
INTERIM = re.compile(r"""
    [^.;]{0,80}?\b(?:so|therefore|thus|hence|prompting|prompted|leading\ to|led\ to|necessitating)\b
    """, re.IGNORECASE | re.VERBOSE)
# ConText target types of the words for death and for resolution (context_rules.json may name them in allowed_types)
DEATH_TARGET = "DEATH"
RESOLUTION_TARGET = "RESOLUTION"
RESPONSE_RANK = {"CR": 4, "PR": 3, "SD": 2, "PD": 1}
# a sentence telling of a response's assessment: "achieved", "the marrow showed", "at the 1-month follow-up"
RESPONSE_CONTEXT = re.compile(r"""\b(
    outcome|status|achiev|attain|show|demonstrat|confirm|reveal|assess|evaluat    # "achieved complete remission"
  | marrow|PET|MRD|remain|response|remission|restag                              # "PET showed", "MRD-negative"
  | day\ \+?\d|\bd\+?\d|month|follow-up|was\ in|in\ (?:complete|partial)         # "on day 28", "at D+30", "d30: PR", "was in PR"
  | IMWG|Lugano|Deauville|iwCLL                                                  # "PR (IMWG)", response criteria
    )""", re.IGNORECASE | re.VERBOSE)
# "on day +28 the marrow showed complete remission", "at three months he was in partial response"
FOLLOW_UP_TIME = re.compile(r"""
    \b(?:at|after|by|on)\s+(?:the\s+)?(?:\w+[-\ ])?(?:months?|weeks?|years?)\b   # "at three months", "after 6 weeks"
  | \bfollow-up\b
  | \bday\s*\+?\d{2,3}\b                                                         # "day +28"
    """, re.IGNORECASE | re.VERBOSE)
# a response before the CAR-T cells: "after induction", "in second remission", "CR2"
PRE_TREATMENT = re.compile(r"""\b(
    prior|previous|before|after\ (?:induction|transplant|chemotherapy|salvage)|relapsed\ after
  | first\ remission|second\ remission|CR1|CR2
    )\b""", re.IGNORECASE | re.VERBOSE)


def outcome(sentences: list[Span], patient: PatientContext) -> list[Finding]:
    alive = None
    for sentence in sentences:
        text = sentence.text
        died = DIED.search(text)
        if died and not DEATH_IN_GENERAL.search(text) and not negated(target(sentence, died.start(), died.end(), DEATH_TARGET)):
            return [Finding("outcome", "died", sentence.start_char + died.start(), sentence.start_char + died.end(), "outcome.died")]
        match = ALIVE.search(text)
        if match and alive is None:
            alive = Finding("outcome", "alive", sentence.start_char + match.start(), sentence.start_char + match.end(), "outcome.alive")
    if alive is None:
        # a response assessed at a follow-up visit: the patient was alive then
        assessed = response([s for s in sentences if FOLLOW_UP_TIME.search(s.text)], patient)
        if assessed:
            alive = Finding("outcome", "alive", assessed[0].start, assessed[0].end, "outcome.alive_at_assessment")
    return [alive] if alive else []


PRE_TREATMENT_REACH = 80  # characters before a response, in its clause, that may tell it was an earlier one's


def _before_the_cells(span: Span) -> bool:
    """Whether a response is told as one before the cells ("in first remission", "a CR after induction"), in its own
    clause: not "IL-6 fell from 1 640 before the first session ...; at three months he had a partial response"."""
    sentence = sentence_of(span)
    at = span.start_char - sentence.start_char
    clause_start = sentence.text.rfind(";", 0, at) + 1
    return bool(PRE_TREATMENT.search(sentence.text[max(clause_start, at - PRE_TREATMENT_REACH):at + len(span.text) + 20]))


def response(sentences: list[Span], patient: PatientContext) -> list[Finding]:
    """The best response the account reports after the cells were given (after their last infusion, where a case
    report tells of a course before it)."""
    best = None
    for sentence in since_the_cells_were_given_again(sentences):
        for span in concepts_in(sentence, "RESPONSE"):
            if not is_affirmed(span) or not RESPONSE_CONTEXT.search(sentence.text) or _before_the_cells(span):
                continue
            if best is None or RESPONSE_RANK[span.id_] > RESPONSE_RANK[best.value]:
                best = Finding("response", span.id_, span.start_char, span.end_char, "outcome.response")
    return [best] if best else []


def crs_resolved(sentences: list[Span], patient: PatientContext) -> list[Finding]:
    """The account's last word on whether CRS resolved: "Persistent CRS on D+5 prompted TPE ... CRS resolved D+9"
    is yes."""
    verdict = []
    for sentence in sentences:
        crs = [s for s in concepts_in(sentence, "CRS") if not hypothetical(s)]
        if not crs:
            continue
        # "never resolved", "persisted" are the value no, read as such; a word for resolution that ConText negates
        # ("not resolved", "never fully resolved") is no evidence of yes
        cues = [("no", m) for m in UNRESOLVED.finditer(sentence.text) if not INTERIM.match(sentence.text, m.end())]
        cues += [("yes", m) for m in RESOLVED.finditer(sentence.text)
                 if not negated(target(sentence, m.start(), m.end(), RESOLUTION_TARGET))]
        if not cues:
            continue
        # the cue nearest a CRS mention speaks of CRS ("CRS resolved by day 11, but ICANS persisted"); of several, the
        # last CRS mention's ("CRS persisted despite tocilizumab ...; the CRS subsided by day 11")
        last = crs[-1].start_char - sentence.start_char
        value, match = min(cues, key=lambda c: abs(c[1].start() - last))
        verdict = [Finding("crs_resolved", value, sentence.start_char + match.start(), sentence.start_char + match.end(),
                           f"outcome.crs_{'resolved' if value == 'yes' else 'unresolved'}")]
    return verdict


# -- table cells --------------------------------------------------------------------------------------------------
def outcome_cell(cell: Cell) -> list[Finding]:
    """An outcome column's wording: "Alive (11 mo)", "Died d+41 (sepsis)"; and the response it names beside a
    patient alive ("Alive, CR"); beside a death, a disease named is its cause ("Died day 97 (progression)"), not the
    best response."""
    status = cell.wording_findings()
    return status + ([] if any(found.value == "died" for found in status) else response_cell(cell))


def crs_resolved_cell(cell: Cell) -> list[Finding]:
    """A CRS resolution column's wording: "Resolved", "Not resolved"."""
    return cell.wording_findings()


def response_cell(cell: Cell) -> list[Finding]:
    spans = cell.concepts("RESPONSE")
    return [cell.finding("response", spans[0].id_, "response")] if spans else []
