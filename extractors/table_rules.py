"""Table rules as data (resources/tables/): which field a column's header names, and what a cell's wording means.

headers.jsonl: one rule a line, {"field", "pattern", "example"}; the first rule whose pattern a header matches names
its field. cells.jsonl: one wording a line, {"field", "value", "pattern", "example", "note"}; the first wording of a
field that a cell matches gives its value. Field "any" marks a cell that reports no value whatever its column; field
"patient" reads a row's patient number from group ``n``. Patterns match case-insensitively and may name the shared
cue words in braces: {exchange}, {patient}, {number_sign} (extractors/cues.py).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from extractors.cues import EXCHANGE_NAME, NUMBER_SIGN, PATIENT_WORD

RULES_DIR = Path(__file__).parent / "resources" / "tables"
CUE_WORDS = {"exchange": EXCHANGE_NAME, "patient": PATIENT_WORD, "number_sign": NUMBER_SIGN}
ANY_FIELD = "any"
PATIENT = "patient"


@dataclass(frozen=True)
class Rule:
    field: str
    value: str
    pattern: re.Pattern
    example: str


def _expand(pattern: str) -> str:
    for name, alternation in CUE_WORDS.items():
        pattern = pattern.replace("{" + name + "}", alternation)
    return pattern


def _read(name: str) -> tuple[Rule, ...]:
    rules = []
    path = RULES_DIR / name
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                pattern = re.compile(_expand(entry["pattern"]), re.IGNORECASE)
            except (json.JSONDecodeError, KeyError, re.error) as exc:
                raise ValueError(f"{path.name}:{number}: {exc}") from None
            rules.append(Rule(entry["field"], entry.get("value", ""), pattern, entry["example"]))
    return tuple(rules)


@lru_cache(maxsize=1)
def header_rules() -> tuple[Rule, ...]:
    return _read("headers.jsonl")


@lru_cache(maxsize=1)
def cell_rules() -> tuple[Rule, ...]:
    return _read("cells.jsonl")


def header_field(text: str) -> str | None:
    """The field a column header names: "TPE sessions (n)" -> pe_sessions."""
    lowered = text.lower()
    return next((rule.field for rule in header_rules() if rule.pattern.search(lowered)), None)


def _match(field: str, text: str) -> tuple[Rule, re.Match] | None:
    for rule in cell_rules():
        if rule.field == field:
            match = rule.pattern.search(text)
            if match:
                return rule, match
    return None


def cell_value(field: str, text: str) -> str | None:
    """The value a cell's wording gives ``field``: "absent" under HLH -> no, "none" under tocilizumab -> 0."""
    found = _match(field, text)
    return found[0].value if found else None


def is_missing(text: str) -> bool:
    """A cell reporting no value ("NA", "—", "not done")."""
    return _match(ANY_FIELD, text) is not None


def patient_number(text: str) -> int | None:
    """The patient a row's first cell names: "Pt 3", "#12", "Case 2", "4", "Patient B" (2)."""
    found = _match(PATIENT, text or "")
    if found is None:
        return None
    match = found[1]
    if "letter" in match.re.groupindex and match.group("letter"):
        return ord(match.group("letter")) - ord("A") + 1
    return int(match.group("n"))
