"""PDF layout benchmark: pecrs' PDF parser against plain pdfplumber on real publisher PDFs with a structured gold.
Usage: python bench/pdf_layout.py [--pairs DIR] [--only NN,NN] [--json OUT]
(DIR defaults to ../shared/data/pdf-real beside the repository: NN_name/{article.pdf,gold.xml} and MANIFEST.md)

Both parsers read each article.pdf; bench/pdf_metrics.py reads gold.xml and scores title, abstract, body
paragraphs, section headings, table cells, words, journal, DOI and affiliations. Figures are macro averages over the articles (per source
family too); an article whose gold has nothing to compare (no tables, say) leaves that metric out.
Plain pdfplumber: extract_text() page by page; its title is the first non-empty line, its abstract page 1 from
an "Abstract"/"Summary" label (or from the line after the title) to "Keywords" or an "Introduction"/"Background"
line, its headings every line, its tables extract_tables(), its DOI the first in its text; it names no journal
and no affiliations (n/a).
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pdf_metrics import METRICS, Reading, read_gold, score  # noqa: E402
from pipeline.document.ids import DOI_PATTERN  # noqa: E402
from pipeline.parsing import ParseError, parse_file  # noqa: E402

PAIRS = Path("shared") / "data" / "pdf-real"
PARSERS = ("pdfplumber", "pecrs")
FAMILY_OF_LAYOUT = {"H": "Hindawi", "B": "BMC", "S": "Springer", "R": "RSOS", "F": "F1000", "Fr": "Frontiers",
                    "M": "MDPI", "P": "PLOS"}
LABELS = {"title": "title similarity", "title_exact": "exact titles", "abstract": "abstract (char F1)",
          "body": "body paragraphs found", "headings": "section headings", "cells": "table cells",
          "words": "word accuracy", "journal": "journal (exact)", "doi": "DOI (exact)",
          "affiliations": "affiliations found"}
_ABSTRACT_LABEL = re.compile(r"^\s*(abstract|summary)\b[\s.:]*", re.IGNORECASE)
_ABSTRACT_END = re.compile(r"^\s*(key\s*words?\b|(\d+\.?\s*)?(introduction|background)\s*$)", re.IGNORECASE)


def default_pairs() -> Path:
    """../shared/data/pdf-real beside the repository; from a git worktree, beside its main checkout."""
    beside = ROOT.parent / PAIRS
    if beside.is_dir():
        return beside
    try:
        common = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--path-format=absolute", "--git-common-dir"],
                                capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return beside
    return Path(common).parent.parent / PAIRS


def families(manifest: Path) -> dict[str, str]:
    """Folder number -> source family, from the layout column of MANIFEST.md's pairs table (GROBID by source)."""
    found = {}
    for line in manifest.read_text(encoding="utf-8").splitlines() if manifest.exists() else []:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 8 or not re.fullmatch(r"\d{2}", cells[0]):
            continue
        layout = cells[-2].split(",")[0].strip()
        found[cells[0]] = "GROBID" if cells[1].startswith("grobid") else FAMILY_OF_LAYOUT.get(layout, "other")
    return found


def timed(read, pdf: Path):
    """What ``read`` returns, its wall-clock seconds and its CPU seconds (its child processes' included: pecrs
    reads a PDF in a process of its own); CPU time is what a machine shared with other work does not inflate."""
    def cpu() -> float:
        own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime

    started, started_cpu = time.perf_counter(), cpu()
    result = read(pdf)
    return result, time.perf_counter() - started, cpu() - started_cpu


def read_with_pecrs(pdf: Path) -> Reading:
    try:
        document = parse_file(pdf)[0]
    except ParseError as exc:  # a PDF pecrs refuses scores as nothing read
        print(f"  pecrs: {exc}", file=sys.stderr)
        return Reading()
    spans = sorted((s.start, s.end) for s in document.sections if s.kind == "abstract")
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return Reading(
        title=document.title,
        # the section's "Abstract" label is no part of the abstract, as for plain pdfplumber
        abstract=_ABSTRACT_LABEL.sub("", "\n".join(document.text[start:end] for start, end in merged), count=1),
        text=document.text,
        headings=[s.title for s in document.sections],
        cells=[c.text for t in document.tables for c in t.cells],
        journal=document.journal,
        doi=document.doi or "",
        affiliations=document.affiliations,
    )


def read_with_pdfplumber(pdf: Path) -> tuple[Reading, int]:
    import pdfplumber

    texts, cells = [], []
    with pdfplumber.open(pdf) as document:
        for page in document.pages:
            texts.append(page.extract_text() or "")
            cells.extend(cell for table in page.extract_tables() for row in table for cell in row if cell)
            page.close()
    lines = [line for line in "\n".join(texts).splitlines() if line.strip()]
    doi = DOI_PATTERN.search("\n".join(texts))
    return Reading(
        title=lines[0] if lines else "",
        abstract=plain_abstract([l for l in texts[0].splitlines() if l.strip()] if texts else []),
        text="\n".join(texts),
        headings=lines,
        cells=cells,
        doi=doi.group(1) if doi else "",
    ), len(texts)


def plain_abstract(lines: list[str]) -> str:
    """Page 1 from an "Abstract" label (or from the line after the title) to keywords or an introduction."""
    start = next((i for i, line in enumerate(lines) if _ABSTRACT_LABEL.match(line)), None)
    if start is None:
        start, taken = 1, []
    else:
        rest = _ABSTRACT_LABEL.sub("", lines[start], count=1)
        start, taken = start + 1, [rest] if rest else []
    for line in lines[start:]:
        if _ABSTRACT_END.match(line):
            break
        taken.append(line)
    return "\n".join(taken)


def macro(rows: list[dict], parser: str, metric: str) -> float | None:
    values = [row[parser]["scores"][metric] for row in rows if row[parser]["scores"][metric] is not None]
    return statistics.fmean(values) if values else None


def summary(rows: list[dict]) -> dict:
    figures = {}
    for parser in PARSERS:
        pages = sum(row["pages"] for row in rows)
        seconds = sum(row[parser]["seconds"] for row in rows)
        cpu = sum(row[parser]["cpu_seconds"] for row in rows)
        figures[parser] = {metric: macro(rows, parser, metric) for metric in METRICS}
        figures[parser]["exact_titles"] = sum(row[parser]["scores"]["title_exact"] or 0 for row in rows)
        figures[parser]["pages_per_second"] = pages / seconds if seconds else None
        figures[parser]["pages_per_cpu_second"] = pages / cpu if cpu else None
    figures["articles"] = len(rows)
    figures["pages"] = sum(row["pages"] for row in rows)
    return figures


def _figure(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def print_tables(rows: list[dict], overall: dict, by_family: dict[str, dict]) -> None:
    n = overall["articles"]
    print(f"\n{n} articles, {overall['pages']} pages; macro over articles "
          f"(an article whose gold lacks what a metric compares is left out of it)")
    print(f"{'metric':34s}{'plain pdfplumber':>18s}{'pecrs':>18s}")
    plain, pecrs = overall["pdfplumber"], overall["pecrs"]
    print(f"{'title similarity / exact titles':34s}"
          + "".join(f"{_figure(f['title'])} / {int(f['exact_titles'])} of {n}".rjust(18) for f in (plain, pecrs)))
    for metric in ("abstract", "body", "headings", "cells", "words", "journal", "doi", "affiliations"):
        counted = sum(row["pecrs"]["scores"][metric] is not None for row in rows)
        label = LABELS[metric] + (f" ({counted} of {n})" if counted != n else "")
        print(f"{label:34s}{_figure(plain[metric]):>18s}{_figure(pecrs[metric]):>18s}")
    for key, label in (("pages_per_second", "pages per second (wall clock)"),
                       ("pages_per_cpu_second", "pages per CPU second")):
        print(f"{label:34s}{plain[key]:>18.2f}{pecrs[key]:>18.2f}")
    print("\nper source family, plain pdfplumber / pecrs")
    print(f"{'family':10s}{'n':>3s}" + "".join(f"{m:>12s}" for m in METRICS))
    for family, figures in by_family.items():
        cells = "".join(f"{_short(figures['pdfplumber'][m])}/{_short(figures['pecrs'][m])}".rjust(12) for m in METRICS)
        print(f"{family:10s}{figures['articles']:>3d}{cells}")


def _short(value: float | None) -> str:
    return "  - " if value is None else f"{value:.2f}"


def measure(folder: Path, family: str) -> dict:
    """One article read by both parsers and scored against its gold."""
    gold = read_gold(folder)
    pdf = folder / "article.pdf"
    (plain, pages), plain_seconds, plain_cpu = timed(read_with_pdfplumber, pdf)
    pecrs, pecrs_seconds, pecrs_cpu = timed(read_with_pecrs, pdf)
    row = {"article": folder.name, "family": family, "pages": pages,
           "gold": {"title": gold.title, "abstract_chars": len(gold.abstract), "paragraphs": len(gold.paragraphs),
                    "headings": len(gold.headings), "tables": gold.tables, "cells": len(gold.cells)}}
    for name, reading, seconds, cpu in (("pdfplumber", plain, plain_seconds, plain_cpu),
                                        ("pecrs", pecrs, pecrs_seconds, pecrs_cpu)):
        row[name] = {"scores": score(gold, reading), "seconds": seconds, "cpu_seconds": cpu, "title": reading.title}
    return row


def progress(index: int, total: int, row: dict) -> str:
    plain, pecrs = row["pdfplumber"], row["pecrs"]
    figures = "  ".join(f"{m} {_short(plain['scores'][m])}/{_short(pecrs['scores'][m])}" for m in METRICS
                        if m != "title_exact")
    return (f"[{index:2d}/{total}] {row['article']:30s} {row['pages']:2d} p "
            f"{plain['seconds']:4.1f}/{pecrs['seconds']:4.1f} s  {figures}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=Path, default=None, help="folder of NN_name/{article.pdf,gold.xml}")
    parser.add_argument("--only", default="", help="comma-separated folder numbers, e.g. 01,14")
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    args = parser.parse_args()
    logging.getLogger("pdfminer").setLevel(logging.ERROR)  # warnings on colour operators and the like
    pairs = args.pairs or default_pairs()
    folders = sorted(f for f in pairs.glob("*") if (f / "article.pdf").is_file() and (f / "gold.xml").is_file())
    if args.only:
        wanted = {n.strip() for n in args.only.split(",")}
        folders = [f for f in folders if f.name.split("_")[0] in wanted]
    if not folders:
        sys.exit(f"no NN_name/{{article.pdf,gold.xml}} pairs under {pairs}")
    family_of = families(pairs / "MANIFEST.md")
    print("per article: plain pdfplumber / pecrs")
    rows = []
    for index, folder in enumerate(folders, 1):
        rows.append(measure(folder, family_of.get(folder.name[:2], "other")))
        print(progress(index, len(folders), rows[-1]), flush=True)
    overall = summary(rows)
    by_family = {family: summary([row for row in rows if row["family"] == family])
                 for family in dict.fromkeys(row["family"] for row in rows)}
    print_tables(rows, overall, by_family)
    if args.json:
        args.json.write_text(json.dumps({"overall": overall, "families": by_family, "articles": rows}, indent=1))
        print(f"\nfigures written to {args.json}")


if __name__ == "__main__":
    main()
