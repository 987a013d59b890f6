"""Every input format into the one document model; the format is told by content, not suffix."""

from __future__ import annotations

import os
from pathlib import Path

from pipeline.settings import settings
from pipeline.document.model import Document
from pipeline.parsing.errors import ParseError
from pipeline.parsing.files import NotARegularFile, open_regular
from pipeline.parsing.jats import parse_jats
from pipeline.parsing.pdf import parse_pdf
from pipeline.parsing.plaintext import parse_text
from pipeline.parsing.pubmed import parse_pubmed
from pipeline.parsing.safexml import local_name, parse_xml
from pipeline.parsing.sniff import detect_format, sniff

__all__ = ["ParseError", "detect_format", "parse_file", "parse_bytes"]

PUBMED_ROOTS = {"PubmedArticleSet", "PubmedArticle", "PubmedBookArticle"}
JATS_ROOTS = {"article", "pmc-articleset"}


def parse_bytes(data: bytes, source_file: str) -> list[Document]:
    kind, binary = sniff(data)
    if kind == "pdf":
        return parse_pdf(data, source_file)
    if kind == "binary":
        raise ParseError(source_file, f"binary content ({binary}), not a document")
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
    limit = settings().max_file_bytes
    try:
        with open_regular(path) as handle:
            size = os.fstat(handle.fileno()).st_size
            data = handle.read(limit + 1) if size <= limit else b""
            if len(data) > limit:  # it grew since
                size = os.fstat(handle.fileno()).st_size
    except NotARegularFile as exc:
        raise ParseError(str(path), str(exc)) from None
    except OSError as exc:
        raise ParseError(str(path), f"cannot read file ({exc.strerror})") from None
    if size > limit or len(data) > limit:
        raise ParseError(str(path), f"file is {size:,} bytes, over the limit of {limit:,}")
    return parse_bytes(data, path.name)
