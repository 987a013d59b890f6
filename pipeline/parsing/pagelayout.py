"""Plain text laid out like a printed page, as a PDF copied to text gives it: page furniture (rules, running heads
and footers, page numbers) where one page meets the next, two columns flattened side by side (each line holding the
left column's line, spaces, then the right column's line), and words broken at line ends with a hyphen.

``read_in_order`` gives such a text back in reading order: furniture dropped, each two-column block read down its
left column, then down its right. A text with none of these comes back unchanged. ``join_lines`` joins the lines of
a paragraph, mending the words broken at their ends.

Two columns are told from a text table by their prose: on most lines each side is one run of several words (no gap
of two spaces inside it) and goes on with a sentence begun on the line above (it does not open with a capital),
where a table's cells are short, several to a side, and open with capitals.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

# -- page furniture ------------------------------------------------------------------------------------------------
PAGE_BREAK = "\f"
RULE_LINE = re.compile(r"^[ \t]*(?:[-=_─━═]{3,}|\f)[ \t]*$")  # "-----", "=====", "_____", "═════" or a form feed
_PAGE_NUMBER = re.compile(r"^\s*(?:page\s+)?[-–]?\s*\d{1,4}\s*[-–]?(?:\s*(?:of|/)\s*\d{1,4})?\s*$", re.IGNORECASE)
MIN_HEAD_LETTERS = 6  # a running head repeats its words; "D1  100" or "Case 2" repeated is no head


def _shape(line: str) -> str:
    """A running head's letters: the page numbers, volume and year that change from page to page left out."""
    return re.sub(r"[^a-z]", "", line.lower())


def _runs(lines: list[str]) -> list[tuple[int, int]]:
    """Runs [start, end) of lines that are not blank (a page break is no blank line)."""
    runs, start = [], None
    for i, line in enumerate([*lines, ""]):
        blank = not line.strip() and PAGE_BREAK not in line
        if not blank and start is None:
            start = i
        elif blank and start is not None:
            runs.append((start, i))
            start = None
    return runs


def _page_bands(lines: list[str]) -> list[tuple[int, int]]:
    """Runs of lines holding a rule, a page break or a bare page number: where one page may meet the next."""
    return [(start, end) for start, end in _runs(lines)
            if any(RULE_LINE.match(line) or _PAGE_NUMBER.match(line) for line in lines[start:end])]


def _furniture_lines(lines: list[str]) -> set[int]:
    """The lines of page furniture: rules, bare page numbers, and the heads and footers whose letters are those of
    another line (the running head of another page, or the journal's line on the first page).

    Heads and footers go when they stand next to a rule: below it, or above a page break (a line above a rule of
    dashes is a heading underlined); a band without rules goes when all of it is furniture. A rule goes when no line
    that stays touches it, so a ruled table keeps its rules."""
    seen = Counter(_shape(line) for line in lines if line.strip())
    repeated = {shape for shape, n in seen.items() if n >= 2 and len(shape) >= MIN_HEAD_LETTERS}

    def is_furniture(i: int) -> bool:
        return not RULE_LINE.match(lines[i]) and (bool(_PAGE_NUMBER.match(lines[i])) or _shape(lines[i]) in repeated)

    dropped: set[int] = set()
    for start, end in _page_bands(lines):
        rules = [i for i in range(start, end) if RULE_LINE.match(lines[i])]
        if not rules and all(is_furniture(i) for i in range(start, end)):
            dropped.update(range(start, end))
        for rule in rules:
            below = rule + 1
            while below < end and is_furniture(below):
                dropped.add(below)
                below += 1
            above = rule - 1
            while PAGE_BREAK in lines[rule] and above >= start and is_furniture(above):
                dropped.add(above)
                above -= 1
        for rule in rules:
            neighbours = [i for i in (rule - 1, rule + 1) if start <= i < end and not RULE_LINE.match(lines[i])]
            if all(i in dropped for i in neighbours):
                dropped.add(rule)
    return dropped


# -- two columns side by side --------------------------------------------------------------------------------------
MIN_COLUMN_WIDTH = 15
MAX_PAGE_WIDTH = 250  # characters on a line of a page; a longer line is a paragraph on one line
MAX_PAGE_LINES = 200  # lines of a block between blank lines on a page
MIN_ROWS = 3  # lines with text in the right column, starting just after the gutter
MIN_RIGHT_SHARE = 0.5  # of a block's lines
MIN_BOTH_ROWS = 2  # lines with text in both columns
MIN_WORDS = 3  # words on a column's line, on average
MIN_RUN_SHARE = 0.8  # a column's lines that are one run of words
MIN_GOING_ON_SHARE = 0.4  # a column's lines after its first that do not open with a capital
MIN_WIDE_GUTTER_SHARE = 0.5  # lines whose columns are two spaces apart or more (a full left line may touch it)
MAX_JITTER = 2  # characters a right column's line may start left of the others
MAX_SPANNING = 2  # one-column lines (a title, a caption) at the top or the bottom of a block


@dataclass
class Piece:
    """Lines read in order; ``flows`` when a sentence may run on into it from the piece before or out of it into
    the next (a column, or text across a page break)."""
    lines: list[str]
    flows: bool = False


def _split_at(line: str, at: int) -> int | None:
    """Where ``line`` parts into its two columns: at the gutter ``at`` when the line leaves it blank, else at a gap
    of two spaces or more just left of it (a right column's line set a little to the left, as a PDF copied to text
    may give it); None when a word runs across the gutter."""
    if len(line) <= at or line[at] == " ":
        return at
    for start in range(at - 1, at - 1 - MAX_JITTER, -1):
        if line[start - 1:start + 1] == "  ":
            return start
    return None


def _sides(line: str, at: int) -> tuple[str, str]:
    return line[:at].strip(), line[at:].strip()


def _opens_column(line: str, at: int) -> bool:
    """Text starts right after the gutter at ``at``: the line has a right column's line (and maybe a left one)."""
    return len(line) > at + 1 and line[at] == " " and line[at + 1] != " "


def _gutter(lines: list[str]) -> int | None:
    """The character column just before the right column: the one after which most lines start text two spaces
    or more after their left column's text (one space parts the words of a line)."""
    width = max(len(line) for line in lines)
    best, best_count = None, 0
    for at in range(MIN_COLUMN_WIDTH, width - MIN_COLUMN_WIDTH):
        count = sum(1 for line in lines if _opens_column(line, at) and line[at - 1] == " " and line[:at].strip())
        if count and count >= best_count:
            best, best_count = at, count
    return best


def _spanning_ends(splits: list[int | None]) -> tuple[int, int] | None:
    """How many lines at the top and at the bottom run across the gutter; None when one in the middle does."""
    crossing = [at is None for at in splits]
    top = next((i for i, c in enumerate(crossing) if not c), len(crossing))
    bottom = next((i for i, c in enumerate(reversed(crossing)) if not c), len(crossing))
    if top > MAX_SPANNING or bottom > MAX_SPANNING or any(crossing[top:len(crossing) - bottom]):
        return None
    return top, bottom


def _reads_as_prose(column: list[str]) -> bool:
    """A column of running text: lines of several words in one run, most of them going on from the line above."""
    lines = [line for line in column if line]
    if len(lines) < 2:
        return False
    one_run = sum(1 for line in lines if "  " not in line)
    words = sum(len(line.split()) for line in lines)
    going_on = sum(1 for line in lines[1:] if not line[0].isupper())
    return (one_run >= MIN_RUN_SHARE * len(lines) and words >= MIN_WORDS * len(lines)
            and going_on >= MIN_GOING_ON_SHARE * (len(lines) - 1))


def _two_columns(lines: list[str]) -> list[Piece] | None:
    """A block of lines as its one-column lines and its left and right columns, in reading order; None when the
    block is not two columns of prose."""
    if not MIN_ROWS <= len(lines) <= MAX_PAGE_LINES or any(
            len(line) > MAX_PAGE_WIDTH or "\t" in line or line.lstrip().startswith("|") for line in lines):
        return None
    at = _gutter(lines)
    if at is None:
        return None
    splits = [_split_at(line, at) for line in lines]
    ends = _spanning_ends(splits)
    if ends is None:
        return None
    top, bottom = ends
    body = lines[top:len(lines) - bottom]
    sides = [_sides(line, split) for line, split in zip(body, splits[top:len(lines) - bottom])]
    opening = [line for line in body if _opens_column(line, at)]
    both = [line for line in opening if line[:at].strip()]
    if len(opening) < MIN_ROWS or len(opening) < MIN_RIGHT_SHARE * len(body) or len(both) < MIN_BOTH_ROWS:
        return None
    if sum(1 for line in both if line[at - 1] == " ") < MIN_WIDE_GUTTER_SHARE * len(both):
        return None
    left = [left for left, _ in sides]
    right = [right for _, right in sides]
    if not (_reads_as_prose(left) and _reads_as_prose(right)):
        return None
    pieces = [Piece([line], flows=True) for line in lines[:top]]
    pieces += [Piece(column, flows=True) for column in (left, right)]
    pieces += [Piece([line], flows=True) for line in lines[len(lines) - bottom:]]
    return pieces


# -- reading order ---------------------------------------------------------------------------------------------------
_SENTENCE_END = re.compile(r"[.!?:]['\"’”)\]]*$")


def _runs_on(before: list[str], after: list[str]) -> bool:
    """A sentence goes on from the last line of ``before`` to the first of ``after``."""
    last = next((line for line in reversed(before) if line.strip()), "")
    first = next((line for line in after if line.strip()), "")
    return bool(last) and bool(first) and not _SENTENCE_END.search(last.rstrip()) and first.lstrip()[0].islower()


def _paragraph_lines(lines: list[str]) -> list[str]:
    """A column's lines with one blank line for each run of blank lines, none at either end."""
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    while out and not out[-1]:
        out.pop()
    return out


def read_in_order(text: str) -> str:
    """``text`` with its page furniture dropped and its two-column blocks read column by column; unchanged when it
    has neither."""
    lines = re.sub(r"\n?\f\n?", "\n\f\n", text).split("\n") if PAGE_BREAK in text else text.split("\n")
    dropped = _furniture_lines(lines)
    pieces: list[Piece] = []
    changed = bool(dropped)
    previous_end = 0
    for start, end in _runs([("" if i in dropped else line) for i, line in enumerate(lines)]):
        across_page = any(i in dropped for i in range(previous_end, start))
        previous_end = end
        block = [line.rstrip() for line in lines[start:end]]
        columns = _two_columns(block)
        changed = changed or columns is not None
        block_pieces = columns or [Piece(block)]
        if across_page:
            block_pieces[0].flows = True
            if pieces:
                pieces[-1].flows = True
        pieces.extend(block_pieces)
    if not changed:
        return text
    out: list[str] = []
    before: Piece | None = None
    for piece in pieces:
        lines_of_piece = _paragraph_lines(piece.lines) if piece.flows else piece.lines
        if not lines_of_piece:
            continue
        if before is not None:
            joined = (piece.flows or before.flows) and _runs_on(before.lines, lines_of_piece)
            out.append("\n" if joined else "\n\n")
        out.append("\n".join(lines_of_piece))
        before = Piece(lines_of_piece, piece.flows)
    return "".join(out) + "\n"


# -- words broken at line ends ---------------------------------------------------------------------------------------
# Where a line ends in "word-" and the next opens in lower case, the hyphen may be the line's (leukae- + mia) or the
# word's own (disease- + negative). The document's other words decide first: the joined word, or the hyphenated one,
# written elsewhere in it. Otherwise these prefixes and second parts, hyphenated by custom, keep their hyphen; every
# other break is joined. A capital or a digit before the hyphen (B- + cell, IL- + 6), a compound's later part
# (twenty-four- + hour) and a second part in capitals or digits (anti- + CD19) keep it too, as does a number
# written as a word before a noun (four- + year, two- + day: "a four-year review"), unless the noun is the rest of
# the number (four- + teen, seven- + ty). "ten" is left out: ten- + don, ten- + sion are breaks inside words.
HYPHENATED_PREFIXES = frozenset({"anti", "non", "self", "post", "semi", "well"})
NUMBER_WORDS = frozenset({
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "eleven", "twelve", "thirteen",
    "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty", "thirty", "forty", "fifty",
    "sixty", "seventy", "eighty", "ninety", "hundred", "thousand", "half", "single", "double", "triple"})
NUMBER_ENDINGS = frozenset({"teen", "teenth", "ty", "tieth", "th", "fold"})  # four- + teen: "fourteen"
HYPHENATED_SECOND_PARTS = frozenset({
    "negative", "positive", "related", "induced", "associated", "mediated", "dependent", "independent", "refractory",
    "free", "based", "specific", "directed", "targeted", "derived", "resistant", "naive", "transmitted", "limiting",
    "threatening", "matched", "term", "grade", "dose"})
MIN_COMPOUND_FIRST_PART = 4  # "un-" + "related" is a break inside "unrelated"; "disease-" + "free" is a compound
MAX_WORD = 100  # characters looked back for a broken word
SUSPENDED_BEFORE = frozenset({"and", "or", "to", "nor"})  # "pre- and post-infusion"
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
_BROKEN_END = re.compile(r"(?:^|(?<=[\s(\[/]))(?P<word>(?:[^\W_]+-)*(?P<part>[^\W_]+))-$")
_NEXT_WORD = re.compile(r"^(?P<word>[^\W_]+)")


def vocabulary(text: str) -> set[str]:
    """The words of a text, lower-cased, hyphenated words whole and in their parts."""
    words = {word.lower() for word in _WORD.findall(text)}
    return words | {part for word in words if "-" in word for part in word.split("-")}


def _keeps_hyphen(before: str, part: str, after: str, known: set[str]) -> bool:
    """Whether ``before`` (its last part ``part``) broken at a line end with a hyphen before ``after`` is one
    hyphenated word rather than one word."""
    if before != part or not part[-1].islower() or not after[0].islower():
        return True
    joined, hyphenated = f"{part}{after}".lower(), f"{part}-{after}".lower()
    if joined in known:
        return False
    if hyphenated in known:
        return True
    number = part.lower() in NUMBER_WORDS and after.lower() not in NUMBER_ENDINGS
    return number or part.lower() in HYPHENATED_PREFIXES or (
        after.lower() in HYPHENATED_SECOND_PARTS and len(part) >= MIN_COMPOUND_FIRST_PART)


def join_lines(lines: list[str], known: set[str] = frozenset()) -> str:
    """A paragraph's lines as one line: joined with a space, or with nothing where a word is broken across them."""
    text = ""
    for line in (line.strip() for line in lines):
        if not line:
            continue
        broken = _BROKEN_END.search(text[-MAX_WORD:])
        following = _NEXT_WORD.match(line)
        if broken and following and following.group("word").lower() not in SUSPENDED_BEFORE:
            keep = _keeps_hyphen(broken.group("word"), broken.group("part"), following.group("word"), known)
            text = (text if keep else text[:-1]) + line
        else:
            text = f"{text} {line}" if text else line
    return text
