"""Every input format into the one document model; the format is told by content, not suffix."""

from __future__ import annotations

from pathlib import Path

from pipeline.config import settings
from pipeline.model import Document
from pipeline.parsing.errors import ParseError
from pipeline.parsing.jats import parse_jats
from pipeline.parsing.plaintext import parse_text
from pipeline.parsing.pubmed import parse_pubmed
from pipeline.parsing.safexml import local_name, parse_xml

__all__ = ["ParseError", "detect_format", "parse_file", "parse_bytes"]

PUBMED_ROOTS = {"PubmedArticleSet", "PubmedArticle", "PubmedBookArticle"}
JATS_ROOTS = {"article", "pmc-articleset"}


def detect_format(data: bytes) -> str:
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"%PDF"):
        return "pdf"
    lowered = head[:1024].lower()
    if lowered.startswith((b"<!doctype html", b"<html")) or b"<html" in lowered[:300]:
        return "html"
    if head.startswith(b"<"):
        return "xml"
    return "text"


def parse_bytes(data: bytes, source_file: str) -> list[Document]:
    kind = detect_format(data)
    if kind == "html":
        raise ParseError(source_file, "not an NCBI XML response (an HTML page)")
    if kind == "xml":
        root = parse_xml(data, source_file)
        name = local_name(root)
        if name in PUBMED_ROOTS:
            documents = parse_pubmed(root, source_file)
        elif name in JATS_ROOTS:
            documents = parse_jats(root, source_file)
        elif name in ("eFetchResult", "ERROR", "eSearchResult", "eLinkResult", "eSummaryResult"):
            raise ParseError(source_file, f"an E-utilities <{name}> response holds no article")
        else:
            raise ParseError(source_file, f"unknown XML document type <{name}>")
        if not documents:
            raise ParseError(source_file, f"<{name}> holds no article")
        return documents
    if kind == "text":
        text = data.decode("utf-8", errors="replace")
        if text.count("\ufffd") > max(10, len(text) // 100):
            raise ParseError(source_file, "not UTF-8 text (too many undecodable bytes)")
        if not text.strip():
            raise ParseError(source_file, "empty file")
        return parse_text(text, source_file)
    raise ParseError(source_file, f"unsupported format {kind}")


def parse_file(path: str | Path) -> list[Document]:
    path = Path(path)
    name = path.name
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ParseError(str(path), f"cannot read file ({exc.strerror})") from None
    if size > settings().max_file_bytes:
        raise ParseError(str(path), f"file is {size:,} bytes, over the limit of {settings().max_file_bytes:,}")
    with open(path, "rb") as handle:
        head = handle.read(8)
    if head.lstrip().startswith(b"%PDF"):
        from pipeline.parsing.pdf import parse_pdf  # pdfplumber (0.25 s to load) only when there is a PDF

        return parse_pdf(str(path), name, max_pages=settings().pdf_max_pages)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ParseError(str(path), f"cannot read file ({exc.strerror})") from None
    return parse_bytes(data, name)
