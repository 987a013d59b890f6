"""Lexicons (one JSONL file per vocabulary) into SpanRuler patterns, and the attributes their lines carry.

A line is {"label", "id", "pattern"} and may add attributes:
- "case_sensitive": true matches the pattern in its exact case only, on the tokens' text: abbreviations that are
  other words or units in another case ("HAS" for human albumin solution but not "has", "CR" but not "Cr",
  "MM" but not "mm"). Every other line matches on lower case.
- "target": the antigen a CAR-T product's cells recognise (CART_PRODUCT lines), a value of car_t_target.

A "pattern" is a phrase, or a list of spaCy token patterns for a word that is a concept only in company: "apheresis"
is the cells' collection as often as the exchange, but "apheresis x2" or "apheresis sessions" is the exchange.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

# the pipeline's resource files: one lexicon per vocabulary (*.jsonl) and the ConText rules
RESOURCES = Path(__file__).parent / "resources"
KEYS = {"label", "id", "pattern"}
ATTRIBUTES = {"case_sensitive", "target"}


@lru_cache(maxsize=1)
def lexicon_entries() -> tuple[dict, ...]:
    entries = []
    for path in sorted(RESOURCES.glob("*.jsonl")):
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if line.strip():
                    try:
                        entry = json.loads(line)
                    except json.JSONDecodeError as exc:
                        raise ValueError(f"{path.name}:{number}: {exc}") from None
                    if not KEYS <= set(entry) <= KEYS | ATTRIBUTES:
                        raise ValueError(f"{path.name}:{number}: a line has {', '.join(sorted(KEYS))} and may have "
                                         f"{', '.join(sorted(ATTRIBUTES))}; this one has {', '.join(sorted(entry))}")
                    entries.append(entry)
    return tuple(entries)


def lexicon_patterns(nlp) -> list[dict]:
    patterns = []
    for entry in lexicon_entries():
        text = entry["pattern"]
        if isinstance(text, list):
            patterns.append({"label": entry["label"], "id": entry["id"], "pattern": text})
        elif entry.get("case_sensitive"):
            tokens = [{"ORTH": token.text} for token in nlp.make_doc(text)]
            patterns.append({"label": entry["label"], "id": entry["id"], "pattern": tokens})
        else:
            patterns.append({"label": entry["label"], "id": entry["id"], "pattern": text})
    return patterns


def concept_of(text: str) -> tuple[str, str] | None:
    """(label, id) of the lexicon entry spelled exactly ``text``: in its own case for a case-sensitive line, in any
    case otherwise."""
    text = text.strip()
    exact, lowered = _spellings()
    found = [hit for hit in (exact.get(text), lowered.get(text.lower())) if hit is not None]
    return min(found)[1:] if found else None


@lru_cache(maxsize=1)
def _spellings() -> tuple[dict[str, tuple[int, str, str]], dict[str, tuple[int, str, str]]]:
    """The phrase lines by spelling, exact for case-sensitive lines and lower-cased for the others, each as (its
    place in the lexicon, label, id): the first line spelled so wins, as in a scan of the lexicon."""
    exact: dict[str, tuple[int, str, str]] = {}
    lowered: dict[str, tuple[int, str, str]] = {}
    for place, entry in enumerate(lexicon_entries()):
        pattern = entry["pattern"]
        if isinstance(pattern, list):
            continue
        index, key = (exact, pattern) if entry.get("case_sensitive") else (lowered, pattern.lower())
        index.setdefault(key, (place, entry["label"], entry["id"]))
    return exact, lowered


@lru_cache(maxsize=None)
def concept_attribute(label: str, attribute: str) -> dict[str, str]:
    """Concept id -> the value its ``label`` lines give ``attribute``: CART_PRODUCT's "target" gives
    {"tisagenlecleucel": "CD19", ...}. The lines of one concept must agree."""
    values: dict[str, str] = {}
    for entry in lexicon_entries():
        if entry["label"] == label and attribute in entry:
            concept, value = entry["id"], entry[attribute]
            if values.setdefault(concept, value) != value:
                raise ValueError(f"lexicon: the {label} lines of {concept!r} give {attribute} both "
                                 f"{values[concept]!r} and {value!r}")
    return values
