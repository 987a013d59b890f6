"""scores.json: the scorer's figures, the review's literature cases apart, every error with its evidence."""

from __future__ import annotations

import csv
from pathlib import Path

from pipeline.scoring.confidence_check import predicted_values, ranking, value_lines
from pipeline.scoring.scoring import document_key, normalized_rows, read_case_table, score_rows

REVIEW_LITERATURE_CASES = 19
LITERATURE_SOURCE = "review-literature"


def literature_case_ids(gold_path: Path) -> list[str]:
    """Gold rows that are the review's literature cases, as listed in gold/sources.csv beside the gold table."""
    sources = Path(gold_path).with_name("sources.csv")
    if not sources.exists():
        return []
    with open(sources, newline="", encoding="utf-8") as handle:
        return [row["case_id"] for row in csv.DictReader(handle) if row.get("source") == LITERATURE_SOURCE]


def evaluate(gold_path: Path, predicted_path: Path, evidence: list[dict]) -> dict:
    gold = normalized_rows(read_case_table(gold_path), str(gold_path))
    predicted = normalized_rows(read_case_table(predicted_path), str(predicted_path))
    report = score_rows(gold, predicted)
    scores = {"gold": str(gold_path), "predicted": str(predicted_path), **report.as_dict()}
    by_cell = {}
    for line in evidence:
        by_cell.setdefault((line["case_id"], line["field"]), []).append(line)
    for error in scores["errors"]:
        lines = value_lines(error["field"], error["value"], by_cell.get((error["predicted_case_id"], error["field"]), []))
        error["evidence"] = [{k: line[k] for k in ("quote", "start", "end", "section", "extractor", "confidence")
                              if k in line} for line in lines]
    wrong = {(e["predicted_case_id"], e["field"], e["value"]) for e in scores["errors"] if e["kind"] == "false_positive"}
    scores["confidence"] = ranking(predicted_values(predicted, evidence), wrong)
    literature = set(literature_case_ids(gold_path))
    gold_lit = [row for row in gold if row["case_id"] in literature]
    docs = {document_key(row) for row in gold_lit}  # as the scorer matches documents
    pred_lit = [row for row in predicted if document_key(row) in docs]
    lit_report = score_rows(gold_lit, pred_lit)
    scores["review_literature"] = {
        "review_cases": REVIEW_LITERATURE_CASES, "in_gold": len(gold_lit), "case_ids": sorted(literature),
        "micro": lit_report.micro.as_dict(), "cases": lit_report.cases.as_dict(),
    }
    return scores
