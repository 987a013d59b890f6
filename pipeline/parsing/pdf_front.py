"""Front matter of a PDF article from typography: the title is the largest text near the top of the first page
that is not a banner, a running head or a label; the byline follows it; the abstract is the first block of prose
after the title group, labelled or not, and runs to keywords, a heading or a change of type size."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.document.ids import DOI_PATTERN
from pipeline.parsing.pagelayout import join_lines
from pipeline.parsing.pdf_layout import SIZE_STEP, Block, line_text
from pipeline.parsing.plaintext import byline

TITLE_ZONE = 0.6  # of the first page's height: where the title starts
MIN_TITLE_LETTERS = 12  # a journal's logo or an article type has fewer
MIN_ABSTRACT_CHARS = 200  # an unlabelled abstract is a paragraph, not a line
CITED_DOI_REACH = 300  # characters around "Cite this article" searched for the article's DOI
MAX_CAPITALISED_SHARE = 0.35  # of a block's words: more are names and places (affiliations, a byline)
_LABEL = re.compile(r"""^(?:
    open\ access                                                  # "Open Access"
  | case\ reports?|case\ study                                    # "CASE REPORT"
  | research(?:\ article)?|(?:original|review)\ (?:article|research)  # "Original Article"
  | study\ protocol|methodology|article|review|letter             # "Review"
  | short\ (?:report|communication)|brief\ report                 # "Short Communication"
  | research\ (?:note|letter)                                     # "Research Letter"
  | editorial|commentary|perspective|opinion|hypothesis|correspondence  # "Commentary"
    )\W*$""", re.IGNORECASE | re.VERBOSE)
_NOT_TITLE = re.compile(r"""
    \bdoi\b|10\.\d{4,9}/|https?://|www\.               # "doi: 10.1186/...", "https://"
  | ©|copyright                                       # "© 2023"
  | \bvol(?:ume)?\.?\s*\d|\bissn\b                    # "Vol. 12", "ISSN"
  | \breceived\b|\baccepted\b|\bpublished\b           # "Received: 3 May 2023"
  | @                                                 # an e-mail address
    """, re.IGNORECASE | re.VERBOSE)
_NOT_ABSTRACT = re.compile(r"""
    ©|\b[Cc]opyright\b|\blicen[cs]e\b|Creative\ Commons     # "under a Creative Commons license"
  | \b[Cc]orrespond|\b[Ee]-?mail\b|@                        # "Correspondence to", "E-mail:"
  | \bReceived\b|\bAccepted\b                              # "Received 3 May 2023"
  | Academic\ Editor|\bEdited\ by\b                         # "Academic Editor: ..."
  | \bAffiliations?\b                                       # "Affiliations"
    """, re.VERBOSE)
_ABSTRACT_LABEL = re.compile(r"^\s*(abstract|summary)\b\W*", re.IGNORECASE)
_SECTION = re.compile(r"""
    ^(?:\d+(?:\.\d+)*\.?\s+)?                                     # "2.1 "
    (?:introduction|background|case|methods?|materials|results?   # "Introduction"
     | discussion|conclusions?)\b                                 # "Discussion"
    """, re.IGNORECASE | re.VERBOSE)
_ABSTRACT_PART = re.compile(r"""^(?:
    abstract|summary|background|objectives?|aims?|purpose|introduction|context   # "Background:"
  | methods?|materials|design|setting|participants|interventions?              # "Methods:"
  | results?|findings|conclusions?|interpretation                             # "Conclusions:"
  | case\ (?:presentation|report|description|summary)                         # "Case presentation:"
    )\b""", re.IGNORECASE | re.VERBOSE)
_KEYWORDS = re.compile(r"^\s*(?:key\s*words?|index terms|abbreviations)\b", re.IGNORECASE)
_LINK = re.compile(r"\b10\.\d{4,9}/\S+|https?://\S+|www\.\S+", re.IGNORECASE)
_YEAR = re.compile(r"\b(19[5-9]\d|20[0-4]\d)\b")
_COPYRIGHT_YEAR = re.compile(r"©\s*(?:copyright\s*)?((?:19|20)\d\d)|copyright\s*(?:©\s*)?((?:19|20)\d\d)",
                             re.IGNORECASE)


@dataclass
class FrontMatter:
    title: str = ""
    title_blocks: tuple[int, ...] = ()
    authors: tuple[str, ...] = ()
    doi: str | None = None
    year: int | None = None
    abstract_label: str = ""
    abstract: tuple[int, int] | None = None  # blocks [start, end)


def _text(block: Block) -> str:
    return " ".join(block.texts).strip()


def _title_candidate(block: Block, height: float) -> bool:
    text = _text(block)
    return (block.page == 0 and block.top < TITLE_ZONE * height
            and sum(ch.isalpha() for ch in text) >= MIN_TITLE_LETTERS and len(text.split()) >= 2
            and not _LABEL.match(text) and not _NOT_TITLE.search(text) and len(text) <= 400)


def _title(blocks: list[Block], height: float, body: float) -> tuple[int, ...]:
    """Indexes of the title's blocks: the largest type among the candidates, with the blocks that go on in it. A
    title is set larger or bolder than the text (``body``, the size most of it is set in): where the first page has
    one type only, none is told."""
    candidates = [i for i, b in enumerate(blocks) if _title_candidate(b, height)]
    if not candidates:
        return ()
    largest = max(blocks[i].size for i in candidates)
    if largest <= body + SIZE_STEP and not any(blocks[i].bold and blocks[i].size >= body - SIZE_STEP for i in candidates):
        return ()
    first = next(i for i in candidates if blocks[i].size >= largest - SIZE_STEP)
    taken = [first]
    for i in range(first + 1, min(len(blocks), first + 4)):
        block = blocks[i]
        if block.page != 0 or abs(block.size - blocks[first].size) > SIZE_STEP or block.top < blocks[taken[-1]].top:
            break
        taken.append(i)
    return tuple(taken)


def _title_text(title: list[Block]) -> str:
    """The title's lines; of a title set in bold, only its bold words (a version note may follow it in the
    same size)."""
    lines = [line for block in title for line in block.lines]
    if not title[0].bold:
        return join_lines([line.text for line in lines]).strip()
    return join_lines([line_text([w for w in line.words if w.bold]) for line in lines]).strip()


def _doi(blocks: list[Block]) -> str | None:
    """The first DOI of the first page, or else the one by "Cite this article" (BMC prints it at the end), or
    else the first of the second page."""
    found = DOI_PATTERN.search("\n".join(_text(b) for b in blocks if b.page == 0))
    if not found:
        text = "\n".join(_text(b) for b in blocks)
        cited = re.search(r"cite this article", text, re.IGNORECASE)
        if cited:
            found = DOI_PATTERN.search(text, max(0, cited.start() - CITED_DOI_REACH), cited.end() + CITED_DOI_REACH)
    if not found:
        found = DOI_PATTERN.search("\n".join(_text(b) for b in blocks if b.page == 1))
    return found.group(1).lower() if found else None


def _year(blocks: list[Block]) -> int | None:
    """The copyright year of the first page, or else its latest year (received, accepted, published; the
    works it cites are older); years inside DOIs and links do not count."""
    first_page = _LINK.sub(" ", "\n".join(_text(b) for b in blocks if b.page == 0))
    found = _COPYRIGHT_YEAR.search(first_page)
    if found:
        return int(next(g for g in found.groups() if g))
    years = [int(y) for y in _YEAR.findall(first_page)]
    return max(years) if years else None


def _prose(text: str) -> bool:
    """Running sentences, not an address list: long, ending a sentence, few capitalised words."""
    words = text.split()
    capitalised = sum(w[0].isupper() for w in words)
    return (len(text) >= MIN_ABSTRACT_CHARS and bool(re.search(r"[.!?]['\"’”)]?(?:$|\s+[A-Z])", text))
            and capitalised <= MAX_CAPITALISED_SHARE * len(words) and not _NOT_ABSTRACT.search(text))


def _opens_body(block: Block, run_in) -> bool:
    """The block opens on a run-in heading that is no part of a structured abstract ("Case 1.")."""
    label = run_in(block)
    return bool(label) and not _ABSTRACT_PART.match(label)


def abstract_label_end(text: str) -> int:
    """Where the text after an "Abstract"/"Summary" label it opens with starts (0 without the label)."""
    found = _ABSTRACT_LABEL.match(text)
    return found.end() if found else 0


def _abstract(blocks: list[Block], after: int, is_heading, run_in) -> tuple[str, tuple[int, int] | None]:
    """The abstract's label and its blocks: from an "Abstract" label, or else from the first block of prose
    after the title, to keywords, a heading, another type size or the next page."""
    window = [i for i in range(after, len(blocks)) if blocks[i].page <= 1][:40]
    start, label = None, ""
    for i in window:
        found = _ABSTRACT_LABEL.match(_text(blocks[i]))
        if found:
            label = found.group(1)
            start = i  # the label is left out of the text where the section opens
            break
    if start is None:
        for i in window:
            if is_heading(blocks[i]) and _SECTION.match(_text(blocks[i])) or _opens_body(blocks[i], run_in):
                return "", None
            if _prose(_text(blocks[i])):
                start = i
                break
    if start is None or start >= len(blocks):
        return label, None
    end = start + 1
    label_only = label and len(_ABSTRACT_LABEL.sub("", _text(blocks[start]))) <= 3
    if label_only and end < len(blocks):
        end += 1  # the label's block may be set larger than the text
    size = blocks[end - 1].size
    while end < len(blocks):
        block = blocks[end]
        text = _text(block)
        if (block.page != blocks[start].page or is_heading(block) or _KEYWORDS.match(text) or _opens_body(block, run_in)
                or abs(block.size - size) > SIZE_STEP or _NOT_ABSTRACT.search(text)):
            break
        end += 1
    return label, (start, end)


def front_matter(blocks: list[Block], first_page_height: float, body_size: float, is_heading, run_in) -> FrontMatter:
    """Title, byline, DOI, year and abstract from the blocks of the first pages in reading order;
    ``is_heading(block)`` tells a section heading, ``run_in(block)`` the run-in heading a block opens with."""
    front = FrontMatter()
    front.title_blocks = _title(blocks, first_page_height, body_size)
    if front.title_blocks:
        front.title = _title_text([blocks[i] for i in front.title_blocks])
        after = front.title_blocks[-1] + 1
        names = [line for block in blocks[after:after + 2] if block.page == 0 for line in block.texts]
        front.authors = tuple(byline(names))
    else:
        after = 0
    front.doi = _doi(blocks)
    front.year = _year(blocks)
    front.abstract_label, front.abstract = _abstract(blocks, after, is_heading, run_in)
    return front
