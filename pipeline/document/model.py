"""The one document model every parser produces.

All offsets are character offsets into ``Document.text``; ``text[start:end]`` is the
exact text of a section, paragraph, sentence or table cell.
"""

from __future__ import annotations

import bisect
from functools import cached_property
from typing import Literal

from pydantic import BaseModel, Field, computed_field

from pipeline.document.sentences import split_sentences

SectionKind = Literal[
    "title", "abstract", "introduction", "methods", "case", "results", "discussion",
    "conclusion", "table", "back", "other",
]
ParagraphKind = Literal["title", "heading", "paragraph", "list-item", "caption", "footnote", "table-row"]
DocumentFormat = Literal["pubmed-xml", "jats-xml", "pdf", "text"]


# paragraphs that are one sentence whatever their punctuation
UNSPLIT_PARAGRAPHS = ("table-row", "heading", "title")


class Section(BaseModel):
    id: str
    title: str
    kind: SectionKind
    level: int = 1
    parent_id: str | None = None
    start: int
    end: int


class Paragraph(BaseModel):
    id: str
    section_id: str
    kind: ParagraphKind = "paragraph"
    start: int
    end: int


class Sentence(BaseModel):
    id: str
    paragraph_id: str
    start: int
    end: int


class TableCell(BaseModel):
    row: int
    col: int
    text: str
    start: int
    end: int
    is_header: bool = False
    rowspan: int = 1
    colspan: int = 1


class Table(BaseModel):
    id: str
    section_id: str
    label: str = ""
    caption: str = ""
    n_rows: int = 0
    n_cols: int = 0
    cells: list[TableCell] = Field(default_factory=list)
    footnotes: list[str] = Field(default_factory=list)
    start: int = 0
    end: int = 0

    def grid(self) -> list[list[TableCell | None]]:
        """Cells as a row-major grid; a spanning cell appears in every slot it covers."""
        rows: list[list[TableCell | None]] = [[None] * self.n_cols for _ in range(self.n_rows)]
        for cell in self.cells:
            for r in range(cell.row, min(cell.row + cell.rowspan, self.n_rows)):
                for c in range(cell.col, min(cell.col + cell.colspan, self.n_cols)):
                    rows[r][c] = cell
        return rows

    @property
    def header_rows(self) -> int:
        rows = {c.row for c in self.cells if c.is_header}
        count = 0
        while count in rows:
            count += 1
        return count


class Document(BaseModel):
    doc_id: str
    source_file: str
    format: DocumentFormat
    pmid: str | None = None
    pmcid: str | None = None
    doi: str | None = None
    title: str = ""
    journal: str = ""
    year: int | None = None
    article_type: str = ""
    publication_types: list[str] = Field(default_factory=list)
    retracted: str = ""  # what the article's own record says of its retraction (pipeline.parsing.retraction); "" if not
    mesh_terms: list[str] = Field(default_factory=list)
    authors: list[str] = Field(default_factory=list)
    # one string per affiliation as printed, its mark ("1", "a", "*") left out; documents stored before the field
    # existed load with none
    affiliations: list[str] = Field(default_factory=list)
    text: str = ""
    sections: list[Section] = Field(default_factory=list)
    paragraphs: list[Paragraph] = Field(default_factory=list)
    tables: list[Table] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @cached_property
    def sentences(self) -> list[Sentence]:
        """pysbd sentences of every paragraph, made on first use: sentence splitting costs more than all
        the rest of parsing, and a document that is only stored or listed never needs it."""
        sentences: list[Sentence] = []
        for paragraph in self.paragraphs:
            if paragraph.kind in UNSPLIT_PARAGRAPHS:
                spans = [(paragraph.start, paragraph.end)]
            else:
                spans = split_sentences(self.text, paragraph.start, paragraph.end)
            for start, end in spans:
                sentences.append(Sentence(id=f"x{len(sentences) + 1}", paragraph_id=paragraph.id, start=start, end=end))
        return sentences

    def quote(self, start: int, end: int) -> str:
        return self.text[start:end]

    def sentence_at(self, offset: int) -> Sentence | None:
        return _containing(self.sentences, offset)

    def paragraph_at(self, offset: int) -> Paragraph | None:
        return _containing(self.paragraphs, offset)

    def section_at(self, offset: int) -> Section | None:
        """The innermost section holding ``offset``."""
        best: Section | None = None
        for section in self.sections:
            if section.start <= offset < section.end and (best is None or section.start >= best.start):
                best = section
        return best

    def cell_at(self, offset: int) -> tuple[Table, TableCell] | None:
        for table in self.tables:
            if table.start <= offset < table.end:
                for cell in table.cells:
                    if cell.start <= offset < cell.end:
                        return table, cell
        return None

    def first_author_surname(self) -> str:
        return self.authors[0].split(",")[0].strip() if self.authors else ""


def _containing(items, offset: int):
    starts = [item.start for item in items]
    i = bisect.bisect_right(starts, offset) - 1
    if i >= 0 and items[i].start <= offset < max(items[i].end, items[i].start + 1):
        return items[i]
    return None
