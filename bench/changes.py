"""What keeping history and saying what changed cost on a large store: two runs of N made-up cases (15 predicted
cells each) recorded into a new SQLite store, the second changing a share of the values, adding and dropping a few
cases and revising a few documents; then the comparison of the two runs (Store.changes), as the run's changes.json
and the curation page make it, and of the second run with an identical third.

Prints the seconds of each step (median of --repeat), the history rows written and the changes found.
Usage: python bench/changes.py [--cases 1245] [--changed 0.05] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from pipeline.store import Store, models  # noqa: E402

FIELDS = ["age_years", "sex", "diagnosis", "car_t_product", "crs_grade", "crs_grading", "crs_onset_day",
          "pe_start_day", "pe_sessions", "pe_volume_ml", "pe_replacement", "il6_pre", "il6_post", "ferritin_pre",
          "outcome"]
VALUES = {"sex": "F", "diagnosis": "DLBCL", "car_t_product": "axicabtagene ciloleucel", "crs_grading": "ASTCT",
          "pe_replacement": "albumin", "outcome": "alive", "crs_grade": "3"}


def a_run(cases: int, changed: float, second: bool) -> tuple[list[dict], list[dict], list[dict]]:
    documents, rows, evidence = [], [], []
    step = max(1, round(1 / changed)) if changed else 0
    for i in range(cases):
        if second and i % 100 == 99:  # dropped by the second run
            continue
        doc_id = f"doi:10.5555/bench.{i // 2}"
        if i % 2 == 0:
            revised = second and step and i % (step * 4) == 0
            documents.append({"doc_id": doc_id, "file": f"docs/{i // 2}.xml", "format": "jats-xml", "title": f"Case {i}",
                              "status": "relevant", "reason": "", "content_hash": ("b" if revised else "a") * 64})
        row = {"case_id": f"case{i}-1", "doc_id": doc_id, "patient_label": ""}
        for number, name in enumerate(FIELDS):
            value = VALUES.get(name, str(10 + (i + number) % 90))
            if second and step and (i + number) % step == 0:
                value = value + "0" if value.isdigit() else value + "x"
            row[name] = value
            evidence.append({"case_id": row["case_id"], "field": name, "value": value, "doc_id": doc_id,
                             "section": "Case", "start": 10 * number, "end": 10 * number + 5, "quote": value,
                             "confidence": 0.9})
        rows.append(row)
    if second:  # new cases
        for i in range(cases, cases + cases // 100):
            rows.append({"case_id": f"case{i}-1", "doc_id": f"doi:10.5555/bench.{i}", "patient_label": "",
                         "crs_grade": "4"})
            evidence.append({"case_id": f"case{i}-1", "field": "crs_grade", "value": "4",
                             "doc_id": f"doi:10.5555/bench.{i}", "start": 0, "end": 5, "quote": "grade 4"})
            documents.append({"doc_id": f"doi:10.5555/bench.{i}", "file": f"docs/n{i}.xml", "format": "jats-xml",
                              "title": "New", "status": "relevant", "reason": "", "content_hash": "c" * 64})
    return documents, rows, evidence


def once(cases: int, changed: float) -> dict[str, float]:
    figures = {}
    with tempfile.TemporaryDirectory() as folder:
        store = Store(f"sqlite:///{Path(folder) / 'bench.db'}")
        first, second = a_run(cases, changed, False), a_run(cases, changed, True)
        store.record_run("run-1", datetime.now(timezone.utc), "bench", *first, None)
        started = time.perf_counter()
        store.record_run("run-2", datetime.now(timezone.utc), "bench", *second, None)
        figures["record_changed_run"] = time.perf_counter() - started
        started = time.perf_counter()
        changes = store.changes("run-2")
        figures["compare_runs"] = time.perf_counter() - started
        store.record_run("run-3", datetime.now(timezone.utc), "bench", *second, None)
        started = time.perf_counter()
        unchanged = store.changes("run-3")
        figures["compare_identical_runs"] = time.perf_counter() - started
        started = time.perf_counter()
        store.changes("run-2", None)
        figures["compare_with_empty_store"] = time.perf_counter() - started
        with store.sessions() as session:
            figures["history_rows"] = sum(session.scalar(select(func.count()).select_from(table))
                                          for table in models.HISTORY_OF.values())
        figures["values_changed"] = len(changes["values"])
        figures["patients_added"] = len(changes["patients"]["added"])
        figures["patients_dropped"] = len(changes["patients"]["dropped"])
        figures["documents_revised"] = len(changes["documents"]["revised"])
        figures["identical_values_changed"] = len(unchanged["values"])
        store.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1245)
    parser.add_argument("--changed", type=float, default=0.05, help="share of the values the second run changes")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    runs = [once(args.cases, args.changed) for _ in range(args.repeat)]
    print(f"{args.cases:,} cases x {len(FIELDS)} cells, {args.changed:.0%} of the values changed; medians of {args.repeat}")
    for name in runs[0]:
        value = statistics.median(run[name] for run in runs)
        print(f"  {name:28s} {value:10.3f} s" if isinstance(runs[0][name], float) else f"  {name:28s} {value:10,.0f}")


if __name__ == "__main__":
    main()
