"""JATS articles typeset as journal PDFs by headless Chromium, for the PDF round trip (bench/pdf_roundtrip.py and
tests/test_pdf_roundtrip.py); never used at run time.

A page is laid out as most journals lay out a case report: a one-column header (journal banner, article type,
title, authors, affiliations, DOI, abstract, keywords), then the body in two CSS columns, headings and paragraphs in
the order of the XML, tables across both columns with their captions and notes, references, a running head and page
numbers in the @page margin boxes. The look (page size, margins, fonts, sizes, line spacing, column gap, alignment,
table rules, narrow tables in a column or across, the abstract's label, headings in capitals or numbered, where the
page number sits) varies with the document's name, so that what reads these PDFs is not tuned to one template.

Words are not hyphenated at line ends: this Chromium has no hyphenation dictionary offline, and given soft hyphens
it writes a space into the PDF's text at each of them, broken there or not ("con ti nuous"), which no publisher's
PDF does.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from browser import CHROMIUM, CHROMIUM_ARGS
from pipeline.parsing.safexml import local_name, parse_xml
from pipeline.parsing.sniff import sniff

SERIF = ("Liberation Serif", "DejaVu Serif")
SANS = ("Liberation Sans", "DejaVu Sans", "Liberation Sans Narrow")


@dataclass(frozen=True)
class Look:
    page: str  # "A4" or "Letter"
    margin_mm: float
    body_font: str
    heading_font: str
    size_pt: float
    line_height: float
    column_gap_mm: float
    justify: bool
    abstract_label: str  # "" sets the abstract without a label, as many journals do
    ruled_tables: bool  # every cell ruled, or the three rules most journals draw
    heading_caps: bool  # top-level headings in capitals
    numbers_at_top: bool  # page numbers in the top outer corner rather than centred at the foot
    narrow_tables_in_column: bool  # a table of up to three columns kept in the text's column, as some journals do
    numbered_headings: bool  # "2. Case presentation", "2.1. Case 1", as Hindawi and others number them


PAGE_WIDTH_MM = {"A4": 210.0, "Letter": 215.9}


def look_for(name: str) -> Look:
    """The same look for the same name, different looks across names."""
    pick = random.Random(hashlib.sha256(name.encode()).digest())
    body = pick.choice(SERIF + SANS[:2])
    return Look(
        page=pick.choice(("A4", "Letter")), margin_mm=pick.choice((14, 16, 18, 20)), body_font=body,
        heading_font=pick.choice((body, *SANS)), size_pt=pick.choice((8.5, 9, 9.5, 10)),
        line_height=pick.choice((1.2, 1.3, 1.4)), column_gap_mm=pick.choice((4, 5, 6.5, 8)),
        justify=pick.random() < 0.6, abstract_label=pick.choice(("Abstract", "ABSTRACT", "Summary", "")),
        ruled_tables=pick.random() < 0.3, heading_caps=pick.random() < 0.3, numbers_at_top=pick.random() < 0.4,
        narrow_tables_in_column=pick.random() < 0.5, numbered_headings=pick.random() < 0.3,
    )


# --- JATS to HTML -----------------------------------------------------------------------------------------------

INLINE_TAGS = {"italic": "i", "bold": "b", "sup": "sup", "sub": "sub", "underline": "u", "monospace": "code",
               "sc": "span", "break": "br"}
BLOCKS_IN_PARAGRAPH = frozenset({"table-wrap", "fig", "list", "disp-quote", "boxed-text", "disp-formula",
                                 "table-wrap-group", "fig-group", "supplementary-material", "preformat"})
NOT_SHOWN = frozenset({"label", "graphic", "media", "object-id", "permissions", "sec-meta", "alt-text"})


def _nested_blocks(element):
    """Block elements inside a paragraph, outermost first."""
    for child in element:
        if local_name(child) in BLOCKS_IN_PARAGRAPH:
            yield child
        else:
            yield from _nested_blocks(child)


def _column_count(wrap) -> int:
    def width(cell) -> int:
        span = cell.get("colspan") or ""
        return int(span) if span.isdigit() else 1

    rows = _all(wrap, "tr")
    return max((sum(width(c) for c in row if local_name(c) in ("td", "th")) for row in rows), default=0)


def _children(element, *names):
    return [child for child in element if local_name(child) in names]


def _all(element, *names) -> list:
    """The elements named one of ``names`` in document order, ``element`` itself included; none for no element."""
    return [] if element is None else [e for e in element.iter() if local_name(e) in names]


def _first(element, *names):
    return next(iter(_all(element, *names)), None)


def _text(element) -> str:
    return " ".join("".join(element.itertext()).split()) if element is not None else ""


def _add(parent, tag: str, text: str = "", **attributes):
    element = etree.SubElement(parent, tag, {k.rstrip("_"): v for k, v in attributes.items()})
    if text:
        element.text = text
    return element


def _append_text(element, text: str | None) -> None:
    """Text after ``element``'s last child (its tail) or inside it when it has none."""
    if not text:
        return
    if len(element):
        element[-1].tail = (element[-1].tail or "") + text
    else:
        element.text = (element.text or "") + text


def _inline(source, target, skip=frozenset()) -> None:
    """``source``'s text with its inline markup into ``target``; block elements and ``skip`` left out."""
    _append_text(target, source.text)
    for child in source:
        name = local_name(child)
        if name in skip or name in BLOCKS_IN_PARAGRAPH or name in NOT_SHOWN or not name:
            pass
        elif name in INLINE_TAGS:
            element = _add(target, INLINE_TAGS[name], **({"class_": "sc"} if name == "sc" else {}))
            if name != "break":
                _inline(child, element, skip)
        else:  # xref, ext-link, named-content, inline-formula, ...: their text as it reads
            _inline(child, target, skip)
        _append_text(target, child.tail)


class _Body:
    """The article's blocks in the order of the XML, as HTML; ``numbered``: sections without a label of their own
    are numbered."""

    def __init__(self, look: Look, numbered: bool = False):
        self.look = look
        self.numbered = numbered
        self.numbers: list[int] = []

    def blocks(self, source, target, depth: int) -> None:
        for child in source:
            name = local_name(child)
            if name in ("sec", "app", "ack", "glossary"):
                self.section(child, target, depth)
            elif name == "p":
                self.paragraph(child, target, depth)
            elif name == "list":
                self.listing(child, target, depth)
            elif name == "table-wrap":
                self.table(child, target)
            elif name in ("table-wrap-group", "fig-group", "app-group", "alternatives"):
                self.blocks(child, target, depth)
            elif name == "fig":
                self.figure(child, target)
            elif name in ("boxed-text", "disp-quote", "statement", "def-list", "speech", "verse-group"):
                box = _add(target, "div", class_="box")
                for title in _children(child, "title") + [t for c in _children(child, "caption") for t in c]:
                    _inline(title, _add(box, "h4"))
                if _children(child, "p", "sec", "list"):
                    self.blocks(child, box, depth + 1)
                else:
                    _inline(child, _add(box, "p"))
            elif name == "ref-list":
                self.references(child, target)
            elif name == "fn-group":
                for fn in _all(child, "fn"):
                    for p in _children(fn, "p") or [fn]:
                        _inline(p, _add(target, "p", class_="note"))
            elif name in ("disp-formula", "preformat", "supplementary-material"):
                _inline(child, _add(target, "p"))

    def section(self, source, target, depth: int) -> None:
        title = _children(source, "title")
        label = _children(source, "label")
        heading = " ".join(x for x in (_text(label[0]) if label else "", _text(title[0]) if title else "") if x)
        if not heading and local_name(source) == "ack":
            heading = "Acknowledgements"
        number = self.number(depth) if heading and not label and local_name(source) == "sec" else ""
        if heading:
            element = _add(target, f"h{min(depth + 2, 5)}")
            if label or number:
                _add(element, "span", (_text(label[0]) if label else number) + " ", class_="label")
            if title:
                _inline(title[0], element)
            elif not label:
                element.text = heading
        self.blocks(source, target, depth + 1)

    def number(self, depth: int) -> str:
        """"2." for the second section, "2.1." for its first subsection; "" when sections are not numbered."""
        if not self.numbered:
            return ""
        del self.numbers[depth + 1:]
        self.numbers.extend([0] * (depth + 1 - len(self.numbers)))
        self.numbers[depth] += 1
        return ".".join(map(str, self.numbers)) + "."

    def paragraph(self, source, target, depth: int) -> None:
        _inline(source, _add(target, "p"))
        self.blocks(list(_nested_blocks(source)), target, depth)  # a table written inside a paragraph follows it

    def listing(self, source, target, depth: int) -> None:
        ordered = source.get("list-type", "") in ("order", "arabic", "alpha-lower", "alpha-upper", "roman-lower")
        html_list = _add(target, "ol" if ordered else "ul")
        for item in _children(source, "list-item"):
            element = _add(html_list, "li")
            paragraphs = _children(item, "p")
            for p in paragraphs or [item]:
                _inline(p, element)
                _append_text(element, " ")

    def table(self, wrap, target) -> None:
        """Across both columns (column-span: all) or, narrow, in the column: caption above, the table, its notes
        below."""
        columns = _column_count(wrap)
        width = ("narrow" if self.look.narrow_tables_in_column and columns <= 3 else
                 "very-wide" if columns >= 12 else "wide" if columns >= 8 else "")
        block = _add(target, "div", class_=f"table-block {width}".strip())
        label = _children(wrap, "label")
        caption = _first(wrap, "caption")
        head = _add(block, "p", class_="caption")
        if label:
            _add(head, "b", _text(label[0]) + (". " if caption is not None else ""))
        if caption is not None:
            for part in caption:
                _inline(part, head)
                _append_text(head, " ")
        for table in _all(wrap, "table")[:1]:
            self.cells(table, _add(block, "table"))
        foot = _first(wrap, "table-wrap-foot")
        if foot is not None:
            notes = _all(foot, "fn") or [foot]
            for note in notes:
                element = _add(block, "p", class_="table-note")
                note_label = _children(note, "label")
                if note_label:
                    _add(element, "sup", _text(note_label[0]))
                    _append_text(element, " ")
                for p in _children(note, "p") or [note]:
                    _inline(p, element)
                    _append_text(element, " ")

    @staticmethod
    def cells(source, target) -> None:
        for part in source:
            name = local_name(part)
            rows = [part] if name == "tr" else [r for r in part if local_name(r) == "tr"]
            group = target if name == "tr" else _add(target, name if name in ("thead", "tbody", "tfoot") else "tbody")
            for row in rows:
                html_row = _add(group, "tr")
                for cell in row:
                    if local_name(cell) not in ("td", "th"):
                        continue
                    spans = {k: cell.get(k) for k in ("rowspan", "colspan") if cell.get(k)}
                    _inline(cell, _add(html_row, local_name(cell), **spans))

    def figure(self, source, target) -> None:
        box = _add(target, "div", class_="figure")
        _add(box, "div", class_="artwork")
        label = _children(source, "label")
        caption = _add(box, "p", class_="caption")
        if label:
            _add(caption, "b", _text(label[0]) + ". ")
        for part in _children(source, "caption"):
            for p in part:
                _inline(p, caption)
                _append_text(caption, " ")

    def references(self, source, target) -> None:
        title = _children(source, "title")
        _add(target, "h2", _text(title[0]) if title else "References")
        listing = _add(target, "ol", class_="references")
        for ref in _children(source, "ref"):
            item = _add(listing, "li")
            structured = _first(ref, "element-citation", "nlm-citation")
            if structured is not None:  # parts without punctuation between them: set apart by spaces
                _append_text(item, " ".join(" ".join(structured.itertext()).split()))
            else:
                mixed = _first(ref, "mixed-citation", "citation")
                _inline(mixed if mixed is not None else ref, item)


def _authors(meta) -> list:
    return [c for c in _all(meta, "contrib") if c.get("contrib-type", "author") == "author"]


def _front(article, page):
    """The one-column header: banner (journal, year, volume, pages), article type, title, authors with affiliation
    marks, affiliations, correspondence, DOI."""
    meta = _first(article, "article-meta")
    journal = _text(_first(article, "journal-title"))
    header = _add(page, "header")
    banner = _add(header, "div", class_="banner")
    _add(banner, "span", journal, class_="journal")
    volume = _text(_first(meta, "volume"))
    pages = _text(_first(meta, "elocation-id")) or "-".join(
        _text(_first(meta, n)) for n in ("fpage", "lpage") if _first(meta, n) is not None)
    citation = ", ".join(x for x in (_text(_first(meta, "year")), f"Vol. {volume}" if volume else "", pages) if x)
    _add(banner, "span", citation, class_="citation")
    subject = _first(meta, "subject")
    if subject is not None:
        _add(header, "div", _text(subject), class_="article-type")
    title = _first(meta, "article-title")
    if title is not None:
        _inline(title, _add(header, "h1"))
    authors = _add(header, "div", class_="authors")
    contributors = _authors(meta)
    for index, contrib in enumerate(contributors):
        given, surname, collab = (_first(contrib, n) for n in ("given-names", "surname", "collab"))
        name = " ".join(_text(x) for x in (given, surname) if x is not None) or _text(collab)
        _append_text(authors, ("" if index == 0 else " and " if index == len(contributors) - 1 else ", ") + name)
        marks = [_text(x) for x in _children(contrib, "xref") if x.get("ref-type") == "aff" and _text(x)]
        if marks:
            _add(authors, "sup", ",".join(marks))
    for aff in _all(meta, "aff"):
        element = _add(header, "div", class_="affiliation")
        label = _children(aff, "label")
        if label:
            _add(element, "sup", _text(label[0]))
        _inline(aff, element)
    for corresp in _all(meta, "corresp"):
        _inline(corresp, _add(header, "div", class_="affiliation"))
    doi = next((_text(i) for i in _children(meta, "article-id") if i.get("pub-id-type") == "doi"), "") \
        if meta is not None else ""
    if doi:
        _add(header, "div", f"https://doi.org/{doi}", class_="doi")
    return header


def _abstracts(article, header, look: Look) -> None:
    meta = _first(article, "article-meta")
    for abstract in (a for a in _all(meta, "abstract", "trans-abstract")
                     if a.get("abstract-type") not in ("teaser", "toc")):
        box = _add(header, "section", class_="abstract")
        title = _children(abstract, "title")
        label = _text(title[0]) if title else look.abstract_label
        if label:
            _add(box, "h2", label)
        sections = _children(abstract, "sec")
        for sec in sections:  # a structured abstract: "Background: ..." run in
            for index, p in enumerate(_children(sec, "p")):
                element = _add(box, "p")
                sec_title = _children(sec, "title")
                if index == 0 and sec_title:
                    _add(element, "b", _text(sec_title[0]) + ": ")
                _inline(p, element)
        for p in _children(abstract, "p") or ([] if sections else [abstract]):
            _inline(p, _add(box, "p"))
    keywords = [_text(k) for k in _all(meta, "kwd")]
    if keywords:
        line = _add(header, "p", class_="keywords")
        _add(line, "b", "Keywords: ")
        _append_text(line, "; ".join(keywords))


def running_head(article) -> str:
    """"Kowalczyk et al." or the one author's surname, as the running head names the article."""
    surnames = [_text(_first(c, "surname", "collab")) for c in _authors(_first(article, "article-meta"))]
    if not surnames:
        return ""
    return surnames[0] + (" et al." if len(surnames) > 2 else f" and {surnames[1]}" if len(surnames) == 2 else "")


def _css(look: Look, journal: str, head: str) -> str:
    def quoted(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    number = "counter(page)"
    margin_boxes = (f"@top-left {{ content: {quoted(head)}; }} @top-right {{ content: {number}; }}"
                    if look.numbers_at_top else
                    f"@top-left {{ content: {quoted(head)}; }} @top-right {{ content: {quoted(journal)}; }} "
                    f"@bottom-center {{ content: {number}; }}")
    rules = ("border: 0.4pt solid #444;" if look.ruled_tables else "border: none;")
    return f"""
@page {{ size: {look.page}; margin: {look.margin_mm + 4}mm {look.margin_mm}mm {look.margin_mm + 2}mm;
  {margin_boxes}
  @top-left {{ font: 7.5pt "{look.heading_font}"; }} @top-right {{ font: 7.5pt "{look.heading_font}"; }}
  @bottom-center {{ font: 8pt "{look.heading_font}"; }} }}
@page :first {{ @top-left {{ content: none; }} @top-right {{ content: none; }} }}
html {{ font: {look.size_pt}pt/{look.line_height} "{look.body_font}"; color: #000; }}
body {{ margin: 0; width: {PAGE_WIDTH_MM[look.page] - 2 * look.margin_mm:.1f}mm; }}
header {{ margin-bottom: 5mm; }}
.banner {{ display: flex; justify-content: space-between; border-bottom: 1.2pt solid #1b4f8a;
  font: 8pt "{look.heading_font}"; color: #1b4f8a; padding-bottom: 1mm; margin-bottom: 4mm; }}
.article-type {{ font: bold 8.5pt "{look.heading_font}"; text-transform: uppercase; letter-spacing: 0.06em;
  color: #1b4f8a; margin-bottom: 2mm; }}
h1 {{ font: bold {look.size_pt * 1.9:.1f}pt/1.2 "{look.heading_font}"; margin: 0 0 3mm; }}
.authors {{ font-size: {look.size_pt * 1.15:.1f}pt; margin-bottom: 2mm; }}
.affiliation, .doi {{ font-size: {look.size_pt * 0.8:.1f}pt; color: #333; }}
.abstract {{ margin-top: 4mm; padding: 2.5mm 0; border-top: 0.5pt solid #888; border-bottom: 0.5pt solid #888; }}
.abstract h2 {{ font: bold {look.size_pt}pt "{look.heading_font}"; margin: 0 0 1mm; }}
.abstract p {{ margin: 0 0 1mm; }}
.keywords {{ font-size: {look.size_pt * 0.9:.1f}pt; margin-top: 2mm; }}
main {{ column-count: 2; column-gap: {look.column_gap_mm}mm; column-fill: balance; }}
p {{ margin: 0 0 {look.line_height * 0.45:.2f}em; text-align: {"justify" if look.justify else "left"}; orphans: 2;
  widows: 2; }}
h2, h3, h4, h5 {{ font-family: "{look.heading_font}"; break-after: avoid; margin: 1.1em 0 0.4em; }}
h2 {{ font-size: {look.size_pt * 1.25:.1f}pt; {"text-transform: uppercase;" if look.heading_caps else ""} }}
h3 {{ font-size: {look.size_pt * 1.1:.1f}pt; }}
h4, h5 {{ font-size: {look.size_pt:.1f}pt; font-style: italic; }}
.table-block {{ column-span: all; margin: 3mm 0 4mm; break-inside: avoid; font-size: {look.size_pt * 0.85:.1f}pt; }}
.table-block.narrow {{ column-span: none; }}
.table-block.wide {{ font-size: {min(look.size_pt * 0.8, 7):.1f}pt; }}
.table-block.very-wide {{ font-size: 6pt; }}
.table-block.wide td, .table-block.wide th, .table-block.very-wide td, .table-block.very-wide th {{
  padding: 0.4mm 0.8mm; }}
.table-block table {{ width: 100%; border-collapse: collapse; border-top: 1pt solid #000;
  border-bottom: 1pt solid #000; }}
.table-block thead tr {{ border-bottom: 0.6pt solid #000; }}
th, td {{ {rules} padding: 0.6mm 1.5mm; text-align: left; vertical-align: top; }}
th {{ font-weight: bold; }}
.caption {{ margin-bottom: 1.5mm; text-align: left; }}
.table-note {{ font-size: {look.size_pt * 0.8:.1f}pt; margin: 1mm 0 0; }}
.figure {{ break-inside: avoid; margin: 3mm 0; }}
.artwork {{ height: 30mm; background: #d8dde3; margin-bottom: 1.5mm; }}
.note, .references {{ font-size: {look.size_pt * 0.85:.1f}pt; }}
.references {{ padding-left: 1.5em; }}
.sc {{ font-variant: small-caps; }}
.squeezed td, .squeezed th {{ overflow-wrap: anywhere; }}
"""


def article_html(article, look: Look) -> str:
    """The article (a JATS <article> element) as one HTML page for the browser to print."""
    html = etree.Element("html", lang="en")
    head = _add(html, "head")
    _add(head, "meta", charset="utf-8")
    journal = _text(_first(article, "journal-title"))
    _add(head, "style", _css(look, journal, running_head(article)))
    page = _add(html, "body")
    header = _front(article, page)
    _abstracts(article, header, look)
    main = _add(page, "main")
    for part in article:
        if local_name(part) in ("body", "back", "floats-group"):
            _Body(look, numbered=look.numbered_headings and local_name(part) == "body").blocks(part, main, 0)
    return "<!DOCTYPE html>\n" + etree.tostring(html, method="html", encoding="unicode")


def articles(path: Path) -> list:
    """The JATS <article> elements of the file, none when it is not JATS."""
    data = path.read_bytes()
    if sniff(data)[0] != "xml":
        return []
    root = parse_xml(data, path.name)
    if local_name(root) == "article":
        return [root]
    if local_name(root) == "pmc-articleset":
        return _all(root, "article")
    return []


# --- HTML to PDF ------------------------------------------------------------------------------------------------

# A table wider than its column or page is set smaller, as a compositor would, down to 5 px (Chromium would
# otherwise shrink the whole page to fit); one wider still may break its words anywhere. The body has the page's
# text width (see _css), so the screen layout measured here is the printed one.
FIT_TABLES = """() => {
  for (const block of document.querySelectorAll('.table-block')) {
    const table = block.querySelector('table');
    if (!table) continue;
    let size = parseFloat(getComputedStyle(table).fontSize);
    while (table.offsetWidth > block.clientWidth + 0.5 && size > 5) {
      size -= 0.25;
      table.style.fontSize = size + 'px';
    }
    if (table.offsetWidth > block.clientWidth + 0.5) table.classList.add('squeezed');
  }
}"""


def print_pdfs(pages: list[tuple[str, Path]]) -> None:
    """Each (HTML, PDF path) printed by one Chromium, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            for html, out in pages:
                page.set_content(html, wait_until="load")
                page.evaluate(FIT_TABLES)
                page.pdf(path=str(out), prefer_css_page_size=True, print_background=True)
        finally:
            browser.close()


def render_jats(paths: list[Path], folder: Path) -> dict[Path, list[Path]]:
    """Each JATS file's articles as PDFs in ``folder``, one per article, named after the file; a file that is not
    JATS gets none."""
    rendered: dict[Path, list[Path]] = {}
    pages = []
    for path in paths:
        found = articles(path)
        stem = path.name.split(".")[0]
        rendered[path] = [folder / (f"{stem}.pdf" if len(found) == 1 else f"{stem}-{i + 1}.pdf")
                          for i in range(len(found))]
        look = look_for(path.name)
        pages.extend((article_html(article, look), out) for article, out in zip(found, rendered[path]))
    print_pdfs(pages)
    return rendered
