"""Tables of a journal PDF page: where they are, their captions and their cells, as plain JSON-ready data.

Runs inside the PDF reader process (pipeline.parsing.pdf_reader), so it imports nothing of pecrs at module level
and works on one pdfplumber page at a time. Two kinds of table:

- ruled grids, whose every cell is boxed: pdfplumber's own ``find_tables`` with line strategies;
- text-aligned tables, as most journals set them: a "Table N" caption, at most a few horizontal rules (above the
  header, below it, at the foot) and cells told apart only by white space. The region runs from the caption
  through the stack of rules as wide as the table, or, with no rules, through the aligned lines below the
  caption; inside it, words are grouped into lines by their y positions, runs of words into cells by the gaps
  between them, and cells into columns by the x ranges no cell crosses.

A table is ``{"bbox", "caption_bbox", "label", "caption", "rows"}``; a row is a list of cells
``{"text", "col", "colspan", "is_header"}``. pdf.py adds them to the document model.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field

# Words: a gap wider than this share of the font size separates two words (journals set tables tightly, and
# pdfplumber's fixed 3 pt tolerance runs words together).
WORD_GAP_RATIO = 0.15
# Cells: words of one cell are a space apart; a gap this many font sizes wide separates two cells.
CELL_GAP = 0.6
FIGURE = re.compile(r"^(?:Fig\.|Figure|FIGURE|FIG\.)\s*\d")
LEADER = re.compile(r"[._\u2026\u00b7]{4,}")  # dotted lines drawn with characters: row separators, leaders
NUMERIC = re.compile(r"[^A-Za-z]*\d[^A-Za-z]*")  # a value: "12,400", "<0.05", "3 (27%)"
PANEL = re.compile(r"^(?:\(?[A-Za-z]\)|[A-Z]\.|Panel\s+\w+)(?:\s|$)")  # a sub-table's label: "(b)", "B.", "Panel 2"
RULE_MIN_WIDTH = 40.0  # points; shorter horizontal strokes are underlines, glyph parts or logos
CAPTION = re.compile(r"""
    ^(?:Table|TABLE)\s*(\d{1,3}[A-Za-z]?|[IVXL]{1,6})     # "Table 2", "Table2", "TABLE IV"
    (?=$|[\s.:|\u2014\u2013-])\s*[.:|\u2014\u2013-]?\s*    # ". ", ": ", " \u2014 "
    """, re.VERBOSE)


@dataclass
class Chunk:
    """A run of words on one line with no cell-wide gap between them."""
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    words: list[dict] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(w["text"] for w in self.words)


@dataclass
class TextLine:
    top: float
    bottom: float
    chunks: list[Chunk] = field(default_factory=list)

    @property
    def baseline(self) -> float:
        """The words' usual bottom: a superscript or a taller glyph does not move it."""
        return statistics.median(w["bottom"] for c in self.chunks for w in c.words)

    @property
    def x0(self) -> float:
        return self.chunks[0].x0

    @property
    def x1(self) -> float:
        return self.chunks[-1].x1

    @property
    def text(self) -> str:
        return " ".join(c.text for c in self.chunks)

    @property
    def size(self) -> float:
        return statistics.median(c.size for c in self.chunks)

    @property
    def font(self) -> str:
        """The font most of the line's characters are set in."""
        return _most_characters((w.get("fontname", ""), w["text"]) for c in self.chunks for w in c.words)


def _most_characters(styled) -> str:
    counts: dict[str, int] = {}
    for style, text in styled:
        counts[style] = counts.get(style, 0) + len(text)
    return max(counts, key=counts.get, default="")


@dataclass
class Rule:
    x0: float
    x1: float
    y: float


# -- page objects -------------------------------------------------------------------------------------------------

def page_words(page) -> list[dict]:
    words = page.extract_words(x_tolerance_ratio=WORD_GAP_RATIO, keep_blank_chars=False, extra_attrs=["size"],
                               return_chars=True)
    return [_with_font(w) for w in words if w.get("upright", True)]


def _with_font(word: dict) -> dict:
    """The word with the font of its first character (as an attribute of the words, a change of font would cut
    "Beuthanasia-D" in three)."""
    chars = word.pop("chars", None)
    word["fontname"] = chars[0].get("fontname", "") if chars else ""
    return word


class Turn:
    """A page set sideways (a landscape table on a portrait page) seen upright: text that reads upwards
    (``up``) or downwards, with its page coordinates mapped so that it reads left to right."""

    def __init__(self, page, up: bool):
        self.width, self.height, self.up = float(page.width), float(page.height), up

    def box(self, x0: float, top: float, x1: float, bottom: float) -> tuple[float, float, float, float]:
        """A page box in turned coordinates."""
        if self.up:
            return self.height - bottom, x0, self.height - top, x1
        return top, self.width - x1, bottom, self.width - x0

    def back(self, x0: float, top: float, x1: float, bottom: float) -> list[float]:
        """A turned box in page coordinates."""
        if self.up:
            return [top, self.height - x1, bottom, self.height - x0]
        return [self.width - bottom, x0, self.width - top, x1]

    def words(self, page) -> list[dict]:
        from pdfplumber.utils import extract_words

        chars = []
        for char in page.chars:
            if not char["upright"] and (char["matrix"][1] > 0) == self.up:
                x0, top, x1, bottom = self.box(char["x0"], char["top"], char["x1"], char["bottom"])
                chars.append(dict(char, x0=x0, top=top, x1=x1, bottom=bottom, doctop=top, upright=True,
                                  size=bottom - top))  # pdfminer gives a sideways glyph's advance as its size
        words = extract_words(chars, return_chars=True, x_tolerance_ratio=WORD_GAP_RATIO, keep_blank_chars=False,
                              extra_attrs=["size"])
        return [_with_font(word) for word in words]

    def edges(self, page) -> list[dict]:
        """The page's vertical strokes, which are the turned table's horizontal rules."""
        turned = []
        for edge in page.vertical_edges:
            x0, top, x1, _ = self.box(edge["x0"], edge["top"], edge["x1"], edge["bottom"])
            turned.append({"x0": x0, "x1": x1, "top": top})
        return turned


def text_lines(words: list[dict]) -> list[TextLine]:
    """Words into lines (by vertical overlap) and each line into chunks at cell-wide gaps."""
    rows: list[list[dict]] = []
    for word in sorted(words, key=lambda w: (w["top"], w["x0"])):
        height = word["bottom"] - word["top"]
        for row in reversed(rows[-3:]):
            first = row[0]
            # a superscript overlaps its line by half its height or more
            shared = min(word["bottom"], first["bottom"]) - max(word["top"], first["top"])
            if shared >= 0.5 * min(height, first["bottom"] - first["top"]):
                row.append(word)
                break
        else:
            rows.append([word])
    lines = [line for line in map(_line_of, rows) if line is not None]
    return sorted(lines, key=lambda l: l.top)


def _line_of(words: list[dict]) -> TextLine | None:
    """Words of one line as a line of chunks, parted at cell-wide gaps; dotted leaders left out."""
    chunks: list[Chunk] = []
    for word in sorted(words, key=lambda w: w["x0"]):
        size = word.get("size") or (word["bottom"] - word["top"])
        last = chunks[-1] if chunks else None
        if last and word["x0"] - last.x1 < CELL_GAP * max(size, last.size):
            last.words.append(word)
            last.x1 = max(last.x1, word["x1"])
            last.bottom = max(last.bottom, word["bottom"])
            last.top = min(last.top, word["top"])
        else:
            chunks.append(Chunk(word["x0"], word["x1"], word["top"], word["bottom"], size, [word]))
    chunks = [c for c in chunks if not LEADER.fullmatch(c.text.replace(" ", ""))]
    return TextLine(min(c.top for c in chunks), max(c.bottom for c in chunks), chunks) if chunks else None


def _raised_parts_joined(lines: list[TextLine]) -> list[TextLine]:
    """A line made only of pieces standing over (or a space beside) pieces of the next line and reaching down into
    it (a raised "×" and a power's digit of "11.5 × 10⁹/L", set a little high) is part of that line."""
    joined: list[TextLine] = []
    for line in lines:
        last = joined[-1] if joined else None
        if (last is not None and last.bottom - line.top > 0.3 * line.size
                and all(any(_overlap(a.x0, a.x1, b.x0 - b.size, b.x1 + b.size) > 0 for b in line.chunks)
                        for a in last.chunks)):
            joined[-1] = _line_of([w for c in last.chunks + line.chunks for w in c.words])
        else:
            joined.append(line)
    return joined


def horizontal_rules(edges: list[dict]) -> list[Rule]:
    """Horizontal strokes (lines, thin rectangles' edges), pieces on one y joined, at least RULE_MIN_WIDTH wide."""
    edges = sorted(edges, key=lambda e: (round(e["top"]), e["x0"]))
    rules: list[Rule] = []
    for edge in edges:
        y = float(edge["top"])
        for rule in rules:
            if abs(rule.y - y) <= 1.5 and edge["x0"] <= rule.x1 + 3 and edge["x1"] >= rule.x0 - 3:
                rule.x0, rule.x1 = min(rule.x0, edge["x0"]), max(rule.x1, edge["x1"])
                break
        else:
            rules.append(Rule(float(edge["x0"]), float(edge["x1"]), y))
    return sorted((r for r in rules if r.x1 - r.x0 >= RULE_MIN_WIDTH), key=lambda r: r.y)


# -- captions and regions -----------------------------------------------------------------------------------------

@dataclass
class Caption:
    label: str
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float


def _continues_text(chunk: Chunk, above: list[TextLine]) -> bool:
    """Whether text sits right above the chunk at line spacing: "Table 2" wrapped to the start of a line of a
    paragraph or a figure legend is no caption."""
    return any(c.x0 < chunk.x1 and c.x1 > chunk.x0 and 0 <= chunk.top - c.bottom < 0.5 * chunk.size
               for line in above for c in line.chunks)


def captions(lines: list[TextLine]) -> list[Caption]:
    """"Table N ..." chunks, each with the lines that continue it below (same left edge, close, one chunk)."""
    found = []
    for i, line in enumerate(lines):
        for chunk in line.chunks:
            match = CAPTION.match(chunk.text)
            if not match or _continues_text(chunk, lines[max(0, i - 3):i]):
                continue
            caption = Caption(f"Table {match.group(1)}", chunk.text[match.end():], chunk.x0, chunk.x1, chunk.top,
                              chunk.bottom, chunk.size)
            after = line.chunks[line.chunks.index(chunk) + 1:]
            if not caption.text and after and after[0].x0 - chunk.x1 < 2 * chunk.size:  # "Table 3   Model output ..."
                caption.text, caption.x1 = after[0].text, after[0].x1
            for below in lines[i + 1:]:
                if below.top - caption.bottom > 0.8 * caption.size:
                    break
                beside = [c for c in below.chunks if c.x0 < caption.x1 and c.x1 > caption.x0]
                if len(beside) != 1 or beside[0].x0 < caption.x0 - 3 or CAPTION.match(beside[0].text):
                    break
                caption.text += " " + beside[0].text
                caption.bottom = beside[0].bottom
                caption.x1 = max(caption.x1, beside[0].x1)
            found.append(caption)
    return found


def _rule_stack(caption: Caption, rules: list[Rule], others: list[Caption]) -> list[Rule]:
    """The rules of the caption's table: the first rule below it that is under its middle (or beside it),
    and the rules of the same width below that one, up to the next caption."""
    middle = (caption.x0 + caption.x1) / 2
    reach = caption.bottom + 6 * caption.size
    first = next((r for r in rules if caption.bottom - 1 <= r.y <= reach and r.x0 - 3 <= middle <= r.x1 + 3
                  and r.x1 - r.x0 >= 0.5 * (caption.x1 - caption.x0)), None)
    if first is None:  # a caption beside its table, level with its top rule
        first = next((r for r in rules if caption.top - caption.size <= r.y <= caption.top + 2 * caption.size
                      and 0 <= r.x0 - caption.x1 + 3 <= 6 * caption.size), None)
    if first is None:
        return []
    stop = min((c.top for c in others if c.top > first.y and c.x0 < first.x1 and c.x1 > first.x0), default=float("inf"))
    return [r for r in rules if first.y <= r.y < stop and abs(r.x0 - first.x0) <= 6 and abs(r.x1 - first.x1) <= 6]


# -- cells --------------------------------------------------------------------------------------------------------

def _columns(lines: list[TextLine]) -> list[tuple[float, float]]:
    """x ranges of the columns: where the chunks of lines with two or more chunks lie. A gap between columns
    may be crossed by a few of those lines (a long cell running over, a note), no more than one in ten. A line
    of one chunk makes a column where no such line reaches (row heads centred on the rows they span)."""
    several = [l for l in lines if len(l.chunks) >= 2]
    used = several if len(several) >= 2 else lines
    chunks = [c for l in used for c in l.chunks]
    if used is several:
        left, right = min(c.x0 for c in chunks), max(c.x1 for c in chunks)
        chunks += [l.chunks[0] for l in lines if len(l.chunks) == 1 and (l.x1 < left or l.x0 > right)]
    left = int(min(c.x0 for c in chunks))
    coverage = [0] * (int(max(c.x1 for c in chunks)) - left + 2)
    for chunk in chunks:
        for x in range(int(chunk.x0) - left, int(chunk.x1) - left + 1):
            coverage[x] += 1
    allowed = len(used) // 10
    columns, start = [], None
    for x, count in enumerate(coverage + [0]):
        if count > allowed and start is None:
            start = x
        elif count <= allowed and start is not None:
            columns.append((float(start + left), float(x + left)))
            start = None
    return columns


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return min(a1, b1) - max(a0, b0)


def _column_of(x0: float, x1: float, columns: list[tuple[float, float]]) -> int:
    return max(range(len(columns)), key=lambda i: (_overlap(x0, x1, *columns[i]), -abs(x0 - columns[i][0])))


def _covered(x0: float, x1: float, columns: list[tuple[float, float]]) -> list[int]:
    inside = [i for i, (a, b) in enumerate(columns) if _overlap(x0, x1, a, b) > 0.3 * min(b - a, x1 - x0)]
    return inside or [_column_of(x0, x1, columns)]


def _pitch(upper: TextLine, lower: TextLine) -> float:
    """How far the lower line's words stand below the upper's: the nearer of the lines' baselines and of their
    chunks in the same columns (cells of one row may sit a little higher or lower than each other, so that a
    wrapped cell's second line looks a row away; a raised glyph moves a column's chunk but not the line)."""
    shared = [statistics.median(w["bottom"] for w in b.words) - statistics.median(w["bottom"] for w in a.words)
              for a in upper.chunks for b in lower.chunks if _overlap(a.x0, a.x1, b.x0, b.x1) > 0]
    lines = lower.baseline - upper.baseline
    return min(lines, statistics.median(shared)) if shared else lines


def _threshold(pitches: list[float], size: float) -> float:
    """The pitch below which a line goes on with the row above: the pitches split in two groups at their largest
    jump; with no clear jump every line is a row."""
    ordered = sorted(pitches)
    jumps = [(b / a, (a + b) / 2) for a, b in zip(ordered, ordered[1:]) if a > 0 and b - a > 0.25 * size]
    if jumps:
        ratio, middle = max(jumps)
        if ratio > 1.2:
            return min(middle, 1.35 * size)  # lines of one cell are at most a leading apart
    return 0.0


def _spanning_labels(lines: list[TextLine], columns) -> set[int]:
    """Lines that stand midway between two others in columns left of all theirs: a row head centred on the rows
    it spans (a label set against two lines of values)."""
    def filled(line: TextLine) -> set[int]:
        return {c for chunk in line.chunks for c in _covered(chunk.x0, chunk.x1, columns)}

    found = set()
    for i in range(1, len(lines) - 1):
        above, line, below = lines[i - 1], lines[i], lines[i + 1]
        own = filled(line)
        middle = (line.top + line.bottom) / 2
        between = (above.top + above.bottom + below.top + below.bottom) / 4
        if (filled(above) == filled(below) and max(own) < min(filled(above)) and len(own) <= len(filled(above))
                and own | filled(above) == set(range(len(columns)))
                and abs(middle - between) <= 0.25 * (below.top - above.top) and i - 1 not in found):
            found.add(i)
    return found


def _row_breaks(lines: list[TextLine], forced: set[int], columns) -> tuple[list[list[TextLine]], dict[int, int]]:
    """Lines into rows: a line closer to the one above than the table's row pitch continues that row's cells.
    A row head centred between two full rows a row pitch apart (_spanning_labels) joins the upper one and spans
    both (as JATS's rowspan); returned as {index of the upper row: rows spanned}. Between two lines of one row
    (a cell beside it wrapped) it is that row's."""
    if not lines:
        return [], {}
    lines = _raised_parts_joined(lines)
    size = statistics.median(l.size for l in lines)

    def pitches(kept: list[int]) -> dict[int, float]:
        return {i: _pitch(lines[a], lines[i]) for a, i in zip(kept, kept[1:])}

    candidates = _spanning_labels(lines, columns)
    unlabelled = pitches([i for i in range(len(lines)) if i not in candidates])
    threshold = _threshold(list(unlabelled.values()), size)
    usual = statistics.median(unlabelled.values()) if unlabelled else 0.0
    labels = set()
    for i in candidates:  # the lines beside it a row apart: as far apart as the table's rows usually are
        apart = unlabelled[i + 1] >= max(threshold, 0.9 * usual)
        if apart or any(i - 1 < f <= i + 1 for f in forced):
            labels.add(i)
    kept = [i for i in range(len(lines)) if i not in labels]
    pitch = pitches(kept)
    threshold = _threshold(list(pitch.values()), size)
    rows: list[list[TextLine]] = []
    row_of: dict[int, int] = {}
    for n, i in enumerate(kept):
        if n and pitch[i] < threshold and not any(kept[n - 1] < f <= i for f in forced):
            rows[-1].append(lines[i])
        else:
            rows.append([lines[i]])
        row_of[i] = len(rows) - 1
    for i in sorted(labels):
        rows[row_of[i - 1]].append(lines[i])
    return rows, {row_of[i - 1]: 2 for i in labels}


def _aligned(upper: Chunk, lower: Chunk) -> bool:
    """Lines of one header cell share its left edge, centre or right edge."""
    tolerance = 2 + 0.3 * min(upper.size, lower.size)
    return (abs(upper.x0 - lower.x0) <= tolerance or abs(upper.x1 - lower.x1) <= tolerance
            or abs(upper.x0 + upper.x1 - lower.x0 - lower.x1) <= 2 * tolerance)


def _header_cells(lines: list[TextLine], columns) -> list[list[dict]]:
    """Header lines into header rows. A chunk continues the nearest chunk above it when they are aligned and
    overlap only each other (cells of two to four lines, centred at different heights); a chunk above two
    or more, or a panel's label ("(a) Clinical course"), is a cell of a row of its own."""
    groups: list[list[Chunk]] = []
    line_of = {id(c): line for line in lines for c in line.chunks}
    for line in lines:
        for chunk in line.chunks:
            above = [g for g in groups if _overlap(chunk.x0, chunk.x1, g[-1].x0, g[-1].x1) > 0
                     and g[-1].bottom <= chunk.top + 0.5 * chunk.size and chunk.top - g[-1].bottom < chunk.size]
            home = max(above, key=lambda g: g[-1].bottom, default=None)
            if home is not None:
                last = home[-1]
                alone_below = [c for c in line.chunks if _overlap(c.x0, c.x1, last.x0, last.x1) > 0] == [chunk]
                alone_above = [c for c in line_of[id(last)].chunks
                               if _overlap(c.x0, c.x1, chunk.x0, chunk.x1) > 0] == [last]
                if not (alone_below and alone_above and _aligned(last, chunk)) or PANEL.match(last.text):
                    home = None
            if home is not None:
                home.append(chunk)
            else:
                groups.append([chunk])
    levels: list[int] = []
    for i, group in enumerate(groups):
        x0, x1 = min(c.x0 for c in group), max(c.x1 for c in group)
        over = [levels[j] + 1 for j, g in enumerate(groups[:i]) if max(c.bottom for c in g) <= group[0].top
                and _overlap(x0, x1, min(c.x0 for c in g), max(c.x1 for c in g)) > 0]
        levels.append(max(over, default=0))
    for i, group in enumerate(groups):  # a head under no spanning one sits in the row its last line ends in
        if levels[i] == 0:
            level_with = [levels[j] for j, g in enumerate(groups) if any(
                _overlap(group[-1].top, group[-1].bottom, c.top, c.bottom) > 0 for c in g)]
            levels[i] = max(level_with, default=0)
    rows: list[dict[int, dict]] = [{} for _ in range(max(levels, default=-1) + 1)]
    for group, level in sorted(zip(groups, levels), key=lambda pair: min(c.x0 for c in pair[0])):
        covered = _covered(min(c.x0 for c in group), max(c.x1 for c in group), columns)
        text, span = " ".join(c.text for c in group), covered[-1] - covered[0] + 1
        cell = rows[level].get(covered[0])
        if cell:  # two pieces of one head set apart on its line ("P" and "value")
            cell["text"] += " " + text
            cell["colspan"] = max(cell["colspan"], span)
        else:
            rows[level][covered[0]] = {"text": text, "col": covered[0], "colspan": span, "is_header": True}
    return [[row[col] for col in sorted(row)] for row in rows if row]


def _body_cells(rows: list[list[TextLine]], columns, spans: dict[int, int] | None = None) -> list[list[dict]]:
    """Each row's words by column; a chunk that crosses a column gap is split word by word, unless it is
    the row's only text (a group heading across the table). ``spans``: rows whose last line is a label spanning
    that many rows, its cells given that rowspan."""
    spans = spans or {}
    grid = []
    for r, row in enumerate(rows):
        if len(row) == 1 and len(row[0].chunks) == 1:
            covered = _covered(row[0].x0, row[0].x1, columns)
            grid.append([{"text": row[0].text, "col": covered[0], "colspan": covered[-1] - covered[0] + 1,
                          "is_header": False}])
            continue
        texts: dict[int, list[str]] = {}
        for line in row:
            for chunk in line.chunks:
                covered = _covered(chunk.x0, chunk.x1, columns)
                if len(covered) == 1:
                    texts.setdefault(covered[0], []).append(chunk.text)
                else:
                    for word in chunk.words:
                        texts.setdefault(_column_of(word["x0"], word["x1"], columns), []).append(word["text"])
        spanning = {_column_of(c.x0, c.x1, columns) for c in row[-1].chunks} if r in spans else set()
        grid.append([{"text": " ".join(texts[c]), "col": c, "colspan": 1, "is_header": False,
                      "rowspan": spans[r] if c in spanning else 1} for c in sorted(texts)])
    return grid


# -- tables -------------------------------------------------------------------------------------------------------

def _inside(lines: list[TextLine], x0: float, x1: float, top: float, bottom: float) -> list[TextLine]:
    """The parts of ``lines`` whose chunks lie in the box, as lines of their own."""
    kept = []
    for line in lines:
        if top <= (line.top + line.bottom) / 2 <= bottom:
            chunks = [c for c in line.chunks if x0 - 2 <= (c.x0 + c.x1) / 2 <= x1 + 2]
            if chunks:
                kept.append(TextLine(min(c.top for c in chunks), max(c.bottom for c in chunks), chunks))
    return kept


def _ruled_apart(body: list[TextLine], rules: list[float]) -> set[int]:
    """Indexes of the lines with a rule right above them."""
    return {i for i, (a, b) in enumerate(zip(body, body[1:]), start=1) if any(a.bottom <= y <= b.top for y in rules)}


def _heads_like(line: TextLine, header: list[TextLine], body_font: str) -> bool:
    """Whether a line of the body reads as column heads: no cell a number, and the top header's words again or
    the header's font where the body is set in another."""
    if any(NUMERIC.fullmatch(chunk.text) for chunk in line.chunks):
        return False
    words = line.text.split()
    repeated = any(h.text.split() == words for h in header)
    fonts = {h.font for h in header}
    return repeated or (line.font in fonts and line.font != body_font)


def _panels(header: list[TextLine], body: list[TextLine], rules: list[float]):
    """The table as (header, body) blocks: a second block opens where the body holds column heads of its own,
    ruled off below (or repeating the top header's), with a one-line title above them ("After TPE", "(b)"); heads
    told only by a panel's label above them and a rule below ("(b) Laboratory values")."""
    if not header or len(body) < 3:
        return [(header, body)]
    ruled = _ruled_apart(body, rules)
    body_font = _most_characters((l.font, l.text) for l in body)
    starts = []
    for last in range(1, len(body) - 1):
        line = body[last]
        repeated = any(h.text.split() == line.text.split() for h in header)
        titled = (last + 1 in ruled and len(body[last - 1].chunks) == 1 and bool(PANEL.match(body[last - 1].text))
                  and not any(NUMERIC.fullmatch(c.text) for c in line.chunks))  # "(b) Laboratory values" over heads
        if len(line.chunks) < 2 or not (last + 1 in ruled or repeated) or not (
                titled or _heads_like(line, header, body_font)):
            continue
        first = last
        while (first - 1 >= 1 and last - first < 2 and first not in ruled
               and not any(NUMERIC.fullmatch(c.text) for c in body[first - 1].chunks)
               and (len(body[first - 1].chunks) == 1 or _heads_like(body[first - 1], header, body_font))):
            first -= 1
        if not starts or first > starts[-1][1] + 1:
            starts.append((first, last))
    blocks, head, begin = [], header, 0
    for first, last in starts:
        blocks.append((head, body[begin:first]))
        head, begin = body[first:last + 1], last + 1
    blocks.append((head, body[begin:]))
    return blocks


def _grid(header: list[TextLine], body: list[TextLine], rules: list[float]) -> list[list[dict]] | None:
    if not body:
        return None
    columns = _columns(body)
    if len(columns) < 2:
        return None
    forced = _ruled_apart(body, rules)
    body_rows, spans = _row_breaks(body, forced, columns)
    rows = _header_cells(header, columns) + _body_cells(body_rows, columns, spans)
    return rows


def _ruled_region(caption: Caption, lines: list[TextLine], stack: list[Rule]):
    """Header and body lines between the caption and the bottom rule, as wide as the rules."""
    x0, x1, bottom = stack[0].x0, stack[0].x1, stack[-1].y
    top = caption.bottom + 0.5 if stack[0].y > caption.bottom - 1 else stack[0].y - 0.5
    region = _inside(lines, x0, x1, top, bottom)
    header_rule = next((r.y for r in stack if any(l.bottom <= r.y for l in region) and r.y < bottom), None)
    header = [l for l in region if header_rule is not None and l.bottom <= header_rule + 1]
    return (x0, x1, bottom), header, [l for l in region if l not in header]


def _prose(chunks: list[Chunk], x0: float, x1: float) -> bool:
    """A line of running text: one chunk across the width, or columns of text side by side filling it."""
    filled = sum(c.x1 - c.x0 for c in chunks) >= 0.8 * (x1 - x0)
    return filled and (len(chunks) == 1 and len(chunks[0].text) > 40 or all(len(c.words) >= 5 for c in chunks))


def _column_of_caption(caption: Caption, lines: list[TextLine]) -> tuple[float, float]:
    """The page's text column(s) the caption lies in: x ranges that lines of prose (chunks of five words or
    more) cover, a few lines across the columns (a title, a full-width legend) aside."""
    prose = [c for line in lines for c in line.chunks if len(c.words) >= 5]
    if not prose:
        return caption.x0 - 3, caption.x1 + 3
    left = int(min(c.x0 for c in prose))
    coverage = [0] * (int(max(c.x1 for c in prose)) - left + 2)
    for chunk in prose:
        for x in range(int(chunk.x0) - left, int(chunk.x1) - left + 1):
            coverage[x] += 1
    floor = 0.1 * max(coverage)
    columns, start = [], None
    for x, count in enumerate(coverage + [0]):
        if count > floor and start is None:
            start = x
        elif count <= floor and start is not None:
            columns.append((start + left, x + left))
            start = None
    mine = [c for c in columns if _overlap(caption.x0, caption.x1, *c) > 0]
    if not mine:  # the space between the columns of prose on either side
        return (max((b for a, b in columns if b <= caption.x0), default=0.0),
                min((a for a, b in columns if a >= caption.x1), default=float("inf")))
    return min(caption.x0, mine[0][0]) - 3, max(caption.x1, mine[-1][1]) + 3


def _aligned_region(caption: Caption, lines: list[TextLine], stack: list[Rule], captions_: list[Caption]):
    """A table with no rules to close it: the lines below the caption, in its width (widened by cells that
    start inside it), up to a wide gap, a change of type size, a line of prose or the next caption."""
    x0, x1 = (stack[0].x0, stack[0].x1) if stack else _column_of_caption(caption, lines)
    region: list[TextLine] = []
    last = caption.bottom
    for line in lines:
        if line.top < caption.bottom - 0.5:
            continue
        chunks = [c for c in line.chunks if x0 <= (c.x0 + c.x1) / 2 <= x1]
        if not chunks:
            if line.top - last > 2.5 * caption.size:
                break
            continue
        size = statistics.median(c.size for c in chunks)
        usual = statistics.median(c.size for l in region for c in l.chunks) if region else size
        heads = next((l for l in region if len(l.chunks) >= 2), None)
        in_columns = heads is not None and len(chunks) >= 2 and all(  # long cells side by side, under the heads
            any(abs(c.x0 - h.x0) <= 2 for h in heads.chunks) for c in chunks)
        if (line.top - last > 2.5 * usual or abs(size - usual) > 0.12 * usual
                or _prose(chunks, x0, x1) and not in_columns
                or any(CAPTION.match(c.text) or FIGURE.match(c.text) for c in chunks)):
            break

        region.append(TextLine(min(c.top for c in chunks), max(c.bottom for c in chunks), chunks))
        last = max(last, region[-1].bottom)
    if len(region) < 2:
        return None, [], []
    inner = [r.y for r in stack if r.y > region[0].bottom]
    header = [l for l in region if inner and l.bottom <= inner[0] + 1 and l.top < inner[0]]
    return (x0, x1, region[-1].bottom), header, [l for l in region if l not in header]


def _runs_on(stack: list[Rule], lines: list[TextLine]) -> bool:
    """Whether the table's lines go on right below its last rule, in their type size: that rule is no foot
    (a footnote is smaller; body text comes after a gap or is prose)."""
    last = stack[-1]
    above = _inside(lines, last.x0, last.x1, stack[0].y, last.y)
    below = _inside([l for l in lines if l.top >= last.y], last.x0, last.x1, last.y, float("inf"))
    if not above or not below:
        return False
    first = below[0]
    return (first.top - last.y < 1.5 * first.size and first.size >= 0.95 * statistics.median(l.size for l in above)
            and not _prose(first.chunks, last.x0, last.x1))


def _table(caption: Caption, lines: list[TextLine], rules: list[Rule], captions_: list[Caption]) -> list[dict]:
    """The caption's table, or its sub-tables (_panels), or nothing."""
    stack = _rule_stack(caption, rules, captions_)
    # between the rules; else (no rules, or none below the header: the table runs on to the foot of the page)
    # by the alignment of the lines below the caption
    regions = [lambda: _ruled_region(caption, lines, stack)] if len(stack) >= 2 else []
    aligned = lambda: _aligned_region(caption, lines, stack, captions_)  # noqa: E731
    regions.insert(0 if len(stack) >= 2 and _runs_on(stack, lines) else len(regions), aligned)
    for region in regions:
        box, header, body = region()
        if not body:
            continue
        x0, x1, bottom = box
        across = [r.y for r in rules if _overlap(r.x0, r.x1, x0, x1) >= 0.3 * (x1 - x0)]
        panels = _panels(header, body, across)
        grids = [_grid(head, lines, across) for head, lines in panels]
        if len(panels) > 1 and all(grids):  # one table per panel, each with its own heads, under one caption
            return [{"bbox": [x0, min(l.top for l in head + lines), x1,
                              bottom if n == len(panels) - 1 else max(l.bottom for l in lines)],
                     "caption_bbox": [caption.x0, caption.top, caption.x1, caption.bottom],
                     "label": caption.label, "caption": caption.text, "rows": rows}
                    for n, ((head, lines), rows) in enumerate(zip(panels, grids))]
        rows = _grid(header, body, across)
        if rows and len(rows) >= 2:  # one row is no table: the rules may close only the header
            break
    else:
        return []
    return [{"bbox": [x0, min(l.top for l in header + body), x1, bottom],
             "caption_bbox": [caption.x0, caption.top, caption.x1, caption.bottom],
             "label": caption.label, "caption": caption.text, "rows": rows}]


def _area(box) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def _ruled_grids(page, captioned: list[dict], found: list[Caption]) -> list[dict]:
    """Tables boxed cell by cell (pdfplumber's line strategies), the first row their header. A grid over most
    of a captioned table gives that table its cells when it has about as many (its lines outrank the words'
    alignment); one over no captioned table is a table of its own, captioned by a caption right above it."""
    tables = []
    for grid in page.find_tables({"vertical_strategy": "lines", "horizontal_strategy": "lines"}):
        x0, top, x1, bottom = (float(v) for v in grid.bbox)
        texts = grid.extract(x_tolerance_ratio=WORD_GAP_RATIO)
        rows = [[{"text": " ".join(text.split()), "col": c, "colspan": 1, "is_header": r == 0}
                 for c, text in enumerate(row) if text and text.strip()] for r, row in enumerate(texts)]
        rows = [row for row in rows if row]
        if len(rows) < 2 or len(texts[0]) < 2:
            continue
        overlapping = [t for t in captioned if _overlap(x0, x1, t["bbox"][0], t["bbox"][2]) > 0
                       and _overlap(top, bottom, t["bbox"][1], t["bbox"][3]) > 0]
        if overlapping:
            table = overlapping[0]
            inside = [max(x0, table["bbox"][0]), max(top, table["bbox"][1]), min(x1, table["bbox"][2]),
                      min(bottom, table["bbox"][3])]
            if len(overlapping) == 1 and _area(inside) >= 0.5 * _area(table["bbox"]) and (
                    sum(map(len, rows)) >= 0.9 * sum(map(len, table["rows"]))):
                table["rows"] = rows
                table["bbox"] = [min(x0, table["bbox"][0]), min(top, table["bbox"][1]), max(x1, table["bbox"][2]),
                                 max(bottom, table["bbox"][3])]
            continue
        caption = next((c for c in found if 0 <= top - c.bottom <= 3 * c.size and _overlap(x0, x1, c.x0, c.x1) > 0),
                       None)
        caption_bbox = [caption.x0, caption.top, caption.x1, caption.bottom] if caption else [x0, top, x0, top]
        tables.append({"bbox": [x0, top, x1, bottom], "caption_bbox": caption_bbox, "rows": rows,
                       "label": caption.label if caption else "", "caption": caption.text if caption else ""})
    return tables


def _captioned_tables(lines: list[TextLine], rules: list[Rule]) -> tuple[list[dict], list[Caption]]:
    """Tables found from their captions, and the captions that head none."""
    found = captions(lines)
    tables = [t for caption in found for t in _table(caption, lines, rules, found)]
    taken = [t["caption_bbox"] for t in tables]
    return tables, [c for c in found if [c.x0, c.top, c.x1, c.bottom] not in taken]


def page_tables(page, words: list[dict] | None = None) -> list[dict]:
    """The page's tables, top to bottom; a table set sideways is read turned upright, its boxes given back
    in page coordinates."""
    lines = text_lines(page_words(page) if words is None else words)
    tables, unused = _captioned_tables(lines, horizontal_rules(page.horizontal_edges))
    tables += _ruled_grids(page, tables, unused)
    sideways = sum(1 for c in page.chars if not c["upright"])
    if sideways >= 100:
        for up in (True, False):
            turn = Turn(page, up)
            turned, _ = _captioned_tables(text_lines(turn.words(page)), horizontal_rules(turn.edges(page)))
            for table in turned:
                table["bbox"], table["caption_bbox"] = turn.back(*table["bbox"]), turn.back(*table["caption_bbox"])
            tables += turned
    return sorted(tables, key=lambda t: (t["bbox"][1], t["bbox"][0]))
