"""The evidence summary (summary.json): who the patients were, and whether cytokines fell and CRS eased after
plasma exchange. Pure functions over case-table rows (dicts of strings, "" = not reported); every count keeps the
case ids it comes from and the number of patients who had the field reported (its denominator)."""

from __future__ import annotations

import math
import re

import numpy as np

from pipeline.schema import FIELDS
from pipeline.schema import MARKERS as REGISTRY_MARKERS

MARKERS = {m.id: (m.label, m.unit) for m in REGISTRY_MARKERS}  # key: (label, unit); summarised as before/after pairs
MIN_PAIRS_FOR_TEST = 5
# the cohort's fields (a marker's are in MARKERS), in column order: counted value by value, or as numbers
_COHORT = [f for f in FIELDS if f.marker is None]
CATEGORY_FIELDS = [f.name for f in _COHORT if f.kind == "category" or f.tally]
LIST_FIELDS = [f.name for f in _COHORT if f.kind == "list"]
NUMBER_FIELDS = [f.name for f in _COHORT if f.kind in ("number", "integer") and not f.tally]
# days from CRS onset to the first exchange: (lowest, highest, label); None = open
DELAY_BINS = [(None, -1, "before onset"), (0, 1, "0–1 d"), (2, 3, "2–3 d"), (4, 5, "4–5 d"), (6, None, "≥ 6 d")]
NOT_STATED = "not stated"
CAVEAT = ("These are published case reports and small series, not a trial: patients who did well are more likely to "
          "be written up (selection and publication bias), there is no control group, the markers were measured at "
          "times each report chose, and patients usually had tocilizumab, corticosteroids or other drugs at the same "
          "time. A fall in a marker after plasma exchange shows association in time, not that the exchange caused it.")
YEAR = re.compile(r"(?<!\d)(19[89]\d|20[0-4]\d)(?!\d)")


def cell(row: dict, field: str) -> str:
    value = row.get(field)
    return "" if value is None else str(value).strip()


def number(row: dict, field: str) -> float | None:
    """The cell as a finite number; None when blank or not a number."""
    try:
        value = float(cell(row, field).replace(",", ""))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def items(row: dict, field: str) -> list[str]:
    return [item.strip() for item in cell(row, field).split(";") if item.strip()]


def _float(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), 4)


# -- before/after pairs ------------------------------------------------------------------------------------------
def paired_values(rows: list[dict], marker: str) -> list[tuple[str, float, float]]:
    """(case_id, pre, post) for each patient with both values reported and a pre value above zero (a percent
    change needs a baseline, and the slope plot a log scale)."""
    pairs = []
    for row in rows:
        pre, post = number(row, f"{marker}_pre"), number(row, f"{marker}_post")
        if pre is not None and post is not None and pre > 0 and post >= 0:
            pairs.append((cell(row, "case_id"), pre, post))
    return pairs


def percent_change(pre: float, post: float) -> float:
    return (post - pre) / pre * 100.0


def median_iqr(values: list[float]) -> tuple[float | None, float | None, float | None]:
    """Median, first and third quartile (numpy's linear interpolation); Nones for no values."""
    if not values:
        return None, None, None
    q1, median, q3 = np.percentile(np.asarray(values, dtype=float), [25, 50, 75])
    return float(median), float(q1), float(q3)


def wilcoxon_p(pairs: list[tuple[str, float, float]]) -> float | None:
    """Two-sided Wilcoxon signed-rank p of post vs pre (scipy's defaults); None below MIN_PAIRS_FOR_TEST pairs
    or when every difference is zero."""
    if len(pairs) < MIN_PAIRS_FOR_TEST:
        return None
    pre = [p[1] for p in pairs]
    post = [p[2] for p in pairs]
    if all(a == b for a, b in zip(pre, post)):
        return None
    from scipy.stats import wilcoxon  # scipy loads only when a summary is worked out (not on a no-op re-run)

    p = float(wilcoxon(pre, post).pvalue)
    return p if math.isfinite(p) else None


def marker_summary(rows: list[dict], marker: str) -> dict:
    label, unit = MARKERS[marker]
    pairs = paired_values(rows, marker)
    changes = [percent_change(pre, post) for _, pre, post in pairs]
    median_change, q1, q3 = median_iqr(changes)
    p = wilcoxon_p(pairs)
    if p is not None:
        test = "Wilcoxon signed-rank, two-sided"
    elif len(pairs) < MIN_PAIRS_FOR_TEST:
        test = f"not tested: fewer than {MIN_PAIRS_FOR_TEST} pairs"
    else:
        test = "not tested: no value changed"
    return {
        "label": label, "unit": unit, "n_pairs": len(pairs), "denominator": len(rows),
        "n_pre": sum(number(r, f"{marker}_pre") is not None for r in rows),
        "n_post": sum(number(r, f"{marker}_post") is not None for r in rows),
        "median_pre": _float(median_iqr([p[1] for p in pairs])[0]),
        "median_post": _float(median_iqr([p[2] for p in pairs])[0]),
        "median_change_pct": _float(median_change), "iqr_change_pct": [_float(q1), _float(q3)] if pairs else None,
        "n_decreased": sum(post < pre for _, pre, post in pairs), "p_value": p,
        "test": test, "case_ids": [p[0] for p in pairs],
        "pairs": [{"case_id": c, "pre": pre, "post": post, "change_pct": _float(percent_change(pre, post))}
                  for c, pre, post in pairs],
    }


# -- the cohort --------------------------------------------------------------------------------------------------
def category_counts(rows: list[dict], field: str) -> dict:
    """How many patients had each value; ``reported`` is the denominator (patients with the field given)."""
    ids: dict[str, list[str]] = {}
    for row in rows:
        if value := cell(row, field):
            ids.setdefault(value, []).append(cell(row, "case_id"))
    order = sorted(ids, key=lambda v: (-len(ids[v]), v))
    return {"reported": sum(map(len, ids.values())), "of": len(rows),
            "counts": {v: len(ids[v]) for v in order}, "case_ids": {v: ids[v] for v in order}}


def list_counts(rows: list[dict], field: str) -> dict:
    """As category_counts, for ';'-joined lists: a patient counts once under each of their items."""
    ids: dict[str, list[str]] = {}
    reported = 0
    for row in rows:
        values = items(row, field)
        reported += bool(values)
        for value in dict.fromkeys(values):
            ids.setdefault(value, []).append(cell(row, "case_id"))
    order = sorted(ids, key=lambda v: (-len(ids[v]), v))
    return {"reported": reported, "of": len(rows),
            "counts": {v: len(ids[v]) for v in order}, "case_ids": {v: ids[v] for v in order}}


def number_stats(rows: list[dict], field: str) -> dict:
    """Median, quartiles and range of a numeric field over the patients who had it reported."""
    found = [(cell(row, "case_id"), value) for row in rows if (value := number(row, field)) is not None]
    values = [v for _, v in found]
    median, q1, q3 = median_iqr(values)
    return {"reported": len(found), "of": len(rows), "median": _float(median), "q1": _float(q1), "q3": _float(q3),
            "min": _float(min(values)) if values else None, "max": _float(max(values)) if values else None,
            "case_ids": [c for c, _ in found]}


def article_year(row: dict) -> str:
    """The publication year: a ``year`` column when there is one, else a year-like number in the case id
    (author+year) or document id; "" when none is found."""
    if year := cell(row, "year"):
        return year
    for text in (cell(row, "case_id"), cell(row, "doc_id")):
        if match := YEAR.search(text):
            return match.group(1)
    return ""


def articles(rows: list[dict]) -> dict:
    by_doc: dict[str, list[str]] = {}
    years: dict[str, str] = {}
    for row in rows:
        doc = cell(row, "doc_id") or NOT_STATED
        by_doc.setdefault(doc, []).append(cell(row, "case_id"))
        years.setdefault(doc, article_year(row))
    per_year: dict[str, list[str]] = {}
    for doc, year in years.items():
        per_year.setdefault(year or NOT_STATED, []).append(doc)
    dated = [y for y in years.values() if y]
    return {"count": len(by_doc), "case_ids": by_doc,
            "years": {"reported": len(dated), "of": len(by_doc), "first": min(dated, default=None),
                      "last": max(dated, default=None),
                      "counts": {y: len(per_year[y]) for y in sorted(per_year)},
                      "doc_ids": dict(sorted(per_year.items()))}}


def grade_by_grading(rows: list[dict]) -> dict[str, dict[str, list[str]]]:
    """CRS grade within each grading system: {grading: {grade: [case ids]}}."""
    table: dict[str, dict[str, list[str]]] = {}
    for row in rows:
        if grade := cell(row, "crs_grade"):
            grading = cell(row, "crs_grading") or NOT_STATED
            table.setdefault(grading, {}).setdefault(grade, []).append(cell(row, "case_id"))
    return {g: dict(sorted(grades.items())) for g, grades in sorted(table.items())}


# -- outcomes by group -------------------------------------------------------------------------------------------
def delay_days(row: dict) -> float | None:
    """Days from CRS onset to the first exchange; None unless both days are reported."""
    onset, start = number(row, "crs_onset_day"), number(row, "pe_start_day")
    return None if onset is None or start is None else start - onset


def delay_bin(days: float) -> str:
    for low, high, label in DELAY_BINS:
        if (low is None or days >= low) and (high is None or days <= high):
            return label
    return DELAY_BINS[-1][2]


def outcome_group(rows: list[dict]) -> dict:
    """Survival and CRS resolution in a group of patients, each with its denominator and case ids."""
    outcome = category_counts(rows, "outcome")
    resolved = category_counts(rows, "crs_resolved")
    alive, died = outcome["case_ids"].get("alive", []), outcome["case_ids"].get("died", [])
    yes, no = resolved["case_ids"].get("yes", []), resolved["case_ids"].get("no", [])
    return {"patients": len(rows), "case_ids": [cell(r, "case_id") for r in rows],
            "outcome_reported": len(alive) + len(died), "alive": alive, "died": died,
            "survival": _float(len(alive) / (len(alive) + len(died))) if alive or died else None,
            "resolution_reported": len(yes) + len(no), "resolved": yes, "not_resolved": no,
            "resolution": _float(len(yes) / (len(yes) + len(no))) if yes or no else None}


def by_crs_grade(rows: list[dict]) -> dict:
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(cell(row, "crs_grade") or NOT_STATED, []).append(row)
    return {grade: outcome_group(groups[grade]) for grade in sorted(groups, key=lambda g: (g == NOT_STATED, g))}


def by_time_to_pe(rows: list[dict]) -> dict:
    groups: dict[str, list[dict]] = {label: [] for _, _, label in DELAY_BINS}
    unknown = []
    for row in rows:
        days = delay_days(row)
        (unknown if days is None else groups[delay_bin(days)]).append(row)
    result = {label: outcome_group(group) for label, group in groups.items() if group}
    if unknown:
        result[NOT_STATED] = outcome_group(unknown)
    return result


def curation(rows: list[dict]) -> dict:
    """Cells a curator decided (``curated_fields``) or flagged (``flagged_fields``); ``present`` is false when
    the table has no such columns."""
    present = any("curated_fields" in row or "flagged_fields" in row for row in rows)
    curated = {cell(r, "case_id"): items(r, "curated_fields") for r in rows if items(r, "curated_fields")}
    flagged = {cell(r, "case_id"): items(r, "flagged_fields") for r in rows if items(r, "flagged_fields")}
    return {"present": present, "curated_cells": sum(map(len, curated.values())), "curated": curated,
            "flagged_cells": sum(map(len, flagged.values())), "flagged": flagged}


def co_treated(rows: list[dict]) -> dict:
    """Patients with tocilizumab, a corticosteroid or another drug recorded besides plasma exchange."""
    ids = [cell(r, "case_id") for r in rows
           if (number(r, "tocilizumab_doses") or 0) > 0 or set(items(r, "corticosteroids")) - {"none"}
           or items(r, "other_drugs")]
    return {"count": len(ids), "of": len(rows), "case_ids": ids}


def summarize(rows: list[dict], left_out: list[dict] = ()) -> dict:
    """The content of summary.json. ``left_out``: the patients kept out of every figure, with why (the articles
    retracted: doc_id, retracted, case_ids)."""
    delays = [(cell(r, "case_id"), d) for r in rows if (d := delay_days(r)) is not None]
    median, q1, q3 = median_iqr([d for _, d in delays])
    return {
        "patients": len(rows),
        "case_ids": [cell(r, "case_id") for r in rows],
        "articles": articles(rows),
        "cohort": {
            **{f: category_counts(rows, f) for f in CATEGORY_FIELDS},
            **{f: list_counts(rows, f) for f in LIST_FIELDS},
            **{f: number_stats(rows, f) for f in NUMBER_FIELDS},
            "crs_grade_by_grading": grade_by_grading(rows),
            "days_from_crs_onset_to_pe": {"reported": len(delays), "of": len(rows), "median": _float(median),
                                          "q1": _float(q1), "q3": _float(q3), "case_ids": [c for c, _ in delays]},
        },
        "co_treated": co_treated(rows),
        "markers": {m: marker_summary(rows, m) for m in MARKERS},
        "by_crs_grade": by_crs_grade(rows),
        "by_time_to_pe": by_time_to_pe(rows),
        "curation": curation(rows),
        "left_out": list(left_out),
        "caveat": CAVEAT,
    }


def retracted_left_out(rows: list[dict], documents: list[dict]) -> tuple[list[dict], list[dict]]:
    """The rows of articles not retracted, and the retracted articles whose patients are left out (doc_id, what
    says it is retracted, their case ids); ``documents`` are documents.csv's rows."""
    retracted = {d["doc_id"]: d["retracted"] for d in documents if d.get("retracted") and d.get("doc_id")}
    kept = [r for r in rows if cell(r, "doc_id") not in retracted]
    left_out = [{"doc_id": doc_id, "retracted": notice,
                 "case_ids": [cell(r, "case_id") for r in rows if cell(r, "doc_id") == doc_id]}
                for doc_id, notice in sorted(retracted.items())]
    return kept, [item for item in left_out if item["case_ids"]]
