"""The review queue: every cell of the case table that a curator may look at, ordered by need (flagged cells first,
then values the machine gave and nobody has checked, least confident first, then empty cells nobody has checked,
then those decided), with the filters a shared link carries in its query string."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.schema import SCORED_FIELDS
from pipeline.store.store import CaseView, Cell

# a cell's state, in the order the queue shows them
STATUSES = ("flagged", "unreviewed", "accepted", "corrected", "rejected")
DECIDED = {"accept": "accepted", "correct": "corrected", "reject": "rejected"}
FILTERS = ("field", "doc", "case", "status", "extractor")


@dataclass(frozen=True)
class QueueItem:
    case_id: str
    doc_id: str
    field: str
    value: str
    status: str
    extractor: str
    confidence: float | None = None


def cell_status(cell: Cell) -> str:
    """Flagged (the machine changed its mind after a decision), else the decision taken, else unreviewed."""
    if cell.flagged:
        return "flagged"
    return DECIDED.get(cell.decision.action, "unreviewed") if cell.decision is not None else "unreviewed"


def queue_items(views: list[CaseView]) -> list[QueueItem]:
    """Every cell of the cases not removed, in table order."""
    items = []
    for view in views:
        if view.removed:
            continue
        for name in SCORED_FIELDS:
            cell = view.cells.get(name) or Cell(name)
            items.append(QueueItem(view.case_id, view.doc_id, name, cell.value, cell_status(cell),
                                   cell.extractor if cell.predicted else "",
                                   cell.confidence if cell.predicted else None))
    return items


def _need(item: QueueItem) -> tuple[int, float]:
    """Flagged, then the machine's unchecked values (least confident first), then unchecked empty cells, then
    decided ones."""
    if item.status == "flagged":
        return 0, 0.0
    if item.status == "unreviewed":
        return (1, item.confidence if item.confidence is not None else 1.0) if item.value else (2, 0.0)
    return 3, 0.0


def review_queue(items: list[QueueItem], **wanted: str) -> list[QueueItem]:
    """The cells (``queue_items``) in order of need, those matching every filter given (``field``, ``doc``, ``case``,
    ``status``, ``extractor``; an empty filter keeps all)."""
    unknown = set(wanted) - set(FILTERS)
    if unknown:
        raise ValueError(f"unknown filter {sorted(unknown)[0]!r}: the filters are {', '.join(FILTERS)}")
    keys = {"field": "field", "doc": "doc_id", "case": "case_id", "status": "status", "extractor": "extractor"}
    shown = [item for item in items
             if all(not value or getattr(item, keys[name]) == value for name, value in wanted.items())]
    return sorted(shown, key=_need)  # a stable sort: within one need and confidence, in table order


def unchecked(items: list[QueueItem], case: str = "", field: str = "") -> list[QueueItem]:
    """The machine's values nobody has checked (what a bulk accept takes), of ``case`` and of ``field`` where given."""
    return [item for item in items if item.status == "unreviewed" and item.value
            and (not case or item.case_id == case) and (not field or item.field == field)]


def progress(items: list[QueueItem]) -> tuple[int, int]:
    """(cells reviewed, cells in all): a decided cell the machine has since changed is not reviewed."""
    return sum(item.status not in ("flagged", "unreviewed") for item in items), len(items)
