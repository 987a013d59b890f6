"""The PDF reader process: pdfplumber on one PDF under limits of memory and CPU time, its pages' lines in reading
order and its tables out as JSON. pipeline.parsing.pdf runs it as ``python -P pdf_reader.py`` and writes the PDF
to its standard input; it imports nothing of pecrs, so that it starts in a tenth of a second.

Reading order: each page is cut into horizontal bands; a band whose lines cross a vertical gutter is
read as full width, the others column by column. Tables found by pdf_tables (cells, caption) leave the
text flow, their captions with them.
"""

from __future__ import annotations

import io
import json
import logging
import resource
import sys
from dataclasses import dataclass, field

MIN_GUTTER = 7.0  # points of empty width between two columns


@dataclass
class Line:
    top: float
    bottom: float
    x0: float
    x1: float
    words: list[dict] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(w["text"] for w in sorted(self.words, key=lambda w: w["x0"]))


def _lines(words: list[dict]) -> list[Line]:
    lines: list[Line] = []
    for word in sorted(words, key=lambda w: (round(w["top"]), w["x0"])):
        for line in lines:
            if abs(line.top - word["top"]) <= 2.5 and word["x0"] >= line.x0 - 1:
                gap = word["x0"] - line.x1
                if gap < 0.9 * max(word.get("size", 10), 6):
                    line.words.append(word)
                    line.x1 = max(line.x1, word["x1"])
                    line.bottom = max(line.bottom, word["bottom"])
                    break
        else:
            lines.append(Line(word["top"], word["bottom"], word["x0"], word["x1"], [word]))
    return sorted(lines, key=lambda l: (l.top, l.x0))


def _gutters(lines: list[Line], width: float) -> list[float]:
    """x positions of vertical gaps that (almost) no line crosses, between 20 % and 80 % of the width;
    a title or a rule spanning the columns may cross them."""
    if len(lines) < 4:
        return []
    allowed = max(1, int(len(lines) * 0.02))
    covered = [0] * (int(width) + 2)
    for line in lines:
        for x in range(max(0, int(line.x0)), min(len(covered), int(line.x1) + 1)):
            covered[x] += 1
    gutters, start = [], None
    for x in range(int(width * 0.2), int(width * 0.8)):
        if covered[x] <= allowed:
            start = x if start is None else start
        elif start is not None:
            if x - start >= MIN_GUTTER:
                gutters.append((start + x) / 2)
            start = None
    return gutters


def _reading_order(lines: list[Line], width: float) -> list[Line]:
    """Lines in reading order: full-width bands as they come, column bands column by column."""
    gutters = _gutters(lines, width)
    if not gutters:
        return lines
    edges = [0.0, *gutters, width + 1]
    spanning = [any(l.x0 < g < l.x1 for g in gutters) for l in lines]
    ordered: list[Line] = []
    band: list[Line] = []

    def flush() -> None:
        for left, right in zip(edges, edges[1:]):
            ordered.extend(l for l in band if left <= (l.x0 + l.x1) / 2 < right)
        band.clear()

    for line, spans in zip(lines, spanning):
        if spans:
            flush()
            ordered.append(line)
        else:
            band.append(line)
    flush()
    return ordered


def _table_finder():
    """pdf_tables, loaded by its path: the reader runs as a script (``python -P``), outside the pecrs package."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("pdf_tables", Path(__file__).with_name("pdf_tables.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _page(page, finder) -> dict:
    tables = finder.page_tables(page)
    boxes = [t["bbox"] for t in tables] + [t["caption_bbox"] for t in tables]

    def outside(word: dict) -> bool:
        return not any(b[0] - 1 <= word["x0"] and word["x1"] <= b[2] + 1 and b[1] - 1 <= word["top"] and word["bottom"] <= b[3] + 1
                       for b in boxes)

    words = [w for w in page.extract_words(extra_attrs=["size"], keep_blank_chars=False) if outside(w)]
    lines = _reading_order(_lines(words), float(page.width))
    return {"height": float(page.height), "lines": [[l.top, l.bottom, l.text] for l in lines], "tables": tables}


def _causes(exc: BaseException):
    """The exception and what it wraps: pdfplumber puts pdfminer's error in its own's arguments."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        wrapped = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else None
        exc = wrapped or exc.__cause__ or exc.__context__


def read(data: bytes, max_pages: int, max_text_bytes: int) -> dict:
    """{"pages": [...]}, or {"limit": "memory" | "text"}, or {"reason": why the PDF cannot be read}."""
    import pdfplumber
    from pdfminer.pdfdocument import PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFSyntaxError

    try:
        pages = []
        finder = _table_finder()
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            for page in pdf.pages[:max_pages]:
                pages.append(_page(page, finder))
                page.close()  # its characters and layout are not needed again
    except Exception as exc:  # pdfminer raises many unrelated types on broken files; pdfplumber wraps them
        causes = list(_causes(exc))
        if any(isinstance(c, MemoryError) for c in causes):
            return {"limit": "memory"}
        cause = causes[1] if len(causes) > 1 else exc
        if any(isinstance(c, PDFPasswordIncorrect) for c in causes):
            return {"reason": "PDF is password-protected"}
        if isinstance(cause, PDFSyntaxError):
            return {"reason": f"malformed PDF ({cause})"}
        return {"reason": f"unreadable PDF ({type(cause).__name__}: {cause})"}
    text_bytes = sum(len(line[2].encode()) for page in pages for line in page["lines"]) + sum(
        len(cell["text"].encode())
        for page in pages for table in page["tables"] for row in table["rows"] for cell in row)
    if text_bytes > max_text_bytes:
        return {"limit": "text"}
    return {"pages": pages}


def main() -> None:
    max_pages, max_mb, max_seconds, max_text_bytes = map(int, sys.argv[1:5])
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # the CPU limit's signal would otherwise dump a core
    resource.setrlimit(resource.RLIMIT_CPU, (max_seconds, max_seconds + 5))  # SIGXCPU, then SIGKILL
    resource.setrlimit(resource.RLIMIT_AS, (max_mb << 20, max_mb << 20))
    logging.disable(logging.CRITICAL)  # pdfminer's warnings; standard error is left to what went wrong
    try:
        result = read(sys.stdin.buffer.read(), max_pages, max_text_bytes)
    except MemoryError:
        result = {"limit": "memory"}
    sys.stdout.write(json.dumps(result))


if __name__ == "__main__":
    main()
