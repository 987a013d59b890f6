"""PDFs (pdfplumber) into a Document: page text in reading order, then the plain-text rules."""

from __future__ import annotations

import re

import pdfplumber
from pdfminer.pdfdocument import PDFPasswordIncorrect
from pdfminer.pdfparser import PDFSyntaxError

from pipeline.model import Document
from pipeline.parsing.errors import ParseError
from pipeline.parsing.plaintext import parse_text

_HYPHEN_BREAK = re.compile(r"(\w)-\n(\w)")


def parse_pdf(path: str, source_file: str, max_pages: int = 500) -> list[Document]:
    try:
        with pdfplumber.open(path) as pdf:
            pages = []
            for page in pdf.pages[:max_pages]:
                pages.append(page.extract_text(layout=False) or "")
    except PDFPasswordIncorrect:
        raise ParseError(source_file, "PDF is password-protected") from None
    except PDFSyntaxError as exc:
        raise ParseError(source_file, f"malformed PDF ({exc})") from None
    except Exception as exc:  # pdfminer raises many unrelated types on broken files
        raise ParseError(source_file, f"unreadable PDF ({type(exc).__name__}: {exc})") from None
    text = "\n\n".join(p for p in pages if p.strip())
    if not text.strip():
        raise ParseError(source_file, "PDF has no extractable text")
    text = _HYPHEN_BREAK.sub(r"\1\2", text)
    return parse_text(text, source_file, format_name="pdf")
