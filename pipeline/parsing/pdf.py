"""PDFs (pdfplumber) into a Document.

Reading order: each page is cut into horizontal bands; a band whose lines cross a vertical gutter is
read as full width, the others column by column. Tables found by pdfplumber become cell grids and
their words leave the text flow. Running headers, footers and page numbers are dropped, words broken
at line ends are joined, ligatures are normalised (by the builder).
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field

import pdfplumber
from pdfminer.pdfdocument import PDFPasswordIncorrect
from pdfminer.pdfparser import PDFSyntaxError

from pipeline.model import Document
from pipeline.parsing.errors import ParseError
from pipeline.parsing.plaintext import blocks_to_document

MARGIN_SHARE = 0.07  # top and bottom share of a page where running heads and page numbers live
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


@dataclass
class PageContent:
    lines: list[Line]
    tables: list[list[list[str | None]]]
    height: float


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


def _page_content(page) -> PageContent:
    tables = page.find_tables()
    boxes = [t.bbox for t in tables]

    def outside(word: dict) -> bool:
        return not any(b[0] - 1 <= word["x0"] and word["x1"] <= b[2] + 1 and b[1] - 1 <= word["top"] and word["bottom"] <= b[3] + 1
                       for b in boxes)

    words = [w for w in page.extract_words(extra_attrs=["size"], keep_blank_chars=False) if outside(w)]
    lines = _reading_order(_lines(words), float(page.width))
    grids = [t.extract() for t in tables]
    return PageContent(lines, [g for g in grids if g and len(g) >= 2], float(page.height))


def _is_running_text(line: Line, height: float, repeated: set[str]) -> bool:
    in_margin = line.top < height * MARGIN_SHARE or line.bottom > height * (1 - MARGIN_SHARE)
    if not in_margin:
        return False
    text = line.text.strip()
    return bool(re.fullmatch(r"(page\s*)?\d{1,4}(\s*(of|/)\s*\d{1,4})?", text, re.IGNORECASE)) or _shape(text) in repeated


def _shape(text: str) -> str:
    return re.sub(r"\d+", "#", text.strip().lower())


def _paragraphs(lines: list[Line]) -> list[str]:
    """Lines into paragraphs at vertical gaps clearly larger than the usual line spacing."""
    if not lines:
        return []
    gaps = [b.top - a.bottom for a, b in zip(lines, lines[1:]) if 0 <= b.top - a.bottom < 30]
    usual = statistics.median(gaps) if gaps else 2.0
    paragraphs, current = [], [lines[0].text]
    for previous, line in zip(lines, lines[1:]):
        gap = line.top - previous.bottom
        if gap > max(usual * 1.8, usual + 3) or gap < -5:
            paragraphs.append(_join(current))
            current = []
        current.append(line.text)
    paragraphs.append(_join(current))
    return [p for p in paragraphs if p.strip()]


def _join(lines: list[str]) -> str:
    text = ""
    for line in lines:
        if text.endswith("-") and line[:1].islower() and re.search(r"[a-z]-$", text):
            text = text[:-1] + line  # "exam-" + "ple"
        else:
            text = f"{text} {line}" if text else line
    return text


def _read(path: str, max_pages: int) -> list[PageContent]:
    with pdfplumber.open(path) as pdf:
        return [_page_content(page) for page in pdf.pages[:max_pages]]


def parse_pdf(path: str, source_file: str, max_pages: int = 500, timeout: float = 120.0) -> list[Document]:
    executor = ThreadPoolExecutor(max_workers=1)
    try:
        pages = executor.submit(_read, path, max_pages).result(timeout=timeout)
    except FutureTimeout:
        raise ParseError(source_file, f"PDF took longer than {timeout:g} s to read") from None
    except Exception as exc:  # pdfminer raises many unrelated types on broken files; pdfplumber wraps them
        cause = exc.args[0] if exc.args and isinstance(exc.args[0], Exception) else exc.__context__ or exc
        if isinstance(cause, PDFPasswordIncorrect) or isinstance(exc, PDFPasswordIncorrect):
            raise ParseError(source_file, "PDF is password-protected") from None
        if isinstance(cause, PDFSyntaxError):
            raise ParseError(source_file, f"malformed PDF ({cause})") from None
        raise ParseError(source_file, f"unreadable PDF ({type(cause).__name__}: {cause})") from None
    finally:
        executor.shutdown(wait=False, cancel_futures=True)
    if not pages:
        raise ParseError(source_file, "PDF has no pages")
    margins = Counter(_shape(l.text) for p in pages for l in p.lines
                      if l.top < p.height * MARGIN_SHARE or l.bottom > p.height * (1 - MARGIN_SHARE))
    repeated = {shape for shape, n in margins.items() if n >= 2 and len(pages) >= 2}
    blocks: list[str | list[list[str | None]]] = []
    for page in pages:
        kept = [l for l in page.lines if not _is_running_text(l, page.height, repeated)]
        blocks.extend(_paragraphs(kept))
        blocks.extend(page.tables)
    if not any(isinstance(b, str) and b.strip() for b in blocks) and not any(isinstance(b, list) for b in blocks):
        raise ParseError(source_file, "PDF has no extractable text (a scanned image needs OCR first)")
    return blocks_to_document(blocks, source_file, format_name="pdf")
