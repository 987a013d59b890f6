"""PubMed efetch XML (PubmedArticleSet) into Documents, one per record."""

from __future__ import annotations

from pipeline.document.builder import DocumentBuilder, clean_inline
from pipeline.document.ids import make_doc_id
from pipeline.document.model import Document
from pipeline.parsing.plaintext import affiliation_text
from pipeline.parsing.retraction import pubmed_retraction
from pipeline.parsing.safexml import local_name
from pipeline.parsing.xmltext import inline_text


def _text(element, path: str) -> str:
    found = element.find(path)
    return clean_inline(inline_text(found)) if found is not None else ""


def _year(record) -> int | None:
    for path in (".//Article/Journal/JournalIssue/PubDate/Year", ".//Book/PubDate/Year",
                 ".//Article/ArticleDate/Year", ".//Journal/JournalIssue/PubDate/MedlineDate"):
        value = _text(record, path)
        if value[:4].isdigit():
            return int(value[:4])
    return None


def _authors(record) -> list[str]:
    names = []
    for author in record.iterfind(".//AuthorList/Author"):
        last = _text(author, "LastName")
        if last:
            initials = _text(author, "Initials") or _text(author, "ForeName")
            names.append(f"{last}, {initials}".strip(", "))
        elif _text(author, "CollectiveName"):
            names.append(_text(author, "CollectiveName"))
    return names


def _affiliations(record) -> list[str]:
    """Every author's affiliations, each once, in the order they first come."""
    found: list[str] = []
    for element in record.iterfind(".//AuthorList/Author/AffiliationInfo/Affiliation"):
        text = affiliation_text(clean_inline(inline_text(element)))
        if text and text not in found:
            found.append(text)
    return found


def _article_ids(record) -> dict[str, str]:
    ids: dict[str, str] = {}
    # the record's own identifiers only: its reference list holds the cited articles' (a cited PMC id is not its)
    for article_id in record.xpath("(PubmedData | PubmedBookData | BookDocument)/ArticleIdList/ArticleId"):
        kind = (article_id.get("IdType") or "").lower()
        value = (article_id.text or "").strip()
        if kind and value and kind not in ids:
            ids[kind] = value
    for elocation in record.iterfind(".//ELocationID"):
        if (elocation.get("EIdType") or "").lower() == "doi" and "doi" not in ids and elocation.text:
            ids["doi"] = elocation.text.strip()
    return ids


def parse_pubmed_record(record, source_file: str) -> Document:
    """``record`` is a PubmedArticle or PubmedBookArticle element."""
    is_book = local_name(record) == "PubmedBookArticle"
    ids = _article_ids(record)
    pmid = _text(record, ".//PMID") or ids.get("pubmed")
    pmcid = ids.get("pmc")
    doi = ids.get("doi")
    title = _text(record, ".//ArticleTitle") or _text(record, ".//BookTitle") or _text(record, ".//VernacularTitle")
    journal = _text(record, ".//Journal/Title") or _text(record, ".//Book/PublisherName")
    builder = DocumentBuilder(
        doc_id=make_doc_id(doi=doi, pmid=pmid, source_file=source_file),
        source_file=source_file, format="pubmed-xml", pmid=pmid or None, pmcid=pmcid or None,
        doi=doi.lower() if doi else None, title=title, journal=journal, year=_year(record),
        article_type="book" if is_book else "",
        publication_types=[clean_inline(p.text or "") for p in record.iterfind(".//PublicationTypeList/PublicationType")],
        mesh_terms=[clean_inline(d.text or "") for d in record.iterfind(".//MeshHeadingList/MeshHeading/DescriptorName")],
        authors=_authors(record), affiliations=_affiliations(record), retracted=pubmed_retraction(record),
    )
    builder.open_section("", "title")
    builder.add_block(title, "title")
    builder.close_section()
    abstract = record.find(".//Abstract")
    if abstract is not None:
        builder.open_section("Abstract", "abstract")
        for part in abstract.iterfind("AbstractText"):
            label = clean_inline(part.get("Label") or "")
            text = inline_text(part)
            if label:
                builder.open_section(label.title() if label.isupper() else label)
                builder.add_block(text)
                builder.close_section()
            else:
                builder.add_block(text)
        builder.close_section()
    return builder.build()


def parse_pubmed(root, source_file: str) -> list[Document]:
    name = local_name(root)
    if name in ("PubmedArticle", "PubmedBookArticle"):
        records = [root]
    else:
        records = [r for r in root if local_name(r) in ("PubmedArticle", "PubmedBookArticle")]
    return [parse_pubmed_record(record, source_file) for record in records]
