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
"""

from __future__ import annotations

import importlib.util
import io
import json
import logging
import resource
import sys
from pathlib import Path

WORD_GAP = 0.12  # of the font size: a wider gap between characters is a space
LINE_DRIFT = 0.3  # of the font size: characters further up or down belong to another line
MARGIN = 1.0  # points a word may stick out of a table's box and still be the table's
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


def _page(page, find_tables) -> dict:
    """The page's words outside its tables (and their captions), with font and size, and its tables."""
    tables = [t for t in find_tables(page) if t.get("rows") and len(t["rows"]) >= 2]
    boxes = [box for t in tables for box in (t["bbox"], t.get("caption_bbox")) if box]
    fonts: dict[str, int] = {}
    words = []
    for word in page.extract_words(x_tolerance_ratio=WORD_GAP, y_tolerance_ratio=LINE_DRIFT,
                                   extra_attrs=["size", "fontname"], keep_blank_chars=False):
        off_page = word["x1"] < 0 or word["bottom"] < 0 or word["x0"] > page.width or word["top"] > page.height
        if off_page or not word["upright"] or any(_inside(word, box) for box in boxes):
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
