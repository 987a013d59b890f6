"""Lexicons (one JSONL file per vocabulary) into SpanRuler patterns.

Short all-capital forms ("TPE", "MM", "CR") match case-sensitively on the token text so that
"mm" or "Cr" never count; everything else matches on lower case.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

# the pipeline's resource files: one lexicon per vocabulary (*.jsonl) and the ConText rules
RESOURCES = Path(__file__).parent / "resources"


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
                    entries.append(entry)
    return tuple(entries)


def _case_sensitive(pattern: str) -> bool:
    letters = [c for c in pattern if c.isalpha()]
    return len(pattern) <= 6 and sum(c.isupper() for c in letters) >= max(2, len(letters) - 1)


def lexicon_patterns(nlp) -> list[dict]:
    patterns = []
    for entry in lexicon_entries():
        text = entry["pattern"]
        if _case_sensitive(text):
            tokens = [{"ORTH": token.text} for token in nlp.make_doc(text)]
            patterns.append({"label": entry["label"], "id": entry["id"], "pattern": tokens})
        else:
            patterns.append({"label": entry["label"], "id": entry["id"], "pattern": text})
    return patterns


def concept_of(text: str) -> tuple[str, str] | None:
    """(label, id) of the lexicon entry spelled exactly ``text`` (case-insensitive), if any."""
    lowered = text.lower().strip()
    for entry in lexicon_entries():
        if entry["pattern"].lower() == lowered:
            return entry["label"], entry["id"]
    return None
