"""PDFs into a Document.

pdfplumber reads the PDF in a process of its own (pipeline.parsing.pdf_reader) under limits of memory and CPU
time: what a PDF inflates to stays within that process's memory, a decompression bomb or an endless page fails
alone, and the run goes on. Dask's workers are daemonic processes, which multiprocessing may not start children
from; a plain subprocess they may. From the reader's words (font, size, position) the page layout is read
(pipeline.parsing.pdf_layout: furniture dropped, column bands in reading order, paragraphs), the front matter
(pdf_front: title, byline, affiliations, journal, DOI, year, abstract; the journal and DOI also from the furniture
and the PDF's document information) and the headings (pdf_headings) from typography. The tables the reader cut
out of each page's text stand where they stood on the page: before the first paragraph below them, or after a
paragraph that runs on across them.
"""

from __future__ import annotations

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


def _read(data: bytes, source_file: str) -> tuple[list[Page], dict[str, str]]:
    """The PDF's pages and its document information as the reader process gives them, or ParseError saying which
    limit it reached."""
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
                 page["width"], page["height"]) for page in result["pages"]], result.get("metadata", {})


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


def _page_blocks(pages: list[Page], body: BodyStyle) -> tuple[list[Block], list[tuple[int, dict]], list[list[str]]]:
    """Every page's blocks in reading order, page furniture and line numbers left out; each table with the
    index of the block it stands before (_table_position); and each page's furniture lines (running heads and
    footers, where journals print their name and the article's DOI)."""
    lines = [segments(page.words, number) for number, page in enumerate(pages)]
    dropped = furniture(lines, [page.height for page in pages])
    found: list[Block] = []
    tables: list[tuple[int, dict]] = []
    heads = [[page_lines[i].text for i in sorted(drop)] for page_lines, drop in zip(lines, dropped)]
    for page, page_lines, drop in zip(pages, lines, dropped):
        drop = drop | line_numbers(page_lines)
        kept = [line for i, line in enumerate(page_lines) if i not in drop]
        floats = [tuple(box) for table in page.tables for box in (table["bbox"], table.get("caption_bbox")) if box]
        on_page = [block for column in reading_order(kept, body.size, floats) for block in blocks(column, body.size)]
        page_tables = []
        for table in page.tables:
            notes = _footnotes(on_page, table["bbox"], body)
            on_page = [block for block in on_page if not any(block is note for note in notes)]
            page_tables.append({**table, "footnotes": [" ".join(note.texts) for note in notes]})
        tables.extend((len(found) + _table_position(on_page, table["bbox"]), table) for table in page_tables)
        found.extend(on_page)
    return found, tables, heads


def _first_below(on_page: list[Block], box) -> int | None:
    """The first of the page's blocks in reading order that stands below the box, in its column."""
    x0, _, x1, bottom = box
    for i, block in enumerate(on_page):
        left, right = min(l.x0 for l in block.lines), max(l.x1 for l in block.lines)
        if block.top >= bottom - 1 and left < x1 and right > x0:
            return i
    return None


def _table_position(on_page: list[Block], box) -> int:
    """Where a table stands among its page's blocks in reading order: before the first block below it in its
    column, or after the last block above it when none is below it."""
    below = _first_below(on_page, box)
    if below is not None:
        return below
    return max((i + 1 for i, block in enumerate(on_page) if block.top < box[1]), default=0)


def _footnotes(on_page: list[Block], box, body: BodyStyle) -> list[Block]:
    """The table's notes: the blocks of small print right under it and within its width, one after another
    ("a Sampled after ...", "FFP, fresh frozen plasma")."""
    below = _first_below(on_page, box)
    notes: list[Block] = []
    x0, _, x1, bottom = box
    for block in on_page[below:] if below is not None else ():
        size = block.lines[0].size
        left, right = min(l.x0 for l in block.lines), max(l.x1 for l in block.lines)
        if (block.size >= body.size - SIZE_STEP or block.top - bottom > 2 * size or left < x0 - size
                or right > x1 + size):
            break
        notes.append(block)
        bottom = block.lines[-1].bottom
    return notes


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
    pages, metadata = _read(data, source_file)
    if not pages:
        raise ParseError(source_file, "PDF has no pages")
    if not any(page.words for page in pages) and not any(page.tables for page in pages):
        raise ParseError(source_file, "PDF has no extractable text (a scanned image needs OCR first)")
    body = _body_style(pages)

    def is_heading(block: Block) -> bool:
        return heading(block, body) is not None

    unjoined, tables, heads = _page_blocks(pages, body)
    found = _joined(unjoined, body, is_heading)
    front = front_matter(found, pages[0].height, body.size, is_heading, lambda block: run_in_heading(block, body),
                         heads, metadata)
    builder = DocumentBuilder(
        doc_id=make_doc_id(doi=front.doi, pmid=None, source_file=source_file), source_file=source_file,
        format="pdf", doi=front.doi, title=front.title[:500], journal=front.journal, year=front.year,
        authors=list(front.authors), affiliations=list(front.affiliations))
    _fill(builder, found, front, body, _table_places(unjoined, found, tables))
    return [builder.build()]


def _fill(builder: DocumentBuilder, found: list[Block], front: FrontMatter, body: BodyStyle,
          tables_before: dict[int, list[dict]]) -> None:
    """The title section (the title, then the rest of the front matter), the abstract, then the body's sections
    as the headings open them, nested by their levels; the tables before the blocks _table_places puts them."""
    known = vocabulary("\n".join(text for block in found for text in block.texts))
    abstract = range(*front.abstract) if front.abstract else range(-1, -1)
    body_start = abstract.stop if front.abstract else max(front.title_blocks, default=-1) + 1  # no headings before
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
        _add_tables(builder, tables_before.get(i, ()))
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
    _add_tables(builder, tables_before.get(len(found), ()))


def _table_places(unjoined: list[Block], found: list[Block], tables: list[tuple[int, dict]]) -> dict[int, list[dict]]:
    """The tables by the index of the joined block they go before: the block they stood before, or after the
    paragraph that block was joined to (a paragraph that runs on across a table stays whole)."""
    where = {}
    for i, block in enumerate(found):
        for n, line in enumerate(block.lines):
            where[id(line)] = i if n == 0 else i + 1
    places: dict[int, list[dict]] = {}
    for position, table in tables:
        index = where[id(unjoined[position].lines[0])] if position < len(unjoined) else len(found)
        places.setdefault(index, []).append(table)
    return places


def _add_tables(builder: DocumentBuilder, tables) -> None:
    """Tables as the reader cut them out of their pages' text."""
    for table in tables:
        builder.add_table(table["rows"], label=table.get("label") or "", caption=table.get("caption") or "",
                          footnotes=table.get("footnotes", ()))
