"""Page layout of a PDF from its words' positions and fonts: lines, page furniture, column bands, reading order
and text blocks.

A page is cut into vertical bands: lines that cross the page's gutter (a title, an abstract, a full-width
caption) make one-column bands, the lines between them a band of columns, read column by column. Gutters are
found among the narrow lines in the body's type size, so that neither a one-column header above two columns nor
a full-width table in small type hides them. Running heads, page numbers and footers are lines in the page's
top or bottom margin that come back on other pages (numbers aside) or are a bare number; line numbers are bare
numbers left or right of all the text. Words are the reader's (pipeline.parsing.pdf_reader); a line puts a space
between two of them where the gap says so, so that a word set in two fonts stays one word.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

from pipeline.parsing.pdf_reader import WORD_GAP

ROWS_LOOKED_BACK = 8  # rows a word may join: those of the other columns at its height
SEGMENT_GAP = 1.0  # of the font size: a wider gap on a line parts two columns' pieces of it
SMALL_WORD_GAP = 1.5  # times WORD_GAP before a sub- or superscript kept (set closer or looser than the line)
MARGIN_SHARE = 0.09  # top and bottom share of a page where running heads, page numbers and footers live
NARROW_SHARE = 0.55  # of the text's width: a line this narrow or narrower may sit in a column
GUTTER_WIDTH = 0.8  # of the body font size: the least empty width between two columns
MIN_COLUMN_LINES = 3  # lines on each side of a gutter, the right side's starting at one edge
MAX_CROSSING_SHARE = 0.08  # of the narrow lines: a few (an affiliation, a short header line) may cross a gutter
SUPERSCRIPT_SIZE = 0.85  # of the line's font size: a smaller word raised above the line is a superscript
SUPERSCRIPT_RAISE = 0.15  # of the line's font size: how far a superscript's foot is above the line's
MAX_LINE_PITCH = 1.6  # of the font size: a wider pitch between lines is no line spacing a journal sets
PARAGRAPH_GAP = 0.45  # of the font size: extra space between two lines that parts paragraphs
INDENT = 0.6  # of the font size: a first line set in this far opens a paragraph
SIZE_STEP = 0.4  # points: lines whose sizes differ more are set in different styles

_BOLD = re.compile(r"bold|black|heavy|semibold|demi|[.,+-](?:b|bd|bi|bdit)$|-b[a-z]*it$", re.IGNORECASE)
_ITALIC = re.compile(r"italic|oblique|[-.,](?:it|i|bi|bdit)$|-[a-z]*it$", re.IGNORECASE)
_CITATION_MARK = re.compile(r"[\d,–—−\-*†‡§¶]+")
# a superscript after these is a power (m², R², 10⁹), not a citation mark
_UNIT_BEFORE = re.compile(r"(?:^|[/\s(])(?:[^\W\d_]|cm|mm|µm|μm|dm|km|ft|in)$|\d$")
_BARE_NUMBER = re.compile(r"(?:page\s*)?[-–]?\s*\d{1,5}\s*[-–]?(?:\s*(?:of|/)\s*\d{1,5})?", re.IGNORECASE)
_SPACING_ACCENT = {"\u00a8": "\u0308", "\u00b4": "\u0301", "`": "\u0300", "\u02c6": "\u0302", "\u02dc": "\u0303",
                   "\u00b8": "\u0327", "\u02da": "\u030a", "\u02c7": "\u030c"}
_ACCENT_AFTER_LETTER = re.compile("([^\\W\\d_])([\u00a8\u00b4\u02c6\u02dc\u00b8\u02da\u02c7])")


class Word(NamedTuple):
    x0: float
    top: float
    x1: float
    bottom: float
    size: float
    font: str
    text: str

    @property
    def bold(self) -> bool:
        return bool(_BOLD.search(family(self.font)))

    @property
    def italic(self) -> bool:
        return bool(_ITALIC.search(family(self.font)))


@dataclass
class Line:
    """Words on one baseline, left to right, within one column; never changed once made."""
    words: list[Word]
    page: int = 0

    @cached_property
    def x0(self) -> float:
        return min(w.x0 for w in self.words)

    @cached_property
    def x1(self) -> float:
        return max(w.x1 for w in self.words)

    @cached_property
    def top(self) -> float:
        return min(w.top for w in self._body)

    @cached_property
    def bottom(self) -> float:
        return max(w.bottom for w in self._body)

    @cached_property
    def _body(self) -> list[Word]:
        """The words in the line's own size (superscripts and subscripts left out)."""
        size = self.size
        return [w for w in self.words if w.size >= size * SUPERSCRIPT_SIZE] or self.words

    @cached_property
    def size(self) -> float:
        return most_characters((word.size, word.text) for word in self.words)

    @cached_property
    def bold(self) -> bool:
        return 2 * sum(len(w.text) for w in self.words if w.bold) > sum(len(w.text) for w in self.words)

    @cached_property
    def italic(self) -> bool:
        return 2 * sum(len(w.text) for w in self.words if w.italic) > sum(len(w.text) for w in self.words)

    @cached_property
    def text(self) -> str:
        return line_text(self.words)

    @cached_property
    def font(self) -> str:
        """The font most of the line's characters are set in, without its subset tag."""
        return most_characters((family(word.font), word.text) for word in self.words)

    def styled_prefix(self) -> str:
        """The text of the bold or italic words the line opens with, when it goes on in another style."""
        taken = []
        for word in sorted(self.words, key=lambda w: w.x0):
            if not (word.bold or word.italic) or taken and (word.bold, word.italic) != (taken[0].bold, taken[0].italic):
                break
            taken.append(word)
        return line_text(taken) if taken and len(taken) < len(self.words) else ""


def most_characters(styled: Iterable[tuple[Hashable, str]]):
    """Of (style, text) pairs, the style most characters are set in: a size, a font."""
    counts = Counter()
    for style, text in styled:
        counts[style] += len(text)
    return counts.most_common(1)[0][0]


def family(font: str) -> str:
    """A font's name without the subset tag ("ABCDEF+")."""
    return font.split("+", 1)[-1]


def line_text(words: list[Word]) -> str:
    """Words of a line as text: a space where the gap says so, superscript citation marks left out."""
    if not words:
        return ""
    words = sorted(words, key=lambda w: w.x0)
    size = most_characters((word.size, word.text) for word in words)
    foot = max((w.bottom for w in words if w.size >= size * SUPERSCRIPT_SIZE), default=words[0].bottom)
    parts: list[str] = []
    previous: Word | None = None
    for word in words:
        small = word.size < size * SUPERSCRIPT_SIZE
        superscript = small and word.bottom < foot - SUPERSCRIPT_RAISE * size
        before = "".join(parts).rstrip()
        if superscript and _CITATION_MARK.fullmatch(word.text) and before and not _UNIT_BEFORE.search(before):
            previous = word  # a citation or affiliation mark, left out; the next word's space is measured from it
            continue
        gap = word.x0 - previous.x1 if previous is not None else 0.0
        opening_mark = previous is not None and len(parts) == 1 and previous.size < size * SUPERSCRIPT_SIZE
        if previous is not None and (opening_mark or gap > WORD_GAP * min(word.size, previous.size) * (
                SMALL_WORD_GAP if small else 1.0)):
            parts.append(" ")  # an affiliation's opening mark stands apart: "2 Clinic for ..."
        parts.append(word.text)
        previous = word
    text = "".join(parts)
    if _ACCENT_AFTER_LETTER.search(text):  # "Tra¨ger": a spacing accent set after its letter
        text = unicodedata.normalize("NFC", _ACCENT_AFTER_LETTER.sub(
            lambda m: m.group(1) + _SPACING_ACCENT[m.group(2)], text))
    return text


# -- lines and their pieces --------------------------------------------------------------------------------------

def _rows(words: list[Word]) -> list[list[Word]]:
    """Words grouped by baseline: a word joins a row whose box overlaps half its height or the row's (a
    superscript does) and that has no word where it stands (a heading in one column may be level with two
    lines of the next); the row's box is its largest word's, so that no row grows over the next line."""
    rows: list[list[Word]] = []
    boxes: list[Word] = []  # each row's largest word
    for word in sorted(words, key=lambda w: (w.top, w.x0)):
        for i in range(len(rows) - 1, max(-1, len(rows) - ROWS_LOOKED_BACK), -1):
            box = boxes[i]
            overlap = min(box.bottom, word.bottom) - max(box.top, word.top)
            if overlap >= 0.5 * min(box.bottom - box.top, word.bottom - word.top) and not _collides(word, rows[i]):
                rows[i].append(word)
                if word.size > box.size:
                    boxes[i] = word
                break
        else:
            rows.append([word])
            boxes.append(word)
    return rows


def _collides(word: Word, row: list[Word]) -> bool:
    """Whether the word stands over half the width of a word of the row in its size, or that word over half of
    its own: two words of one line stand side by side (a superscript may be set over a comma, and a word
    printed twice over itself is one word)."""
    for other in row:
        if (min(word.size, other.size) < SUPERSCRIPT_SIZE * max(word.size, other.size)
                or word.text == other.text and abs(word.x0 - other.x0) < 1):
            continue
        shared = min(word.x1, other.x1) - max(word.x0, other.x0)
        if shared > 0.5 * min(word.x1 - word.x0, other.x1 - other.x0):
            return True
    return False


def segments(words: list[Word], page: int = 0) -> list[Line]:
    """Pieces of lines: a row of words parted wherever a gap is wider than SEGMENT_GAP of the font size."""
    pieces: list[Line] = []
    for row in _rows(words):
        row.sort(key=lambda w: w.x0)
        current = [row[0]]
        for word in row[1:]:
            if word.x0 - current[-1].x1 > SEGMENT_GAP * min(word.size, current[-1].size):
                pieces.append(Line(current, page))
                current = []
            current.append(word)
        pieces.append(Line(current, page))
    return sorted(pieces, key=lambda l: (l.top, l.x0))


# -- page furniture ----------------------------------------------------------------------------------------------

def _letters(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalpha())


def _in_margin(line: Line, height: float) -> bool:
    return line.top < height * MARGIN_SHARE or line.bottom > height * (1 - MARGIN_SHARE)


def furniture(pages: list[list[Line]], heights: list[float]) -> list[set[int]]:
    """Per page, the indexes of its running heads, page numbers and footers: lines in the top or bottom margin
    that are a bare number or whose letters come back on another page's margin."""
    seen = Counter()
    for lines, height in zip(pages, heights):
        seen.update({_letters(l.text) for l in lines if _in_margin(l, height)})
    dropped = []
    for lines, height in zip(pages, heights):
        marked = set()
        for i, line in enumerate(lines):
            if not _in_margin(line, height):
                continue
            text = line.text.strip()
            letters = _letters(text)
            if _BARE_NUMBER.fullmatch(text) or (len(letters) >= 4 and seen[letters] >= 2 and len(pages) >= 2):
                marked.add(i)
        dropped.append(marked)
    return dropped


def line_numbers(lines: list[Line]) -> set[int]:
    """Bare numbers standing left or right of all other text on the page (a manuscript's line numbers)."""
    numbers = {i for i, l in enumerate(lines) if re.fullmatch(r"\d{1,4}", l.text.strip())}
    if len(numbers) < 10:
        return set()
    text = [l for i, l in enumerate(lines) if i not in numbers]
    if not text:
        return set()
    left, right = min(l.x0 for l in text), max(l.x1 for l in text)
    return {i for i in numbers if lines[i].x1 <= left + 1 or lines[i].x0 >= right - 1}


# -- columns and bands -------------------------------------------------------------------------------------------

def gutters(lines: list[Line], body_size: float) -> list[tuple[float, float]]:
    """Empty vertical strips between columns, found among the narrow lines in the body's size (a table or a
    figure's labels in smaller type may cross them), or else among all narrow lines (a page of references)."""
    if len(lines) < 2 * MIN_COLUMN_LINES:
        return []
    left, right = min(l.x0 for l in lines), max(l.x1 for l in lines)
    narrow = [l for l in lines if l.x1 - l.x0 <= NARROW_SHARE * (right - left)]
    in_body_size = [l for l in narrow if l.size >= body_size - SIZE_STEP]
    return _strips(in_body_size, left, right, body_size) or _strips(narrow, left, right, body_size)


def _strips(narrow: list[Line], left: float, right: float, body_size: float) -> list[tuple[float, float]]:
    """Strips no more than a few of ``narrow`` cross, with lines on both sides, those on the right starting at
    one edge."""
    width = right - left
    if len(narrow) < 2 * MIN_COLUMN_LINES:
        return []
    allowed = max(1, int(len(narrow) * MAX_CROSSING_SHARE))
    start, end = int(left + 0.2 * width), int(left + 0.8 * width)
    covered = [0] * (end - start + 1)
    for line in narrow:
        for x in range(max(start, int(line.x0)), min(end, int(line.x1)) + 1):
            covered[x - start] += 1
    strips, opened = [], None
    for x in range(start, end + 1):
        if covered[x - start] <= allowed:
            opened = x if opened is None else opened
        if opened is not None and (covered[x - start] > allowed or x == end):
            if x - opened >= GUTTER_WIDTH * body_size:
                strips.append((float(opened), float(x)))
            opened = None
    found = []
    for g0, g1 in strips:
        on_left = [l for l in narrow if l.x1 <= g0 + 1]
        on_right = [l for l in narrow if l.x0 >= g1 - 1]
        if len(on_left) < MIN_COLUMN_LINES or len(on_right) < MIN_COLUMN_LINES:
            continue
        edge = Counter(round(l.x0) for l in on_right).most_common(1)[0][0]
        aligned = sum(abs(l.x0 - edge) <= 2 for l in on_right)
        if aligned >= MIN_COLUMN_LINES and aligned >= 0.3 * len(on_right):
            found.append((g0, g1))
    return found


def _crosses(line: Line, strips: list[tuple[float, float]]) -> bool:
    return any(line.x0 < g0 and line.x1 > g1 for g0, g1 in strips)


def _merge_rows(pieces: list[Line]) -> list[Line]:
    """A column's pieces on one baseline as one line (a column may hold a gap wider than SEGMENT_GAP)."""
    lines: list[Line] = []
    for piece in sorted(pieces, key=lambda l: (l.top, l.x0)):
        if lines and abs(piece.top - lines[-1].top) < 0.5 * piece.size and piece.x0 >= lines[-1].x1:
            lines[-1] = Line(lines[-1].words + piece.words, piece.page)
        else:
            lines.append(piece)
    return lines


def reading_order(lines: list[Line], body_size: float,
                  floats: list[tuple[float, float, float, float]] = ()) -> list[list[Line]]:
    """The page's lines as columns in reading order: bands top to bottom, each band's columns left to right.
    ``floats`` are the boxes (x0, top, x1, bottom) of regions cut out of the text (tables and their captions):
    one that crosses a gutter ends the band above it, as a full-width line does, so that the columns below it
    are read after those above it and not as their continuation."""
    strips = gutters(lines, body_size)
    if not strips:
        return [_merge_rows(lines)] if lines else []
    breaks = sorted(top for x0, top, x1, _ in floats if any(x0 < g0 and x1 > g1 for g0, g1 in strips))
    edges = [float("-inf"), *((g0 + g1) / 2 for g0, g1 in strips), float("inf")]
    groups: list[tuple[bool, list[Line]]] = []  # (full width, lines)
    band: list[Line] = []

    def close_band() -> None:
        columns = [[l for l in band if left <= (l.x0 + l.x1) / 2 < right] for left, right in zip(edges, edges[1:])]
        columns = [_merge_rows(c) for c in columns if c]
        if len(columns) == 1:  # lines of one side only (a byline's last line): the one-column text goes on
            if groups and groups[-1][0]:
                groups[-1][1].extend(columns[0])
            else:
                groups.append((True, columns[0]))
        else:
            groups.extend((False, column) for column in columns)
        band.clear()

    for line in sorted(lines, key=lambda l: (l.top, l.x0)):
        while breaks and breaks[0] <= line.top:
            breaks.pop(0)
            if band:
                close_band()
        if _crosses(line, strips):
            close_band()
            if groups and groups[-1][0]:
                groups[-1][1].append(line)
            else:
                groups.append((True, [line]))
        else:
            band.append(line)
    close_band()
    return [lines for _, lines in groups]


# -- blocks ------------------------------------------------------------------------------------------------------

@dataclass
class Block:
    """Lines of one paragraph, heading or caption as they stand in one column; ``next_line`` is the first line of
    the block below it in the column (what a heading stands over), if any."""
    lines: list[Line] = field(default_factory=list)
    next_line: Line | None = None

    @property
    def page(self) -> int:
        return self.lines[0].page

    @property
    def size(self) -> float:
        return most_characters((line.size, line.text) for line in self.lines)

    @property
    def bold(self) -> bool:
        return all(line.bold for line in self.lines)

    @property
    def italic(self) -> bool:
        return all(line.italic for line in self.lines)

    @property
    def top(self) -> float:
        return self.lines[0].top

    @property
    def font(self) -> str:
        return most_characters((line.font, line.text) for line in self.lines)

    @property
    def texts(self) -> list[str]:
        return [line.text for line in self.lines]


def _same_style(a: Line, b: Line) -> bool:
    return abs(a.size - b.size) <= SIZE_STEP and a.bold == b.bold


def blocks(column: list[Line], body_size: float) -> list[Block]:
    """A column's lines cut into paragraphs: at a change of size or weight, at a wider space than the column's
    usual line pitch, at an indented first line, after a short line that ends a sentence, is set in bold or
    larger type or in another font than the next (a heading above a subheading)."""
    if not column:
        return []
    pitches = Counter(round(b.top - a.top, 0) for a, b in zip(column, column[1:])
                      if _same_style(a, b) and 0 < b.top - a.top <= MAX_LINE_PITCH * a.size)
    usual = pitches.most_common(1)[0][0] if pitches else column[0].size * 1.2
    left = Counter(round(l.x0) for l in column).most_common(1)[0][0]
    right = max(l.x1 for l in column)
    found = [Block([column[0]])]
    for previous, line in zip(column, column[1:]):
        if _opens_paragraph(previous, line, usual, left, right, body_size):
            found[-1].next_line = line
            found.append(Block([line]))
        else:
            found[-1].lines.append(line)
    return found


def _opens_paragraph(previous: Line, line: Line, usual: float, left: float, right: float, body_size: float) -> bool:
    size = min(line.size, previous.size)
    pitch = line.top - previous.top
    if not _same_style(previous, line) or pitch < 0 or pitch > max(usual, size * 1.05) + PARAGRAPH_GAP * size:
        return True
    indented = left + INDENT * size < line.x0 < left + 4 * size and abs(previous.x0 - left) <= INDENT * size
    if indented:
        return True
    short = previous.x1 < right - 3 * size
    return short and bool(re.search(r"[.!?:]['\"’”)]?$", previous.text) or previous.bold
                          or previous.size > body_size + SIZE_STEP or previous.font != line.font)
