"""Section headings of a PDF from typography: a short block set larger than the body text, in bold (where the
body is not) or in a font of its own, or numbered ("1. Introduction", "2.1.") and set apart from the body's
style; a run-in heading is the bold or italic opening of a paragraph ("Case 1. A 45-year-old man ...")."""

from __future__ import annotations

import re
from typing import NamedTuple

from pipeline.parsing.pdf_layout import SIZE_STEP, Block

MAX_HEADING_CHARS = 150
MAX_HEADING_LINES = 3
MAX_RUN_IN_WORDS = 8
MAX_OWN_FONT_WORDS = 16  # a heading told by its font alone is short and has no punctuation
OWN_FONT_SMALLER = 1.0  # points: a heading in a font of its own may be set this much smaller than the body
_NUMBERED = re.compile(r"^(?:\d{1,2}(?:\.\d{1,2})*\.?|[IVX]{1,4}\.|[A-H]\.)\s+\S")
_FLOAT_LABEL = re.compile(r"^(?:fig(?:ure)?|table|scheme|box|panel|supplementa\w+)\s*\.?\s*[\dA-Z]", re.IGNORECASE)
_NOT_A_HEADING = re.compile(r"[,;]$|^\W|\bet al\b|@|https?:|\bdoi\b|©", re.IGNORECASE)


class BodyStyle(NamedTuple):
    size: float
    bold: bool
    font: str = ""


def heading(block: Block, body: BodyStyle) -> str | None:
    """The block's text when it reads as a heading: short, and set apart from the body by size or weight, or
    numbered and set in another style (bold, italic or size)."""
    if len(block.lines) > MAX_HEADING_LINES:
        return None
    text = " ".join(block.texts).strip()
    letters = sum(ch.isalpha() for ch in text)
    if not text or len(text) > MAX_HEADING_CHARS or letters < 3 or _NOT_A_HEADING.search(text) or _FLOAT_LABEL.match(text):
        return None
    larger = block.size > body.size + SIZE_STEP
    bolder = block.bold and not body.bold or (
        len(block.lines) <= 2 and body.font and block.font != body.font and block.size >= body.size - OWN_FONT_SMALLER
        and len(text.split()) <= MAX_OWN_FONT_WORDS and not re.search(r"[.;,?!]|:.*:|\d{5}", text))
    if block.size < body.size - 2 * SIZE_STEP and not bolder:
        return None  # small print: a caption's label, a footnote
    numbered = bool(_NUMBERED.match(text))
    if numbered and (larger or bolder or block.italic) and not text.endswith(".") or numbered and re.fullmatch(
            r"[\d.]+\s+[^.]{1,80}\.", text) and (larger or bolder):
        return text
    if (larger or bolder) and len(text.split()) <= 14 and not re.search(r"[.!?]\s+[A-Z]", text) and (
            text[0].isupper() or text[0].isdigit()):
        return text
    return None


def run_in_heading(block: Block, body: BodyStyle) -> str | None:
    """The bold words a body paragraph opens with, as a heading ("Case 1.", "Case presentation:")."""
    if body.bold or abs(block.size - body.size) > SIZE_STEP:
        return None
    prefix = block.lines[0].styled_prefix().strip()
    words = prefix.split()
    if not words or len(words) > MAX_RUN_IN_WORDS or _FLOAT_LABEL.match(prefix) or not prefix[0].isupper() and not _NUMBERED.match(prefix):
        return None
    bold = block.lines[0].words[0].bold
    if not (re.search(r"[.:]$" if bold else r"\.$", prefix) or _NUMBERED.match(prefix)):
        return None  # an italic label ending on a colon ("Answer:") is an example's, not a section's
    return prefix
