"""How far to trust a value the machine read: a figure in (0, 1] for each finding kept as a case's evidence.

It starts from the precision of the rule that read the value (extractors/resources/confidence.json, "rules": each
extractor's share of correct values on blind sets it was measured on, written by bench/confidence.py --calibrate)
and is lowered for each sign in the evidence that a reader of the text would hesitate over, by the factor the same
file gives:

- ``weak``: the reader itself marked the value a lower bound or an inference;
- ``disputed``: another reading of the same field for the same patient gave a different value (the first won);
- ``contrary_cue``: the value's sentence holds a negation, a plan, a doubt or a past event (a ConText cue) that the
  rules did not take to govern it ("a second dose was held", "three sessions were planned");
- ``others_cited``: the sentence speaks of the literature or of another person ("Xiao and colleagues", "an earlier
  report from another centre") while the value was still taken as the patient's own;
- ``shared_statement``: in an article of several patients, the value was read from a sentence about more than
  one of them (dealt out by order or read from a statement about all);
and raised when the value is ``corroborated``: another reading, from another sentence or cell, gave the same value.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

from spacy.tokens import Span

from extractors.assertion import NOT_AFFIRMING, context_modifiers, sentence_modifiers
from extractors.components import DOCUMENT
from extractors.evidence import sentence_of
from extractors.patients import ANOTHER_PERSON, EARLIER_REPORT, GROUP_STATEMENT, LITERATURE
from extractors.respectively import RESPECTIVELY
from pipeline.schema import FIELD_BY_NAME

RULES_FILE = Path(__file__).parent / "resources" / "confidence.json"
DIGITS = 2
# the lowest and highest figures given: no rule is certain, and no value read is worth nothing
FLOOR, CEILING = 0.01, 0.99


@lru_cache(maxsize=1)
def confidence_rules() -> dict:
    with open(RULES_FILE, encoding="utf-8") as handle:
        rules = json.load(handle)
    unknown = set(rules["factors"]) - set(SIGNS)
    if unknown:
        raise ValueError(f"{RULES_FILE}: unknown factor {sorted(unknown)[0]!r}; the signs are {', '.join(SIGNS)}")
    return rules


def _contrary_cue(finding: Span, **_) -> bool:
    governing = {id(m) for m in context_modifiers(finding)}
    return any(m.category in NOT_AFFIRMING and id(m) not in governing for m in sentence_modifiers(finding))


def _others_cited(finding: Span, **_) -> bool:
    text = sentence_of(finding).text
    return bool(LITERATURE.search(text) or EARLIER_REPORT.search(text) or ANOTHER_PERSON.search(text))


SEVERAL = re.compile(r"\b(?:patients|cases|both|all\s+(?:two|three|four|five|six)|the\s+(?:first|second|third)\s+"
                     r"(?:patient|case))\b", re.IGNORECASE)


def _shared_statement(finding: Span, patients: int, **_) -> bool:
    document = finding.doc.user_data.get(DOCUMENT)
    if patients < 2 or (document is not None and document.cell_at(finding._.quote_start) is not None):
        return False
    text = sentence_of(finding).text
    return bool(RESPECTIVELY.search(text) or GROUP_STATEMENT.search(text) or SEVERAL.search(text))


def _weak(finding: Span, **_) -> bool:
    return bool(finding._.weak)


def _disputed(finding: Span, readings: list[str], **_) -> bool:
    # a list's items differ by nature ("tocilizumab; anakinra")
    return FIELD_BY_NAME[finding._.field].kind != "list" and any(value != finding._.value for value in readings)


def _corroborated(finding: Span, readings: list[str], **_) -> bool:
    return sum(value == finding._.value for value in readings) > 1


# each sign: whether it holds of a finding, given the patient's readings of its field and the article's patient count
SIGNS = {
    "weak": _weak,
    "disputed": _disputed,
    "contrary_cue": _contrary_cue,
    "others_cited": _others_cited,
    "shared_statement": _shared_statement,
    "corroborated": _corroborated,
}


def signs(finding: Span, readings: list[str], patients: int) -> list[str]:
    """The signs (SIGNS) that hold of ``finding``."""
    return [name for name, holds in SIGNS.items() if holds(finding, readings=readings, patients=patients)]


def confidence(finding: Span, readings: list[str], patients: int) -> float:
    """The finding's confidence: its rule's precision times the factor of each sign that holds of it.
    ``readings``: the values every reading of the field gave for the patient (the finding's among them), in order;
    ``patients``: how many patients the article reports."""
    rules = confidence_rules()
    figure = rules["rules"].get(finding._.extractor, rules["default_rule"])
    for name in signs(finding, readings, patients):
        figure *= rules["factors"][name]
    return round(min(CEILING, max(FLOOR, figure)), DIGITS)
