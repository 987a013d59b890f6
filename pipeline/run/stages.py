"""The pipeline's stages as plain functions: parse, extract, tabulate, score.

The Prefect flow (pipeline.run.flows) wraps these as tasks; tests call them directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from pipeline.run.corpus import CorpusEntry, content_sha256
from pipeline.document.model import Document
from pipeline.parsing import ParseError, parse_file
from pipeline.schema import COLUMNS, SCORED_FIELDS


@dataclass
class ParsedFile:
    path: str
    documents: list[Document] = field(default_factory=list)
    error: str = ""
    status: str = ""  # of a file not opened (refused or skipped, see CorpusEntry); error says why


@dataclass
class DocumentResult:
    """What a run knows about one input document, for documents.csv."""
    doc_id: str
    file: str
    format: str
    title: str
    status: str  # relevant | related-no-pe | irrelevant | failed | skipped | duplicate
    reason: str
    patients_found: int = 0
    patients_in_scope: int = 0
    content_hash: str = ""  # sha256 of the file's bytes
    duplicate_of: str = ""  # the file of the same article read instead (status duplicate)
    pmid: str = ""  # the article's identifiers, which tell one article in several files
    pmcid: str = ""
    doi: str = ""
    warnings: list[str] = field(default_factory=list)  # values the field registry refused, one line each
    retracted: str = ""  # what says the article is retracted (its record, or its PubMed record fetched); "" if not


def parse_entry(entry: CorpusEntry) -> ParsedFile:
    if entry.status:  # refused or skipped when the corpus was listed: never opened
        return ParsedFile(str(entry.path), error=entry.reason, status=entry.status)
    try:
        return ParsedFile(str(entry.path), parse_file(entry.path))
    except ParseError as exc:
        return ParsedFile(str(entry.path), error=exc.reason)
    except Exception as exc:  # a parser bug on one file must not stop the run
        return ParsedFile(str(entry.path), error=f"parser error: {type(exc).__name__}: {exc}")


def extract(document: Document):
    """The document's cases; an extractor error fails this document only (status failed, with the error)."""
    from extractors.cases import DocumentExtraction, extract_document

    try:
        return extract_document(document)
    except Exception as exc:  # one document's bug must not stop the run
        return DocumentExtraction(document, [], "failed", f"extraction error: {type(exc).__name__}: {exc}")


def case_rows(extractions, all_patients: bool = False) -> tuple[list[dict], list[dict]]:
    """Rows of cases.csv and lines of evidence.jsonl: the cases' findings, spans on their Doc, become records here."""
    from extractors.confidence import confidence

    rows, evidence = [], []
    for extraction in extractions:
        document = extraction.document
        for case in extraction.cases:
            if not (case.in_scope or all_patients):
                continue
            row = {column: "" for column in COLUMNS}
            row.update(case_id=case.case_id, doc_id=document.doc_id, pmid=document.pmid or "",
                       pmcid=document.pmcid or "", doi=document.doi or "", patient_label=case.label)
            for name in SCORED_FIELDS:
                row[name] = case.values.get(name, "")
            rows.append(row)
            evidence.extend(evidence_line(document, case.case_id, finding,
                                          confidence(finding, case.readings.get(finding._.field, []), len(extraction.cases)))
                            for finding in case.findings)
    return rows, evidence


def evidence_line(document: Document, case_id: str, finding, confidence: float) -> dict:
    """A finding (a span made by extractors.finding_spans) as a line of evidence.jsonl. Its section, table cell and
    sentence are the Document's, whose ids the line gives; its characters are the finding's own, not its tokens'.
    ``confidence``: the value's, from extractors.confidence."""
    start, end = finding._.quote_start, finding._.quote_end
    section = document.section_at(start)
    line = {
        "case_id": case_id, "field": finding._.field, "value": finding._.value, "doc_id": document.doc_id,
        "section": section.title if section else "", "section_kind": section.kind if section else "",
        "start": start, "end": end, "quote": document.quote(start, end), "extractor": finding._.extractor,
        "confidence": confidence,
    }
    cell = document.cell_at(start)
    if cell is not None:
        table, table_cell = cell
        row_header, column_header = cell_headers(table, table_cell)
        line["table"] = {"id": table.id, "label": table.label, "row": table_cell.row, "col": table_cell.col,
                         "cell": table_cell.text, "row_header": row_header, "column_header": column_header}
    else:
        sentence = document.sentence_at(start)
        if sentence is not None:
            line["sentence"] = {"id": sentence.id, "start": sentence.start, "end": sentence.end,
                                "text": document.quote(sentence.start, sentence.end)}
    return line


def cell_headers(table, cell) -> tuple[str, str]:
    """What a reader sees beside a cell: its row's first cell and the header cells over its column (a table's first
    row where none is marked a header), each "" where the cell is one of them."""
    grid = table.grid()
    header_rows = table.header_rows or 1
    over = [grid[r][cell.col] for r in range(min(header_rows, cell.row))]
    column = " / ".join(dict.fromkeys(c.text.strip() for c in over if c is not None and c.text.strip()))
    first = grid[cell.row][0] if cell.col > 0 and header_rows <= cell.row < len(grid) else None
    return (first.text.strip() if first is not None and first is not cell else ""), column


def document_results(parsed: list[ParsedFile], extractions, corpus_dir: Path,
                     hashes: dict[str, str] | None = None) -> list[DocumentResult]:
    """documents.csv rows; ``hashes`` gives the files' SHA-256 where the caller has it already."""
    results = []
    by_doc = {id(e.document): e for e in extractions}
    for item in parsed:
        name = _relative(item.path, corpus_dir)
        if item.status:
            results.append(DocumentResult("", name, "", "", item.status, item.error))
            continue
        digest = (hashes or {}).get(item.path) or content_sha256(Path(item.path))
        if item.error:
            results.append(DocumentResult("", name, "", "", "failed", item.error, content_hash=digest))
            continue
        for document in item.documents:
            extraction = by_doc.get(id(document))
            if extraction is None:
                results.append(DocumentResult(document.doc_id, name, document.format, document.title, "failed",
                                              "extraction did not complete", content_hash=digest,
                                              retracted=document.retracted, **_identifiers(document)))
                continue
            results.append(DocumentResult(
                document.doc_id, name, document.format, document.title, extraction.status, extraction.reason,
                len(extraction.cases), sum(c.in_scope for c in extraction.cases), digest, **_identifiers(document),
                warnings=[refusal_warning(document, refused) for refused in extraction.refused],
                retracted=document.retracted))
    return results


def mark_retracted(results: list[DocumentResult], retractions: dict[str, str]) -> list[DocumentResult]:
    """``results`` with the retractions the fetched PubMed records know of (PMID -> what says so) marked: an article
    read from its PMC full text, or from a curator's PDF, is retracted when its PubMed record says it is."""
    return [replace(r, retracted=r.retracted or retractions[r.pmid]) if r.pmid in retractions else r
            for r in results]


def refusal_warning(document: Document, refused) -> str:
    """One line of documents.csv's warnings: whose value, why it was refused, and where it was read."""
    start, end = refused.finding._.quote_start, refused.finding._.quote_end
    quote = " ".join(document.quote(start, end).split())
    return (f"patient {refused.patient}: {refused.reason} (read by {refused.finding._.extractor} at characters "
            f"{start}-{end}: {quote[:80]!r})")


def _identifiers(document: Document) -> dict[str, str]:
    return {"pmid": document.pmid or "", "pmcid": document.pmcid or "", "doi": document.doi or ""}


def _relative(path: str, root: Path) -> str:
    """The file's path in the corpus folder. The corpus listing's paths are resolved, and a batch resolves its
    folder once: mostly no file system lookup at all."""
    for candidate, folder in ((Path(path), Path(root)), (Path(path).resolve(), Path(root).resolve())):
        try:
            return str(candidate.relative_to(folder))
        except ValueError:
            pass
    return str(path)


@dataclass
class FileOutcome:
    """All a run keeps of one input file: its documents.csv rows, case rows and evidence.jsonl lines (as records:
    pipeline.outputs.writer serialises them where the run writes its evidence)."""
    results: list[DocumentResult]
    rows: list[dict]
    evidence: list[dict]
    cached: bool = False


def process_file(entry: CorpusEntry, corpus_dir: Path, all_patients: bool = False, cache=None) -> FileOutcome:
    """Parse and extract one file, reusing the cached parse and outcome of identical content and code.
    Outcomes with a failure are not cached: the next run tries again."""
    sha = entry.sha256 if entry.sha256 is not None else content_sha256(entry.path)
    name = entry.path.name  # a document's id and its cases' ids may come from its file's name
    outcome_key = cache.extraction_key(sha, all_patients, name) if cache is not None and sha else None
    if outcome_key:
        cached = cache.get(outcome_key)
        if cached is not None:
            file = _relative(str(entry.path), corpus_dir)
            return FileOutcome([replace(r, file=file) for r in cached.results], cached.rows, cached.evidence,
                               cached=True)
    parsed = cache.get(cache.parse_key(sha, name)) if outcome_key else None
    if parsed is None:
        parsed = parse_entry(entry)
        # the hash was taken when the corpus was listed: a file edited since is parsed as it is now, and that
        # parse must not be cached under the old content's hash
        if outcome_key and (now := content_sha256(entry.path)) != sha:
            sha, outcome_key = now, None
        if outcome_key and not parsed.error:
            cache.put(cache.parse_key(sha, name), ParsedFile(parsed.path, parsed.documents))
    parsed.path = str(entry.path)
    extractions = [extract(document) for document in parsed.documents]
    rows, evidence = case_rows(extractions, all_patients)
    outcome = FileOutcome(document_results([parsed], extractions, corpus_dir, {parsed.path: sha}), rows, evidence)
    if outcome_key and not any(r.status == "failed" for r in outcome.results):
        cache.put(outcome_key, outcome)
    return outcome


def process_batch(entries: list[CorpusEntry], corpus_dir: Path, all_patients: bool = False, cache=None) -> list[FileOutcome]:
    corpus_dir = Path(corpus_dir).resolve()
    return [process_file(entry, corpus_dir, all_patients, cache) for entry in entries]


class CaseIdRegistry:
    """Keeps case ids unique across a run. Two articles of one first author and year both give "wang2021-1";
    the first in corpus order keeps it, the next becomes "wang2021b-1", then "wang2021c-1", like citations."""

    def __init__(self):
        self._owner: dict[str, str] = {}  # case_id -> source
        self._renamed: dict[tuple[str, str], str] = {}  # (source, case_id) -> unique case_id

    def unique(self, outcome: FileOutcome) -> FileOutcome:
        # a source is a document of a file: two files of one article (its record and a PDF) are two sources
        file = outcome.results[0].file if outcome.results else ""
        renames: dict[str, str] = {}
        for row in outcome.rows:
            renames[row["case_id"]] = self._unique(f"{row['doc_id']}|{file}", row["case_id"])
        if all(old == new for old, new in renames.items()):
            return outcome
        return FileOutcome(outcome.results, _renamed(outcome.rows, renames), _renamed(outcome.evidence, renames),
                           outcome.cached)

    def _unique(self, source: str, case_id: str) -> str:
        key = (source, case_id)
        if key not in self._renamed:
            candidate, letter = case_id, 2  # the first article is "a", unwritten
            stem, _, number = case_id.rpartition("-")
            while self._owner.setdefault(candidate, source) != source:
                candidate = f"{stem}{_letters(letter)}-{number}" if stem else f"{case_id}{_letters(letter)}"
                letter += 1
            self._renamed[key] = candidate
        return self._renamed[key]


def _renamed(records: list[dict], renames: dict[str, str]) -> list[dict]:
    """Case rows or evidence lines with their cases renamed, each key in its place."""
    return [{**record, "case_id": renames.get(record["case_id"], record["case_id"])} for record in records]


def _letters(number: int) -> str:
    """1 a, 2 b, ... 26 z, 27 aa, 28 ab, ...: a large corpus has more than 26 articles of a Wang or a Zhang in one
    year, and a suffix must stay a letter (after "z" came "{", "|", and soon control characters)."""
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters
