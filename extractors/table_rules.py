"""Table rules as data (resources/tables/): which field a column's header names, and what a cell's wording means.

headers.jsonl: one rule a line, {"field", "pattern", "example"}; the first rule whose pattern a header matches names
its field. cells.jsonl: one wording a line, {"field", "value", "pattern", "example", "note"}; the first wording of a
field that a cell matches gives its value. Field "any" marks a cell that reports no value whatever its column; field
"patient" reads a row's patient number from group ``n``. times.jsonl: when a table's samples were drawn against the
exchanges, from a day's heading, a row's event cell or a note ("D+5 (pre-PEX)", "morning after TPE 2"), in the format
of cells.jsonl with field "sample_time" and value "pre", "between" or "post"; a "post" wording names the exchange it
follows in group ``ordinal`` ("second", "last") or ``number`` ("TPE 2"). Patterns match case-insensitively and may
name the shared cue words in braces: {exchange}, {patient}, {number_sign} (extractors/cues.py), {ordinal}
(extractors/values.py).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from extractors.cues import EXCHANGE_NAME, NUMBER_SIGN, PATIENT_WORD
from extractors.values import ORDINAL, ORDINALS

RULES_DIR = Path(__file__).parent / "resources" / "tables"
CUE_WORDS = {"exchange": EXCHANGE_NAME, "patient": PATIENT_WORD, "number_sign": NUMBER_SIGN, "ordinal": ORDINAL}
ANY_FIELD = "any"
PATIENT = "patient"
AFTER_THE_LAST = 1000  # the rank of "after the last exchange" among the exchanges a sample follows
AFTER_ALL = 999  # the rank of "after the exchanges", "post-PEX": after them, the last one not named


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


@lru_cache(maxsize=1)
def time_rules() -> tuple[Rule, ...]:
    return _read("times.jsonl")


def sample_time(text: str) -> tuple[str, int] | None:
    """When a sample was drawn against the exchanges, as (time, rank): ("pre", 0) for "before the first TPE",
    ("between", 0) for "between the two exchanges", ("post", n) for "after the n-th exchange" ("morning after TPE 2"),
    with AFTER_THE_LAST for "after the last" and AFTER_ALL for "post-PEX"; None when the text says no time."""
    for rule in time_rules():
        match = rule.pattern.search(text)
        if match is None:
            continue
        if rule.value != "post":
            return rule.value, 0
        named = (match.group("ordinal") or match.group("number") or "").lower()
        if named in ("last", "final"):
            return "post", AFTER_THE_LAST
        if named:
            return "post", ORDINALS.get(named) or int(re.match(r"\d+", named).group())
        return "post", AFTER_ALL
    return None


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
