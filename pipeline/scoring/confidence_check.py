"""Whether the machine's confidence ranks its errors first: each predicted value (an item of a list) with the
confidence of its evidence, and where the scorer's false positives fall among them."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from pipeline.schema import FIELD_BY_NAME, SCORED_FIELDS, InvalidValue, list_items, normalize_cell


@dataclass(frozen=True)
class ScoredValue:
    case_id: str
    field: str
    value: str
    confidence: float | None
    extractor: str


def _normal(field: str, value: str) -> str:
    try:
        return normalize_cell(field, value)
    except InvalidValue:
        return value


def value_lines(field: str, item: str, lines: list[dict]) -> list[dict]:
    """The evidence lines of a cell that gave ``item``: for a list, the lines reading that item; else all."""
    if FIELD_BY_NAME[field].kind != "list":
        return lines
    return [line for line in lines if _normal(field, line.get("value", "")) == item]


def predicted_values(rows: list[dict], evidence: list[dict]) -> list[ScoredValue]:
    """Every value of ``rows`` (a case table), each with the least confidence among its evidence lines."""
    by_cell: dict[tuple[str, str], list[dict]] = {}
    for line in evidence:
        by_cell.setdefault((line["case_id"], line["field"]), []).append(line)
    values = []
    for row in rows:
        for name in SCORED_FIELDS:
            if not row.get(name):
                continue
            items = list_items(row[name]) if FIELD_BY_NAME[name].kind == "list" else [row[name]]
            for item in items:
                lines = [line for line in value_lines(name, item, by_cell.get((row["case_id"], name), []))
                         if line.get("confidence") is not None]
                least = min(lines, key=lambda line: line["confidence"]) if lines else {}
                values.append(ScoredValue(row["case_id"], name, item, least.get("confidence"),
                                          least.get("extractor", "")))
    return values


def ranking(values: list[ScoredValue], wrong: set[tuple[str, str, str]]) -> dict:
    """How the values' confidence ranks the ``wrong`` ones ((case_id, field, value) of each false positive): how many
    fall in the lowest-confidence fifth of values (ties at its edge counted against the measure: correct values
    first), and the median confidence of errors and of correct values."""
    rated = [v for v in values if v.confidence is not None]
    is_wrong = [(v.case_id, v.field, v.value) in wrong for v in rated]
    ranked = sorted(zip(rated, is_wrong), key=lambda pair: (pair[0].confidence, pair[1]))
    fifth = len(ranked) // 5
    errors = [v.confidence for v, bad in zip(rated, is_wrong) if bad]
    correct = [v.confidence for v, bad in zip(rated, is_wrong) if not bad]
    return {"values": len(rated), "errors": len(errors), "lowest_fifth": fifth,
            "errors_in_lowest_fifth": sum(bad for _, bad in ranked[:fifth]),
            "errors_median": statistics.median(errors) if errors else None,
            "correct_median": statistics.median(correct) if correct else None}
