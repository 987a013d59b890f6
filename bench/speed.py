"""Extraction speed: the pipeline's build time, then documents/s for the full extraction and for the scispaCy
tokenizer + sentence splitting alone, on the same parsed texts in the same run, and their ratio.
Usage: python bench/speed.py [--repeat N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extractors.cases import extract_document  # noqa: E402
from extractors.nlp import build_nlp  # noqa: E402
from pipeline.run.corpus import corpus_entries  # noqa: E402
from pipeline.parsing import parse_file  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    documents = [d for entry in corpus_entries(ROOT / "corpus") for d in parse_file(entry.path)]
    started = time.perf_counter()
    nlp = build_nlp()
    build = time.perf_counter() - started
    baseline = nlp.select_pipes(enable=["pecrs_sentences"])
    n = len(documents) * args.repeat
    started = time.perf_counter()
    for _ in range(args.repeat):
        for document in documents:
            list(nlp(document.text).sents)
    tokenize = time.perf_counter() - started
    baseline.restore()
    started = time.perf_counter()
    for _ in range(args.repeat):
        for document in documents:
            extract_document(document)
    full = time.perf_counter() - started
    chars = sum(len(d.text) for d in documents)
    print(f"pipeline build: {build:.2f} s")
    print(f"{len(documents)} documents ({chars:,} characters) x {args.repeat}")
    print(f"tokenizer + sentences: {n / tokenize:.1f} documents/s")
    print(f"full extraction:       {n / full:.1f} documents/s")
    print(f"ratio full / tokenize+sentences: {full / tokenize:.2f}")


if __name__ == "__main__":
    main()
