"""Assembles a Document's text block by block, keeping every offset exact.

Parsers describe structure (sections, paragraphs, tables); the builder lays the text out
with a blank line between blocks, so sentence splitting never runs across two blocks.
"""

from __future__ import annotations

import re
import unicodedata

from pipeline.document.model import Document, Paragraph, Section, Table, TableCell
from pipeline.document.sections import classify_section

BLOCK_SEPARATOR = "\n\n"
CELL_SEPARATOR = " | "
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
# control characters dropped, ligatures spelled out, in one str.translate
_CLEAN_CHARACTERS = str.maketrans(
    {**{chr(c): None for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F]},
     "\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl"})
_NEEDS_TRANSLATION = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufb00-\ufb04]")


def clean_inline(text: str) -> str:
    """One line of text: control characters removed, runs of whitespace collapsed."""
    if _NEEDS_TRANSLATION.search(text):  # translate() with a dict is slow; most text needs nothing
        text = text.translate(_CLEAN_CHARACTERS)
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return _SPACES.sub(" ", text.replace("\n", " ")).strip()


class DocumentBuilder:
    def __init__(self, **metadata):
        self.metadata = metadata
        self._parts: list[str] = []
        self._length = 0
        self.sections: list[Section] = []
        self.paragraphs: list[Paragraph] = []
        self.tables: list[Table] = []
        self._open: list[Section] = []

    # -- sections -------------------------------------------------------------
    def open_section(self, title: str, kind: str | None = None) -> Section:
        title = clean_inline(title)
        parent = self._open[-1] if self._open else None
        section = Section(
            id=f"s{len(self.sections) + 1}",
            title=title,
            kind=kind or classify_section(title, parent.kind if parent else None),
            level=len(self._open) + 1,
            parent_id=parent.id if parent else None,
            start=self._next_start(),
            end=self._next_start(),
        )
        self.sections.append(section)
        self._open.append(section)
        if title:
            self.add_block(title, "heading")
        return section

    def close_section(self) -> None:
        section = self._open.pop()
        section.end = max(section.start, self._length)

    def current_section(self) -> Section:
        if not self._open:
            self.open_section("", "other")
        return self._open[-1]

    # -- text blocks ----------------------------------------------------------
    def _next_start(self) -> int:
        return self._length + (len(BLOCK_SEPARATOR) if self._length else 0)

    def _append(self, text: str) -> int:
        if self._length:
            self._parts.append(BLOCK_SEPARATOR)
            self._length += len(BLOCK_SEPARATOR)
        start = self._length
        self._parts.append(text)
        self._length += len(text)
        return start

    def add_block(self, text: str, kind: str = "paragraph", clean: bool = True) -> Paragraph | None:
        text = clean_inline(text) if clean else text
        if not text:
            return None
        section = self.current_section()
        start = self._append(text)
        paragraph = Paragraph(
            id=f"p{len(self.paragraphs) + 1}", section_id=section.id, kind=kind, start=start, end=start + len(text)
        )
        self.paragraphs.append(paragraph)
        return paragraph

    def add_table(self, rows: list[list[dict]], label: str = "", caption: str = "", footnotes=()) -> Table | None:
        """``rows`` is a grid of cells, each ``{"text", "is_header", "rowspan", "colspan", "col"}``.

        Each row becomes one block, cells joined by `` | ``; cells keep their own offsets.
        """
        section = self.current_section()
        table = Table(id=f"t{len(self.tables) + 1}", section_id=section.id, label=clean_inline(label),
                      caption=clean_inline(caption), footnotes=[clean_inline(f) for f in footnotes if clean_inline(f)])
        heading = " ".join(x for x in (table.label, table.caption) if x)
        if heading:
            self.add_block(heading, "caption")
        table.start = self._next_start()
        n_cols = 0
        for r, row in enumerate(rows):
            texts = [clean_inline(cell["text"]) for cell in row]
            if not any(texts):
                continue
            line = CELL_SEPARATOR.join(t if t else "-" for t in texts)
            paragraph = self.add_block(line, "table-row", clean=False)
            cursor = paragraph.start
            for cell, text in zip(row, texts):
                shown = text if text else "-"
                if text:
                    table.cells.append(TableCell(
                        row=table.n_rows, col=cell["col"], text=text, start=cursor, end=cursor + len(text),
                        is_header=cell.get("is_header", False), rowspan=cell.get("rowspan", 1),
                        colspan=cell.get("colspan", 1)))
                cursor += len(shown) + len(CELL_SEPARATOR)
                n_cols = max(n_cols, cell["col"] + cell.get("colspan", 1))
            table.n_rows += 1
        table.n_cols = n_cols
        table.end = self._length
        for footnote in table.footnotes:
            self.add_block(footnote, "footnote")
        if not table.cells:
            return None
        self.tables.append(table)
        return table

    # -- result ---------------------------------------------------------------
    def build(self) -> Document:
        while self._open:
            self.close_section()
        text = "".join(self._parts)
        return Document(text=text, sections=self.sections, paragraphs=self.paragraphs,
                        tables=self.tables, **self.metadata)
