"""The PDF reader process: pdfplumber on one PDF under limits of memory and CPU time, its pages' words (with
their font and position), tables and document information (Title, Subject, ...) out as JSON. pipeline.parsing.pdf
runs it as ``python -P pdf_reader.py`` and writes the PDF to its standard input; it imports nothing of pecrs'
packages, so that it starts in a tenth of a second. Layout (columns, reading order, headings) is the parent's work
(pipeline.parsing.pdf_layout).

Words: a gap between two characters starts a new word when it is wider than WORD_GAP of the font size (journals
set words a fifth of an em apart or closer, kerning stays within a twentieth); a change of font or size also
ends a word, so that a superscript or a bold run-in heading stays a word of its own. Ligatures are spelled out
by pdfplumber.

Tables: each page's table regions (bounding boxes, the caption's too) leave the text flow, their rows of cells
are sent apart; ``pdf_tables.py`` beside this file finds them.

Figures: words drawn inside a figure (its image's box, or the box of curves drawn together) on short lines (axis
labels, legends, panel letters) leave the text too; lines of prose there, and the figure's caption, stay.
"""

from __future__ import annotations

import importlib.util
import io
import json
import logging
import re
import resource
import sys
from pathlib import Path

WORD_GAP = 0.12  # of the font size: a wider gap between characters is a space
LINE_DRIFT = 0.3  # of the font size: characters further up or down belong to another line
MARGIN = 1.0  # points a word may stick out of a table's box and still be the table's
FIGURE_SHARE = (0.02, 0.6)  # of the page's area: a figure's box; smaller is a logo or a mark, larger a background
FIGURE_REACH = 4.0  # points: curves this close are parts of one drawing
_FIGURE_CAPTION = re.compile(r"^(?:Fig\.?|Figure|FIGURE|FIG\.?)$|^(?:Fig\.|Figure|FIGURE|FIG\.)\d")
MAX_CURVES = 4000  # curves of a page gathered into drawings, in drawing order: a dense plot costs no more
LABEL_WORDS = 6  # a line of fewer words inside a figure's box is a label drawn in it (an axis, a legend, a panel)
MAX_METADATA_CHARS = 2000  # of a document information field: a name or a citation, not a text


def _table_finder():
    """pdf_tables.page_tables(page) -> [{"bbox", "caption_bbox", "label", "caption", "rows"}], loaded by path: this
    process imports no pecrs package."""
    spec = importlib.util.spec_from_file_location("pecrs_pdf_tables", Path(__file__).with_name("pdf_tables.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module.page_tables


def _inside(word: dict, box) -> bool:
    x0, top, x1, bottom = box
    return (x0 - MARGIN <= word["x0"] and word["x1"] <= x1 + MARGIN
            and top - MARGIN <= word["top"] and word["bottom"] <= bottom + MARGIN)


def _drawings(boxes: list[tuple]) -> list[list[float]]:
    """Boxes of curves that touch or nearly touch, gathered into one box each."""
    merged: list[list[float]] = []
    for x0, top, x1, bottom in sorted(boxes, key=lambda b: b[1]):
        box = [x0, top, x1, bottom]
        for other in [m for m in merged if m[0] - FIGURE_REACH <= box[2] and box[0] <= m[2] + FIGURE_REACH
                      and m[1] - FIGURE_REACH <= box[3] and box[1] <= m[3] + FIGURE_REACH]:
            merged.remove(other)
            box = [min(box[0], other[0]), min(box[1], other[1]), max(box[2], other[2]), max(box[3], other[3])]
        merged.append(box)
    return merged


def _figure_regions(page) -> list[list[float]]:
    """Boxes of the page's figures: its images, and its drawn curves gathered where they touch (a chart's axes,
    lines and marks), each between a logo's size and the whole page's."""
    area = float(page.width * page.height)
    boxes = [[float(i["x0"]), float(i["top"]), float(i["x1"]), float(i["bottom"])] for i in page.images]
    curves = page.curves[:MAX_CURVES]
    boxes += _drawings([(float(c["x0"]), float(c["top"]), float(c["x1"]), float(c["bottom"])) for c in curves])
    low, high = FIGURE_SHARE
    return [b for b in boxes if low * area <= (b[2] - b[0]) * (b[3] - b[1]) <= high * area]


def _figure_words(words: list[dict], regions: list[list[float]]) -> list[dict]:
    """The words drawn inside a figure: in its box, on lines of fewer than LABEL_WORDS words there (text set over
    a figure in lines of prose is kept)."""
    inside: dict[int, list[dict]] = {}
    for word in words:
        x, y = (word["x0"] + word["x1"]) / 2, (word["top"] + word["bottom"]) / 2
        for n, (x0, top, x1, bottom) in enumerate(regions):
            if x0 <= x <= x1 and top <= y <= bottom:
                inside.setdefault(n, []).append(word)
                break
    labels = []
    for region_words in inside.values():
        rows: dict[int, list[dict]] = {}
        for word in region_words:
            rows.setdefault(round(word["bottom"] / 2), []).append(word)
        lines = [sorted(rows[key], key=lambda w: w["x0"]) for key in sorted(rows)]
        caption = next((n for n, line in enumerate(lines) if _FIGURE_CAPTION.match(line[0]["text"])), len(lines))
        lines = lines[:caption]  # the figure's caption, set inside its box, and what follows it are text
        region_words = [w for line in lines for w in line]
        prose = [line for line in lines if len(line) >= LABEL_WORDS]
        if sum(map(len, prose)) >= 0.5 * len(region_words):
            continue  # a box drawn around text, not a figure
        for above, line in zip([None, *lines], lines):
            if len(line) < LABEL_WORDS and not _ends_paragraph(above, line):
                labels += line
    return labels


def _ends_paragraph(above: list[dict] | None, line: list[dict]) -> bool:
    """Whether a short line is the last of a paragraph: right under a line of prose, at its left edge."""
    return (above is not None and len(above) >= LABEL_WORDS and abs(line[0]["x0"] - above[0]["x0"]) <= 2
            and line[0]["top"] - above[0]["bottom"] < 0.6 * (line[0]["bottom"] - line[0]["top"]))


def _page(page, find_tables) -> dict:
    """The page's words outside its tables (and their captions), with font and size, and its tables."""
    tables = [t for t in find_tables(page) if t.get("rows") and len(t["rows"]) >= 2]
    boxes = [box for t in tables for box in (t["bbox"], t.get("caption_bbox")) if box]
    fonts: dict[str, int] = {}
    words = []
    found = page.extract_words(x_tolerance_ratio=WORD_GAP, y_tolerance_ratio=LINE_DRIFT,
                               extra_attrs=["size", "fontname"], keep_blank_chars=False)
    drawn = {id(word) for word in _figure_words(found, _figure_regions(page))}
    for word in found:
        off_page = word["x1"] < 0 or word["bottom"] < 0 or word["x0"] > page.width or word["top"] > page.height
        if off_page or not word["upright"] or id(word) in drawn or any(_inside(word, box) for box in boxes):
            continue
        font = fonts.setdefault(word["fontname"], len(fonts))
        words.append([round(word["x0"], 2), round(word["top"], 2), round(word["x1"], 2), round(word["bottom"], 2),
                      round(word["size"], 2), font, word["text"]])
    return {"width": float(page.width), "height": float(page.height), "fonts": list(fonts), "words": words,
            "tables": tables}


def _metadata(info: dict) -> dict[str, str]:
    """The document information's text fields (Title, Subject, Keywords, a publisher's "doi"), each cut short."""
    return {str(key): value[:MAX_METADATA_CHARS] for key, value in info.items()
            if isinstance(value, str) and value.strip()}


def _causes(exc: BaseException):
    """The exception and what it wraps: pdfplumber puts pdfminer's error in its own's arguments."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        wrapped = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else None
        exc = wrapped or exc.__cause__ or exc.__context__


def _text_bytes(pages: list[dict]) -> int:
    return sum(len(word[6].encode()) + 1 for page in pages for word in page["words"]) + sum(
        len(cell["text"].encode()) for page in pages for table in page["tables"] for row in table["rows"]
        for cell in row)


def read(data: bytes, max_pages: int, max_text_bytes: int) -> dict:
    """{"pages": [...]}, or {"limit": "memory" | "text"}, or {"reason": why the PDF cannot be read}."""
    import pdfplumber
    from pdfminer.pdfdocument import PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFSyntaxError

    find_tables = _table_finder()
    try:
        pages = []
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            metadata = _metadata(pdf.metadata)
            for page in pdf.pages[:max_pages]:
                pages.append(_page(page, find_tables))
                page.close()  # its characters and layout are not needed again
                if _text_bytes(pages[-1:]) > max_text_bytes:
                    return {"limit": "text"}
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
    if _text_bytes(pages) > max_text_bytes:
        return {"limit": "text"}
    return {"pages": pages, "metadata": metadata}


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
