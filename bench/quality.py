"""Extraction quality on the embedded corpus: micro and per-field P/R/F1 against gold/cases.csv.

Runs the stages without Prefect (the same functions the flow calls) and scores with pecrs' scorer.
Usage: python bench/quality.py [--corpus DIR] [--gold CSV] [--errors]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.run import stages  # noqa: E402
from pipeline.outputs.atomic import atomic_write_text  # noqa: E402
from pipeline.run.corpus import corpus_entries  # noqa: E402
from pipeline.outputs.writer import csv_text  # noqa: E402
from pipeline.schema import COLUMNS  # noqa: E402
from pipeline.scoring.scoring import score_files  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--gold", type=Path, default=ROOT / "gold" / "cases.csv")
    parser.add_argument("--errors", action="store_true", help="list every false positive and miss")
    args = parser.parse_args()
    started = time.perf_counter()
    parsed = [stages.parse_entry(entry) for entry in corpus_entries(args.corpus)]
    documents = [d for item in parsed for d in item.documents]
    extractions = [stages.extract(d) for d in documents]
    rows, _ = stages.case_rows(extractions)
    elapsed = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as folder:
        predicted = Path(folder) / "cases.csv"
        atomic_write_text(predicted, csv_text(rows, COLUMNS))
        report = score_files(args.gold, predicted)
    micro = report.micro
    print(f"{len(documents)} documents, {len(rows)} predicted patients, {elapsed:.1f} s")
    print(f"micro  P {micro.precision:.3f}  R {micro.recall:.3f}  F1 {micro.f1:.3f}  (tp {micro.tp}, fp {micro.fp}, fn {micro.fn})")
    print(f"cases  tp {report.cases.tp}, fp {report.cases.fp}, fn {report.cases.fn}")
    for name, counts in report.fields.items():
        print(f"  {name:20s} P {counts.precision:.3f}  R {counts.recall:.3f}  F1 {counts.f1:.3f}  "
              f"(tp {counts.tp}, fp {counts.fp}, fn {counts.fn})")
    if args.errors:
        for error in report.errors:
            print(f"  {error.kind:15s} {error.field:18s} {error.value:28s} gold {error.gold_case_id} pred {error.predicted_case_id}: {error.reason}")


if __name__ == "__main__":
    main()
