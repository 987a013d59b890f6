"""The case list's figures: each case's values, unchecked values, decisions, flags and least sure unchecked value,
and the orders the list is sorted in."""

from __future__ import annotations

from pipeline.store import CaseView


def case_counts(view: CaseView) -> dict:
    """A case's cells for the case list: values the machine gave, those still unchecked, decided, flagged, and the
    least confidence of an unchecked value."""
    unchecked = [c for c in view.cells.values() if c.predicted and c.decision is None]
    return {"values": sum(1 for c in view.cells.values() if c.predicted), "unchecked": len(unchecked),
            "decided": view.curated, "flagged": view.flagged,
            "least_sure": min((c.confidence for c in unchecked if c.confidence is not None), default=None)}


# the case list's orders: by id; most unchecked values first; most flagged first; least sure unchecked value first
CASE_ORDERS = {
    "case": lambda view, counts: view.case_id,
    "unchecked": lambda view, counts: (-counts["unchecked"], view.case_id),
    "flagged": lambda view, counts: (-counts["flagged"], view.case_id),
    "confidence": lambda view, counts: (counts["least_sure"] if counts["least_sure"] is not None else 2.0,
                                        view.case_id),
}
