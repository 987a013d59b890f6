"""Where a quoted value sits in its sentence or table cell, for showing it highlighted (the curation page and
report.html both show evidence this way)."""

from __future__ import annotations


def evidence_context(evidence: dict) -> dict | None:
    """The sentence or table cell the evidence sits in, split around the quoted span: (before, quote, after);
    the middle part is empty when the span cannot be placed."""
    quote_text = evidence.get("quote", "")
    if "sentence" in evidence:
        sentence = evidence["sentence"]
        text = sentence.get("text", "")
        start = evidence.get("start", 0) - sentence.get("start", 0)
        end = evidence.get("end", 0) - sentence.get("start", 0)
        if not (0 <= start < end <= len(text)) or (quote_text and text[start:end] != quote_text):
            start, end = _find(text, quote_text)
        return {"kind": "sentence", "parts": (text[:start], text[start:end], text[end:])}
    if "table" in evidence:
        table = evidence["table"]
        cell = str(table.get("cell", ""))
        start, end = _find(cell, quote_text) if quote_text else (0, len(cell))
        return {"kind": "table", "label": table.get("label") or table.get("id", ""), "row": table.get("row"),
                "col": table.get("col"), "row_header": table.get("row_header", ""),
                "column_header": table.get("column_header", ""), "parts": (cell[:start], cell[start:end], cell[end:])}
    return None


def _find(text: str, quote_text: str) -> tuple[int, int]:
    at = text.lower().find(quote_text.strip().lower()) if quote_text.strip() else -1
    return (at, at + len(quote_text.strip())) if at >= 0 else (len(text), len(text))
