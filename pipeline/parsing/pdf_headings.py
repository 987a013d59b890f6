"""Section headings of a PDF from typography: a short block set larger than the body text, in bold (where the
body is not) or in a font of its own, or numbered ("1. Introduction", "2.1.") and set apart from the body's
style; a run-in heading is the bold or italic opening of a paragraph ("Case 1. A 45-year-old man ...").
Levels come from numbering ("2.1." is under "2.") or else from type: larger over smaller, bold over not, a
standalone heading over a run-in one."""

from __future__ import annotations

import re
from typing import NamedTuple

from pipeline.parsing.pdf_layout import SIZE_STEP, Block, family

MAX_HEADING_CHARS = 150
MAX_HEADING_LINES = 3
MAX_HEADING_WORDS = 14
MAX_RUN_IN_WORDS = 8
MAX_OWN_FONT_WORDS = 16  # a heading told by its font alone is short and has no punctuation
MIN_HEADED_WORDS = 4  # a small-print heading stands over a line of text, not over a figure's label or a number
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
    if (not text or len(text) > MAX_HEADING_CHARS or letters < 3 or _NOT_A_HEADING.search(text)
            or _FLOAT_LABEL.match(text)):
        return None
    apart = (block.size > body.size + SIZE_STEP or block.bold and not body.bold or _in_own_font(block, body, text)
             or _heads_small_print(block, body, text))
    if block.size < body.size - 2 * SIZE_STEP and not apart:
        return None  # small print: a caption's label, a footnote
    numbered = bool(_NUMBERED.match(text))
    if numbered and not text.endswith(".") and (apart or block.italic):
        return text
    if numbered and apart and re.fullmatch(r"[\d.]+\s+[^.]{1,80}\.", text):
        return text  # "2. Methods."
    if apart and len(text.split()) <= MAX_HEADING_WORDS and not re.search(r"[.!?]\s+[A-Z]", text) and (
            text[0].isupper() or text[0].isdigit()):
        return text
    return None


def section_title(heading_text: str) -> str:
    """A heading's text as its section's title: without its number ("2.1. Case 1" -> "Case 1"), which is a label
    as in JATS's <label> beside <title>, and which gives the level (Levels), not the section's name."""
    numbered = _NUMBERED.match(heading_text)
    if not numbered:
        return heading_text
    title = heading_text[numbered.end() - 1:].strip()
    return title if sum(ch.isalpha() for ch in title) >= 3 else heading_text


def _in_own_font(block: Block, body: BodyStyle, text: str) -> bool:
    """A short line or two in a font the body is not set in, at about the body's size, without a sentence's
    punctuation (BMC's subheadings)."""
    return (len(block.lines) <= 2 and bool(body.font) and block.font != body.font
            and block.size >= body.size - OWN_FONT_SMALLER and len(text.split()) <= MAX_OWN_FONT_WORDS
            and not re.search(r"[.;,?!]|:.*:|\d{5}", text))


def _heads_small_print(block: Block, body: BodyStyle, text: str) -> bool:
    """A short line or two in small print over a paragraph in the same small size but another font or weight: the
    back matter's headings ("Competing interests", "Funding"), set apart from the small text they head as body
    headings are from the body, and set in that one font. Italic alone sets no heading apart: small print italicises
    titles and names."""
    below = block.next_line
    if below is None or block.size >= body.size - SIZE_STEP or len(block.lines) > 2:
        return False
    if len({family(word.font) for line in block.lines for word in line.words}) > 1:
        return False
    set_apart = block.bold and not below.bold or block.font != below.font and not block.italic
    return (set_apart and abs(below.size - block.size) <= SIZE_STEP and len(below.text.split()) >= MIN_HEADED_WORDS
            and len(text.split()) <= MAX_OWN_FONT_WORDS and text[0].isupper() and not re.search(r"[.;,?!]|:.*:", text))


def run_in_heading(block: Block, body: BodyStyle) -> str | None:
    """The bold words a body paragraph opens with, as a heading ("Case 1.", "Case presentation:")."""
    if body.bold or abs(block.size - body.size) > SIZE_STEP:
        return None
    prefix = block.lines[0].styled_prefix().strip()
    words = prefix.split()
    if (not words or len(words) > MAX_RUN_IN_WORDS or _FLOAT_LABEL.match(prefix)
            or not prefix[0].isupper() and not _NUMBERED.match(prefix)):
        return None
    bold = block.lines[0].words[0].bold
    if not (re.search(r"[.:]$" if bold else r"\.$", prefix) or _NUMBERED.match(prefix)):
        return None  # an italic label ending on a colon ("Answer:") is an example's, not a section's
    return prefix


MAX_LEVEL = 3


class Levels:
    """The level of each heading: its numbering's depth, or else its type's rank among the document's heading
    types (larger first, then bold), a run-in heading one below the lowest standalone one."""

    def __init__(self, headings: list[Block]):
        styles = {(round(b.size / SIZE_STEP), b.bold) for b in headings if not _NUMBERED.match(" ".join(b.texts))}
        self._rank = {style: i + 1 for i, style in enumerate(sorted(styles, reverse=True))}

    def of(self, block: Block, text: str) -> int:
        numbered = re.match(r"^(\d{1,2}(?:\.\d{1,2})*)\.?\s", text)
        if numbered:
            return min(MAX_LEVEL, numbered.group(1).count(".") + 1)
        return min(MAX_LEVEL, self._rank.get((round(block.size / SIZE_STEP), block.bold), 1))

    def run_in(self, text: str) -> int:
        numbered = re.match(r"^(\d{1,2}(?:\.\d{1,2})*)\.?\s", text)
        if numbered:
            return min(MAX_LEVEL, numbered.group(1).count(".") + 1)
        return min(MAX_LEVEL, max(self._rank.values(), default=0) + 1)
