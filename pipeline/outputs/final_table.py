"""The final case table of a run: its predictions overlaid with the curators' standing decisions, and the
evidence of that table. cases.csv, evidence.jsonl, report.html and summary.json all describe this table; the
machine's own are kept beside them as predicted_cases.csv and predicted_evidence.jsonl."""

from __future__ import annotations

import json
from datetime import timezone
from typing import Iterable, Iterator

CURATION_COLUMNS = ("curated_fields", "flagged_fields")


def uncurated(rows: list[dict]) -> list[dict]:
    """The predictions as a final table for a run kept out of the store: nothing curated, nothing flagged."""
    return [{**row, **{column: "" for column in CURATION_COLUMNS}} for row in rows]


def in_run_order(table: list[dict], predicted: list[dict]) -> list[dict]:
    """The store's table (ordered by case id) in the run's order: the cases the run found as it found them,
    then those only a curator knows (added, or no longer found but curated), by case id."""
    order = {row["case_id"]: number for number, row in enumerate(predicted)}
    return sorted(table, key=lambda row: (order.get(row["case_id"], len(order)), row["case_id"]))


def final_evidence(predicted: Iterable[dict], table: list[dict], decisions: dict) -> Iterator[dict]:
    """The evidence lines of ``table``: the machine's lines of cells nobody decided; an accepted cell's lines with
    the decision; one line with the curator's value for a corrected cell (in place of the machine's); none for a
    rejected cell or a case that is not in the table. ``decisions`` is Store.decisions()."""
    in_table = {row["case_id"]: row for row in table}
    written: set[tuple[str, str]] = set()
    for line in predicted:
        key = (line["case_id"], line["field"])
        row = in_table.get(line["case_id"])
        if row is None:
            continue
        decision = decisions.get(key)
        if decision is None:
            yield line
        elif decision.action == "accept" and decision.value == line.get("value"):
            yield {**line, "curation": _curation(decision)}
        elif decision.action in ("accept", "correct") and key not in written:
            # a correction, or an accepted value the machine no longer predicts (the cell is flagged): the
            # machine's quote does not show the curator's value
            written.add(key)
            yield _curator_line(row, decision, line.get("value", ""))
    for (case_id, name), decision in sorted(decisions.items()):  # decided cells the machine leaves blank
        row = in_table.get(case_id)
        if name and row is not None and decision.action in ("accept", "correct") and (case_id, name) not in written \
                and row.get(name):
            yield _curator_line(row, decision, decision.predicted_value or "")


def _curator_line(row: dict, decision, predicted_value: str) -> dict:
    """A curator's value; where they picked the span they read it from, its characters and quote."""
    picked = json.loads(decision.evidence or "{}")
    return {"case_id": row["case_id"], "field": decision.field, "value": decision.value, "doc_id": row.get("doc_id", ""),
            **{key: picked[key] for key in ("start", "end", "quote") if key in picked},
            "source": "curator", "predicted_value": predicted_value, "curation": _curation(decision)}


def _curation(decision) -> dict:
    at = decision.at if decision.at.tzinfo else decision.at.replace(tzinfo=timezone.utc)  # SQLite keeps no zone
    return {"action": decision.action, "by": decision.by, "at": at.isoformat(), "why": decision.why}
