"""Whether an article has been retracted, as its own record says.

PubMed marks a retracted article twice over: the publication type "Retracted Publication" (MeSH D016441) and a
``CommentsCorrections`` of type ``RetractionIn`` naming the notice. PMC's JATS points from a retracted article to its
notice with ``related-article`` of type ``retraction-forward``. A retraction *notice* (publication type "Retraction
of Publication", JATS article-type "retraction") is not itself retracted and is not marked here.
"""

from __future__ import annotations

from pipeline.document.builder import clean_inline
from pipeline.parsing.xmltext import inline_text

RETRACTED_TYPE = "retracted publication"
RETRACTED_TYPE_UI = "D016441"
PUBMED_NOTICE = "RetractionIn"
JATS_NOTICE_TYPES = ("retraction-forward",)


def pubmed_retraction(record) -> str:
    """For a PubmedArticle element: "" when the record does not say it is retracted, else what it says ("Retracted
    Publication; retracted in Blood 2026;148:100 (PMID 41000000)")."""
    marked = any((kind.get("UI") or "") == RETRACTED_TYPE_UI or clean_inline(kind.text or "").lower() == RETRACTED_TYPE
                 for kind in record.iterfind(".//PublicationTypeList/PublicationType"))
    notices = []
    for comment in record.iterfind(".//CommentsCorrectionsList/CommentsCorrections"):
        if (comment.get("RefType") or "") != PUBMED_NOTICE:
            continue
        source = clean_inline(comment.findtext("RefSource") or "")
        pmid = clean_inline(comment.findtext("PMID") or "")
        notices.append(" ".join(filter(None, [source, f"(PMID {pmid})" if pmid else ""])) or "a retraction notice")
    if not (marked or notices):
        return ""
    return "; ".join(["Retracted Publication"] + [f"retracted in {notice}" for notice in notices])


def jats_retraction(article) -> str:
    """For a JATS article element: "" unless it links a retraction notice of itself, else that notice."""
    notices = []
    for related in article.iterfind("{*}front/{*}article-meta/{*}related-article"):
        if (related.get("related-article-type") or "").lower() not in JATS_NOTICE_TYPES:
            continue
        href = next((v for k, v in related.attrib.items() if k.endswith("href")), "")
        notices.append(clean_inline(inline_text(related)) or href or "a retraction notice")
    return "; ".join(f"retracted in {notice}" for notice in notices)
