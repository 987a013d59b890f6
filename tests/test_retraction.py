"""What an article's own record says of its retraction, in PubMed XML and JATS, and how a run marks it."""

from pipeline.parsing import parse_bytes
from pipeline.run.stages import DocumentResult, mark_retracted

PUBMED = """<?xml version="1.0"?><PubmedArticleSet><PubmedArticle><MedlineCitation><PMID Version="1">{pmid}</PMID>
<Article><Journal><Title>J</Title></Journal><ArticleTitle>A case</ArticleTitle>
<PublicationTypeList>{types}</PublicationTypeList></Article>{comments}</MedlineCitation>
<PubmedData><ArticleIdList><ArticleId IdType="pubmed">{pmid}</ArticleId></ArticleIdList></PubmedData>
</PubmedArticle></PubmedArticleSet>"""
RETRACTED_TYPE = '<PublicationType UI="D016441">Retracted Publication</PublicationType>'
NOTICE_TYPE = '<PublicationType UI="D016440">Retraction of Publication</PublicationType>'
RETRACTION_IN = ('<CommentsCorrectionsList><CommentsCorrections RefType="RetractionIn"><RefSource>Blood. 2026;148:9'
                 '</RefSource><PMID Version="1">41999999</PMID></CommentsCorrections></CommentsCorrectionsList>')
JATS = """<?xml version="1.0"?><article xmlns:xlink="http://www.w3.org/1999/xlink" article-type="case-report"><front>
<article-meta><article-id pub-id-type="pmid">41000009</article-id><title-group><article-title>A case</article-title>
</title-group>{related}</article-meta></front><body><p>Text.</p></body></article>"""


def pubmed(types: str = "", comments: str = "", pmid: str = "41000001"):
    [document] = parse_bytes(PUBMED.format(pmid=pmid, types=types, comments=comments).encode(), "record.xml")
    return document


def test_a_pubmed_record_says_it_is_retracted_and_where():
    assert pubmed(RETRACTED_TYPE, RETRACTION_IN).retracted == \
        "Retracted Publication; retracted in Blood. 2026;148:9 (PMID 41999999)"
    assert pubmed(RETRACTED_TYPE).retracted == "Retracted Publication"
    assert pubmed(comments=RETRACTION_IN).retracted.startswith("Retracted Publication; retracted in Blood")
    assert pubmed().retracted == ""
    assert pubmed(NOTICE_TYPE).retracted == ""  # the notice of a retraction is not itself retracted


def test_a_jats_article_links_its_retraction_notice():
    related = ('<related-article related-article-type="retraction-forward" ext-link-type="doi" '
               'xlink:href="10.5555/notice.1">Retraction notice</related-article>')
    [retracted] = parse_bytes(JATS.format(related=related).encode(), "article.xml")
    assert retracted.retracted == "retracted in Retraction notice"
    corrected = related.replace("retraction-forward", "corrected-article")
    [other] = parse_bytes(JATS.format(related=corrected).encode(), "article.xml")
    assert other.retracted == ""


def test_a_run_marks_an_article_its_fetched_pubmed_record_says_is_retracted():
    read = [DocumentResult("doi:1", "pmc/PMC1.xml", "jats-xml", "A", "relevant", "", pmid="41000009"),
            DocumentResult("doi:2", "b.pdf", "pdf", "B", "relevant", "", pmid="41000010"),
            DocumentResult("doi:3", "c.xml", "pubmed-xml", "C", "relevant", "", retracted="Retracted Publication")]
    marked = mark_retracted(read, {"41000009": "Retracted Publication; retracted in J (PMID 1)"})
    assert [r.retracted for r in marked] == ["Retracted Publication; retracted in J (PMID 1)", "",
                                             "Retracted Publication"]
