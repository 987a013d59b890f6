"""report.md: the run's figures and errors for a person to read."""

from __future__ import annotations

from collections import Counter

from pipeline.report.changes import markdown_section
from pipeline.report.formats import fmt_number, fmt_p
from pipeline.scoring.scoring import DECIMALS


def _pct(value: float) -> str:
    """A score as scores.json holds it (already rounded there), every decimal written."""
    return f"{value:.{DECIMALS}f}"


def _share(part: int, whole: int) -> str:
    return f"{part} of {whole}" + (f" ({100 * part / whole:.0f} %)" if whole else "")


def clinical_summary(summary: dict) -> list[str]:
    """The answer of the final table (summary.json) in words: the markers before and after PE, and the outcomes by
    CRS grade and by time from CRS onset to the first exchange."""
    patients = summary["patients"]
    lines = ["## Clinical summary of the final table (cases.csv, as summary.json)", "",
             f"{patients} patient{'' if patients == 1 else 's'} from {summary['articles']['count']} article"
             f"{'' if summary['articles']['count'] == 1 else 's'}.", ""]
    outcome = summary["cohort"].get("outcome", {})
    if outcome.get("reported"):
        counts = outcome["counts"]
        lines += [f"Outcome reported for {outcome['reported']} of {outcome['of']}: alive "
                  f"{_share(counts.get('alive', 0), outcome['reported'])}, died "
                  f"{_share(counts.get('died', 0), outcome['reported'])}.", ""]
    lines += ["### Markers before and after plasma exchange", "",
              "| marker | pairs | median before | median after | median change | IQR of change | fell in | p (Wilcoxon) |",
              "|---|---|---|---|---|---|---|---|"]
    for marker in summary["markers"].values():
        if not marker["n_pairs"]:
            lines.append(f"| {marker['label']} ({marker['unit']}) | 0 of {marker['denominator']} | – | – | – | – | – | – |")
            continue
        low, high = marker["iqr_change_pct"] or (None, None)
        p = marker["p_value"]
        lines.append(
            f"| {marker['label']} ({marker['unit']}) | {marker['n_pairs']} of {marker['denominator']} | "
            f"{fmt_number(marker['median_pre'])} | {fmt_number(marker['median_post'])} | {marker['median_change_pct']:+.1f} % | "
            f"{'–' if low is None else f'{low:+.1f} to {high:+.1f} %'} | {marker['n_decreased']} of {marker['n_pairs']} | "
            f"{fmt_p(p)}{' (under 5 pairs)' if p is None else ''} |")
    for title, groups in (("by CRS grade", summary["by_crs_grade"]),
                          ("by days from CRS onset to the first exchange", summary["by_time_to_pe"])):
        if not groups:
            continue
        lines += ["", f"### Survival and CRS resolution {title}", "", "| group | patients | alive | CRS resolved |",
                  "|---|---|---|---|"]
        for name, group in groups.items():
            lines.append(f"| {name} | {group['patients']} | {_share(len(group['alive']), group['outcome_reported'])} | "
                         f"{_share(len(group['resolved']), group['resolution_reported'])} |")
    return lines + ["", summary["caveat"], ""]


def render_report(run_id: str, documents, cases: list[dict], scores: dict | None, timings: dict[str, float],
                  final_cases: int | None = None, recorded: bool = True, summary: dict | None = None,
                  changes: dict | None = None) -> str:
    """``cases`` are the machine's (predicted_cases.csv, which the scores are of); ``final_cases`` counts the rows
    of cases.csv, the predictions with the curations; ``summary`` is summary.json's content, of cases.csv;
    ``changes`` changes.json's, told first."""
    status = Counter(d.status for d in documents)
    final = len(cases) if final_cases is None else final_cases
    curation = ("with the curators' decisions in the store" if recorded
                else "not recorded in the store (--no-store), so no curation applies")
    lines = [f"# pecrs run {run_id}", "",
             f"Documents: {len(documents)} ({', '.join(f'{k} {v}' for k, v in sorted(status.items()))}); "
             f"patients predicted: {len(cases)} (predicted_cases.csv); in the final table: {final} (cases.csv, "
             f"{curation}).", ""]
    if timings:
        lines += ["Stage timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()), ""]
    if changes is not None:
        lines += markdown_section(changes)
    if summary is not None and summary.get("left_out"):
        lines += ["Left out of the clinical summary, their articles retracted: " + "; ".join(
            f"{', '.join(item['case_ids'])} of {item['doc_id']} ({item['retracted']})" for item in summary["left_out"])
            + ".", ""]
    if summary is not None and summary["patients"]:
        lines += clinical_summary(summary)
    if scores:
        micro, macro, cases_counts = scores["micro"], scores["macro"], scores["cases"]
        lit = scores["review_literature"]
        lines += [
            "## Scores of the predictions (predicted_cases.csv) against the gold table", "",
            f"- micro: P {_pct(micro['precision'])}, R {_pct(micro['recall'])}, F1 {_pct(micro['f1'])} "
            f"(tp {micro['tp']}, fp {micro['fp']}, fn {micro['fn']})",
            f"- macro over {macro['fields_scored']} fields: P {_pct(macro['precision'])}, R {_pct(macro['recall'])}, F1 {_pct(macro['f1'])}",
            f"- cases: tp {cases_counts['tp']}, fp {cases_counts['fp']}, fn {cases_counts['fn']}",
            f"- the review's literature cases: {lit['in_gold']} of {lit['review_cases']} in gold; "
            f"micro F1 {_pct(lit['micro']['f1'])} (P {_pct(lit['micro']['precision'])}, R {_pct(lit['micro']['recall'])})",
            "", "| field | tp | fp | fn | P | R | F1 |", "|---|---|---|---|---|---|---|",
        ]
        for name, c in scores["fields"].items():
            lines.append(f"| {name} | {c['tp']} | {c['fp']} | {c['fn']} | {_pct(c['precision'])} | {_pct(c['recall'])} | {_pct(c['f1'])} |")
        lines += ["", f"## Errors ({len(scores['errors'])})", ""]
        if scores["errors"]:
            lines += ["| kind | field | value | gold case | predicted case | why | evidence |", "|---|---|---|---|---|---|---|"]
            for e in scores["errors"]:
                quote = e["evidence"][0]["quote"] if e.get("evidence") else ""
                quote = quote.replace("|", "\\|").replace("\n", " ")[:120]
                lines.append(f"| {e['kind']} | {e['field']} | {e['value']} | {e['gold_case_id'] or ''} | "
                             f"{e['predicted_case_id'] or ''} | {e['reason']} | {quote} |")
    failed = [d for d in documents if d.status == "failed"]
    lines += ["", "## Documents", "", "| file | status | patients | reason |", "|---|---|---|---|"]
    for d in documents:
        lines.append(f"| {d.file} | {d.status} | {d.patients_in_scope}/{d.patients_found} | {d.reason} |")
    if failed:
        lines += ["", f"{len(failed)} file(s) failed to parse; see the reasons above."]
    return "\n".join(lines) + "\n"
