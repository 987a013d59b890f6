"""PDFs into a Document.

pdfplumber reads the PDF in a process of its own (pipeline.parsing.pdf_reader) under limits of memory and CPU
time: what a PDF inflates to stays within that process's memory, a decompression bomb or an endless page fails
alone, and the run goes on. Dask's workers are daemonic processes, which multiprocessing may not start children
from; a plain subprocess they may. From the reader's lines in reading order and its tables, running headers,
footers and page numbers are dropped, words broken at line ends are joined, ligatures are normalised (by the
builder).
"""

from __future__ import annotations

import json
import re
import signal
import statistics
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import NamedTuple

from pipeline.settings import settings
from pipeline.document.model import Document
from pipeline.parsing.errors import ParseError
from pipeline.parsing.pagelayout import join_lines, vocabulary
from pipeline.parsing.pdf_tables import as_text_table
from pipeline.parsing.plaintext import blocks_to_document

MARGIN_SHARE = 0.07  # top and bottom share of a page where running heads and page numbers live
READER = Path(__file__).with_name("pdf_reader.py")
WALL_FACTOR = 4  # a reader not done after this many times its CPU time limit is stopped (e.g. on a swapping machine)


class Line(NamedTuple):
    top: float
    bottom: float
    text: str


class PageContent(NamedTuple):
    lines: list[Line]
    tables: list[dict]  # pdf_tables.page_tables's tables
    height: float


def _is_running_text(line: Line, height: float, repeated: set[str]) -> bool:
    in_margin = line.top < height * MARGIN_SHARE or line.bottom > height * (1 - MARGIN_SHARE)
    if not in_margin:
        return False
    text = line.text.strip()
    return bool(re.fullmatch(r"(page\s*)?\d{1,4}(\s*(of|/)\s*\d{1,4})?", text, re.IGNORECASE)) or _shape(text) in repeated


def _shape(text: str) -> str:
    return re.sub(r"\d+", "#", text.strip().lower())


def _paragraphs(lines: list[Line], known: set[str]) -> list[str]:
    """Lines into paragraphs at vertical gaps clearly larger than the usual line spacing."""
    if not lines:
        return []
    gaps = [b.top - a.bottom for a, b in zip(lines, lines[1:]) if 0 <= b.top - a.bottom < 30]
    usual = statistics.median(gaps) if gaps else 2.0
    paragraphs, current = [], [lines[0].text]
    for previous, line in zip(lines, lines[1:]):
        gap = line.top - previous.bottom
        if gap > max(usual * 1.8, usual + 3) or gap < -5:
            paragraphs.append(join_lines(current, known))
            current = []
        current.append(line.text)
    paragraphs.append(join_lines(current, known))
    return [p for p in paragraphs if p.strip()]


def _read(data: bytes, source_file: str) -> list[PageContent]:
    """The PDF's pages as the reader process gives them, or ParseError saying which limit it reached."""
    config = settings()
    command = [sys.executable, "-P", str(READER), str(config.pdf_max_pages), str(config.pdf_max_mb),
               str(config.pdf_max_seconds), str(config.max_file_bytes)]
    wall = WALL_FACTOR * config.pdf_max_seconds
    reader = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = reader.communicate(data, timeout=wall)
    except subprocess.TimeoutExpired:
        reader.kill()
        reader.communicate()
        raise ParseError(source_file, f"PDF took longer than {wall} s to read") from None
    except BaseException:
        reader.kill()
        reader.wait()
        raise
    if reader.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        raise ParseError(source_file, f"PDF needs more than the CPU time limit of {config.pdf_max_seconds} s "
                                      f"(PECRS_PDF_MAX_SECONDS)")
    try:
        result = json.loads(out)
    except ValueError:
        lines = err.decode(errors="replace").strip().splitlines()
        raise ParseError(source_file, f"PDF reader failed (exit status {reader.returncode}"
                                      f"{': ' + lines[-1] if lines else ''})") from None
    if result.get("limit") == "memory":
        raise ParseError(source_file, f"PDF needs more than the memory limit of {config.pdf_max_mb} MB (PECRS_PDF_MAX_MB)")
    if result.get("limit") == "text":
        raise ParseError(source_file, f"PDF text is over the limit of {config.max_file_bytes:,} bytes (PECRS_MAX_FILE_BYTES)")
    if "reason" in result:
        raise ParseError(source_file, result["reason"])
    return [PageContent([Line(*line) for line in page["lines"]], page["tables"], page["height"]) for page in result["pages"]]


def parse_pdf(data: bytes, source_file: str) -> list[Document]:
    pages = _read(data, source_file)
    if not pages:
        raise ParseError(source_file, "PDF has no pages")
    margins = Counter(_shape(l.text) for p in pages for l in p.lines
                      if l.top < p.height * MARGIN_SHARE or l.bottom > p.height * (1 - MARGIN_SHARE))
    repeated = {shape for shape, n in margins.items() if n >= 2 and len(pages) >= 2}
    blocks: list = []  # paragraphs and TextTables
    known = vocabulary("\n".join(line.text for page in pages for line in page.lines))
    for page in pages:
        kept = [l for l in page.lines if not _is_running_text(l, page.height, repeated)]
        paragraphs = _paragraphs(kept, known)
        # a page's tables go before its last paragraph, which may run on to the next page
        blocks.extend(paragraphs[:-1])
        blocks.extend(as_text_table(table) for table in page.tables)
        blocks.extend(paragraphs[-1:])
    if not any(isinstance(b, str) and b.strip() for b in blocks) and not any(not isinstance(b, str) for b in blocks):
        raise ParseError(source_file, "PDF has no extractable text (a scanned image needs OCR first)")
    return blocks_to_document(blocks, source_file, format_name="pdf")
