"""report.html: the evidence summary as one self-contained page (figures are PNG data: URIs drawn with
matplotlib's Agg canvas, no scripts, nothing fetched), written beside summary.json in the run's folder."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

from jinja2 import Environment, FileSystemLoader

from pipeline.schema import FIELD_BY_NAME, FIELDS, GROUPS, MARKER_BY_ID, SCORED_FIELDS
from pipeline.outputs.evidence_view import evidence_context
from pipeline.report.changes import figure_text
from pipeline.report.formats import fmt_number, fmt_p, fmt_pct
from pipeline.report.summary_pages import CHANGES_SLOT, RUN_ID_SLOT, SummaryPages
from pipeline.report.summary import CATEGORY_FIELDS, LIST_FIELDS, NOT_STATED, NUMBER_FIELDS, cell, summarize

TEMPLATES = Path(__file__).resolve().parent / "templates"
# figures the summary works out from several fields, each shown after the field named
DERIVED_NUMBERS = {"pe_start_day": "days_from_crs_onset_to_pe"}
LABELS = {f.name: f.label for f in FIELDS} | {"days_from_crs_onset_to_pe": "Days from CRS onset to first PE"}
CASE_TABLE = ["age_years", "sex", "diagnosis", "car_t_product", "crs_grade", "icans_grade", "pe_start_day",
              "pe_sessions", "tocilizumab_doses", "crs_resolved", "outcome"]
CASE_TABLE_MARKERS = [MARKER_BY_ID[m] for m in ("il6", "ferritin", "crp")]


def cohort_groups() -> list[tuple[str, list[str], list[str]]]:
    """(heading, fields counted value by value, numeric fields) for each registry group with cohort fields."""
    groups = []
    for group in GROUPS:
        counted = [name for name in SCORED_FIELDS if FIELD_BY_NAME[name].group == group.id
                   and name in CATEGORY_FIELDS + LIST_FIELDS]
        numbers = []
        for name in NUMBER_FIELDS:
            if FIELD_BY_NAME[name].group == group.id:
                numbers += [name] + ([DERIVED_NUMBERS[name]] if name in DERIVED_NUMBERS else [])
        if counted or numbers:
            groups.append((group.label, counted, numbers))
    return groups


COHORT_GROUPS = cohort_groups()


def anchor(case_id: str) -> str:
    """A case's fragment id: letters, digits and '-' kept, anything else spelled as _hex_ (so ids stay distinct)."""
    return "case-" + re.sub(r"[^A-Za-z0-9-]", lambda m: f"_{ord(m.group()):x}_", case_id)


# -- the page ----------------------------------------------------------------------------------------------------
def _evidence_by_case(evidence: Iterable[dict], case_ids: set[str]) -> dict[str, dict[str, list[dict]]]:
    """{case_id: {field: [evidence lines, with their sentence or table cell split around the quote]}}."""
    found: dict[str, dict[str, list[dict]]] = {}
    for line in evidence:
        if line.get("case_id") in case_ids:
            found.setdefault(line["case_id"], {}).setdefault(line.get("field", ""), []).append(
                {**line, "context": evidence_context(line)})
    return found


# the evidence section quotes every value of at most this many cases (10,000 cases made a 100 MB page); the
# others' evidence is in evidence.jsonl beside the report
EVIDENCE_CASES = 1000


def _case_entries(rows: list[dict], evidence: dict[str, dict[str, list[dict]]]) -> list[dict]:
    """Per case: each reported field with its value and evidence lines, in the table's column order."""
    entries = []
    for row in rows:
        case_id = cell(row, "case_id")
        lines = evidence.get(case_id, {})
        fields = [{"name": f, "value": cell(row, f), "evidence": lines.get(f, [])}
                  for f in SCORED_FIELDS if cell(row, f) or lines.get(f)]
        entries.append({"case_id": case_id, "anchor": anchor(case_id), "row": row, "fields": fields,
                        "has_evidence": len(entries) < EVIDENCE_CASES,
                        "curated": set(filter(None, cell(row, "curated_fields").split(";"))),
                        "flagged": set(filter(None, cell(row, "flagged_fields").split(";")))})
    return entries


def _errors(scores: dict | None, case_ids: set[str]) -> list[dict]:
    errors = []
    for error in (scores or {}).get("errors", []):
        case_id = error.get("predicted_case_id") or error.get("gold_case_id") or ""
        quote = next((e.get("quote", "") for e in error.get("evidence") or [] if isinstance(e, dict)), "")
        errors.append({**error, "case_id": case_id, "linked": case_id in case_ids, "quote": quote})
    return errors


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(anchor=anchor, num=fmt_number, pct=fmt_pct, pvalue=fmt_p)
    return env


def _render(summary: dict, rows: list[dict], evidence: Iterable[dict], scores: dict | None, run_id: str) -> str:
    case_ids = {cell(r, "case_id") for r in rows}
    from pipeline.report.figures import draw_figures  # matplotlib loads only when a page is drawn

    figures = draw_figures(summary if rows else None, scores)
    return _environment().get_template("report.html").render(
        run_id=run_id, changes_slot=CHANGES_SLOT, summary=summary, rows=rows, figures=figures, scores=scores,
        errors=_errors(scores, case_ids),
        cases=_case_entries(rows, _evidence_by_case(evidence, {cell(r, "case_id") for r in rows[:EVIDENCE_CASES]})),
        evidence_cases=EVIDENCE_CASES,
        labels=LABELS, cohort_groups=COHORT_GROUPS, case_columns=CASE_TABLE, case_markers=CASE_TABLE_MARKERS,
        not_stated=NOT_STATED)


def render_report_html(rows: list[dict], evidence: Iterable[dict], scores: dict | None, run_id: str) -> str:
    """The page for a case table, its evidence lines and (if the run was scored) scores.json."""
    return _render(summarize(rows), rows, evidence, scores, run_id)


def render_summary(rows: list[dict], evidence: Iterable[dict], scores: dict | None,
                   left_out: list[dict] = ()) -> SummaryPages:
    """``left_out``: patients of retracted articles, kept out of ``rows`` and named (summary.retracted_left_out)."""
    summary = summarize(rows, left_out)
    return SummaryPages(json.dumps(summary, indent=2, ensure_ascii=False, allow_nan=False) + "\n",
                        _render(summary, rows, evidence, scores, RUN_ID_SLOT))


def render_changes(changes: dict) -> str:
    """report.html's "What changed" section (pipeline.report.changes), set in at CHANGES_SLOT."""
    return _environment().get_template("changes.html").render(changes=changes, figure_text=figure_text)


def write_summary(run_dir: Path, rows: list[dict], evidence: Iterable[dict], scores: dict | None, run_id: str) -> None:
    render_summary(rows, evidence, scores).write(run_dir, run_id)
