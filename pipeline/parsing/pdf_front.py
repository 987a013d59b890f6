"""Front matter of a PDF article from typography: the title is the largest text near the top of the first page
that is not a banner, a running head or a label; the byline follows it, then the affiliations (or they stand at
the foot of the first page, marked); the abstract is the first block of prose after the title group, labelled or
not, and runs to keywords, a heading or a change of type size. The journal is named by the running heads (with
its citation, or on every page), a citation line, "Published in" or the PDF's document information; the article's
own DOI is the one of the document information, the running heads or the front matter, before any it cites."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.document.ids import DOI_PATTERN
from pipeline.parsing.pagelayout import join_lines
from pipeline.parsing.pdf_layout import SIZE_STEP, Block, line_text
from pipeline.parsing.plaintext import affiliations, byline

TITLE_ZONE = 0.6  # of the first page's height: where the title starts
MIN_TITLE_LETTERS = 12  # a journal's logo or an article type has fewer
MIN_ABSTRACT_CHARS = 200  # an unlabelled abstract is a paragraph, not a line
CITED_DOI_REACH = 300  # characters around "Cite this article" searched for the article's DOI
FOOT_ZONE = 0.6  # of the first page's height: below it, small type after the abstract may hold affiliations
MAX_JOURNAL_WORDS = 12  # "Journal of the American Society for Blood and Marrow Transplantation" has 10
TITLE_LIKE_SHARE = 0.6  # of a running head's words found in the title: a short title, not the journal
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
    affiliations: tuple[str, ...] = ()
    journal: str = ""
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


_BROKEN_DOI = re.compile(r"\b10\.\d{4,9}/(?:\S*[./_-])?$")  # a DOI cut where it cannot end: "10.1371/journal.pone."


def _dois(lines: list[str]) -> list[str]:
    """The DOIs in ``lines`` in order, lower-cased; one broken at a line end after a dot, hyphen or slash (where a
    DOI cannot end) is joined to the next line's first word."""
    found = []
    for i, line in enumerate(lines):
        line = line.rstrip()
        following = lines[i + 1].split() if i + 1 < len(lines) else []
        if following and _BROKEN_DOI.search(line):
            line += following[0]
        found.extend(match.group(1).lower() for match in DOI_PATTERN.finditer(line))
    return found


def _latest_version(found: list[str]) -> str:
    """The first DOI, or of versions of it that differ only in their last number ("...4767.1", "...4767.2"), the
    latest: a versioned article prints its earlier versions' DOIs beside its own."""
    first = found[0]
    stem = re.sub(r"\d+$", "", first)
    versions = [d for d in found if re.fullmatch(re.escape(stem) + r"\d+", d)]
    return max(versions, key=lambda d: int(d[len(stem):])) if stem != first and len(versions) > 1 else first


def _doi(blocks: list[Block], front_end: int, heads: list[list[str]], metadata: dict[str, str]) -> str | None:
    """The article's own DOI: the document information's, else the running heads' or footers', else the front
    matter's (the title page up to the end of the abstract); else the one by "Cite this article" (BMC prints it at
    the end); else the first of the first page, or of the second."""
    for key in ("doi", "prism:doi", "Subject"):
        found = _dois([metadata.get(key, "")])
        if found:
            return found[0]
    found = _dois([text for page in heads for text in page])
    if found:
        return found[0]
    found = _dois([line for block in blocks[:front_end] if block.page == 0 for line in block.texts])
    if found:
        return _latest_version(found)
    text = "\n".join(_text(b) for b in blocks)
    cited = re.search(r"cite this article", text, re.IGNORECASE)
    if cited:  # the DOI nearest to it: the references before it cite others
        reach = (max(0, cited.start() - CITED_DOI_REACH), cited.end() + CITED_DOI_REACH)
        near = [(min(abs(m.start() - cited.end()), abs(m.end() - cited.start())), m.group(1).lower())
                for m in DOI_PATTERN.finditer(text, *reach)]
        if near:
            return min(near)[1]
    for page in (0, 1):
        found = _dois([line for block in blocks if block.page == page for line in block.texts])
        if found:
            return found[0]
    return None


_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
# what stands beside a journal's name in a running head or citation and is no part of it
_NOT_NAME = re.compile(rf"""
    (?:\bdoi\b\s*:?\s*|https?://|www\.)\S*                              # "DOI:10.1371/...", "www.x.org"
  | \b10\.\d{{4,9}}/\S+                                                 # "10.1186/..."
  | \bpage\s+\d+(?:\s*(?:of|/)\s*\d+)?                                # "Page 2 of 9"
  | \b(?:last\ updated|published(?:\ online)?|received|accepted)\b.*$    # "Last updated: 29 JAN 2015"
  | \b(?:author\ manuscript|downloaded\ from)\b.*$                      # "J Clin Apher. Author manuscript; ..."
  | \b(?:\d{{1,2}}\s+)?{_MONTH}\s+(?:\d{{1,2}},?\s+)?(?:19|20)\d\d\b      # "December 31, 2014"
    """, re.IGNORECASE | re.VERBOSE)
_CITATION_AFTER_NAME = re.compile(r"""
    \s\(?(?:19|20)\d\d\)?\s*[,;:]?\s*\d             # "2014, 15:511", "(2015) 69:1383", "2014; 4"
  | \s\d+\s*\(\d+\)\s*:                            # "9(12): e115884"
  | \s\d+\s*\((?:19|20)\d\d\)                        # "12 (2026) 345-350"
  | \s\d+\s*[,:;]\s*e?\d                            # "4: 150395"
  | \bvol(?:ume)?\.?\s*\d                            # "Vol. 12"
    """, re.IGNORECASE | re.VERBOSE)
_BY_AUTHORS = re.compile(r"^.*?\bet\s+al\b\.?[:,]?\s*", re.IGNORECASE)  # "Chiarotto et al. Trials 2014, 15:511"
_PUBLISHED_IN = re.compile(r"\bpublished\s+in:?\s+(?:the\s+)?([A-Z][^.,;:()\d]{2,80})")


_NOT_JOURNAL = re.compile(r"\b(?:copyright|licen[cs]ed?|rights\ reserved|personal\ use|by\ guest|terms\ of)\b",
                          re.IGNORECASE | re.VERBOSE)  # a notice in the footer


def _name_like(name: str) -> bool:
    """A journal's name: a few words, the first capitalised, no bare number, no sentence, no article type
    ("Case Report") or notice."""
    words = name.split()
    return (0 < len(words) <= MAX_JOURNAL_WORDS and name[0].isupper() and sum(ch.isalpha() for ch in name) >= 3
            and not _LABEL.match(name) and not _NOT_JOURNAL.search(name)
            and not any(w.strip("().,:;").isdigit() for w in words) and not re.search(r"[a-z]{2}\.\s", name)
            and not re.fullmatch(_MONTH, words[0], re.IGNORECASE))


def journal_in(text: str) -> tuple[str, bool]:
    """The journal's name a running head or citation line gives, and whether a citation (year, volume, pages),
    DOI or date stood with it: "Smith et al. Trials 2014, 15:511" -> ("Trials", True)."""
    stripped = _NOT_NAME.sub(" | ", text)
    cited = stripped != text
    for piece in _BY_AUTHORS.sub("", stripped).split("|"):
        citation = _CITATION_AFTER_NAME.search(" " + piece)
        name = (" " + piece)[:citation.start()] if citation else piece
        name = re.sub(r"\s+", " ", name).strip(" ,.;:-–—")
        if _name_like(name):
            return name, cited or bool(citation)
    return "", False


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W\d_]+", text.casefold())


def _journal_from_heads(heads: list[list[str]], title: str, surnames: set[str]) -> str:
    """The name the running heads give most often, one that stands with a citation before any other; a short
    title or the authors' names running on alternate pages are not a journal."""
    title_words = set(_words(title))
    seen: dict[str, list] = {}  # key -> [name, cited, pages]
    for page, texts in enumerate(heads):
        for text in texts:
            name, cited = journal_in(text)
            words = _words(name)
            if not words or surnames & set(words):
                continue
            if not cited and sum(w in title_words for w in words) >= TITLE_LIKE_SHARE * len(words):
                continue
            entry = seen.setdefault("".join(words), [name, False, set()])
            entry[1] = entry[1] or cited
            entry[2].add(page)
    if not seen:
        return ""
    name, _, _ = max(seen.values(), key=lambda entry: (entry[1], len(entry[2])))
    return name


def _journal(blocks: list[Block], front_end: int, heads: list[list[str]], metadata: dict[str, str], title: str,
             authors: tuple[str, ...]) -> str:
    """The journal's name: from the document information's subject when it reads as a citation, else from the
    running heads, else from a citation line or "Published in ..." in the front matter."""
    name, cited = journal_in(metadata.get("Subject", ""))
    if name and cited:
        return name
    surnames = {w for author in authors for w in _words(author.split(",")[0]) if len(w) > 2}
    name = _journal_from_heads(heads, title, surnames)
    if name:
        return name
    for block in blocks[:front_end]:
        if block.page != 0:
            continue
        for line in block.texts:
            published = _PUBLISHED_IN.search(line)
            if published and _name_like(published.group(1).strip()):
                return published.group(1).strip()
            name, cited = journal_in(line)
            dated = _YEAR.search(line) or DOI_PATTERN.search(line)
            if name and cited and dated and not surnames & set(_words(name)):
                return name
    return ""


# the heading of the list of affiliations; a superscript mark of the list's first line may stray into it ("Author1 details")
_AFFILIATIONS_HEADING = re.compile(r"^\W*(?:author\d*\s*details|affiliations|author\s*information)\W*\d*$",
                                   re.IGNORECASE)
# where one affiliation ends and the next begins in a list whose marks were set as superscripts and are lost:
# "... The Netherlands.Department of ...", "... USA. The George Institute ..."
_NEXT_AFFILIATION = re.compile(r"(?<=[^\W\d_]{2}\.)\s*(?=[A-Z]|\d{1,2}\s+[A-Z])")
MAX_DETAIL_BLOCKS = 3


def _listed_affiliations(blocks: list[Block]) -> tuple[str, ...]:
    """The affiliations listed under "Author details" or "Affiliations" at the end of the article (BioMed Central
    prints only the first on the title page)."""
    for i, block in enumerate(blocks):
        if not _AFFILIATIONS_HEADING.match(_text(block)):
            continue
        following = blocks[i + 1:i + 1 + MAX_DETAIL_BLOCKS]
        listed = [b for b in following if abs(b.size - following[0].size) <= SIZE_STEP]
        text = join_lines([line for b in listed for line in b.texts])
        return tuple(affiliations([[piece] for piece in _NEXT_AFFILIATION.split(text)]))
    return ()


def _front_affiliations(blocks: list[Block], after: int, before: int, height: float,
                        body_size: float) -> tuple[str, ...]:
    """Affiliations between the byline and the abstract (blocks ``after`` to ``before``), and those marked in
    small type at the foot of the first page after the abstract (Springer, BioMed Central)."""
    header = [block.texts for block in blocks[after:before] if block.page == 0]
    foot = [block.texts for block in blocks[before:] if block.page == 0 and block.top > FOOT_ZONE * height
            and block.size < body_size - SIZE_STEP]
    found = affiliations(header) if after else []
    return tuple(found + [a for a in affiliations(foot, marked_only=True) if a not in found])


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


def front_matter(blocks: list[Block], first_page_height: float, body_size: float, is_heading, run_in,
                 heads: list[list[str]] | None = None, metadata: dict[str, str] | None = None) -> FrontMatter:
    """Title, byline, affiliations, journal, DOI, year and abstract from the blocks of the first pages in reading
    order; ``is_heading(block)`` tells a section heading, ``run_in(block)`` the run-in heading a block opens with;
    ``heads`` are each page's running heads and footers, ``metadata`` the PDF's document information."""
    heads, metadata = heads or [], metadata or {}
    front = FrontMatter()
    front.title_blocks = _title(blocks, first_page_height, body_size)
    if front.title_blocks:
        front.title = _title_text([blocks[i] for i in front.title_blocks])
        after = front.title_blocks[-1] + 1
        names = [line for block in blocks[after:after + 2] if block.page == 0 for line in block.texts]
        front.authors = tuple(byline(names))
    else:
        after = 0
    front.abstract_label, front.abstract = _abstract(blocks, after, is_heading, run_in)
    body_start = next((i for i in range(after, len(blocks)) if blocks[i].page > 0 or is_heading(blocks[i])),
                      len(blocks))
    abstract_start, front_end = front.abstract if front.abstract else (body_start, body_start)
    front.affiliations = (_listed_affiliations(blocks[body_start:])
                          or _front_affiliations(blocks, after, abstract_start, first_page_height, body_size))
    front.journal = _journal(blocks, front_end, heads, metadata, front.title, front.authors)
    front.doi = _doi(blocks, front_end, heads, metadata)
    front.year = _year(blocks)
    return front
