"""PMC JATS/NLM full text (DTD 2.3 to JATS 1.3) into Documents."""

from __future__ import annotations

from pipeline.document.builder import DocumentBuilder, clean_inline
from pipeline.document.ids import make_doc_id
from pipeline.document.model import Document
from pipeline.parsing.plaintext import affiliation_text
from pipeline.parsing.retraction import jats_retraction
from pipeline.parsing.safexml import local_name
from pipeline.parsing.tables import table_rows
from pipeline.parsing.xmltext import inline_text

# Elements that are blocks of their own even when they sit inside a paragraph.
BLOCK_ELEMENTS = frozenset({
    "table-wrap", "table-wrap-group", "fig", "fig-group", "list", "disp-quote", "boxed-text", "statement",
    "def-list", "disp-formula-group", "supplementary-material", "preformat", "speech", "verse-group", "alternatives",
})
SKIPPED = frozenset({"object-id", "graphic", "media", "inline-graphic", "permissions", "label"})


def _first(element, *names):
    """The first element named one of ``names`` in document order, ``element`` itself included."""
    return next(element.iter(*(f"{{*}}{name}" for name in names)), None)


def _children(element, name):
    return [child for child in element if local_name(child) == name]


def _nested_blocks(element):
    """Block elements inside a paragraph, outermost first (a list inside a box stays in the box)."""
    for child in element:
        if local_name(child) in BLOCK_ELEMENTS:
            yield child
        else:
            yield from _nested_blocks(child)


def _footnote_text(fn) -> str:
    """"a Sampled after ..." rather than "aSampled after ...": the label stands apart from the note."""
    label = _children(fn, "label")
    body = inline_text(fn, skip=frozenset({"label"}))
    return f"{_text_of(label[0])} {body}" if label else body


def _text_of(element) -> str:
    return clean_inline(inline_text(element)) if element is not None else ""


AFFILIATION_MARKUP = frozenset({"label", "sup"})  # the mark; e-mail addresses go by affiliation_text


def _affiliation(aff) -> str:
    """An <aff>'s text; its parts (institution, addr-line, country) joined by commas where the XML sets none."""
    parts = [child for child in aff if isinstance(child.tag, str) and local_name(child) not in AFFILIATION_MARKUP]
    separated = (aff.text or "").strip() or any((child.tail or "").strip() for child in aff)
    if len(parts) > 1 and not separated:
        return ", ".join(text for text in (_text_of(part) for part in parts) if text)
    return clean_inline(inline_text(aff, skip=AFFILIATION_MARKUP))


def _affiliations(meta) -> list[str]:
    """The article's affiliations in order, those only of its editors or reviewers left out."""
    if meta is None:
        return []
    own, others = set(), set()
    for contrib in (e for e in meta.iter() if local_name(e) == "contrib"):
        cited = {x.get("rid") for x in contrib.iter() if local_name(x) == "xref" and x.get("ref-type") == "aff"}
        (own if contrib.get("contrib-type", "author") == "author" else others).update(cited)
    found: list[str] = []
    for aff in (e for e in meta.iter() if local_name(e) == "aff"):
        parent = aff.getparent()
        if parent is not None and local_name(parent) == "contrib" and parent.get("contrib-type", "author") != "author":
            continue
        if aff.get("id") in others and aff.get("id") not in own:
            continue
        text = affiliation_text(_affiliation(aff))
        if text and text not in found:
            found.append(text)
    return found


def _metadata(article, source_file: str) -> dict:
    front = _first(article, "front")
    meta = _first(front, "article-meta") if front is not None else None
    ids: dict[str, str] = {}
    if meta is not None:
        for article_id in _children(meta, "article-id"):
            kind = (article_id.get("pub-id-type") or "").lower()
            value = (article_id.text or "").strip()
            if value:
                ids.setdefault({"pmc": "pmcid", "pmcid": "pmcid", "pmid": "pmid", "doi": "doi"}.get(kind, kind), value)
    pmcid = ids.get("pmcid")
    if pmcid and not pmcid.upper().startswith("PMC"):
        pmcid = f"PMC{pmcid}"
    title_group = _first(meta, "title-group") if meta is not None else None
    title = _text_of(_first(title_group, "article-title")) if title_group is not None else ""
    journal_meta = _first(front, "journal-meta") if front is not None else None
    journal = _text_of(_first(journal_meta, "journal-title")) if journal_meta is not None else ""
    authors = []
    if meta is not None:
        for contrib in meta.iter():
            if local_name(contrib) != "contrib" or contrib.get("contrib-type", "author") != "author":
                continue
            surname = _first(contrib, "surname")
            given = _first(contrib, "given-names")
            collab = _first(contrib, "collab")
            if surname is not None:
                authors.append(", ".join(x for x in (_text_of(surname), _text_of(given)) if x))
            elif collab is not None:
                authors.append(_text_of(collab))
    year = None
    if meta is not None:
        for date in meta.iter():
            if local_name(date) == "pub-date":
                y = _first(date, "year")
                if y is not None and (y.text or "").strip()[:4].isdigit():
                    year = int(y.text.strip()[:4])
                    break
    doi = ids.get("doi")
    return dict(
        doc_id=make_doc_id(doi=doi, pmid=ids.get("pmid"), source_file=source_file), source_file=source_file,
        format="jats-xml", pmid=ids.get("pmid"), pmcid=pmcid, doi=doi.lower() if doi else None, title=title,
        journal=journal, year=year, article_type=article.get("article-type", ""), authors=authors,
        affiliations=_affiliations(meta), retracted=jats_retraction(article),
        mesh_terms=[_text_of(k) for k in (meta.iter() if meta is not None else []) if local_name(k) == "kwd"],
    )


class _Walker:
    def __init__(self, builder: DocumentBuilder):
        self.builder = builder

    def blocks(self, container) -> None:
        for child in container:
            name = local_name(child)
            if name == "sec" or name == "app" or name == "ack" or name == "glossary":
                self.section(child)
            elif name in ("title", "sec-meta") or name in SKIPPED:
                continue
            elif name == "p":
                self.paragraph(child)
            elif name == "list":
                for item in _children(child, "list-item"):
                    self.builder.add_block(inline_text(item, skip=BLOCK_ELEMENTS), "list-item")
                    self.blocks(list(_nested_blocks(item)))
            elif name == "table-wrap":
                self.table(child)
            elif name in ("table-wrap-group", "fig-group", "alternatives", "app-group", "floats-group"):
                self.blocks(child)
            elif name == "fig":
                self.caption(child)
            elif name in ("boxed-text", "disp-quote", "statement", "def-list", "speech", "verse-group"):
                title = _first(child, "title")
                if title is not None and name == "boxed-text":
                    self.builder.open_section(_text_of(title))
                    self.blocks(child)
                    self.builder.close_section()
                else:
                    self.blocks(child) if any(local_name(c) == "p" for c in child) else self.builder.add_block(inline_text(child))
            elif name == "ref-list":
                self.references(child)
            elif name == "fn-group":
                for fn in child.iter():
                    if local_name(fn) == "fn":
                        self.builder.add_block(inline_text(fn), "footnote")
            elif name == "supplementary-material" and any(local_name(c) in ("p", "table-wrap") for c in child):
                self.blocks(child)  # a supplementary table given in the article: read as a table
            elif name in ("disp-formula", "preformat", "supplementary-material"):
                self.builder.add_block(inline_text(child))

    def section(self, element) -> None:
        title = _first(element, "title")
        label = _children(element, "label")
        heading = " ".join(x for x in (_text_of(label[0]) if label else "", _text_of(title) if title is not None and title.getparent() is element else "") if x)
        kind = "back" if local_name(element) in ("ack", "app", "glossary") and not heading else None
        self.builder.open_section(heading or {"ack": "Acknowledgements"}.get(local_name(element), ""), kind)
        self.blocks(element)
        self.builder.close_section()

    def paragraph(self, element) -> None:
        self.builder.add_block(inline_text(element, skip=BLOCK_ELEMENTS))
        self.blocks(list(_nested_blocks(element)))

    def caption(self, element) -> None:
        label = _children(element, "label")
        caption = _first(element, "caption")
        text = " ".join(x for x in (_text_of(label[0]) if label else "", _text_of(caption)) if x)
        self.builder.add_block(text, "caption")

    def table(self, wrap) -> None:
        label = _children(wrap, "label")
        caption = _first(wrap, "caption")
        footnotes = []
        foot = _first(wrap, "table-wrap-foot")
        if foot is not None:
            fns = [fn for fn in foot.iter() if local_name(fn) in ("fn", "p") and not any(local_name(a) == "fn" for a in fn.iterancestors() if a is not foot)]
            footnotes = [_footnote_text(fn) for fn in fns if local_name(fn) == "fn"] or [inline_text(foot)]
        tables = [t for t in wrap.iter() if local_name(t) == "table"]
        if not tables:  # a table given only as an image: its caption and notes are still text
            self.builder.add_block(" ".join(x for x in (_text_of(label[0]) if label else "", _text_of(caption)) if x), "caption")
            for footnote in footnotes:
                self.builder.add_block(footnote, "footnote")
            return
        for table in tables[:1]:
            self.builder.add_table(table_rows(table), label=_text_of(label[0]) if label else "",
                                   caption=_text_of(caption), footnotes=footnotes)

    def references(self, element) -> None:
        title = _first(element, "title")
        self.builder.open_section(_text_of(title) or "References", "back")
        for ref in element:
            if local_name(ref) == "ref":
                self.builder.add_block(inline_text(ref), "paragraph")
        self.builder.close_section()


def parse_article(article, source_file: str) -> Document:
    metadata = _metadata(article, source_file)
    builder = DocumentBuilder(**metadata)
    walker = _Walker(builder)
    builder.open_section("", "title")
    builder.add_block(metadata["title"], "title")
    builder.close_section()
    front = _first(article, "front")
    meta = _first(front, "article-meta") if front is not None else None
    if meta is not None:
        for abstract in [a for a in meta.iter() if local_name(a) in ("abstract", "trans-abstract")]:
            if abstract.get("abstract-type") in ("teaser", "toc"):
                continue
            title = _first(abstract, "title")
            builder.open_section(_text_of(title) if title is not None and title.getparent() is abstract else "Abstract", "abstract")
            if any(local_name(c) in ("sec", "p") for c in abstract):
                walker.blocks(abstract)
            else:
                builder.add_block(inline_text(abstract))
            builder.close_section()
    for part in article:
        name = local_name(part)
        if name == "body":
            builder.open_section("", "other")
            walker.blocks(part)
            builder.close_section()
        elif name == "floats-group":
            builder.open_section("Tables and figures", "table")
            walker.blocks(part)
            builder.close_section()
        elif name == "back":
            builder.open_section("Back matter", "back")
            walker.blocks(part)
            builder.close_section()
    return builder.build()


def parse_jats(root, source_file: str) -> list[Document]:
    if local_name(root) == "article":
        return [parse_article(root, source_file)]
    return [parse_article(a, source_file) for a in root.iter() if local_name(a) == "article"]
