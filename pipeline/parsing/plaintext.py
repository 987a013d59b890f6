"""Plain text into a Document: blank-line paragraphs, heading lines recognised as sections."""

from __future__ import annotations

import re

from pipeline.builder import DocumentBuilder, clean_inline
from pipeline.ids import DOI_PATTERN, make_doc_id
from pipeline.model import Document

_HEADING_WORDS = re.compile(
    r"^(?:\d+(?:\.\d+)*\.?\s+)?(abstract|summary|background|introduction|case (?:presentation|report|description|\d+)|"
    r"cases?|patients? (?:\d+|and methods)|methods?|materials and methods|results?|discussion|conclusions?|"
    r"references|acknowledge?ments?|funding|keywords?|clinical course|treatment|outcome|follow-up)\b[:.]?",
    re.IGNORECASE,
)
_PMID = re.compile(r"\bPMID:?\s*(\d{1,9})\b")
_YEAR = re.compile(r"\b(19[5-9]\d|20[0-4]\d)\b")


def looks_like_heading(line: str, standalone: bool = False, in_front: bool = False) -> bool:
    """A known heading word, an all-capitals line, or (after the front matter) a short line standing alone."""
    line = line.strip()
    if not line or len(line) > 80 or line.endswith((",", ";")):
        return False
    words = line.split()
    unnumbered = re.sub(r"^\d+(?:\.\d+)*\.?\s+", "", line)
    if _HEADING_WORDS.match(line) and len(words) <= 8 and not unnumbered.rstrip(".").count("."):
        return True
    if re.fullmatch(r"(?:\d+\.?\s+)?[A-Z][A-Z0-9 &/\-,()']+:?", line) and len(words) <= 8 and not re.search(r"\d{3}", line):
        return True
    return (standalone and not in_front and len(words) <= 10 and line[0].isupper()
            and not line.endswith((".", "!", "?")) and not re.search(r"\d{3,}|doi|http|;", line, re.IGNORECASE)
            and sum(c.isalpha() or c.isspace() for c in line) >= 0.8 * len(line))


_UPPER = "A-ZÀ-ÖØ-ÞŁŠŽČŘ"
_WORD = rf"[{_UPPER}](?:[^\W\d_]|['’\-])*"
_NAME = re.compile(rf"^(?:{_WORD}\.?\s+){{1,3}}{_WORD}\*?\d*$|^{_WORD}\s+[{_UPPER}]{{1,3}}$")


def _byline(block: str) -> list[str]:
    """Author names when ``block`` reads like a byline ("Ana Silva, Tom Berg" or "Silva A, Berg T")."""
    if len(block) > 400 or any(ch in block for ch in ".:;") and not re.search(r"\b[A-Z]\.", block):
        return []
    parts = [p.strip() for p in re.split(r",|\band\b|&", block.replace("\n", " "))
             if p.strip() and p.strip().lower() not in ("et al.", "et al")]
    names = [p for p in parts if _NAME.match(p)]
    if not names or len(names) < len(parts) * 0.6:
        return []
    authors = []
    for name in names:
        words = name.rstrip("*0123456789").split()
        if len(words) == 2 and words[1].isupper() and len(words[1]) <= 3:
            authors.append(f"{words[0]}, {words[1]}")
        else:
            authors.append(f"{words[-1]}, {' '.join(words[:-1])}")
    return authors


def parse_text(text: str, source_file: str, format_name: str = "text") -> list[Document]:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    blocks = [b for b in re.split(r"\n\s*\n", text) if b.strip()]
    head = "\n".join(blocks[:8])
    doi_match = DOI_PATTERN.search(text[:5000])
    pmid_match = _PMID.search(head)
    title = clean_inline(blocks[0]) if blocks else ""
    year = _YEAR.search(head)
    builder = DocumentBuilder(
        doc_id=make_doc_id(doi=doi_match.group(1) if doi_match else None,
                           pmid=pmid_match.group(1) if pmid_match else None, source_file=source_file),
        source_file=source_file, format=format_name, doi=doi_match.group(1).lower() if doi_match else None,
        pmid=pmid_match.group(1) if pmid_match else None, title=title[:500], year=int(year.group(1)) if year else None,
        authors=_byline(blocks[1].split("\n")[0]) if len(blocks) > 1 else [],
    )
    builder.open_section("", "title")
    in_front = True
    for index, block in enumerate(blocks):
        lines = [line for line in block.split("\n") if line.strip()]
        if index == 0:
            builder.add_block(block, "title")
            continue
        # A heading may stand alone or head its paragraph on the first line.
        if looks_like_heading(lines[0], standalone=len(lines) == 1, in_front=in_front):
            in_front = False
            builder.close_section()
            builder.open_section(lines[0].strip().rstrip(":"))
            lines = lines[1:]
        if lines:
            builder.add_block(" ".join(lines))
    return [builder.build()]
