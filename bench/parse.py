"""Parsing speed: pecrs against pubmed_parser (the field's usual JATS parser) on the same JATS files,
in the same run, and pecrs' PDF pages/s.
Usage: python bench/parse.py [--repeat N]   (needs ../shared and the test extra: pip install -e '.[test]')
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


def timed(function, files, repeat: int) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        for path in files:
            function(path)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    jats = sorted((DATA / "jats").rglob("*.nxml")) + sorted((DATA / "jats" / "plos").glob("*.xml"))
    if not jats:
        sys.exit(f"no JATS files under {DATA / 'jats'}")
    timed(parse_file, jats[:2], 1)  # imports and first-call setup out of the figures
    timed(peer_parse, jats[:2], 1)
    ours = timed(parse_file, jats, args.repeat)
    ours_sentences = timed(parse_with_sentences, jats, args.repeat)
    peer = timed(peer_parse, jats, args.repeat)
    n = len(jats) * args.repeat
    print(f"{len(jats)} JATS files x {args.repeat}")
    print(f"pecrs document model:             {n / ours:.1f} files/s")
    print(f"pecrs document model + sentences: {n / ours_sentences:.1f} files/s  (pysbd; pubmed_parser has no sentences)")
    print(f"pubmed_parser (meta, paragraphs, tables): {n / peer:.1f} files/s")
    print(f"ratio pecrs / pubmed_parser speed: {peer / ours:.2f} (with sentences {peer / ours_sentences:.2f})")
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
