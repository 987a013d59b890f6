"""A case's document as the curator reads it beside a value: its headings, paragraphs and tables, each piece of
text carrying its character offset (so a span the curator picks can be recorded), and every span of the case's
evidence highlighted with the fields it supports.

The document is parsed again from the file the run read (the store keeps where, not the text); a parsed file is
kept in memory while its size and time stamp stay the same."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from pipeline.document.model import Document
from pipeline.parsing import ParseError, parse_file
from pipeline.schema import FIELD_BY_NAME
from pipeline.store import CurationError


class DocumentUnavailable(LookupError):
    """The document's file cannot be read as it was: the message says why, naming the file."""


@dataclass(frozen=True)
class Piece:
    """A run of text with the same highlights: its offset in the document and the fields whose evidence it is."""
    text: str
    start: int
    fields: tuple[str, ...] = ()
    current: bool = False
    cue: bool = False  # a word the current field is read from, without a value's evidence on it
    anchors: tuple[str, ...] = ()  # the fields whose evidence begins here (the first of each field's spans)


@dataclass
class Block:
    kind: str  # heading | paragraph | table
    pieces: list[Piece] = field(default_factory=list)
    rows: list[list[tuple[bool, list[Piece]]]] = field(default_factory=list)  # a table's: (is header, pieces)
    label: str = ""


@dataclass(frozen=True)
class Highlight:
    start: int
    end: int
    field: str
    cue: bool = False  # a word the field's readers look for, not a value's evidence


def looked_for(name: str) -> list[tuple[str, bool]]:
    """The words the readers of field ``name`` start from, as its lexicons spell them (phrase, case-sensitive):
    a marker's names for its fields, a vocabulary's entries for a categorical field; none for a field read from
    its sentence's shape alone (an age, a day)."""
    from extractors.lexicon import lexicon_entries  # the lexicon files only: no spaCy

    spec = FIELD_BY_NAME[name]
    return [(entry["pattern"], bool(entry.get("case_sensitive"))) for entry in lexicon_entries()
            if entry["label"] in spec.lexicon and isinstance(entry["pattern"], str)
            and (spec.marker is None or entry["id"] == spec.marker)]


def cue_highlights(document: Document, name: str) -> list[Highlight]:
    """Where the document mentions what field ``name`` is read from (looked_for), as highlights."""
    found = []
    for phrase, case_sensitive in looked_for(name):
        pattern = re.compile(rf"(?<!\w){re.escape(phrase)}(?!\w)", 0 if case_sensitive else re.IGNORECASE)
        found += [Highlight(m.start(), m.end(), name, cue=True) for m in pattern.finditer(document.text)]
    return sorted(set(found), key=lambda h: (h.start, h.end))


@lru_cache(maxsize=16)
def _parsed(path: str, size: int, mtime_ns: int) -> tuple[tuple[Document, ...], str]:
    """The file's documents and its SHA-256, kept while its size and time stamp stay the same."""
    return tuple(parse_file(path)), hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_document(corpus: str, file: str, doc_id: str, content_hash: str = "") -> tuple[Document, bool]:
    """The document ``doc_id`` parsed from ``file`` of the folder ``corpus`` (as the store recorded them), and
    whether the file still has the content the run read (``content_hash``, SHA-256)."""
    folder = Path(corpus)
    path = (folder / file).resolve()
    if not file or not path.is_relative_to(folder.resolve()):
        raise DocumentUnavailable(f"{file or '(no file)'}: not a file of the corpus folder {corpus}")
    if not path.is_file():
        raise DocumentUnavailable(f"{path}: the document's file is no longer there")
    stat = path.stat()
    try:
        documents, digest = _parsed(str(path), stat.st_size, stat.st_mtime_ns)
    except ParseError as exc:
        raise DocumentUnavailable(f"{path}: {exc}") from None
    found = next((d for d in documents if d.doc_id == doc_id), None)
    if found is None:
        raise DocumentUnavailable(f"{path}: holds no document {doc_id} any more")
    return found, not content_hash or digest == content_hash


def _pieces(text: str, start: int, end: int, highlights: list[Highlight], current: str, named: set[str]) -> list[Piece]:
    """``text[start:end]`` cut where a highlight begins or ends."""
    inside = [h for h in highlights if h.start < end and h.end > start]
    cuts = sorted({start, end} | {max(start, min(end, h.start)) for h in inside} | {max(start, min(end, h.end))
                                                                                     for h in inside})
    pieces = []
    for a, b in zip(cuts, cuts[1:]):
        covering = [h for h in inside if h.start <= a and h.end >= b]
        fields = tuple(sorted({h.field for h in covering if not h.cue}))
        anchors = tuple(name for name in fields if name not in named)
        named.update(anchors)
        pieces.append(Piece(text[a:b], a, fields, current in fields, cue=any(h.cue for h in covering), anchors=anchors))
    return pieces


def document_blocks(document: Document, highlights: list[Highlight], current: str = "") -> list[Block]:
    """The document's text in reading order: headings and paragraphs, and each table once, at its place, as rows
    of cells; ``current`` names the field whose spans are marked as the one under review."""
    text, named = document.text, set()
    blocks: list[Block] = []
    shown_tables: set[str] = set()
    for paragraph in document.paragraphs:
        table = next((t for t in document.tables if t.start <= paragraph.start < t.end and t.cells), None)
        if table is not None:
            if table.id not in shown_tables:
                shown_tables.add(table.id)
                blocks.append(_table_block(document, table, highlights, current, named))
            continue
        kind = "heading" if paragraph.kind in ("heading", "title") else "paragraph"
        blocks.append(Block(kind, _pieces(text, paragraph.start, paragraph.end, highlights, current, named)))
    for table in document.tables:  # tables no paragraph stands in (a PDF's, kept apart from its text)
        if table.id not in shown_tables and table.cells:
            blocks.append(_table_block(document, table, highlights, current, named))
    return blocks


def _table_block(document: Document, table, highlights: list[Highlight], current: str, named: set[str]) -> Block:
    rows: dict[int, list[tuple[bool, list[Piece]]]] = {}
    for cell in sorted(table.cells, key=lambda c: (c.row, c.col)):
        pieces = (_pieces(document.text, cell.start, cell.end, highlights, current, named) if cell.end > cell.start
                  else [Piece(cell.text, cell.start)])
        rows.setdefault(cell.row, []).append((cell.is_header or cell.row < table.header_rows, pieces))
    label = " ".join(part for part in (table.label, table.caption) if part)
    return Block("table", rows=[rows[r] for r in sorted(rows)], label=label)


def case_document(stored, doc_id: str, view, current: str) -> tuple[list[Block], str, bool, int | None]:
    """The blocks of the document the store records as ``stored`` (None if it has none), with the evidence of the
    case ``view`` (a CaseView, or None) highlighted and ``current``'s as current; or why it cannot be shown. Also
    whether its file changed since the run read it, and, when the current field has no value, how often the document
    mentions what it is read from (None when nothing is looked for by name), those mentions highlighted too."""
    if stored is None:
        return [], f"No document {doc_id} in the store.", False, None
    try:
        parsed, same = load_document(stored.corpus, stored.file, doc_id, stored.content_hash)
    except DocumentUnavailable as exc:
        return [], f"The document cannot be shown: {exc}.", False, None
    highlights = []
    for name, cell in (view.cells.items() if view is not None else ()):
        for evidence in (cell.evidence, json.loads(cell.decision.evidence or "{}") if cell.decision else {}):
            if isinstance(evidence.get("start"), int) and isinstance(evidence.get("end"), int):
                highlights.append(Highlight(evidence["start"], evidence["end"], name))
    mentions = None
    if view is not None and current in view.cells and not view.cells[current].value and looked_for(current):
        cues = cue_highlights(parsed, current)
        highlights += cues
        mentions = len(cues)
    return document_blocks(parsed, highlights, current), "", not same, mentions


def picked_span(store, case_id: str, start: str, end: str) -> dict | None:
    """The span a curator selected in the case's document (character offsets as the page's form sent them), its
    quote read from the document itself, not from the browser; None when no span was picked."""
    if not start.strip() and not end.strip():
        return None
    try:
        first, last = int(start), int(end)
    except ValueError:
        raise CurationError(f"the picked span {start!r}-{end!r} is not two character offsets") from None
    view = store.case(case_id)
    document = store.document(view.doc_id)
    if document is None:
        raise CurationError(f"no document {view.doc_id} to pick a span from")
    try:
        parsed, _ = load_document(document.corpus, document.file, view.doc_id, document.content_hash)
    except DocumentUnavailable as exc:
        raise CurationError(str(exc)) from None
    if not 0 <= first < last <= len(parsed.text):
        raise CurationError(f"the picked span {first}-{last} is not inside the document")
    return {"start": first, "end": last, "quote": parsed.text[first:last]}
