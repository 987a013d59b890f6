"""Gold readers and metrics of the PDF layout benchmark (bench/pdf_layout.py).

A gold article is read from its structured XML (JATS/NLM, BioMed Central ``art``, GROBID training TEI) into a
``Gold``; what a parser read from the PDF is a ``Reading``; ``score`` compares the two.

Metrics, each in [0, 1] (None where the gold has nothing to compare):
- title: similarity (rapidfuzz ratio) and exactness of titles compared without case, spacing and punctuation;
- abstract: F1 of the characters of the gold abstract matched in order (longest common subsequence), spacing
  ignored;
- body: share of gold paragraphs with >= 90 % of their characters found in order in one stretch of the parser's
  text (the paragraph's length plus a little slack), spacing ignored;
- headings: share of gold section headings (numbering stripped) that the parser has as a heading (fuzzy >= 0.9);
- cells: share of gold table cells found, as whole cells, among the parser's table cells;
- words: share of the gold body's words, counted with repeats, found as separate words in the parser's text;
- journal: the journal's name, exact when compared without case, spacing and punctuation;
- doi: the article's own DOI, exact (case aside);
- affiliations: share of gold affiliations (marks and contact addresses left out) that one of the parser's
  matches with a similarity (rapidfuzz ratio, letters and digits only) of AFFILIATION_FOUND or more.
A parser that does not read a field (plain pdfplumber names no journal and no affiliations) is scored None there.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import fuzz, process
from rapidfuzz.distance import LCSseq

from pipeline.parsing.safexml import local_name, parse_xml

MIN_PARAGRAPH_ALNUM = 30  # shorter gold paragraphs (labels, stray lines) are not scored
PARAGRAPH_FOUND = 0.9  # share of a paragraph's characters found in order for it to count as found
HEADING_FOUND = 90  # rapidfuzz ratio (0-100) for a heading to count as recovered
AFFILIATION_FOUND = 85  # rapidfuzz ratio (0-100) for an affiliation to count as found
ANCHOR = 16  # characters of a paragraph looked up verbatim to place it in the parser's text
MAX_ANCHORS = 20
MAX_PLACES_PER_ANCHOR = 5

_SAME_CHARACTER = str.maketrans({
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
    "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00ad": None,
})
_BLOCKS = frozenset({"p", "title", "st", "sec", "list", "list-item", "item", "label", "caption", "td", "th", "entry",
                     "head", "div"})  # elements whose text is not run into their neighbours' words
_NUMBERING = re.compile(r"^\s*(?:\d+(?:\.\d+)*\.?|[IVX]+\.|[A-Z]\.)\s*")


@dataclass
class Gold:
    title: str = ""
    abstract: str = ""
    paragraphs: list[str] = field(default_factory=list)
    headings: list[str] = field(default_factory=list)
    cells: list[str] = field(default_factory=list)
    tables: int = 0
    journal: str = ""
    doi: str = ""
    affiliations: list[str] = field(default_factory=list)


@dataclass
class Reading:
    """What a parser read from a PDF: ``text`` is all of it in reading order, ``headings`` its section titles;
    None for a field the parser does not read."""
    title: str = ""
    abstract: str = ""
    text: str = ""
    headings: list[str] = field(default_factory=list)
    cells: list[str] = field(default_factory=list)
    journal: str | None = None
    doi: str | None = None
    affiliations: list[str] | None = None


# --- text normalisation ---------------------------------------------------------------------------------------

def canonical(text: str) -> str:
    """NFKC (ligatures, full-width forms), one hyphen, one apostrophe and one quote mark, no soft hyphens."""
    return unicodedata.normalize("NFKC", text or "").translate(_SAME_CHARACTER)


def unspaced(text: str) -> str:
    return re.sub(r"\s+", "", canonical(text))


def collapse(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def bare(text: str) -> str:
    """Letters and digits only, case folded: what titles, headings and cells are compared on."""
    return "".join(ch for ch in canonical(text).casefold() if ch.isalnum())


def strip_numbering(heading: str) -> str:
    return _NUMBERING.sub("", canonical(heading), count=1)


def words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", canonical(text).casefold())


# --- metrics ----------------------------------------------------------------------------------------------------

def title_similarity(gold: str, found: str) -> float:
    return fuzz.ratio(bare(gold), bare(found)) / 100


def title_exact(gold: str, found: str) -> bool:
    return bool(bare(gold)) and bare(gold) == bare(found)


def abstract_f1(gold: str, found: str) -> float:
    gold, found = unspaced(gold), unspaced(found)
    if not gold or not found:
        return 0.0
    common = LCSseq.similarity(gold, found)
    precision, recall = common / len(found), common / len(gold)
    return 2 * precision * recall / (precision + recall) if common else 0.0


def paragraph_found(paragraph: str, text: str) -> bool:
    """``paragraph`` (spacing ignored) has PARAGRAPH_FOUND of its characters in order within one stretch of
    ``text`` (already unspaced) as long as the paragraph plus a tenth: a page number or a short running head
    between two pages of a paragraph fits, the other column's lines read in between do not."""
    paragraph = unspaced(paragraph)
    length = len(paragraph)
    if not length:
        return False
    slack = int(0.1 * length) + 20
    needed = PARAGRAPH_FOUND * length
    for start in _places(paragraph, text):
        window = text[max(0, start - slack): start + length + slack]
        if LCSseq.similarity(paragraph, window, score_cutoff=int(needed)) >= needed:
            return True
    return False


def _places(paragraph: str, text: str) -> list[int]:
    """Where ``paragraph`` would start in ``text``, from verbatim pieces of it found there."""
    length = len(paragraph)
    anchor = min(ANCHOR, length)
    step = max(anchor, (length - anchor) // MAX_ANCHORS or 1)
    starts: list[int] = []
    for offset in range(0, length - anchor + 1, step):
        piece, at = paragraph[offset: offset + anchor], -1
        for _ in range(MAX_PLACES_PER_ANCHOR):
            at = text.find(piece, at + 1)
            if at < 0:
                break
            start = at - offset
            if all(abs(start - s) > anchor for s in starts):
                starts.append(start)
    return starts


def paragraphs_found(paragraphs: list[str], text: str) -> float | None:
    if not paragraphs:
        return None
    text = unspaced(text)
    return sum(paragraph_found(p, text) for p in paragraphs) / len(paragraphs)


def headings_recovered(gold: list[str], found: list[str]) -> float | None:
    gold_keys = [k for k in (bare(strip_numbering(h)) for h in gold) if k]
    if not gold_keys:
        return None
    found_keys = list({k for k in (bare(strip_numbering(h)) for h in found) if k})
    hits = sum(process.extractOne(k, found_keys, scorer=fuzz.ratio, score_cutoff=HEADING_FOUND) is not None
               for k in gold_keys) if found_keys else 0
    return hits / len(gold_keys)


def cells_recovered(gold: list[str], found: list[str]) -> float | None:
    """Share of gold cells (empty ones left out) found among the parser's cells, each found cell used once."""
    gold_keys = [k for k in (unspaced(c).casefold() for c in gold) if k]
    if not gold_keys:
        return None
    available = Counter(unspaced(c).casefold() for c in found if c)
    hits = 0
    for key in gold_keys:
        if available[key] > 0:
            available[key] -= 1
            hits += 1
    return hits / len(gold_keys)


def word_accuracy(gold_body: str, text: str) -> float | None:
    gold_words = Counter(words(gold_body))
    if not gold_words:
        return None
    found = Counter(words(text))
    return sum(min(n, found[w]) for w, n in gold_words.items()) / sum(gold_words.values())


def journal_exact(gold: str, found: str) -> bool:
    return bool(bare(gold)) and bare(gold) == bare(found)


def doi_exact(gold: str, found: str) -> bool:
    return bool(gold.strip()) and gold.strip().casefold() == (found or "").strip().casefold()


def affiliations_found(gold: list[str], found: list[str]) -> float | None:
    """Share of gold affiliations with a found affiliation as similar as AFFILIATION_FOUND or more."""
    gold_keys = [k for k in (bare(a) for a in gold) if k]
    if not gold_keys:
        return None
    found_keys = [k for k in (bare(a) for a in found) if k]
    hits = sum(process.extractOne(k, found_keys, scorer=fuzz.ratio, score_cutoff=AFFILIATION_FOUND) is not None
               for k in gold_keys) if found_keys else 0
    return hits / len(gold_keys)


METRICS = ("title", "title_exact", "abstract", "body", "headings", "cells", "words", "journal", "doi", "affiliations")


def score(gold: Gold, reading: Reading) -> dict[str, float | None]:
    return {
        "title": title_similarity(gold.title, reading.title) if gold.title else None,
        "title_exact": float(title_exact(gold.title, reading.title)) if gold.title else None,
        "abstract": abstract_f1(gold.abstract, reading.abstract) if gold.abstract.strip() else None,
        "body": paragraphs_found(gold.paragraphs, reading.text),
        "headings": headings_recovered(gold.headings, reading.headings),
        "cells": cells_recovered(gold.cells, reading.cells),
        "words": word_accuracy("\n".join(gold.paragraphs), reading.text),
        "journal": float(journal_exact(gold.journal, reading.journal)) if gold.journal and reading.journal is not None
        else None,
        "doi": float(doi_exact(gold.doi, reading.doi)) if gold.doi and reading.doi is not None else None,
        "affiliations": affiliations_found(gold.affiliations, reading.affiliations)
        if reading.affiliations is not None else None,
    }


# --- gold readers -----------------------------------------------------------------------------------------------

def read_gold(folder: Path) -> Gold:
    """The gold of one pair folder: ``gold.xml`` (and ``gold_header.xml`` beside a GROBID TEI)."""
    path = folder / "gold.xml"
    root = parse_xml(path.read_bytes(), str(path))
    kind = local_name(root)
    if kind == "article":
        return read_jats(root)
    if kind == "art":
        return read_bmc(root)
    if kind in ("tei", "TEI"):
        header = folder / "gold_header.xml"
        return read_tei(root, parse_xml(header.read_bytes(), str(header)) if header.exists() else None)
    raise ValueError(f"{path}: unknown gold format <{kind}>")


def text_of(element, leaving: frozenset[str] = frozenset()) -> str:
    """The text of ``element``, whitespace collapsed, without what lies in elements named in ``leaving``: the XML's
    own text, not pecrs' reading of it (pipeline.parsing.xmltext drops footnote marks and marks superscripts)."""
    return collapse("".join(_pieces(element, leaving))) if element is not None else ""


def _pieces(element, leaving: frozenset[str]):
    if not isinstance(element.tag, str):  # a comment or processing instruction
        return
    yield element.text or ""
    for child in element:
        name = local_name(child)
        if name not in leaving:
            block = name in _BLOCKS
            yield " " if block else ""
            yield from _pieces(child, leaving)
            yield " " if block else ""
        yield child.tail or ""


def _all(element, name: str) -> list:
    return [e for e in element.iter() if local_name(e) == name]


def _first(element, *path: str):
    """The first element down ``path`` of local names (each step any depth below the previous one)."""
    found = [element]
    for name in path:
        found = [e for parent in found for e in _all(parent, name) if e is not parent]
        if not found:
            return None
    return found[0]


def _inside(element, names: set[str], stop) -> bool:
    parent = element.getparent()
    while parent is not None and parent is not stop:
        if local_name(parent) in names:
            return True
        parent = parent.getparent()
    return False


def _paragraphs(body, outside: frozenset[str]) -> list[str]:
    """Paragraphs of ``body`` outside ``outside`` (tables, figures, captions) with enough letters and digits;
    a paragraph within a paragraph (a list in it) counts with its parent, a table or figure within one without."""
    if body is None:
        return []
    texts = [text_of(p, outside) for p in _all(body, "p") if not _inside(p, outside | {"p"}, body)]
    return [t for t in texts if sum(ch.isalnum() for ch in t) >= MIN_PARAGRAPH_ALNUM]


def _section_titles(body, title: str) -> list[str]:
    """The titles (elements named ``title``) of every section (``sec``) of ``body``, empty ones left out."""
    if body is None:
        return []
    texts = [text_of(t) for sec in _all(body, "sec") for t in sec if local_name(t) == title]
    return [t for t in texts if t]


_CONTACT = re.compile(r"[;,]?\s*e-?mails?\b.*$", re.IGNORECASE)  # "; E-Mails: ..." after an affiliation


def _affiliation(element, leaving: frozenset[str] = frozenset({"label", "sup", "email"})) -> str:
    """An affiliation's text without its mark and contact address."""
    return _CONTACT.sub("", text_of(element, leaving)).strip(" ;,.")


def _jats_affiliations(meta) -> list[str]:
    """The article's own affiliations: those of article-meta, less those only its editors or reviewers cite."""
    if meta is None:
        return []
    own, others = set(), set()
    for contrib in _all(meta, "contrib"):
        cited = {x.get("rid") for x in _all(contrib, "xref") if x.get("ref-type") == "aff"}
        (own if contrib.get("contrib-type", "author") == "author" else others).update(cited)
    found = []
    for aff in _all(meta, "aff"):
        parent = aff.getparent()
        if local_name(parent) == "contrib" and parent.get("contrib-type", "author") != "author":
            continue
        if aff.get("id") in others and aff.get("id") not in own:
            continue
        found.append(_affiliation(aff))
    return [a for a in found if a]


def read_jats(root) -> Gold:
    meta = _first(root, "front", "article-meta")
    title = _first(meta, "title-group", "article-title") if meta is not None else None
    abstracts = [a for a in _all(meta, "abstract") if not a.get("abstract-type")] if meta is not None else []
    body = _first(root, "body")
    outside = frozenset({"table-wrap", "fig", "caption", "supplementary-material"})
    headings = _section_titles(body, "title")
    wraps = _all(root, "table-wrap")
    return Gold(
        title=text_of(title),
        abstract=" ".join(text_of(a) for a in abstracts[:1]),
        paragraphs=_paragraphs(body, outside),
        headings=headings,
        cells=[text_of(c) for w in wraps for c in w.iter() if local_name(c) in ("td", "th")],
        tables=len(wraps),
        journal=text_of(_first(root, "front", "journal-meta", "journal-title")),
        doi=next((text_of(i) for i in (meta if meta is not None else []) if local_name(i) == "article-id"
                  and i.get("pub-id-type") == "doi"), ""),
        affiliations=_jats_affiliations(meta),
    )


def read_bmc(root) -> Gold:
    body = _first(root, "bdy")
    outside = frozenset({"st", "table", "fig", "caption", "title", "suppl"})
    headings = _section_titles(body, "st")
    tables = _all(root, "table")
    bibl = _first(root, "fm", "bibl")
    xrefbib = _first(bibl, "xrefbib") if bibl is not None else None
    ids = _all(xrefbib, "pubid") if xrefbib is not None else []
    institutions = [ins for group in (bibl if bibl is not None else []) if local_name(group) == "insg"
                    for ins in _all(group, "ins")]
    return Gold(
        title=text_of(_first(root, "fm", "bibl", "title")),
        abstract=text_of(_first(root, "fm", "abs")),
        paragraphs=_paragraphs(body, outside),
        headings=headings,
        cells=[text_of(e) for t in tables for e in t.iter() if local_name(e) == "entry"],
        tables=len(tables),
        journal=text_of(_first(bibl, "source")) if bibl is not None else "",  # the article's own citation
        doi=next((text_of(i) for i in ids if i.get("idtype") == "doi"), ""),
        affiliations=[a for a in (_affiliation(i) for i in institutions) if a],
    )


def read_tei(root, header=None) -> Gold:
    """GROBID training TEI: ``<head>`` and ``<p>`` in the full text, title and abstract in the header file."""
    text = _first(root, "text")
    abstract = [d for d in _all(header, "div") if d.get("type") == "abstract"] if header is not None else []
    tables = [f for f in _all(root, "figure") if f.get("type") == "table"]
    heads = [text_of(e) for e in _all(text, "head") if not _inside(e, {"figure"}, text)] if text is not None else []
    return Gold(
        affiliations=[_NUMBERING.sub("", a) for a in _tei_affiliations(header)],
        title=text_of(_first(header, "titlePart")) if header is not None else "",
        abstract=text_of(abstract[0]) if abstract else "",
        paragraphs=_paragraphs(text, frozenset({"figure", "note"})),
        headings=[h for h in heads if h],
        cells=[text_of(c) for t in tables for c in t.iter() if local_name(c) == "cell"],
        tables=len(tables),
    )


def _tei_affiliations(header) -> list[str]:
    """A GROBID header's affiliations, each with the address set after its byline."""
    if header is None:
        return []
    found = []
    for affiliation in _all(header, "affiliation"):
        text = _affiliation(affiliation)
        byline = affiliation.getparent()
        following = byline.getnext() if byline is not None and local_name(byline) == "byline" else None
        if following is not None and local_name(following) == "address":
            text = f"{text}, {text_of(following)}"
        found.append(text)
    return [a for a in found if a]
