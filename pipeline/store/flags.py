"""When a curator's decision is worth a second look: the machine's prediction, or where it read it, is no longer what
the curator saw when they decided. One definition for the case table's flags and for what a run changed."""

from __future__ import annotations

import json


def evidence_key(evidence: dict) -> tuple:
    """What makes two readings the same reading: the document, the characters and what they say."""
    return tuple(evidence.get(k) for k in ("doc_id", "start", "end", "quote"))


def outdated(decision, predicted: str, evidence: dict) -> bool:
    """``decision`` (a cell's Curation, or None) was taken on another prediction than ``predicted`` read from
    ``evidence``."""
    if decision is None or not decision.field:
        return False
    was = json.loads(decision.predicted_evidence or "{}")
    return (decision.predicted_value or "") != predicted or evidence_key(was) != evidence_key(evidence)
