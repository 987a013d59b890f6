"""Parsing speed: pecrs against pubmed_parser (the field's usual JATS parser) on the same JATS files,
in the same run, and pecrs' PDF pages/s.
Usage: python bench/parse.py [--repeat N]   (N rounds, the best counts)   (needs ../shared and the test extra: pip install -e '.[test]')
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.parsing import ParseError, parse_file  # noqa: E402

DATA = ROOT.parent / "shared" / "data"


def peer_parse(path: Path) -> None:
    import pubmed_parser

    pubmed_parser.parse_pubmed_xml(str(path))
    pubmed_parser.parse_pubmed_paragraph(str(path), all_paragraph=True)
    pubmed_parser.parse_pubmed_table(str(path), return_xml=False)


def parse_with_sentences(path: Path) -> None:
    for document in _documents(parse_file(path)):
        document.sentences  # noqa: B018  (made on first use)


def _documents(parsed):
    return parsed if isinstance(parsed, list) else [parsed]


def timed(function, files) -> float:
    started = time.perf_counter()
    for path in files:
        function(path)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    jats = sorted((DATA / "jats").rglob("*.nxml")) + sorted((DATA / "jats" / "plos").glob("*.xml"))
    if not jats:
        sys.exit(f"no JATS files under {DATA / 'jats'}")
    contenders = {"pecrs document model": parse_file, "pecrs document model + sentences": parse_with_sentences,
                  "pubmed_parser (meta, paragraphs, tables)": peer_parse}
    for function in contenders.values():  # imports and first-call setup out of the figures
        timed(function, jats[:2])
    # rounds interleave the contenders and the best round counts (as timeit does): a busy machine slows
    # one round, not one contender
    best = {name: float("inf") for name in contenders}
    for _ in range(args.repeat):
        for name, function in contenders.items():
            best[name] = min(best[name], timed(function, jats))
    print(f"{len(jats)} JATS files, best of {args.repeat} rounds")
    for name, seconds in best.items():
        print(f"{name + ':':45s}{len(jats) / seconds:7.1f} files/s")
    peer = best["pubmed_parser (meta, paragraphs, tables)"]
    print(f"ratio pecrs / pubmed_parser speed: {peer / best['pecrs document model']:.2f} "
          f"(with sentences {peer / best['pecrs document model + sentences']:.2f}; pubmed_parser has no sentences)")
    import pdfplumber

    pages, started = 0, time.perf_counter()
    for path in sorted((DATA / "pdf").glob("*.pdf")):
        try:
            parse_file(path)
            with pdfplumber.open(path) as pdf:
                pages += len(pdf.pages)
        except ParseError:
            continue
    print(f"pecrs PDF: {pages} pages in {time.perf_counter() - started:.1f} s "
          f"({pages / (time.perf_counter() - started):.1f} pages/s, page count included)")


if __name__ == "__main__":
    main()
