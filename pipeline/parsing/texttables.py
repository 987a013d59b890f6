"""Tables typed as plain text: Markdown pipe tables, columns parted by pipes alone, tab-separated columns and
columns aligned with spaces, each with the "Table N." caption line above it and the footnote lines below it.

``find_tables`` takes a text's blank-line blocks and gives them back with each table, its caption and its notes
replaced by one ``TextTable``; every other line stays prose, in its order. Markdown tables are read by markdown-it
(GitHub's table syntax: escaped pipes, inline markup, the delimiter row). Tab and space columns are read here, and
conservatively: a run of lines is a table only when its columns agree line by line and its cells are short, so
prose never becomes one.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

from markdown_it import MarkdownIt

MAX_CELL_WORDS = 10  # a typed table keeps its cells short; a longer "cell" is a sentence
MAX_TRIM = 2  # lines of prose that may touch a table's run at either end, tried away before giving up
MAX_CAPTION_LINES = 3
MAX_COLUMNS = 60  # more is a pattern of spaced words, not a table (and would cost rows x columns to place)

Grid = list[list[dict]]  # rows of the builder's cells: {"text", "is_header", "col", "colspan"}


@dataclass
class TextTable:
    rows: Grid
    label: str = ""
    caption: str = ""
    footnotes: list[str] = field(default_factory=list)


def cell_grid(rows: list[list[str | None]], header_rows: int = 1) -> Grid:
    """Rows of cell texts as the builder's cells, the first ``header_rows`` rows being the header."""
    return [[{"text": text or "", "is_header": r < header_rows, "col": c} for c, text in enumerate(row)]
            for r, row in enumerate(rows)]


# -- Markdown pipe tables ----------------------------------------------------------------------------------------
# markdown-it's "zero" preset knows no lists, code blocks or quotes: only the table and the inline markup of its cells
_MARKDOWN = MarkdownIt("zero").enable(["table", "escape", "backticks", "emphasis", "entity", "newline"])
_DELIMITER_ROW = re.compile(r"^\s*\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?\s*$")


def _plain(inline) -> str:
    """A cell's text without its markup: ``**5,420**`` is 5,420 and ``a \\| b`` is a | b."""
    return "".join(child.content if child.type in ("text", "code_inline") else
                   " " if child.type in ("softbreak", "hardbreak") else "" for child in inline.children or [])


def _markdown_tables(lines: list[str], free: list[bool]) -> list[tuple[int, int, Grid]]:
    """GitHub tables in runs of lines with pipes; a line without one ends the table (in Markdown it would be a row)."""
    found = []
    for start, end in _runs(lines, lambda i: free[i] and "|" in lines[i]):
        if not any("-" in line and "|" in line and _DELIMITER_ROW.match(line) for line in lines[start:end]):
            continue
        rows: Grid = []
        span = (0, 0)
        in_head = in_cell = False
        for token in _MARKDOWN.parse("\n".join(line.strip() for line in lines[start:end])):
            if token.type == "table_open":
                rows, span = [], token.map
            elif token.type in ("thead_open", "thead_close"):
                in_head = token.type == "thead_open"
            elif token.type == "tr_open":
                rows.append([])
            elif token.type in ("th_open", "td_open"):
                in_cell = True
            elif token.type == "inline" and in_cell:
                rows[-1].append({"text": _plain(token), "is_header": in_head, "col": len(rows[-1])})
                in_cell = False
            elif token.type == "table_close":
                found.append((start + span[0], start + span[1], rows))
    return found


# -- pipe-separated columns without Markdown's delimiter row ----------------------------------------------------------
def _pipe_cells(line: str) -> list[str]:
    """A line's cells between pipes, the outer pipes optional: "D+3* | 15,600 | 48,300"."""
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _pipe_tables(lines: list[str], free: list[bool]) -> list[tuple[int, int, Grid]]:
    """Runs of lines whose cells are parted by pipes as a Markdown table's are, without its delimiter row ("Date |
    IL-6 (ng/L) | Ferritin (ng/mL)" over "D+1 | 2,300 | 5,400"): read as tab-separated lines are."""
    rows = [_pipe_cells(line) for line in lines]
    found = []
    for start, end in _runs(lines, lambda i: free[i] and lines[i].count("|") >= 1 and len(rows[i]) >= 2):
        table = _trimmed(rows, start, end, _read_tabs)
        if table:
            found.append(table)
    return found


# -- tab-separated columns ------------------------------------------------------------------------------------------
def _tab_cells(line: str) -> list[str]:
    """A line's cells between tabs; a leading tab is an empty first cell (a header over a column of names)."""
    return [cell.strip() for cell in line.rstrip().split("\t")]


# the heading of a timeline's two columns: "Day | Event", "Date | Clinical events"; its entries are prose
TIMELINE_HEADING = (re.compile(r"^(?:days?|dates?|time(?:\s*point)?)\b", re.IGNORECASE),
                    re.compile(r"^(?:(?:clinical\s+)?events?|(?:clinical\s+)?course|description)$", re.IGNORECASE))


def _timeline_lines(lines: list[str]) -> set[int]:
    """The lines of tab-separated timelines: two columns under a timeline's heading, each line an entry of the
    account rather than a row of values (read as prose by the text parser, whatever the length of its cells)."""
    rows = [_tab_cells(line) for line in lines]
    found: set[int] = set()
    for start, end in _runs(lines, lambda i: len([cell for cell in rows[i] if cell]) == 2):
        head = [cell for cell in rows[start] if cell]
        if all(pattern.match(cell) for pattern, cell in zip(TIMELINE_HEADING, head)):
            found.update(range(start, end))
    return found


def _read_tabs(rows: list[list[str]]) -> Grid | None:
    """Lines of one column count (a stray line may differ) and short cells: three rows, or two of three columns."""
    width, count = Counter(len(row) for row in rows).most_common(1)[0]
    if width < 2 or count < 0.8 * len(rows) or len(rows) < 3 and width < 3 or not _plausible(rows):
        return None
    return cell_grid(rows)


def _tab_run_cells(line: str) -> list[str]:
    """A line's cells between runs of tabs: a word processor's table typed with as many tabs as each cell needed to
    reach the next tab stop ("Age/sex<tab><tab><tab>41/F" under "Characteristic<tab><tab>Case A")."""
    return [cell.strip() for cell in re.split(r"(?<=\S)\t+", line.rstrip())]


def _tab_tables(lines: list[str], free: list[bool]) -> list[tuple[int, int, Grid]]:
    """Tab-separated runs, read with one tab between two cells (two tabs enclosing an empty cell) and with runs of
    tabs as one gap: the reading that leaves the fewest of the run's lines out wins, the first on a tie."""
    readings = [[split(line) for line in lines] for split in (_tab_cells, _tab_run_cells)]
    found = []
    for start, end in _runs(lines, lambda i: free[i] and sum(1 for cell in readings[0][i] if cell) >= 2):
        tables = [table for rows in readings if (table := _trimmed(rows, start, end, _read_tabs))]
        if tables:
            found.append(max(tables, key=lambda table: table[1] - table[0]))
    return found


# -- columns aligned with spaces -----------------------------------------------------------------------------------
_CHUNK = re.compile(r"\S+(?: \S+)*")  # words one space apart; two spaces or more part columns
_RULE = re.compile(r"^\s*[-=+:─━═]*[-=─━═]{3,}[-=+:─━═ ]*$")
GUTTER = 2  # the least blank between two columns, on every line
Chunks = list[tuple[int, int, str]]  # a line's pieces of text with their x ranges; None for a rule line


def _chunks(line: str) -> Chunks | None:
    if _RULE.match(line):
        return None
    return [(m.start(), m.end(), m.group()) for m in _CHUNK.finditer(line.expandtabs())]


def _is_aligned_row(chunks: Chunks | None, line: str) -> bool:
    return chunks is None or 2 <= len(chunks) <= MAX_COLUMNS and not line.lstrip().startswith("|")


def _columns(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The x ranges that text fills on any line, ranges closer than the gutter joined."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1] + GUTTER:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _nearest(columns: list[tuple[int, int]], start: int, end: int) -> int:
    """The column nearest a piece of text that lies in a gap (a header set off from its column)."""
    return min(range(len(columns)), key=lambda c: min(abs(columns[c][0] - end), abs(start - columns[c][1])))


_UNIT_CELL = re.compile(r"^[(\[][^()\[\]]{1,20}[)\]]$")  # "(pg/mL)", "[mg/L]"


def _is_units_row(row: Chunks) -> bool:
    """A row of units in brackets under the header's names: the header's second line."""
    return all(_UNIT_CELL.match(text) for _, _, text in row)


def _read_aligned(lines: list[Chunks | None]) -> Grid | None:
    """Columns are where the body rows' text lies; every row must put each piece of text in a column of its own.

    The header is the first row (with the row of units in brackets under it, if any), or the rows above a rule
    line (``-----  ----``) under one to three rows; only in
    such a header of several rows may a cell span columns (a group heading over its columns)."""
    if not all(line is None or len(line) >= 2 for line in (lines[0], lines[-1])):
        return None
    header_rows, ruled, above = 1, False, 0
    for line in lines:
        if line is None:
            if 1 <= above <= 3:
                header_rows, ruled = above, True
                break
            if above:
                break
        else:
            above += 1
    rows = [line for line in lines if line is not None]
    while not ruled and header_rows < len(rows) - 1 and _is_units_row(rows[header_rows]):
        header_rows += 1
    body = [row for row in rows[header_rows:] if len(row) >= 2]
    if len(rows[0]) < 2 or len(body) < (1 if ruled else 2):
        return None
    columns = _columns([(start, end) for row in body for start, end, _ in row])
    if not 2 <= len(columns) <= MAX_COLUMNS:
        return None
    table: Grid = []
    for r, row in enumerate(rows):
        placed: dict[int, tuple[str, int]] = {}
        taken: set[int] = set()
        for start, end, text in row:
            cols = [c for c, (left, right) in enumerate(columns) if start < right and left < end] or \
                [_nearest(columns, start, end)]
            if taken & set(cols) or len(cols) > 1 and r >= header_rows - 1:
                return None
            taken.update(cols)
            placed[cols[0]] = (text, len(cols))
        cells, col = [], 0
        while col < len(columns):
            text, span = placed.get(col, ("", 1))
            cells.append({"text": text, "is_header": r < header_rows, "col": col, "colspan": span})
            col += span
        table.append(cells)
    if _is_timeline(table, header_rows):
        # its entries are prose, and an entry may go on over the next lines under its own columns
        return _entries_joined(table, header_rows)
    return table if _plausible([[cell["text"] for cell in row] for row in table]) else None


# a timeline's entry opens with its time, short and with a figure: "D+7", "Day 12", "H+30", "3 March", "14:20"
ENTRY_TIME = re.compile(r"^[^\d\s]{0,5}\s?[+\-−]?\d[\w:./+\-−]*(?:\s\S+)?$")


def _is_timeline(table: Grid, header_rows: int) -> bool:
    """A table of events in time order set out in columns ("Day  Event  Treatment"): its first heading names the
    time, and its body rows open with a time or go on the entry above (an empty first cell)."""
    if header_rows != 1 or not TIMELINE_HEADING[0].match(table[0][0]["text"]):
        return False
    firsts = [row[0]["text"] for row in table[1:]]
    opened = [text for text in firsts if text]
    return len(opened) >= 3 and bool(firsts[0]) and all(ENTRY_TIME.match(text) for text in opened)


def _entries_joined(table: Grid, header_rows: int) -> Grid:
    """The timeline with each entry's lines made one row: a row with an empty first cell goes on the row above,
    column by column."""
    joined = table[:header_rows]
    for row in table[header_rows:]:
        if row[0]["text"] or len(joined) == header_rows or len(row) != len(joined[-1]):
            joined.append([dict(cell) for cell in row])
            continue
        for above, cell in zip(joined[-1], row):
            above["text"] = " ".join(part for part in (above["text"], cell["text"]) if part)
    return joined


def _aligned_tables(lines: list[str], free: list[bool]) -> list[tuple[int, int, Grid]]:
    """Runs of aligned rows, one other line allowed between two of them (a group heading such as "Cytokines")."""
    chunks = [_chunks(line) for line in lines]
    aligned = [free[i] and _is_aligned_row(chunks[i], line) for i, line in enumerate(lines)]

    def belongs(i: int) -> bool:
        return free[i] and (aligned[i] or 0 < i < len(lines) - 1 and aligned[i - 1] and aligned[i + 1])

    return [table for start, end in _runs(lines, belongs) if (table := _trimmed(chunks, start, end, _read_aligned))]


# -- shared ------------------------------------------------------------------------------------------------------------
def _runs(lines: list[str], belongs: Callable[[int], bool]) -> list[tuple[int, int]]:
    """Maximal runs [start, end) of line indexes for which ``belongs`` holds."""
    runs, start = [], None
    for i in range(len(lines) + 1):
        if i < len(lines) and belongs(i):
            start = i if start is None else start
        elif start is not None:
            runs.append((start, i))
            start = None
    return runs


def _trimmed(lines: list, start: int, end: int, read: Callable[[list], Grid | None]):
    """The run of (read) lines as a table, or with up to MAX_TRIM lines at either end left out (a sentence touching
    the table); the fewest left out wins."""
    for dropped in range(2 * MAX_TRIM + 1):
        for head in range(min(dropped, MAX_TRIM) + 1):
            tail = dropped - head
            if tail > MAX_TRIM or end - tail - (start + head) < 2:
                continue
            rows = read(lines[start + head:end - tail])
            if rows:
                return start + head, end - tail, rows
    return None


_LIST_MARK = re.compile(r"^(?:[-*•–·]|\(?(?:\d{1,2}|[a-z]|[ivx]{1,4})[.)])$")


def _plausible(rows: list[list[str]]) -> bool:
    """Short cells, and not a list set out in columns: markers apart from their items ("1.  Fever") or labels
    apart from their values ("Age:     45 years")."""
    return (all(len(text.split()) <= MAX_CELL_WORDS for row in rows for text in row)
            and not all(_LIST_MARK.match(row[0]) or row[0].endswith(":") for row in rows))


# -- captions, notes and the blocks of a text ------------------------------------------------------------------------
CAPTION = re.compile(r"""
    ^\s*(?:\#{1,6}\s+)?[*_]{0,3}                                    # "## **Table 1**" (Markdown)
    (?P<label>(?:Supplementa(?:l|ry)\ )?(?:Table|TABLE)\s+          # "Table 2", "Supplementary Table S1"
      (?:S?\d{1,3}[A-Za-z]?|[IVX]{1,5}))[*_]{0,3}                    # "Table 3b", "TABLE IV"
    (?:\s*[.:|—–-]+\s*|\s+(?=[A-Z(\[])|\s*$)                        # "Table 1. ...", "Table 1 Laboratory ...", "Table 1"
    (?P<caption>.*)$
    """, re.VERBOSE)
FOOTNOTE = re.compile(r"""
    ^\s*(?:[†‡§¶‖]                                                   # "† P < 0.05"
    | (?!\*\*[^*]+\*\*\s*$)\*{1,3}\s*[^\s*]                          # "*P < 0.05" (not a **bold line**)
    | [a-h](?:[),.:]|\s+(?=[A-Z0-9(<>≥≤]))                            # "a Sampled after ...", "b, below the limit"
    | [(\[](?:[a-h]|\d{1,2}|\*)[)\]]                                  # "(a)", "[1]"
    | [\u00b9\u00b2\u00b3\u2070-\u209f\u1d2c-\u1dbf]                   # superscript marks: "¹ Sampled after ..."
    | (?:Abbreviations?|Notes?|Key|Legend|Sources?|Footnotes?)\s*[:.]  # "Abbreviations: ...", "Note."
    | [A-Z][\w\-]*[A-Z0-9][\w\-]*\s*[,=:]\s*[^;]{1,80};               # "NA, not available; CR, complete response"
      \s*[A-Z][\w\-]*[A-Z0-9][\w\-]*\s*[,=:]
    )""", re.VERBOSE)


def _caption_start(lines: list[str]) -> int | None:
    """Where the caption begins among the last lines above a table: the nearest "Table N" line."""
    for i in range(len(lines) - 1, max(len(lines) - MAX_CAPTION_LINES, 0) - 1, -1):
        if CAPTION.match(lines[i]):
            return i
    return None


def _caption(lines: list[str]) -> tuple[str, str]:
    match = CAPTION.match(lines[0])
    return match.group("label"), " ".join([match.group("caption"), *lines[1:]]).strip(" *_")


def _note_count(lines: list[str]) -> int:
    """How many of ``lines`` are notes: from a first line with a note's mark up to the next caption, if any."""
    if not lines or not FOOTNOTE.match(lines[0]):
        return 0
    return next((i for i, line in enumerate(lines) if CAPTION.match(line)), len(lines))


def _notes(lines: list[str]) -> list[str]:
    """Lines into notes: a marked line begins one, an unmarked line carries on the one before."""
    notes: list[str] = []
    for line in lines:
        if FOOTNOTE.match(line) or not notes:
            notes.append(line.strip())
        else:
            notes[-1] = f"{notes[-1]} {line.strip()}"
    return notes


def _tables_in(lines: list[str]) -> list[tuple[int, int, Grid]]:
    timeline = _timeline_lines(lines)
    free = [not CAPTION.match(line) and i not in timeline for i, line in enumerate(lines)]
    found = []
    for reader in (_markdown_tables, _pipe_tables, _tab_tables, _aligned_tables):
        for start, end, rows in reader(lines, free):
            found.append((start, end, rows))
            free[start:end] = [False] * (end - start)
    return sorted(found, key=lambda table: table[0])


def find_tables(blocks: list[str]) -> list[str | TextTable]:
    """``blocks`` (blank-line paragraphs, lines kept) with every table found in them, its caption and its notes made
    one TextTable. A caption may stand in the block above its table, and notes in the blocks below it."""
    out: list[str | TextTable] = []
    previous: TextTable | None = None  # the last table, while the lines that follow it may be its notes
    for block in blocks:
        lines = [line for line in block.split("\n") if line.strip()]
        cursor = 0
        for start, end, rows in [*_tables_in(lines), (len(lines), len(lines), None)]:
            between = lines[cursor:start]
            if previous is not None:
                notes = _note_count(between)
                previous.footnotes += _notes(between[:notes])
                between = between[notes:]
            if rows is None:
                break
            table = TextTable(rows)
            at = _caption_start(between)
            if at is not None:
                table.label, table.caption = _caption(between[at:])
                between = between[:at]
            elif start == 0 and out and isinstance(out[-1], str):
                above = out[-1].split("\n")
                at = _caption_start(above)
                if at is not None:
                    table.label, table.caption = _caption(above[at:])
                    if at:
                        out[-1] = "\n".join(above[:at])
                    else:
                        out.pop()
            if between:
                out.append("\n".join(between))
            out.append(table)
            previous, cursor = table, end
        if between:
            out.append("\n".join(between))
            previous = None
    return out
