"""The evidence summary's figures, drawn with matplotlib's Agg canvas into PNG data: URIs (report.html embeds
them: no scripts, nothing fetched)."""

from __future__ import annotations

import base64
import io
import warnings

from pipeline.schema import SCORED_FIELDS
from pipeline.report.summary import MARKERS

with warnings.catch_warnings():  # matplotlib 3.9 calls pyparsing names that pyparsing 3.3 deprecates: noise
    warnings.simplefilter("ignore", DeprecationWarning)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

DPI = 110
BLUE, RED, GREY, GREEN = "#2b6cb0", "#c53030", "#718096", "#2f855a"


def draw_figures(summary: dict | None, scores: dict | None) -> dict[str, str]:
    """The page's figures by name: the cohort's (when there are cases) and the scores' (when the run was scored)."""
    figures = {}
    with warnings.catch_warnings():
        # the same noise again, from the mathtext of log-axis labels
        warnings.simplefilter("ignore", DeprecationWarning)
        if summary is not None:
            figures = {"crs_grades": figure_crs_grades(summary), "slopes": figure_slopes(summary),
                       "changes": figure_changes(summary), "outcomes": figure_outcomes(summary)}
        if scores and scores.get("fields"):
            figures["scores"] = figure_scores(scores)
    return figures


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
        # one collection per panel, not a line per patient: thousands of patients draw in the time of one
        colours = [BLUE if pair["post"] < pair["pre"] else RED for pair in pairs]
        axes.add_collection(LineCollection([[(0, p["pre"]), (1, p["post"])] for p in pairs], colors=colours,
                                           alpha=0.55, linewidths=1))
        axes.scatter([0] * len(pairs) + [1] * len(pairs), [p["pre"] for p in pairs] + [p["post"] for p in pairs],
                     s=9, c=colours + colours, alpha=0.55, linewidths=0)
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
        # swatches of their own: an empty bar's legend entry takes the colour cycle's first, blue for both
        axes.legend(handles=[Patch(color=GREEN, label="alive"), Patch(color=BLUE, label="CRS resolved")],
                    fontsize=7, frameon=False, loc="upper right", ncols=2)
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
