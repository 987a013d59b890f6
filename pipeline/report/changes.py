"""What changed since the previous run, for the people who read the evidence base: changes.json, the "What
changed" section of report.md and report.html, ``pecrs runs --diff``, and the one line a scheduled run logs.
The changes themselves come from the store (pipeline.store.history); here they are counted and written."""

from __future__ import annotations

from pipeline.report.formats import fmt_number, fmt_p, fmt_pct

NOT_RECORDED = {"recorded": False, "note": "this run was not recorded in the store (--no-store), so it is not "
                                           "compared with other runs"}


def pooled_figures(summary: dict) -> dict:
    """The pooled answer of a final table (summary.json), as much of it as a change is told by: patients, each
    marker's pairs, median change and p-value, and the outcomes."""
    outcome = summary["cohort"].get("outcome", {})
    resolved = summary["cohort"].get("crs_resolved", {})
    return {
        "patients": summary["patients"], "articles": summary["articles"]["count"],
        "left_out": sum(len(item["case_ids"]) for item in summary.get("left_out", [])),
        "markers": {marker_id: {"label": m["label"], "n_pairs": m["n_pairs"], "median_change_pct": m["median_change_pct"],
                                "p_value": m["p_value"]}
                    for marker_id, m in summary["markers"].items()},
        "outcome_reported": outcome.get("reported", 0), "alive": outcome.get("counts", {}).get("alive", 0),
        "died": outcome.get("counts", {}).get("died", 0),
        "resolution_reported": resolved.get("reported", 0), "resolved": resolved.get("counts", {}).get("yes", 0),
    }


def pooled_movement(before: dict | None, after: dict | None) -> list[dict]:
    """The pooled answer's figures before and after, one row each, ``changed`` where they differ (never when the
    figures before are unknown: a run recorded before the store kept them). Markers paired in neither run are left
    out."""
    if after is None:
        return []
    known = before is not None
    before = before or {}

    def row(label: str, was, now) -> dict:
        return {"figure": label, "before": was, "after": now, "changed": known and was != now}

    rows = [row("patients", before.get("patients"), after["patients"]),
            row("articles", before.get("articles"), after["articles"]),
            row("patients left out (retracted articles)", before.get("left_out"), after.get("left_out", 0))]
    for marker_id, now in after["markers"].items():
        was = before.get("markers", {}).get(marker_id, {})
        if not (now["n_pairs"] or was.get("n_pairs")):
            continue
        for key, what in (("n_pairs", "patients paired"), ("median_change_pct", "median change"),
                          ("p_value", "p (Wilcoxon)")):
            rows.append(row(f"{now['label']}: {what}", was.get(key), now[key]))
    for key, what in (("alive", "alive"), ("died", "died"), ("resolved", "CRS resolved")):
        rows.append(row(what, before.get(key), after[key]))
    return rows


def with_counts(changes: dict) -> dict:
    """``changes`` (Store.changes) with its counts and the pooled answer's movement, as changes.json holds it."""
    documents, patients = changes["documents"], changes["patients"]
    counts = {"documents_new": len(documents["new"]), "documents_revised": len(documents["revised"]),
              "documents_retracted": len(documents["retracted"]), "patients_added": len(patients["added"]),
              "patients_dropped": len(patients["dropped"]), "values_changed": len(changes["values"]),
              "evidence_moved": changes["evidence_moved"], "cells_flagged": len(changes["flagged"]),
              "decisions": len(changes["curations"])}
    movement = pooled_movement(changes["pooled"]["before"], changes["pooled"]["after"])
    changed = any(counts.values()) or any(r["changed"] for r in movement if changes["previous"])
    return {**changes, "counts": counts, "pooled_movement": movement, "changed": changed}


def cycle_line(changes: dict) -> str:
    """One line for a scheduled run's log: what it fetched and what changed."""
    if not changes.get("recorded", True):
        return "run not recorded in the store: not compared"
    counts, fetched = changes["counts"], changes.get("fetched")
    parts = [f"fetched {fetched['new']} new, {fetched['updated']} updated" if fetched else "no fetch",
             f"documents {counts['documents_new']} new, {counts['documents_revised']} revised, "
             f"{counts['documents_retracted']} retracted",
             f"patients +{counts['patients_added']} -{counts['patients_dropped']}",
             f"values changed {counts['values_changed']}", f"cells flagged {counts['cells_flagged']}"]
    since = changes["previous"] or "an empty store"
    return f"changes since {since}: " + "; ".join(parts)


def _show(value) -> str:
    return "–" if value is None or value == "" else str(value)


def figure_text(row: dict, which: str) -> str:
    value = row[which]
    if row["figure"].endswith("median change"):
        return fmt_pct(value)
    if row["figure"].endswith("p (Wilcoxon)"):
        return fmt_p(value)
    return fmt_number(value) if isinstance(value, (int, float)) else _show(value)


def markdown_section(changes: dict) -> list[str]:
    """report.md's "What changed" section (and ``pecrs runs --diff``'s text)."""
    if not changes.get("recorded", True):
        return ["## What changed", "", f"Not compared: {changes['note']}.", ""]
    previous = changes["previous"]
    title = f"## What changed since run {previous}" if previous else "## What changed: the first run of this corpus"
    lines = [title, ""]
    if not previous:
        lines += ["No earlier run of this corpus is recorded in the store: every article and patient below is new.", ""]
    if previous and not changes["changed"]:
        return lines + ["Nothing changed: no article new, revised or retracted, no patient added or dropped, no value "
                        "changed, no decision taken, and the pooled answer is the same.", ""]
    counts = changes["counts"]
    documents = changes["documents"]
    lines.append(f"- Articles: {counts['documents_new']} new, {counts['documents_revised']} revised, "
                 f"{counts['documents_retracted']} retracted.")
    for item in documents["new"][:50] if previous else []:
        lines.append(f"  - new: {item['doc_id']} ({item['file']}) {item['title']}")
    for item in documents["revised"]:
        lines.append(f"  - revised: {item['doc_id']} ({item['file']}) {item['title']}")
    for item in documents["retracted"]:
        lines.append(f"  - retracted: {item['doc_id']} ({item['retracted']}); its patients are left out of the pooled "
                     "answer")
    patients = changes["patients"]
    lines.append(f"- Patients: {counts['patients_added']} added, {counts['patients_dropped']} no longer found.")
    if previous:
        lines += [f"  - added: {p['case_id']}" for p in patients["added"][:50]]
    lines += [f"  - no longer found: {p['case_id']}" + (f" ({p['curated_cells']} curated cells kept, flagged)"
                                                       if p["curated_cells"] else "") for p in patients["dropped"]]
    lines.append(f"- Values changed: {counts['values_changed']}"
                 + (f" (and {counts['evidence_moved']} values read from another place)" if counts["evidence_moved"] else "")
                 + ".")
    if changes["values"]:
        lines += ["", "| patient | field | before | after | evidence now | curated |", "|---|---|---|---|---|---|"]
        for value in changes["values"]:
            quote = " ".join(str(value["evidence"].get("quote") or value["evidence_before"].get("quote") or "").split())
            lines.append(f"| {value['case_id']} | {value['field']} | {_cell(value['before'])} | {_cell(value['after'])} | "
                         f"{_cell(quote[:100])} | {'flagged' if value['flagged'] else 'yes' if value['curated'] else ''} |")
        lines.append("")
    lines.append(f"- Curated cells flagged for a second look: {counts['cells_flagged']}.")
    for cell in changes["flagged"]:
        lines.append(f"  - {cell['case_id']} {cell['field']}: {cell['action']} {_show(cell['curated_value'])!s} by "
                     f"{cell['by']} when the machine read {_show(cell['predicted_when_decided'])}; it now reads "
                     f"{_show(cell['predicted'])}")
    lines.append(f"- Decisions taken by curators: {counts['decisions']}.")
    for event in changes["curations"][:50]:
        lines.append(f"  - {event['at'][:16].replace('T', ' ')} {event['by']}: {event['action']} {event['case_id']} "
                     f"{event['field']} {_show(event['value']) if event['field'] else ''}".rstrip())
    movement = changes["pooled_movement"]
    if movement:
        lines += ["", "Pooled answer (patients left out of it: those of retracted articles):", "",
                  "| figure | before | after |", "|---|---|---|"]
        for row in movement:
            mark = "**" if row["changed"] and previous else ""
            lines.append(f"| {row['figure']} | {figure_text(row, 'before') if previous else '–'} | "
                         f"{mark}{figure_text(row, 'after')}{mark} |")
    return lines + [""]


def _cell(text: str) -> str:
    return _show(text).replace("|", "\\|").replace("\n", " ")
