"""Document and case identifiers, as SCHEMA.md defines them."""

from __future__ import annotations

import re
from pathlib import Path

from anyascii import anyascii

DOI_PATTERN = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>]+[^\s\"<>.,;:)\]])", re.IGNORECASE)


def normalize_doi(doi: str) -> str:
    doi = doi.strip()
    doi = re.sub(r"^(https?://(dx\.)?doi\.org/|doi:\s*)", "", doi, flags=re.IGNORECASE)
    return doi.lower()


def make_doc_id(doi: str | None = None, pmid: str | None = None, source_file: str = "") -> str:
    if doi:
        return f"doi:{normalize_doi(doi)}"
    if pmid:
        return f"pmid:{pmid.strip()}"
    return f"file:{Path(source_file).name}"


def ascii_slug(text: str) -> str:
    """Lower-case ASCII letters and digits: "Yılmaz" -> "yilmaz", "Wójcik" -> "wojcik", "Ørsted" -> "orsted"."""
    return re.sub(r"[^a-z0-9]", "", anyascii(text).lower())


def make_case_id(first_author: str, year: int | None, patient_number: int, fallback: str = "") -> str:
    stem = ascii_slug(first_author) or ascii_slug(fallback) or "anon"
    return f"{stem}{year or ''}-{patient_number}"
