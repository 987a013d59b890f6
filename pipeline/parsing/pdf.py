"""PDFs into a Document.

pdfplumber reads the PDF in a process of its own (pipeline.parsing.pdf_reader) under limits of memory and CPU
time: what a PDF inflates to stays within that process's memory, a decompression bomb or an endless page fails
alone, and the run goes on. Dask's workers are daemonic processes, which multiprocessing may not start children
from; a plain subprocess they may. From the reader's words (font, size, position) the page layout is read
(pipeline.parsing.pdf_layout: furniture dropped, column bands in reading order, paragraphs), the front matter
(pdf_front: title, byline, DOI, year, abstract) and the headings (pdf_headings) from typography. The tables the
reader cut out of each page's text follow that text, or come before its last paragraph when it runs on.
"""

from __future__ import annotations

import bisect
import json
import re
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import NamedTuple

from pipeline.document.builder import DocumentBuilder
from pipeline.document.ids import make_doc_id
from pipeline.document.model import Document
from pipeline.parsing.errors import ParseError
from pipeline.parsing.pagelayout import join_lines, vocabulary
from pipeline.parsing.pdf_front import FrontMatter, abstract_label_end, front_matter
from pipeline.parsing.pdf_headings import BodyStyle, Levels, heading, run_in_heading, section_title
from pipeline.parsing.pdf_layout import (SIZE_STEP, Block, Word, blocks, family, furniture, line_numbers, reading_order,
                                         segments)
from pipeline.settings import settings

READER = Path(__file__).with_name("pdf_reader.py")
WALL_FACTOR = 4  # a reader not done after this many times its CPU time limit is stopped (e.g. on a swapping machine)
MAX_HELD_FLOATS = 60  # blocks of tables and figures a paragraph is followed across
_CAPTION = re.compile(r"^\s*(?:fig(?:ure)?|table|scheme|box)\s*\.?\s*[A-Z]?\d+[.:]?(?:\s|$)", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?:]['\"’”)\]]*$")


class Page(NamedTuple):
    words: list[Word]
    tables: list[dict]  # {"bbox", "caption_bbox", "label", "caption", "rows": [[{"text", "col", ...}]]}
    width: float
    height: float


def _read(data: bytes, source_file: str) -> list[Page]:
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
    return [Page([Word(*word[:5], page["fonts"][word[5]], word[6]) for word in page["words"]], page["tables"],
                 page["width"], page["height"]) for page in result["pages"]]


def _body_style(pages: list[Page]) -> BodyStyle:
    """The size and weight most of the text is set in."""
    sizes, bold, fonts = Counter(), Counter(), Counter()
    for page in pages:
        for word in page.words:
            sizes[round(word.size, 1)] += len(word.text)
            bold[word.bold] += len(word.text)
            fonts[family(word.font)] += len(word.text)
    return BodyStyle(sizes.most_common(1)[0][0] if sizes else 10.0, bold[True] > bold[False],
                     fonts.most_common(1)[0][0] if fonts else "")


def _page_blocks(pages: list[Page], body: BodyStyle) -> list[Block]:
    """Every page's blocks in reading order, page furniture and line numbers left out."""
    lines = [segments(page.words, number) for number, page in enumerate(pages)]
    dropped = furniture(lines, [page.height for page in pages])
    found: list[Block] = []
    for page, page_lines, drop in zip(pages, lines, dropped):
        drop = drop | line_numbers(page_lines)
        kept = [line for i, line in enumerate(page_lines) if i not in drop]
        floats = [tuple(box) for table in page.tables for box in (table["bbox"], table.get("caption_bbox")) if box]
        for column in reading_order(kept, body.size, floats):
            found.extend(blocks(column, body.size))
    return found


def _goes_on(before: Block, after: Block) -> bool:
    """A paragraph broken by a column or page: no sentence end before, a lower-case word after (or a comma,
    semicolon or hyphen before), one style."""
    last, first = before.lines[-1].text.rstrip(), after.lines[0].text.lstrip()
    return (bool(last) and bool(first) and not _SENTENCE_END.search(last)
            and (first[0].islower() or last.endswith((",", ";", "-")))
            and abs(before.lines[-1].size - after.lines[0].size) <= SIZE_STEP
            and before.lines[-1].bold == after.lines[0].bold)


def _is_float(block: Block, body: BodyStyle) -> bool:
    """A table's or figure's text, a caption or a footnote: set smaller than the body, or opening on a label."""
    first = block.lines[0]
    return first.size < body.size - SIZE_STEP or bool(_CAPTION.match(first.text))


def _joined(found: list[Block], body: BodyStyle, is_heading) -> list[Block]:
    """Paragraphs broken by a column or a page made whole again; the floats (tables, figures, captions,
    footnotes) standing between the two parts follow the paragraph."""
    merged: list[Block] = []
    held: list[Block] = []  # floats met while the last paragraph is open
    for block in found:
        last = merged[-1] if merged else None
        is_open = last is not None and not is_heading(last) and not _SENTENCE_END.search(last.lines[-1].text.rstrip())
        if is_open and not is_heading(block) and _goes_on(last, block):
            last.lines.extend(block.lines)  # in place: a paragraph over many columns costs no copies
            continue
        if is_open and _is_float(block, body) and not _is_float(last, body) and len(held) < MAX_HELD_FLOATS:
            held.append(block)
            continue
        merged.extend(held)
        held.clear()
        merged.append(block)
    merged.extend(held)
    return merged


def parse_pdf(data: bytes, source_file: str) -> list[Document]:
    pages = _read(data, source_file)
    if not pages:
        raise ParseError(source_file, "PDF has no pages")
    if not any(page.words for page in pages) and not any(page.tables for page in pages):
        raise ParseError(source_file, "PDF has no extractable text (a scanned image needs OCR first)")
    body = _body_style(pages)

    def is_heading(block: Block) -> bool:
        return heading(block, body) is not None

    found = _joined(_page_blocks(pages, body), body, is_heading)
    front = front_matter(found, pages[0].height, is_heading, lambda block: run_in_heading(block, body))
    builder = DocumentBuilder(
        doc_id=make_doc_id(doi=front.doi, pmid=None, source_file=source_file), source_file=source_file,
        format="pdf", doi=front.doi, title=front.title[:500], year=front.year, authors=list(front.authors))
    _fill(builder, found, front, body, pages)
    return [builder.build()]


def _fill(builder: DocumentBuilder, found: list[Block], front: FrontMatter, body: BodyStyle, pages: list[Page]) -> None:
    """The title section (the title, then the rest of the front matter), the abstract, then the body's sections
    as the headings open them, nested by their levels; each page's tables where _table_places puts them."""
    known = vocabulary("\n".join(text for block in found for text in block.texts))
    abstract = range(*front.abstract) if front.abstract else range(-1, -1)
    body_start = abstract.stop if front.abstract else max(front.title_blocks, default=-1) + 1  # no headings before
    tables_before = _table_places(found, len(pages), lambda block: heading(block, body) is not None)
    levels = Levels([b for i, b in enumerate(found) if i >= body_start and heading(b, body) is not None])
    depth = 1  # sections open: the title's, the abstract's or the body's, then the headings'

    def open_at(level: int, title: str) -> None:
        nonlocal depth
        while depth >= level:
            builder.close_section()
            depth -= 1
        builder.open_section(title)
        depth += 1

    builder.open_section("", "title")
    if front.title:
        builder.add_block(front.title, "title")
    for i, block in enumerate(found):
        for number in tables_before.get(i, ()):
            _add_tables(builder, pages[number])
        if i in front.title_blocks:
            continue
        text = join_lines(block.texts, known)
        if i == abstract.start:
            builder.close_section()
            builder.open_section(front.abstract_label.capitalize() or "Abstract", "abstract")
            depth = 1
            text = text[abstract_label_end(text):]
        if i in abstract:
            builder.add_block(text)
            if i == abstract.stop - 1:
                builder.close_section()
                builder.open_section("")
            continue
        title = heading(block, body) if i >= body_start else None
        run_in = run_in_heading(block, body) if i >= body_start and title is None else None
        if title is not None:
            open_at(levels.of(block, title), section_title(title.rstrip(":")))
            continue
        if run_in and len(text) > len(run_in):
            open_at(levels.run_in(run_in), section_title(run_in.rstrip(".:")))
            text = text[len(run_in):].strip()
        builder.add_block(text)
    for number in tables_before.get(len(found), ()):
        _add_tables(builder, pages[number])


def _table_places(found: list[Block], n_pages: int, is_heading) -> dict[int, list[int]]:
    """Where each page's tables go, as {block index: page numbers}: after the page's text, or before its last
    paragraph when that one runs on to the next page."""
    places: dict[int, list[int]] = {}
    first_pages = [block.page for block in found]  # in page order
    for number in range(n_pages):
        after = bisect.bisect_right(first_pages, number)
        last = found[after - 1] if after else None
        if last is not None and last.page == number and not is_heading(last) and (
                not _SENTENCE_END.search(last.lines[-1].text.rstrip()) or last.lines[-1].page > number):
            after -= 1
        places.setdefault(after, []).append(number)
    return places


def _add_tables(builder: DocumentBuilder, page: Page) -> None:
    """The page's tables, each after the page's text (the reader cut their regions out of it)."""
    for table in page.tables:
        builder.add_table(table["rows"], label=table.get("label") or "", caption=table.get("caption") or "")
