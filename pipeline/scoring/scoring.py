"""Scoring a predicted case table against the gold table, by SCHEMA.md's matching rules.

Rows are aligned within a document (DOI, else PMID, else doc_id): first by patient label,
then by age and sex. Fields are compared after normalisation; list fields element by element.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pipeline.schema import COLUMNS, FIELD_BY_NAME, SCORED_FIELDS, InvalidValue, cells_equal, list_items, normalize_cell

if TYPE_CHECKING:  # pandas loads only to read a table: report.md's writer imports this module too
    import pandas as pd

DECIMALS = 3  # scores are rounded here, once: scores.json holds them so, and every page shows them as held


def rounded(value: float) -> float:
    return round(value, DECIMALS)


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict:
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn, "precision": rounded(self.precision),
                "recall": rounded(self.recall), "f1": rounded(self.f1)}


@dataclass
class Error:
    kind: str  # false_positive | false_negative
    field: str
    value: str
    gold_case_id: str | None
    predicted_case_id: str | None
    doc_id: str
    reason: str

    def as_dict(self) -> dict:
        return self.__dict__.copy()


@dataclass
class ScoreReport:
    fields: dict[str, Counts] = field(default_factory=lambda: {name: Counts() for name in SCORED_FIELDS})
    cases: Counts = field(default_factory=Counts)
    errors: list[Error] = field(default_factory=list)
    pairs: list[tuple[str, str]] = field(default_factory=list)

    @property
    def micro(self) -> Counts:
        total = Counts()
        for counts in self.fields.values():
            total.tp += counts.tp
            total.fp += counts.fp
            total.fn += counts.fn
        return total

    def macro(self) -> dict:
        scored = [c for c in self.fields.values() if c.tp + c.fp + c.fn]
        n = len(scored) or 1
        return {"precision": rounded(sum(c.precision for c in scored) / n),
                "recall": rounded(sum(c.recall for c in scored) / n),
                "f1": rounded(sum(c.f1 for c in scored) / n), "fields_scored": len(scored)}

    def as_dict(self) -> dict:
        return {"micro": self.micro.as_dict(), "macro": self.macro(), "cases": self.cases.as_dict(),
                "fields": {name: counts.as_dict() for name, counts in self.fields.items()},
                "pairs": [{"gold": g, "predicted": p} for g, p in self.pairs],
                "errors": [e.as_dict() for e in self.errors]}


def check_case_table_header(path) -> None:
    """ValueError naming the file when its header is not a case table's: empty, unknown columns, or no case_id
    and doc_id. It reads the first line only, so a run can check its gold table before parsing starts."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            header = next(csv.reader(handle), None)
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not UTF-8 text") from None
    if not header or not any(column.strip() for column in header):
        raise ValueError(f"{path}: empty file; a case table starts with a header line of SCHEMA.md's columns")
    unknown = [c for c in header if c not in COLUMNS]
    if unknown:
        raise ValueError(f"{path}: unknown columns {', '.join(map(repr, unknown))}; a case table has SCHEMA.md's "
                         "columns (case_id, doc_id, ...)")
    if "case_id" not in header or "doc_id" not in header:
        raise ValueError(f"{path}: a case table needs case_id and doc_id columns")


def read_case_table(path) -> pd.DataFrame:
    """Read a case table as text; unknown columns are an error, missing scored columns count as blank."""
    import pandas as pd

    check_case_table_header(path)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    for column in COLUMNS:
        if column not in frame.columns:
            frame[column] = ""
    return frame[COLUMNS]


def normalized_rows(frame: pd.DataFrame, source: str) -> list[dict]:
    rows = []
    for index, record in enumerate(frame.to_dict("records")):
        row = {c: str(record.get(c, "") or "").strip() for c in COLUMNS}
        for name in SCORED_FIELDS:
            try:
                row[name] = normalize_cell(name, row[name])
            except InvalidValue as exc:
                raise ValueError(f"{source}, row {index + 2} ({row['case_id']}): {exc}") from None
        rows.append(row)
    return rows


def document_key(row: dict) -> str:
    if row.get("doi"):
        return "doi:" + row["doi"].lower()
    if row.get("pmid"):
        return "pmid:" + row["pmid"]
    return row["doc_id"].lower()


def label_key(label: str) -> str:
    """'Patient 2', 'Case 2', 'Pt. 2', 'P2' and '2' all name patient 2."""
    label = label.strip().lower()
    number = re.search(r"(\d+)\s*$", label)
    return number.group(1) if number else label


def _age_sex_match(gold: dict, pred: dict) -> bool:
    if gold["sex"] and pred["sex"] and gold["sex"] != pred["sex"]:
        return False
    if gold["age_years"] and pred["age_years"]:
        return cells_equal("age_years", gold["age_years"], pred["age_years"])
    return bool(gold["sex"] and pred["sex"])


def align(gold_rows: list[dict], predicted_rows: list[dict]) -> tuple[list[tuple[dict, dict]], list[dict], list[dict]]:
    """Pairs (gold, predicted), unpaired gold rows, unpaired predicted rows."""
    by_doc_gold: dict[str, list[dict]] = defaultdict(list)
    by_doc_pred: dict[str, list[dict]] = defaultdict(list)
    for row in gold_rows:
        by_doc_gold[document_key(row)].append(row)
    for row in predicted_rows:
        by_doc_pred[document_key(row)].append(row)
    pairs, missed, spurious = [], [], []
    for doc in sorted(set(by_doc_gold) | set(by_doc_pred)):
        golds, preds = list(by_doc_gold[doc]), list(by_doc_pred[doc])
        # 1. by patient label
        for g in list(golds):
            if not g["patient_label"]:
                continue
            match = next((p for p in preds if p["patient_label"] and label_key(p["patient_label"]) == label_key(g["patient_label"])), None)
            if match is not None:
                pairs.append((g, match))
                golds.remove(g)
                preds.remove(match)
        # 2. by age and sex
        for g in list(golds):
            match = next((p for p in preds if _age_sex_match(g, p)), None)
            if match is not None:
                pairs.append((g, match))
                golds.remove(g)
                preds.remove(match)
        # 1b. a single-patient article labels neither row: the blank labels match
        if len(golds) == 1 and len(preds) == 1 and not golds[0]["patient_label"] and not preds[0]["patient_label"]:
            pairs.append((golds.pop(), preds.pop()))
        missed.extend(golds)
        spurious.extend(preds)
    return pairs, missed, spurious


def score_rows(gold_rows: list[dict], predicted_rows: list[dict]) -> ScoreReport:
    report = ScoreReport()
    pairs, missed, spurious = align(gold_rows, predicted_rows)
    report.cases.tp, report.cases.fn, report.cases.fp = len(pairs), len(missed), len(spurious)
    for gold, pred in pairs:
        report.pairs.append((gold["case_id"], pred["case_id"]))
        for name in SCORED_FIELDS:
            _compare(report, name, gold, pred)
    for gold in missed:
        for name in SCORED_FIELDS:
            _compare(report, name, gold, None, reason="case missed")
    for pred in spurious:
        for name in SCORED_FIELDS:
            _compare(report, name, None, pred, reason="spurious case")
    return report


def _compare(report: ScoreReport, name: str, gold: dict | None, pred: dict | None, reason: str = "") -> None:
    g = gold[name] if gold else ""
    p = pred[name] if pred else ""
    counts = report.fields[name]
    doc = (gold or pred)["doc_id"]  # as written: documents are matched by document_key, case aside
    ids = (gold["case_id"] if gold else None, pred["case_id"] if pred else None)
    if FIELD_BY_NAME[name].kind == "list":
        g_items, p_items = set(list_items(g)), set(list_items(p))
        counts.tp += len(g_items & p_items)
        for item in sorted(p_items - g_items):
            counts.fp += 1
            report.errors.append(Error("false_positive", name, item, *ids, doc, reason or "not in gold"))
        for item in sorted(g_items - p_items):
            counts.fn += 1
            report.errors.append(Error("false_negative", name, item, *ids, doc, reason or "not predicted"))
        return
    if g and p and cells_equal(name, g, p):
        counts.tp += 1
        return
    if p:
        counts.fp += 1
        report.errors.append(Error("false_positive", name, p, *ids, doc, reason or (f"gold is {g}" if g else "gold is blank")))
    if g:
        counts.fn += 1
        report.errors.append(Error("false_negative", name, g, *ids, doc, reason or (f"predicted {p}" if p else "not predicted")))


def score_files(gold_path, predicted_path) -> ScoreReport:
    gold = normalized_rows(read_case_table(gold_path), str(gold_path))
    predicted = normalized_rows(read_case_table(predicted_path), str(predicted_path))
    return score_rows(gold, predicted)
