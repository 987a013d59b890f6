"""HTML-model tables (JATS/XHTML ``<table>``) into a cell grid with spans expanded."""

from __future__ import annotations

from pipeline.parsing.safexml import local_name
from pipeline.parsing.xmltext import inline_text


def _span(value: str | None) -> int:
    try:
        return max(1, min(int(value or 1), 1000))
    except ValueError:
        return 1


def table_rows(table) -> list[list[dict]]:
    """Rows of cells ``{"text", "is_header", "rowspan", "colspan", "col"}`` with grid columns."""
    rows: list[list[dict]] = []
    occupied: dict[tuple[int, int], bool] = {}
    r = 0
    for row in table.iter("{*}tr"):
        parent = row.getparent()
        in_head = parent is not None and local_name(parent) == "thead"
        col = 0
        cells = []
        for cell in row:
            name = local_name(cell)
            if name not in ("td", "th"):
                continue
            while occupied.get((r, col)):
                col += 1
            rowspan, colspan = _span(cell.get("rowspan")), _span(cell.get("colspan"))
            for dr in range(rowspan):
                for dc in range(colspan):
                    occupied[(r + dr, col + dc)] = True
            cells.append({"text": inline_text(cell), "is_header": in_head or name == "th",
                          "rowspan": rowspan, "colspan": colspan, "col": col})
            col += colspan
        rows.append(cells)
        r += 1
    return rows
