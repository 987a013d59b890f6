"""Plain text into a Document: blank-line paragraphs, heading lines recognised as sections. A text laid out like a
printed page (columns side by side, page furniture) is first read in order (pipeline.parsing.pagelayout); the title
and byline are read past the journal's front matter (citation, DOI, article type)."""

from __future__ import annotations

import re
from pathlib import PurePath

from pipeline.document.builder import DocumentBuilder, clean_inline
from pipeline.document.ids import DOI_PATTERN, make_doc_id
from pipeline.document.model import Document
from pipeline.parsing.pagelayout import RULE_LINE, join_lines, read_in_order, vocabulary
from pipeline.parsing.texttables import TextTable, cell_grid, find_tables

_HEADING_WORDS = re.compile(r"""
    ^(?:\d+(?:\.\d+)*\.?\s+)?                                        # "2.1 "
    (abstract|summary|background|introduction                          # "Abstract"
   | case\ (?:presentation|report|description|\d+)|cases?               # "Case presentation", "Case 2"
   | patients?(?:\ (?:\d+|and\ methods))?|methods?|materials\ and\ methods  # "Patients", "Patients and methods"
   | results?|discussion|conclusions?|references                       # "Results"
   | acknowledge?ments?|funding|keywords?                               # "Acknowledgments"
   | clinical\ course|treatment|outcome|follow-up                       # "Clinical course"
   | presentation\ of\ (?:the\ )?case|clinical\ presentation            # "Presentation of the case"
   | history\ of\ present\ illness|differential\ diagnosis|final\ diagnosis  # "History of present illness"
   | discussion\ of\ management|management|hospital\ course|investigations  # "Hospital course"
     # the headings of a CARE-guideline case report
   | patient\ information|clinical\ findings|timeline|diagnostic\ assessment  # "Patient information"
   | therapeutic\ interventions?|patient\ perspective|informed\ consent     # "Informed consent"
    )\b[:.]?""",
    re.IGNORECASE | re.VERBOSE,
)
_PMID = re.compile(r"\bPMID:?\s*(\d{1,9})\b")
_YEAR = re.compile(r"\b(19[5-9]\d|20[0-4]\d)\b")
# in a file name a year follows the author's name: "smith2021_case", not a number's digits ("PMC7201934")
_YEAR_IN_NAME = re.compile(r"(?<=[A-Za-z_\-])(19[5-9]\d|20[0-4]\d)(?!\d)")


def looks_like_heading(line: str, standalone: bool = False, in_front: bool = False) -> bool:
    """A known heading word, an all-capitals line, or (after the front matter) a short line standing alone."""
    line = line.strip()
    if not line or len(line) > 80 or line.endswith((",", ";")):
        return False
    words = line.split()
    unnumbered = re.sub(r"^\d+(?:\.\d+)*\.?\s+", "", line)
    if _HEADING_WORDS.match(line) and len(words) <= 8 and not unnumbered.rstrip(".").count("."):
        return True
    if _INITIALS_HEADING.match(line):
        return True
    if re.fullmatch(r"(?:\d+\.?\s+)?[A-Z][A-Z0-9 &/\-,()']+:?", line) and len(words) <= 8 and not re.search(r"\d{3}", line):
        return True
    core = re.sub(r"\s*\([^()]{1,20}\)$", "", line)  # "Consult note 1 (D+3)": a heading's date in brackets
    # a numbered line may open in lower case ("2. cilta-cel" over its patient's paragraph)
    return (standalone and not in_front and len(words) <= 10 and (unnumbered[:1].isupper() or unnumbered != line)
            and not line.endswith((".", "!", "?")) and not re.search(r"\d{3,}|doi|http|;", line, re.IGNORECASE)
            and sum(c.isalpha() or c.isspace() for c in core) >= 0.8 * len(core))


# a patient headed by initials: "Patient S.V.", "Case J. M."
_INITIALS_HEADING = re.compile(r"^(?:patient|case)\s+(?:[A-Z]\.\s?){1,3}$", re.IGNORECASE)
_UPPER = "A-ZÀ-ÖØ-ÞŁŠŽČŘ"
_WORD = rf"[{_UPPER}](?:[^\W\d_]|['’\-])*"
# the lower-case particles of a name: "Nurul Ain binti Sulaiman", "Jan van der Berg", "Ana da Silva"
_PARTICLE = r"(?:bin|binti|bint|ibn|van|von|der|den|de|da|do|dos|das|del|della|di|du|la|le|al|el|ter|ten)"
_NAME = re.compile(rf"^{_WORD}\.?\s+(?:{_PARTICLE}\s+)*(?:{_WORD}\.?\s+(?:{_PARTICLE}\s+)*){{0,2}}{_WORD}\*?\d*$"
                   rf"|^{_WORD}\s+[{_UPPER}]{{1,3}}$")


_DEGREE = re.compile(r"""(?:
    M\.?D\.?|Ph\.?D\.?|PharmD|DO                      # "MD", "Ph.D."
  | MBBS|M\.?B\.?|Ch\.?B\.?|FRCP\w*                   # "MB ChB", "FRCPath"
  | MSc|M\.?Sc\.?|RN|MPH|BSc                          # "M.Sc.", "MPH"
    )""", re.IGNORECASE | re.VERBOSE)


_AFFILIATION_MARK = re.compile(r"\([^()]*\)|(?<=[^\W\d_])\d+(?:,\d+)*|[*†‡§¶\u00b9\u00b2\u00b3\u2070-\u2079]")
_SALUTATION = re.compile(r"^\s*(?:dear\b|to the editors?\b|sirs?\b|madam\b)", re.IGNORECASE)  # a letter's opening
_ET_AL = re.compile(r"\bet\s+al\.?", re.IGNORECASE)
MIN_SURNAME_IN_CAPITALS = 4  # "LIANG Xiaoyu": a surname set in capitals; "JM Smith": initials


def _byline_lines(lines: list[str]) -> list[str]:
    """The first line, and the lines after it while a line ends on a comma or an "and" (a byline wrapped)."""
    taken = lines[:1]
    for line in lines[1:]:
        if not re.search(r"(?:,|;|\band|&)\s*$", taken[-1]):
            break
        taken.append(line)
    return taken


def _surname_first(names: list[list[str]]) -> bool:
    """The byline sets its surnames first in capitals ("LIANG Xiaoyu, WU Shasha")."""
    return any(len(words[0]) >= MIN_SURNAME_IN_CAPITALS and words[0].isupper() and not words[-1].isupper()
               for words in names)


# a byline's label: "Authors: Itzel M. Quintero, ...", "By Ana Silva and Tom Berg"
_BYLINE_LABEL = re.compile(r"^\s*(?:authors?|by|written\s+by)\s*:?\s+(?=[A-Z])", re.IGNORECASE)


def byline(lines: list[str]) -> list[str]:
    """Author names when ``lines`` read like a byline ("Ana Silva(1), Tom Berg(2)", "Silva A, Berg T" or
    "SILVA Ana"), affiliation marks, notes in brackets and degrees left out."""
    block = _ET_AL.sub("", _AFFILIATION_MARK.sub("", _BYLINE_LABEL.sub("", " ".join(_byline_lines(lines)))))
    if _SALUTATION.match(block) or len(block) > 400 or any(ch in block for ch in ".:;") and not re.search(r"\b[A-Z]\.", block):
        return []
    parts = [p.strip() for p in re.split(r",|;|\band\b|&", block) if p.strip() and not _DEGREE.fullmatch(p.strip())]
    names = [p for p in parts if _NAME.match(p)]
    if not names or len(names) < len(parts) * 0.6:
        return []
    split_names = [name.split() for name in names]
    surname_first = _surname_first(split_names)
    authors = []
    for words in split_names:
        if surname_first and words[0].isupper():
            authors.append(f"{words[0].title()}, {' '.join(words[1:])}")
        elif len(words) == 2 and words[1].isupper() and len(words[1]) <= 3:
            authors.append(f"{words[0]}, {words[1]}")
        else:
            authors.append(f"{words[-1]}, {' '.join(words[:-1])}")
    return authors


# -- affiliations ---------------------------------------------------------------------------------------------

# the mark an affiliation opens with: "1 ", "(1) ", "[2] ", "1. ", "a ", "*", "¹"; a number not part of a postcode
_AFFILIATION_OPENING = re.compile(r"""^\s*(?:
    \(\d{1,2}\)|\[\d{1,2}\]                    # "(1) Department", "[2] Clinic"
  | \d{1,2}(?!\d)\.?                           # "1 Department", "2. School"
  | [a-h](?=\s)                                # "a Department"
  | [*†‡§¶]+|[\u00b9\u00b2\u00b3\u2070-\u2079]+  # "* Department", "¹ Department"
    )\s*(?=[A-ZÀ-ÖØ-Þ])""", re.VERBOSE)
# a mark inside a line of affiliations set one after another: "..., Indonesia, 2. Center for ..."
_INLINE_OPENING = re.compile(r"(?<=[,;])\s+(?=(?:\d{1,2}\.|\(\d{1,2}\))\s+[A-ZÀ-ÖØ-Þ])")
_OPENING_AT_LINE_END = re.compile(r"(?<=[,;])[ \t]+(\d{1,2}\.|\(\d{1,2}\))[ \t]*\n")  # "Canada, 3.\nMuseum of"
_INSTITUTION = re.compile(r"""
    universi|institut|department|dept\b|hospital|\bklinik|\bclinic(?:s|a|um|que)?\b|school|college|faculty  # "Clinic"
  | cent(?:er|re)|laborator|\blab\b|division|\bunit\b|service|museum|foundation       # "Research Center"
  | academy|ministry|council|agency|program|research|\bmedical\b|health\b               # "Ministry of Health"
  | corporation|\binc\b|\bltd\b|gmbh|\bsection\b|group\b                              # "Acme Ltd"
    """, re.IGNORECASE | re.VERBOSE)
# notes that stand among affiliations but are none: who to write to, dates, editors, funding, a pointer on
_NOT_AFFILIATION = re.compile(r"""^\W*(?:
    correspond|e-?mails?\b|received|accepted|published|revised|(?:academic\ |handling\ |external\ )?editor
  | edited\ by|reviewed\ by|communicated\ by|funding|copyright|©|keywords?|abstract|citation|cite\ this
  | full\ list|(?:current|present|permanent)\ address|these\ authors|equal|contributed|deceased|tel\b|fax\b
    )""", re.IGNORECASE | re.VERBOSE)
_PROSE_WORDS = re.compile(r"\b(?:we|our|is|was|were|are|has|have|had|been|this|these|which|funded)\b", re.IGNORECASE)
_EMAIL = re.compile(r"""(?:[;,]?\s*(?:e-?mails?|email\ addresses?|electronic\ address)\s*:?\s*)?   # "; E-Mails:"
                        [\w.+-]+@[\w-]+(?:\.[\w-]+)+\.?(?:\s*\([^()]{1,15}\))?                  # "a@b.it (B.L.)"
                        """, re.IGNORECASE | re.VERBOSE)
_CONTINUED = re.compile(r"(?:[,\-–/&]|\b(?:of|and|for|the|de|di|der|und|et|y))\s*$", re.IGNORECASE)
MAX_AFFILIATION_CHARS = 400
MAX_PROSE_WORDS = 2


def affiliation_text(text: str) -> str:
    """An affiliation as it should read: its opening mark, e-mail addresses and their labels left out."""
    text = _EMAIL.sub("", _AFFILIATION_OPENING.sub("", text.strip(), count=1))
    text = re.sub(r"(?:[;,]\s*)+(?=[;,]|$)", "", re.sub(r"\s+", " ", text))
    return text.strip(" ;,.*†‡§¶")


def _reads_as_affiliation(text: str) -> bool:
    return (0 < len(text) <= MAX_AFFILIATION_CHARS and bool(_INSTITUTION.search(text))
            and not _NOT_AFFILIATION.match(text) and len(_PROSE_WORDS.findall(text)) <= MAX_PROSE_WORDS)


def affiliations(blocks: list[list[str]], marked_only: bool = False) -> list[str]:
    """The affiliations among the lines of ``blocks`` (the front matter after a byline, or the foot of a first
    page): a line opening on a mark ("1 ", "(2) ", "a ") starts one and the lines after it in its block go on with
    it; a line starts one too when unmarked, unless the line before breaks off (a comma, "of", "and") or it goes on
    in lower case. Notes among them (correspondence, dates, editors, a DOI, a citation) end one and are left out.
    ``marked_only`` (a page's foot) keeps only marked ones, and not those that name a person first (a referee's or
    an editor's line)."""
    items: list[tuple[bool, bool, list[str]]] = []  # (marked, a note, lines)
    for block in blocks:
        text = _OPENING_AT_LINE_END.sub(lambda m: f"\n{m.group(1)} ", "\n".join(block))
        pieces = [piece for line in text.split("\n") for piece in _INLINE_OPENING.split(line) if piece.strip()]
        for n, line in enumerate(pieces):
            marked = bool(_AFFILIATION_OPENING.match(line))
            unmarked = _AFFILIATION_OPENING.sub("", line, count=1)
            note = bool(_NOT_AFFILIATION.match(unmarked) or _DOI_OR_LINK.search(line) or _CITATION.search(line))
            breaks_off = bool(items) and (bool(_CONTINUED.search(items[-1][2][-1])) or line.lstrip()[:1].islower())
            if items and not marked and not note and (breaks_off or items[-1][0] and n > 0):
                items[-1][2].append(line)
            else:
                items.append((marked, note, [line]))
    found: list[str] = []
    for marked, note, item in items:
        text = affiliation_text(join_lines(item))
        first_part = text.split(",")[0].strip()
        person = marked_only and _NAME.match(first_part) and not _INSTITUTION.search(first_part)
        wanted = (marked or not marked_only) and not note and not person
        if wanted and _reads_as_affiliation(text) and text not in found:
            found.append(text)
    return found


# Front matter before the title: the journal's citation ("2024; 9(2): 88-93", "2023;15(3):201-204", "(2022) 4,"),
# a DOI or link, the article type ("CASE REPORT", "Clinical Note | Nephrology")
_CITATION = re.compile(r"\b(?:19|20)\d\d\)?\s*[;,:]\s*\(?[eS]?\d|\b\d+\s*\(\d+\)\s*:?\s*[eS]?\d")
_DOI_OR_LINK = re.compile(r"\bdoi\b|\b10\.\d{4,9}/|https?://|\bwww\.", re.IGNORECASE)
_ARTICLE_TYPE = re.compile(r"""^(?:
    case\ reports?                                               # "Case Report"
  | short\ (?:communication|report)|brief\ (?:communication|report)  # "Brief Report"
  | letters?(?:\ to\ the\ editor)?|correspondence                  # "Letter to the Editor"
  | clinical\ (?:notes?|letters?|images?)|research\ letters?        # "Clinical Images"
  | original\ (?:article|research)|editorial|review(?:\ article)?   # "Original Article"
  | images?\ in\ \w+                                              # "Images in Haematology"
    )\b[^.]{0,60}$""", re.IGNORECASE | re.VERBOSE)
MAX_FRONT_BLOCKS = 4  # blocks of front matter looked past for the title
# the article type a front-matter line names, in JATS's words ("Editorial | 2025" is an editorial)
_JATS_ARTICLE_TYPES = (("editorial", "editorial"), ("review", "review-article"), ("case report", "case-report"),
                       ("letter", "letter"), ("correspondence", "letter"))


def _is_front_matter(block: str) -> bool:
    """A block of the journal's front matter; the journal's name may stand with its citation."""
    lines = [line.strip() for line in block.split("\n") if line.strip()]
    return any(_CITATION.search(line) or _DOI_OR_LINK.search(line) for line in lines) or all(
        _ARTICLE_TYPE.match(line) for line in lines)


def _article_type(front: str) -> str:
    """The article type the journal's front matter names, if it names one of _JATS_ARTICLE_TYPES."""
    for line in front.split("\n"):
        named = _ARTICLE_TYPE.match(line.strip().split("|")[0].strip())
        if named:
            return next((jats for words, jats in _JATS_ARTICLE_TYPES if named.group(0).lower().startswith(words)), "")
    return ""


def _title_and_authors(texts: list[str]) -> tuple[str, list[str], list[str]]:
    """The first block past the front matter, when it reads as a title, the byline in the block after it and the
    affiliations after the byline."""
    for i, block in enumerate(texts[:MAX_FRONT_BLOCKS]):
        if _is_front_matter(block):
            continue
        if not _looks_like_title(block):
            return "", [], []
        title = join_lines(_MARKDOWN_HEADING.sub("", block).split("\n"))
        names = texts[i + 1].strip().split("\n") if i + 1 < len(texts) else []
        authors = byline(names)
        affiliated = _front_affiliations(names[len(_byline_lines(names)):], texts[i + 2:]) if authors else []
        return title, authors, affiliated
    return "", [], []


MAX_AFFILIATION_BLOCKS = 3  # blocks after the byline's looked at for affiliations
_SENTENCE_BREAK = re.compile(r"[a-z]{2}[.!?]\s+[A-Z]")  # running prose; "C.N.R. Institute" is none


def _front_affiliations(rest_of_byline: list[str], following: list[str]) -> list[str]:
    """Affiliations in the lines after the byline and the blocks after it, up to a heading or running prose."""
    taken = [rest_of_byline]
    for block in following[:MAX_AFFILIATION_BLOCKS]:
        block_lines = [line for line in block.split("\n") if line.strip()]
        first = block_lines[0] if block_lines else ""
        if not first or looks_like_heading(first) or _MARKDOWN_HEADING.match(first) or _SENTENCE_BREAK.search(
                " ".join(block_lines)):
            break
        taken.append(block_lines)
    return affiliations(taken)


_BULLET = re.compile(r"^\s*(?:[-*•–·]|\d{1,2}[.)])\s+")
_MARKDOWN_HEADING = re.compile(r"^\s*#{1,6}\s+")
# a heading set between runs of a mark: "=== Patient 2 ===", "*** Case B ***", "-- Follow-up --"
_DECORATED_HEADING = re.compile(r"^\s*(?P<mark>[=*~#+-])(?P=mark)+\s*(?P<title>[^\W\d_].*?)\s*(?P=mark){2,}\s*$")


def _heading_words(line: str) -> str:
    """A line without the marks that set it out as a heading ("## Case 2", "=== Patient 2 ===")."""
    decorated = _DECORATED_HEADING.match(line)
    return decorated.group("title") if decorated else _MARKDOWN_HEADING.sub("", line)


# a box drawn in characters around its lines ("+------+" over "| PID 1: fever |" lines)
_BOX_RULE = re.compile(r"^\s*\+[-=+]{3,}\+\s*$")
_BOX_LINE = re.compile(r"^\s*\|(?P<text>.*)\|\s*$")


def _box_lines(lines: list[str]) -> list[str] | None:
    """The lines of a box drawn around them ("Key dates" and "PID 1: fever 39.2 C" between "+---+" rules and "|"
    borders), each a line of its own; None when the block is no such box."""
    if len(lines) < 3 or not (_BOX_RULE.match(lines[0]) and _BOX_RULE.match(lines[-1])):
        return None
    inner = [line for line in lines[1:-1] if not _BOX_RULE.match(line)]
    if not all(_BOX_LINE.match(line) for line in inner):
        return None
    return [text for text in (_BOX_LINE.match(line).group("text").strip() for line in inner) if text]


_CELL_GAP = re.compile(r"\s*\t+\s*")  # between an entry's cells ("Day 9<tab>TPE session 3" is no "9 TPE sessions")


def _tabbed_rows(lines: list[str]) -> bool:
    """Lines set out in tab-separated columns that were not read as a table (a timeline whose events are
    sentences): each line is an entry of its own, not a part of one paragraph."""
    return len(lines) >= 2 and all(sum(1 for cell in line.split("\t") if cell.strip()) >= 2 for line in lines)


# a line of a list of named values: a short label, a colon, its value ("CRP (mg/dL): 24.8->7.1")
_KEY_VALUE_LINE = re.compile(r"^\s*[A-Za-zα-ωΑ-Ω][^:.]{0,40}:\s+\S")


def _list_start(lines: list[str]) -> int | None:
    """Where a block's list begins: its first line, or a later one when the lines before it lead into the list;
    None unless the block ends in two or more bulleted or numbered lines."""
    start = len(lines)
    while start > 0 and _BULLET.match(lines[start - 1]):
        start -= 1
    return start if len(lines) - start >= 2 and not any(_BULLET.match(line) for line in lines[:start]) else None


def _list_items(lines: list[str]) -> list[str]:
    """A list's items without their bullets; an item indented under another goes on telling it ("* 18 March:
    confused" over "    - First plasma exchange in the afternoon": the exchange is of 18 March)."""
    items: list[str] = []
    indent = None
    for line in lines:
        depth = len(line) - len(line.lstrip())
        text = _BULLET.sub("", line).strip()
        if items and indent is not None and depth > indent:
            items[-1] = f"{items[-1]}{'' if re.search(r'[.!?:;]$', items[-1]) else '.'} {text}"
        else:
            items.append(text)
            indent = depth
    return items


def _is_running_prose(text: str) -> bool:
    """Sentences one after another, as no title, byline or affiliation is written."""
    return len(text) >= 150 and len(_SENTENCE_BREAK.findall(text)) >= 2


def parse_text(text: str, source_file: str, format_name: str = "text") -> list[Document]:
    text = read_in_order(text.replace("\r\n", "\n").replace("\r", "\n"))
    blocks = [b for b in re.split(r"\n\s*\n", text) if b.strip()]
    return blocks_to_document(find_tables(blocks), source_file, format_name)


def _looks_like_title(block: str) -> bool:
    """A short first block that is not running prose (a report may start straight with its case)."""
    text = clean_inline(block)
    return 0 < len(text) <= 300 and not re.search(r"[.!?]\s+[A-Z(]", text)


def blocks_to_document(blocks: list, source_file: str, format_name: str = "text") -> list[Document]:
    """Paragraph blocks (strings, lines kept) and tables (TextTables, or rows of cell texts) into a Document."""
    texts = [b for b in blocks if isinstance(b, str)]
    head = "\n".join(texts[:8])
    doi_match = DOI_PATTERN.search("\n".join(texts)[:5000])
    pmid_match = _PMID.search(head)
    has_title = bool(texts) and _looks_like_title(texts[0])
    title, authors, affiliated = _title_and_authors(texts)
    # the journal's citation line dates the article; else the name it was saved under ("ferreyra2024_poster"), which
    # a curator gave it; else the first year of its opening text, which may be another's ("the 2019 consensus")
    front = "\n".join(block for block in texts[:MAX_FRONT_BLOCKS] if _is_front_matter(block))
    year = _YEAR.search(front) or _YEAR_IN_NAME.search(PurePath(source_file).stem) or _YEAR.search(head)
    builder = DocumentBuilder(
        doc_id=make_doc_id(doi=doi_match.group(1) if doi_match else None,
                           pmid=pmid_match.group(1) if pmid_match else None, source_file=source_file),
        source_file=source_file, format=format_name, doi=doi_match.group(1).lower() if doi_match else None,
        pmid=pmid_match.group(1) if pmid_match else None, title=title[:500], year=int(year.group(1)) if year else None,
        authors=authors, affiliations=affiliated, article_type=_article_type(front),
    )
    builder.open_section("", "title")
    in_front = True
    first_text = True
    known = vocabulary("\n".join(texts))
    for block in blocks:
        if not isinstance(block, str):
            table = block if isinstance(block, TextTable) else TextTable(cell_grid(block))
            builder.add_table(table.rows, label=table.label, caption=table.caption, footnotes=table.footnotes)
            continue
        # a rule drawn across the page ("-----", "═════") sets parts apart; it is no text of theirs
        lines = [line for line in block.split("\n") if line.strip() and not RULE_LINE.match(line)]
        if not lines:
            continue
        if first_text:
            first_text = False
            if has_title:
                builder.add_block(block, "title")
                continue
            builder.close_section()
            builder.open_section("")
        # A heading may stand alone or head its paragraph on the first line.
        first = _heading_words(lines[0])
        # a line over a list stands alone as a heading does: "Drugs considered but not given" over "- Siltuximab: ..."
        over_a_list = len(lines) >= 3 and all(_BULLET.match(line) for line in lines[1:])
        # a few words on their own line over a paragraph that opens a sentence: "The index case" over "The index
        # case is a 21-year-old woman ..."
        over_a_paragraph = len(lines) >= 2 and len(first.split()) <= 5 and len(first) <= 40 and lines[1][:1].isupper()
        standalone = len(lines) == 1 or over_a_list or over_a_paragraph
        # running prose ends the front matter: a short line over it heads it ("Editorial note" over "This series
        # publishes ..."), and so do the short lines after it ("Commentary")
        over_prose = over_a_paragraph and _is_running_prose(" ".join(lines[1:]))
        if looks_like_heading(first, standalone=standalone, in_front=in_front and not over_prose) or (
                first != lines[0] and len(first) <= 80):
            in_front = False
            builder.close_section()
            builder.open_section(first.strip().rstrip(":"))
            lines = lines[1:]
        if not lines:
            continue
        in_front = in_front and not _is_running_prose(" ".join(lines))
        boxed = _box_lines(lines)
        if boxed is not None:
            for line in boxed:
                builder.add_block(line, "list-item")
        elif (lead := _list_start(lines)) is not None:
            if lead:  # "Course:" or a sentence leading into the list, on the line before its first item
                builder.add_block(join_lines(lines[:lead], known))
            for item in _list_items(lines[lead:]):
                builder.add_block(item, "list-item")
        elif sum(bool(_KEY_VALUE_LINE.match(line)) for line in lines) >= max(2, len(lines) * 2 / 3):
            for line in lines:  # "IL-6 (pg/mL): 6,380->415", "Ferritin (ng/mL): 22,450->8,120": one entry a line
                builder.add_block(line.strip(), "list-item")
        elif _tabbed_rows(lines):
            for line in lines:
                builder.add_block(_CELL_GAP.sub(": ", line.strip()), "list-item")
        else:
            builder.add_block(join_lines(lines, known))
    return [builder.build()]
