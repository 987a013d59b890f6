"""A run's folder from start to publication, in an order that keeps the store and ``latest`` in step.

1. The run writes the machine's files (predicted_cases.csv, predicted_evidence.jsonl, documents.csv, scores.json,
   run.json) into ``<out>/.<run-id>.partial/``.
2. It records itself in the store (one transaction), naming that outputs folder.
3. ``finish`` overlays the curations on the predictions (cases.csv, evidence.jsonl, report.md, report.html,
   summary.json), says what changed since the previous run (changes.json, and a section of both reports), renames
   the folder to ``<out>/<run-id>/`` and publishes it as ``<out>/latest/``.

A run killed before step 2 leaves a partial folder the store does not know: the next run into that outputs
folder removes it. A run killed after step 2 leaves a recorded run without published outputs: the next run
finishes and publishes it first (``recover``), from its partial folder and the store, so the store's latest run
for a folder always ends up as that folder's ``latest``. One run at a time writes into a folder (a file lock).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from filelock import FileLock, Timeout

from pipeline.outputs.atomic import atomic_write_text
from pipeline.outputs.final_table import final_evidence, in_run_order, uncurated
from pipeline.outputs.writer import EvidenceSpool, csv_text, link_or_copy, publish_latest, read_evidence
from pipeline.report.changes import NOT_RECORDED, cycle_line, pooled_figures, with_counts
from pipeline.report.markdown import render_report
from pipeline.report.summary import retracted_left_out
from pipeline.store import export_columns

PREDICTED_CASES = "predicted_cases.csv"
PREDICTED_EVIDENCE = "predicted_evidence.jsonl"
RUN_META = "run.json"
CHANGES = "changes.json"
LOCK = ".pecrs.lock"


class OutputsBusy(RuntimeError):
    """Another pecrs run is writing into the same outputs folder."""


@dataclass(frozen=True)
class RunFolder:
    out: Path
    run_id: str

    @property
    def staging(self) -> Path:
        return self.out / f".{self.run_id}.partial"

    @property
    def final(self) -> Path:
        return self.out / self.run_id


def outputs_lock(out: Path) -> FileLock:
    """Held for a whole run: recovery removes partial folders, which must not be another live run's."""
    out.mkdir(parents=True, exist_ok=True)
    return FileLock(str(out / LOCK), timeout=0)


def acquire(lock: FileLock, out: Path) -> None:
    try:
        lock.acquire()
    except Timeout:
        raise OutputsBusy(f"{out}: another pecrs run is writing into this outputs folder; wait for it to end") from None


def write_meta(staging: Path, meta: dict) -> None:
    atomic_write_text(staging / RUN_META, json.dumps(meta, indent=1, ensure_ascii=False) + "\n")


def finish(folder: RunFolder, store=None, cache=None, publish: bool = True) -> "Finished":
    """Step 3: the final table over the partial folder's predictions, then the folder renamed into place and
    published. ``store`` is None for a run kept out of the store (its final table is its predictions)."""
    staging = folder.staging
    meta = json.loads((staging / RUN_META).read_text(encoding="utf-8"))
    predicted = _read_csv(staging / PREDICTED_CASES)
    documents = _read_csv(staging / "documents.csv")
    scores_path = staging / "scores.json"
    scores = json.loads(scores_path.read_text(encoding="utf-8")) if scores_path.exists() else None
    if store is None:
        # its table is its predictions, named by its digest
        table, decisions, version = uncurated(predicted), {}, f"not recorded/{meta['digest']}"
    else:
        decisions = store.decisions()
        table = in_run_order(store.table(corpus=meta["corpus"]), predicted)
        version = store.table_version(meta["corpus"])
    atomic_write_text(staging / "cases.csv", csv_text(table, export_columns()))
    in_table = {row["case_id"] for row in table}
    if len(table) == len(predicted) and not any(case_id in in_table for case_id, _ in decisions):
        # nothing in this table was curated: its evidence is the machine's, shared rather than written again
        (staging / "evidence.jsonl").unlink(missing_ok=True)
        link_or_copy(staging / PREDICTED_EVIDENCE, staging / "evidence.jsonl")
        evidence_sha256 = meta["evidence_sha256"]
    else:
        evidence_sha256 = _write_final_evidence(staging, table, decisions)
    pooled_rows, left_out = retracted_left_out(table, documents)
    pages, reused = _summary_pages(staging, pooled_rows, left_out, scores, cache, version, evidence_sha256)
    summary = json.loads(pages.summary_json)
    changes = _changes(folder.run_id, store, summary)
    atomic_write_text(staging / CHANGES, json.dumps(changes, indent=1, ensure_ascii=False) + "\n")
    from pipeline.report.html import render_changes  # the section differs run to run: rendered every time

    pages.write(staging, folder.run_id, render_changes(changes))
    report = render_report(folder.run_id, [SimpleNamespace(**d) for d in documents], predicted, scores,
                           meta.get("timings", {}), final_cases=len(table), recorded=store is not None, summary=summary,
                           changes=changes)
    atomic_write_text(staging / "report.md", report)
    os.replace(staging, folder.final)
    if publish:
        publish_latest(folder.final, folder.out / "latest")
    return Finished(folder.final, len(table), reused, changes)


@dataclass(frozen=True)
class Finished:
    run_dir: Path
    cases: int  # rows of the final table
    summary_reused: bool  # report.html and summary.json came from the cache
    changes: dict  # changes.json's content

    @property
    def changes_line(self) -> str:
        return cycle_line(self.changes)


def _changes(run_id: str, store, summary: dict) -> dict:
    """changes.json: what changed since the previous run of the corpus, by the store; with this run's pooled answer
    kept in the store first, for the comparison and for the runs after it."""
    if store is None:
        return {"run": run_id, **NOT_RECORDED}
    store.set_pooled(run_id, pooled_figures(summary))
    return with_counts(store.changes(run_id))


def _write_final_evidence(staging: Path, table: list[dict], decisions: dict) -> str:
    spool = EvidenceSpool(staging / "evidence.jsonl")
    try:
        spool.write(final_evidence(read_evidence(staging / PREDICTED_EVIDENCE), table, decisions))
        spool.commit()
    except BaseException:
        spool.discard()
        raise
    return spool.sha256


def _summary_pages(run_dir: Path, rows: list[dict], left_out: list[dict], scores: dict | None, cache,
                   table_version: str | None, evidence_sha256: str):
    """summary.json and report.html as rendered, from the cache when the same table, evidence and scores were drawn
    before; and whether they came from the cache."""
    key = cache.summary_key(table_version, evidence_sha256, scores) if cache is not None and table_version else None
    pages = cache.get(key) if key else None
    reused = pages is not None
    if not reused:
        from pipeline.report.html import render_summary  # the template engine loads only to render

        pages = render_summary(rows, read_evidence(run_dir / "evidence.jsonl"), scores, left_out)
        if key:
            cache.put(key, pages)
    return pages, reused


def recover(out: Path, store) -> list[str]:
    """Before a run into ``out``: finish the runs the store recorded there whose outputs a killed run left
    partial, remove what killed runs left that the store does not know, and make ``latest`` the store's latest
    run for this folder. ``store`` None (a run kept out of the store) removes only the publishing leftovers.
    Returns what was done, in words."""
    done = []
    out = Path(out)
    if not out.is_dir():
        return done
    for leftover in sorted(out.glob(".latest.*")):  # publish_latest's staging or retired copies
        shutil.rmtree(leftover, ignore_errors=True)
        done.append(f"removed {leftover.name}, left by a killed run")
    if store is None:
        return done
    for partial in sorted(out.glob(".*.partial")):
        run_id = partial.name[1:-len(".partial")]
        if store.run(run_id) is not None and (partial / RUN_META).exists():
            for cut_short in partial.glob(".*.tmp"):  # a write the kill interrupted, redone by finish
                cut_short.unlink(missing_ok=True)
            finish(RunFolder(out, run_id), store, publish=False)
            done.append(f"finished run {run_id}, recorded in the store but killed before its outputs were written")
        else:
            shutil.rmtree(partial, ignore_errors=True)
            done.append(f"removed {partial.name}, left by a run killed before it was recorded")
    latest = store.latest_run(out_dir=str(out.resolve()))
    if latest is not None and (out / latest.run_id).is_dir() and _published(out) != latest.run_id:
        publish_latest(out / latest.run_id, out / "latest")
        done.append(f"published run {latest.run_id} as latest")
    return done


def _published(out: Path) -> str:
    try:
        return (out / "latest" / "RUN").read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def _read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))
