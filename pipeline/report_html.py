"""report.html: the evidence summary as one self-contained page (figures are PNG data: URIs drawn with
matplotlib's Agg canvas, no scripts, nothing fetched), written beside summary.json in the run's folder."""

from __future__ import annotations

import base64
import io
import json
import re
import warnings
from collections.abc import Iterable
from pathlib import Path

from jinja2 import Environment, FileSystemLoader

from pipeline.atomic import atomic_write_text
from pipeline.schema import SCORED_FIELDS
from pipeline.summary import MARKERS, NOT_STATED, cell, summarize
from pipeline.web.app import evidence_context

with warnings.catch_warnings():  # matplotlib 3.9 calls pyparsing names that pyparsing 3.3 deprecates: noise
    warnings.simplefilter("ignore", DeprecationWarning)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

TEMPLATES = Path(__file__).resolve().parent / "templates"
DPI = 110
BLUE, RED, GREY, GREEN = "#2b6cb0", "#c53030", "#718096", "#2f855a"
LABELS = {
    "age_years": "Age (years)", "sex": "Sex", "diagnosis": "Diagnosis", "car_t_target": "CAR-T target",
    "car_t_product": "CAR-T product", "crs_grade": "CRS grade", "crs_grading": "CRS grading system",
    "icans_grade": "ICANS grade", "hlh": "HLH", "crs_onset_day": "CRS onset (day after infusion)",
    "pe_start_day": "First PE (day after infusion)", "pe_sessions": "PE sessions", "pe_volume_ml": "PE volume (mL)",
    "pe_plasma_volumes": "Plasma volumes exchanged", "pe_replacement": "Replacement fluid",
    "other_purification": "Other blood purification", "tocilizumab_doses": "Tocilizumab doses",
    "corticosteroids": "Corticosteroids", "other_drugs": "Other drugs", "crs_resolved": "CRS resolved",
    "outcome": "Outcome", "response": "Response of the disease",
    "days_from_crs_onset_to_pe": "Days from CRS onset to first PE",
}
COHORT_GROUPS = [
    ("Patients", ["sex", "diagnosis", "car_t_target", "car_t_product"], ["age_years"]),
    ("Toxicity", ["crs_grade", "crs_grading", "icans_grade", "hlh"], ["crs_onset_day"]),
    ("Plasma exchange", ["pe_replacement", "other_purification"],
     ["pe_start_day", "days_from_crs_onset_to_pe", "pe_sessions", "pe_volume_ml", "pe_plasma_volumes"]),
    ("Other treatment", ["corticosteroids", "other_drugs"], ["tocilizumab_doses"]),
    ("Outcomes", ["crs_resolved", "outcome", "response"], []),
]
CASE_TABLE = ["age_years", "sex", "diagnosis", "car_t_product", "crs_grade", "icans_grade", "pe_start_day",
              "pe_sessions", "tocilizumab_doses", "crs_resolved", "outcome"]


def anchor(case_id: str) -> str:
    """A case's fragment id: letters, digits and '-' kept, anything else spelled as _hex_ (so ids stay distinct)."""
    return "case-" + re.sub(r"[^A-Za-z0-9-]", lambda m: f"_{ord(m.group()):x}_", case_id)


def fmt_number(value: float | None) -> str:
    if value is None:
        return "–"
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:.3g}"


def fmt_pct(value: float | None) -> str:
    return "–" if value is None else f"{value:+.1f} %".replace("-", "−")


def fmt_p(value: float | None) -> str:
    if value is None:
        return "not tested"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def _data_uri(figure: Figure) -> str:
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _grade_key(grade: str) -> tuple:
    return (not grade.isdigit(), int(grade) if grade.isdigit() else 0, grade)


# -- figures -----------------------------------------------------------------------------------------------------
def figure_crs_grades(summary: dict) -> str:
    table = summary["cohort"]["crs_grade_by_grading"]
    grades = sorted({g for grades in table.values() for g in grades}, key=_grade_key)
    figure = Figure(figsize=(5.2, 3.0))
    axes = figure.add_subplot()
    bottom = [0] * len(grades)
    colours = ["#2b6cb0", "#dd6b20", "#38a169", "#805ad5", "#d53f8c", "#319795", GREY]
    for i, (grading, counts) in enumerate(table.items()):
        heights = [len(counts.get(g, [])) for g in grades]
        axes.bar(grades, heights, bottom=bottom, label=grading, color=colours[i % len(colours)])
        bottom = [b + h for b, h in zip(bottom, heights)]
    reported = summary["cohort"]["crs_grade"]["reported"]
    axes.set_title(f"CRS grade, by grading system ({reported} of {summary['patients']} patients reported)", fontsize=9)
    axes.set_xlabel("highest CRS grade")
    axes.set_ylabel("patients")
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.set_ylim(0, max(bottom, default=0) * 1.1 + 1)
    if table:
        axes.legend(fontsize=7, frameon=False, title="grading", title_fontsize=7, loc="upper left",
                    bbox_to_anchor=(1.01, 1))
    return _data_uri(figure)


def figure_slopes(summary: dict) -> str:
    """One panel per marker: a line per patient from before to after PE, log scale; the median in black."""
    figure = Figure(figsize=(12, 3.4))
    for i, (key, marker) in enumerate(summary["markers"].items()):
        axes = figure.add_subplot(1, len(MARKERS), i + 1)
        pairs = marker["pairs"]
        axes.set_title(f"{marker['label']} ({marker['unit']})\n{marker['n_pairs']} pairs of {summary['patients']} "
                       "patients", fontsize=9)
        axes.set_xticks([0, 1], ["before PE", "after PE"])
        axes.set_xlim(-0.25, 1.25)
        if not pairs:
            axes.text(0.5, 0.5, "no patient with\nboth values", ha="center", va="center", transform=axes.transAxes,
                      color=GREY)
            axes.set_yticks([])
            continue
        for pair in pairs:
            colour = BLUE if pair["post"] < pair["pre"] else RED
            axes.plot([0, 1], [pair["pre"], pair["post"]], color=colour, alpha=0.55, marker="o", markersize=3,
                      linewidth=1)
        axes.plot([0, 1], [marker["median_pre"], marker["median_post"]], color="black", linewidth=2.5,
                  label="median")
        axes.set_yscale("log")
        axes.grid(axis="y", which="major", color="#e2e8f0")
    figure.tight_layout()
    return _data_uri(figure)


def figure_changes(summary: dict) -> str:
    """Percent change per patient for each marker, with the median and interquartile range."""
    figure = Figure(figsize=(7, 3.2))
    axes = figure.add_subplot()
    names = []
    for i, marker in enumerate(summary["markers"].values()):
        names.append(f"{marker['label']}\nn = {marker['n_pairs']}")
        changes = [p["change_pct"] for p in marker["pairs"]]
        if not changes:
            continue
        offsets = [((j % 7) - 3) * 0.04 for j in range(len(changes))]  # spread the dots a little
        axes.scatter([i + o for o in offsets], changes, s=14, color=[BLUE if c < 0 else RED for c in changes],
                     alpha=0.7, zorder=2)
        q1, q3 = marker["iqr_change_pct"]
        median = marker["median_change_pct"]
        axes.errorbar([i + 0.3], [median], yerr=[[median - q1], [q3 - median]], fmt="s", color="black",
                      markersize=5, capsize=3, zorder=3)
    axes.axhline(0, color=GREY, linewidth=0.8)
    axes.set_xticks(range(len(names)), names, fontsize=8)
    axes.set_xlim(-0.5, len(names) - 0.3)
    axes.set_ylabel("change after PE (%)")
    axes.set_title("Change per patient (dots); black: median and interquartile range", fontsize=9)
    return _data_uri(figure)


def figure_outcomes(summary: dict) -> str:
    """Survival and CRS resolution per group, each bar labelled with its numerator and denominator."""
    figure = Figure(figsize=(11, 3.4))
    panels = [("by CRS grade", summary["by_crs_grade"]),
              ("by days from CRS onset to first PE", summary["by_time_to_pe"])]
    for i, (title, groups) in enumerate(panels):
        axes = figure.add_subplot(1, 2, i + 1)
        names = list(groups)
        for j, name in enumerate(names):
            group = groups[name]
            for offset, share, done, of, colour in (
                    (-0.2, group["survival"], len(group["alive"]), group["outcome_reported"], GREEN),
                    (0.2, group["resolution"], len(group["resolved"]), group["resolution_reported"], BLUE)):
                if share is None:
                    axes.text(j + offset, 2, "n/a", ha="center", fontsize=7, color=GREY)
                    continue
                axes.bar(j + offset, share * 100, width=0.38, color=colour)
                axes.text(j + offset, share * 100 + 2, f"{done}/{of}", ha="center", fontsize=7)
        axes.set_xticks(range(len(names)), [f"grade {n}" if n.isdigit() else n for n in names], fontsize=8)
        axes.set_ylim(0, 115)
        axes.set_ylabel("% of patients with it reported")
        axes.set_title(title, fontsize=9)
        axes.bar([], [], color=GREEN, label="alive")
        axes.bar([], [], color=BLUE, label="CRS resolved")
        axes.legend(fontsize=7, frameon=False, loc="upper right", ncols=2)
    figure.tight_layout()
    return _data_uri(figure)


def figure_scores(scores: dict) -> str:
    """Precision, recall and F1 of each field against the gold table."""
    fields = [name for name in SCORED_FIELDS if name in scores.get("fields", {})]
    fields += [name for name in scores.get("fields", {}) if name not in fields]
    figure = Figure(figsize=(7, 0.26 * len(fields) + 1.2))
    axes = figure.add_subplot()
    for offset, metric, colour in ((-0.27, "precision", BLUE), (0, "recall", "#dd6b20"), (0.27, "f1", "black")):
        axes.barh([i + offset for i in range(len(fields))], [scores["fields"][f].get(metric, 0) for f in fields],
                  height=0.27, color=colour, label=metric if metric != "f1" else "F1")
    axes.set_yticks(range(len(fields)), fields, fontsize=7)
    axes.set_ylim(len(fields) - 0.5, -0.5)  # first field on top
    axes.set_xlim(0, 1.05)
    axes.legend(fontsize=7, frameon=False, loc="lower left", ncols=3, bbox_to_anchor=(0, 1))
    axes.set_xlabel("against the gold table")
    return _data_uri(figure)


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
    figures = {}
    with warnings.catch_warnings():
        # the same noise again, from the mathtext of log-axis labels
        warnings.simplefilter("ignore", DeprecationWarning)
        if rows:
            figures = {"crs_grades": figure_crs_grades(summary), "slopes": figure_slopes(summary),
                       "changes": figure_changes(summary), "outcomes": figure_outcomes(summary)}
        if scores and scores.get("fields"):
            figures["scores"] = figure_scores(scores)
    return _environment().get_template("report.html").render(
        run_id=run_id, summary=summary, rows=rows, figures=figures, scores=scores,
        errors=_errors(scores, case_ids),
        cases=_case_entries(rows, _evidence_by_case(evidence, {cell(r, "case_id") for r in rows[:EVIDENCE_CASES]})),
        evidence_cases=EVIDENCE_CASES,
        labels=LABELS, cohort_groups=COHORT_GROUPS, case_columns=CASE_TABLE, not_stated=NOT_STATED)


def render_report_html(rows: list[dict], evidence: Iterable[dict], scores: dict | None, run_id: str) -> str:
    """The page for a case table, its evidence lines and (if the run was scored) scores.json."""
    return _render(summarize(rows), rows, evidence, scores, run_id)


def write_summary(run_dir: Path, rows: list[dict], evidence: Iterable[dict], scores: dict | None, run_id: str) -> None:
    """summary.json and report.html in ``run_dir``, each written whole or not at all."""
    summary = summarize(rows)
    atomic_write_text(Path(run_dir) / "summary.json", json.dumps(summary, indent=2, ensure_ascii=False,
                                                                 allow_nan=False) + "\n")
    atomic_write_text(Path(run_dir) / "report.html", _render(summary, rows, evidence, scores, run_id))
