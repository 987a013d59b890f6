"""Does confidence rank errors first? Over the embedded corpus and blind sets: every predicted value (an item of a
list) with its confidence and whether the scorer counts it a false positive; the share of errors among the
lowest-confidence fifth of values, and the median confidence of errors and of correct values.

--calibrate writes each rule's precision on the sets given (smoothed towards the precision of all rules) into
extractors/resources/confidence.json; measure on other sets than those calibrated on.

Usage: python bench/confidence.py [--sets DIR ...] [--no-corpus] [--calibrate] [--jobs 2] [--list]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.outputs.atomic import atomic_write_text  # noqa: E402
from pipeline.outputs.writer import csv_text  # noqa: E402
from pipeline.run import stages  # noqa: E402
from pipeline.run.corpus import corpus_entries  # noqa: E402
from pipeline.schema import COLUMNS  # noqa: E402
from pipeline.scoring.confidence_check import ScoredValue, predicted_values, ranking  # noqa: E402
from pipeline.scoring.scoring import normalized_rows, read_case_table, score_files  # noqa: E402

SMOOTHING = 20  # values' worth of the pooled precision each rule's own is drawn towards


def scored_values(corpus: Path, gold: Path) -> tuple[list[dict], dict]:
    """Each predicted value of the corpus (set, case, field, value, extractor, confidence, error), and the ranking."""
    parsed = [stages.parse_entry(entry) for entry in corpus_entries(corpus)]
    extractions = [stages.extract(d) for item in parsed for d in item.documents]
    rows, evidence = stages.case_rows(extractions)
    with tempfile.TemporaryDirectory() as folder:
        predicted = Path(folder) / "cases.csv"
        atomic_write_text(predicted, csv_text(rows, COLUMNS))
        report = score_files(gold, predicted)
        rows = normalized_rows(read_case_table(predicted), str(predicted))
    wrong = {(e.predicted_case_id, e.field, e.value) for e in report.errors if e.kind == "false_positive"}
    name = corpus.parent.name if corpus.name == "docs" else corpus.name
    return [{"set": name, **asdict(v), "error": (v.case_id, v.field, v.value) in wrong}
            for v in predicted_values(rows, evidence)]


def _job(pair: tuple[str, str]) -> list[dict]:
    return scored_values(Path(pair[0]), Path(pair[1]))


def calibrate(values: list[dict]) -> dict[str, float]:
    pooled = 1 - sum(v["error"] for v in values) / max(len(values), 1)
    seen, errors = Counter(v["extractor"] for v in values), Counter(v["extractor"] for v in values if v["error"])
    return {name: round((seen[name] - errors[name] + SMOOTHING * pooled) / (seen[name] + SMOOTHING), 4)
            for name in sorted(seen) if name}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", type=Path, nargs="*", default=[], help="blind set folders (docs/ and cases.csv)")
    parser.add_argument("--no-corpus", action="store_true", help="leave out the embedded corpus")
    parser.add_argument("--calibrate", action="store_true", help="write the rules' precision on these sets")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--list", action="store_true", help="list the errors with their confidence")
    args = parser.parse_args()
    pairs = [] if args.no_corpus else [(str(ROOT / "corpus"), str(ROOT / "gold" / "cases.csv"))]
    pairs += [(str(s / "docs"), str(s / "cases.csv")) for s in args.sets]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        values = [v for chunk in pool.map(_job, pairs) for v in chunk]
    if args.calibrate:
        from extractors.confidence import RULES_FILE

        rules = json.loads(RULES_FILE.read_text(encoding="utf-8"))
        rules["rules"] = calibrate(values)
        atomic_write_text(RULES_FILE, json.dumps(rules, indent=2, ensure_ascii=False) + "\n")
        print(f"{len(rules['rules'])} rules calibrated on {len(values)} values into {RULES_FILE}")
        return
    wrong = {(v["case_id"], v["field"], v["value"]) for v in values if v["error"]}
    ranked = ranking([ScoredValue(**{k: v[k] for k in ScoredValue.__annotations__}) for v in values], wrong)
    print(f"{len(pairs)} corpora, {ranked['values']} values, {ranked['errors']} errors")
    if ranked["errors"]:
        print(f"errors in the lowest-confidence fifth ({ranked['lowest_fifth']} values): "
              f"{ranked['errors_in_lowest_fifth']} of {ranked['errors']} "
              f"({ranked['errors_in_lowest_fifth'] / ranked['errors']:.0%})")
        print(f"median confidence: errors {ranked['errors_median']:.2f}, correct values {ranked['correct_median']:.2f}")
    if args.list:
        for v in sorted(values, key=lambda v: v["confidence"]):
            if v["error"]:
                print(f"  {v['confidence']:.2f}  {v['set']:10s} {v['case_id']:28s} {v['field']:18s} {v['value'][:20]:20s} "
                      f"{v['extractor']}")


if __name__ == "__main__":
    main()
