"""The PDF layout benchmark's metrics and gold readers (bench/pdf_metrics.py) on tiny invented strings and XML."""

import re

import pytest

from bench.pdf_metrics import (
    Gold, Reading, abstract_f1, affiliations_found, cells_recovered, doi_exact, headings_recovered, journal_exact,
    paragraph_found, paragraphs_found, read_gold, score, strip_numbering, title_exact, title_similarity, unspaced,
    word_accuracy,
)

PARAGRAPH = "The patient received plasma exchange on day three and recovered fully within two weeks."
OTHER = "Cytokine levels were measured daily by a multiplex assay in the central laboratory of the hospital."


def test_titles_compare_without_case_spacing_and_punctuation():
    assert title_exact("Plasma Exchange: A Case", "plasma exchange - a  case")
    assert title_similarity("Plasma Exchange: A Case", "plasma exchange - a  case") == 1.0
    assert not title_exact("Plasma Exchange: A Case", "Case Reports in Medicine")
    assert title_similarity("Plasma Exchange: A Case", "Case Reports in Medicine") < 0.5
    assert not title_exact("", "")


def test_abstract_f1_weighs_missing_and_extra_characters():
    assert abstract_f1("A short abstract.", "A short  abstract.") == 1.0
    half = abstract_f1("abcdefgh", "abcd")  # precision 1, recall 0.5
    assert half == pytest.approx(2 / 3)
    padded = abstract_f1("abcd", "abcd" + "x" * 4)  # recall 1, precision 0.5
    assert padded == pytest.approx(2 / 3)
    assert abstract_f1("abcd", "") == 0.0
    assert abstract_f1("abcd", "dcba") < 0.5  # characters must come in order


def test_paragraph_found_ignores_spacing_but_not_column_interleaving():
    run_together = PARAGRAPH.replace(" ", "")
    assert paragraph_found(PARAGRAPH, unspaced("Title\n" + run_together + "\nNext"))
    # a running head between two pages of the paragraph is within the slack
    split = PARAGRAPH[:40] + " Case Reports in Medicine 3 " + PARAGRAPH[40:]
    assert paragraph_found(PARAGRAPH, unspaced(split))
    # two columns read line by line: every character is there in order, but not in one stretch
    lines = [PARAGRAPH[i:i + 22] for i in range(0, len(PARAGRAPH), 22)]
    others = [OTHER[i:i + 22] for i in range(0, len(OTHER), 22)]
    interleaved = " ".join(a + " " + b for a, b in zip(lines, others))
    assert not paragraph_found(PARAGRAPH * 2, unspaced(interleaved * 2))
    assert not paragraph_found(PARAGRAPH, unspaced(OTHER))
    assert paragraphs_found([PARAGRAPH, OTHER], PARAGRAPH) == 0.5
    assert paragraphs_found([], PARAGRAPH) is None


def test_headings_lose_their_numbering_and_match_fuzzily():
    assert strip_numbering("2.1. Case Presentation") == "Case Presentation"
    assert strip_numbering("IV. Results") == "Results"
    assert strip_numbering("3Discussion") == "Discussion"
    assert headings_recovered(["1. Introduction", "2. Case Presentation", "3. Discussion"],
                              ["Introduction", "2 Case presentation", "D"]) == pytest.approx(2 / 3)
    assert headings_recovered(["Methods"], ["Method"]) == 1.0  # ratio 0.92
    assert headings_recovered(["Methods"], []) == 0.0
    assert headings_recovered([], ["Methods"]) is None


def test_cells_are_whole_cells_each_used_once():
    gold = ["Age", "45", "45", "CRP (mg/L)", ""]
    assert cells_recovered(gold, ["age", "45", "CRP(mg/L)"]) == 0.75
    assert cells_recovered(gold, ["Age 45"]) == 0.0
    assert cells_recovered([""], ["x"]) is None


def test_word_accuracy_counts_repeats_and_needs_spaces():
    gold = "the dose was the same"
    assert word_accuracy(gold, "The dose was the same.") == 1.0
    assert word_accuracy(gold, "the dose was same") == 0.8  # one "the" of two
    assert word_accuracy(gold, "thedosewasthesame") == 0.0
    assert word_accuracy("", "text") is None


def test_score_leaves_out_what_the_gold_lacks():
    figures = score(Gold(title="A title", paragraphs=[PARAGRAPH]), Reading(title="A title", text=PARAGRAPH))
    assert figures["title"] == 1.0 and figures["title_exact"] == 1.0
    assert figures["body"] == 1.0 and figures["words"] == 1.0
    assert figures["abstract"] is None and figures["headings"] is None and figures["cells"] is None


def test_journal_doi_and_affiliations_compare_as_named():
    assert journal_exact("PLoS ONE", "PLOS ONE") and journal_exact("Trials", "TRIALS.")
    assert not journal_exact("Behavioral Ecology and Sociobiology", "Behav Ecol Sociobiol")
    assert doi_exact("10.1371/journal.pone.0115884", "10.1371/JOURNAL.PONE.0115884")
    assert not doi_exact("10.1371/journal.pone.0115884", "10.1371/journal.pone")
    gold = ["Department of Haematology, City Hospital, Lyon, France", "Blood Bank, Lyon, France"]
    assert affiliations_found(gold, ["Department of Haematology, City Hospital, Lyon,  France"]) == 0.5
    assert affiliations_found(gold, ["Department of Haematology"]) == 0.0  # ratio under 0.85
    assert affiliations_found([], ["Blood Bank"]) is None


def test_a_field_the_parser_does_not_read_is_not_scored():
    gold = Gold(title="T", journal="Trials", doi="10.1186/x", affiliations=["Blood Bank, Lyon, France"])
    plain = score(gold, Reading(title="T", doi="10.1186/x"))
    assert plain["journal"] is None and plain["affiliations"] is None and plain["doi"] == 1.0
    pecrs = score(gold, Reading(title="T", journal="", doi="", affiliations=[]))
    assert pecrs["journal"] == 0.0 and pecrs["doi"] == 0.0 and pecrs["affiliations"] == 0.0
    assert score(Gold(title="T"), Reading(title="T", journal="Trials"))["journal"] is None


JATS = """<?xml version="1.0"?>
<article><front><journal-meta><journal-title-group><journal-title>Apheresis Letters</journal-title></journal-title-group>
</journal-meta><article-meta><article-id pub-id-type="doi">10.5555/apl.1</article-id>
  <title-group><article-title>Plasma <italic>exchange</italic> in CRS</article-title></title-group>
  <contrib-group><contrib contrib-type="author"><xref ref-type="aff" rid="a1"/></contrib>
    <contrib contrib-type="editor"><xref ref-type="aff" rid="e1"/></contrib></contrib-group>
  <aff id="a1"><label>1</label>Department of Haematology, Lyon, France; E-Mail: <email>a@b.fr</email></aff>
  <aff id="e1">Institute of Editing, Berlin, Germany</aff>
  <abstract abstract-type="graphical"><p>Not this one.</p></abstract>
  <abstract><p>We report a patient treated with plasma exchange.</p></abstract>
</article-meta></front>
<body>
  <sec><title>1. Introduction</title>
    <p>Cytokine release syndrome follows CAR-T cell infusion in many patients.</p>
    <p>Short.</p>
    <p>The figure shows the course of the disease over two weeks.<fig><caption><p>Figure 1: the course of
      ferritin and CRP</p></caption></fig></p>
  </sec>
  <sec><title>2. Case Presentation</title>
    <p>A man of 45 years received five sessions of exchange.<list><list-item><p>Day one: fever</p></list-item></list></p>
  </sec>
</body>
<floats-group><table-wrap><caption><p>Labs</p></caption><table><tr><th>CRP</th><td>12</td><td/></tr></table></table-wrap></floats-group>
</article>"""

BMC = """<?xml version="1.0"?>
<!DOCTYPE art SYSTEM 'http://www.biomedcentral.com/xml/article.dtd'>
<art><fm><bibl><title><p>A trial of <it>exchange</it></p></title>
  <insg><ins id="I1"><p>Blood Bank, Lyon, France</p></ins></insg><source>Trials</source>
  <xrefbib><pubidlist><pubid idtype="doi">10.1186/1745-6215-15-511</pubid></pubidlist></xrefbib></bibl>
  <abs><sec><st><p>Abstract</p></st><p>Background text of the abstract.</p></sec></abs></fm>
<bdy><sec><st><p>Background</p></st>
  <p>Patients with cytokine release syndrome were enrolled at three centres.</p>
  <table id="T1"><title><p>Table 1</p></title><tgroup cols="2"><tbody><row><entry><p>Age</p></entry><entry><p>45</p></entry></row></tbody></tgroup></table>
  <suppl><title><p>Additional file 1</p></title><text><p>Questionnaire used at the three centres of the trial.</p></text></suppl>
</sec></bdy></art>"""

TEI = """<?xml version="1.0"?>
<tei><text><head level="1">1 Introduction<lb/></head>
<p>Answer validation is an important step of question<lb/> answering, named-<lb/>entity recognition helps.<lb/></p>
<figure type="table"><head>Table 1</head><p>Results of the runs on the data set of this year.</p></figure>
</text></tei>"""

TEI_HEADER = """<?xml version="1.0"?>
<tei><text><front><docTitle><titlePart>Information Synthesis<lb/></titlePart></docTitle>
<byline><affiliation>1 Saarland University<lb/></affiliation></byline><address>66123 Saarbruecken, Germany</address>
<div type="abstract">This report is about<lb/> our participation.<lb/></div></front></text></tei>"""


def _pair(tmp_path, gold, header=None):
    (tmp_path / "gold.xml").write_text(gold)
    if header:
        (tmp_path / "gold_header.xml").write_text(header)
    return read_gold(tmp_path)


def test_jats_gold(tmp_path):
    gold = _pair(tmp_path, JATS)
    assert gold.title == "Plasma exchange in CRS"
    assert gold.abstract == "We report a patient treated with plasma exchange."
    assert gold.headings == ["1. Introduction", "2. Case Presentation"]
    assert gold.paragraphs == [
        "Cytokine release syndrome follows CAR-T cell infusion in many patients.",
        "The figure shows the course of the disease over two weeks.",  # the figure's caption left out
        "A man of 45 years received five sessions of exchange. Day one: fever",  # the list counts with its paragraph
    ]
    assert gold.tables == 1 and gold.cells == ["CRP", "12", ""]
    assert gold.journal == "Apheresis Letters" and gold.doi == "10.5555/apl.1"
    assert gold.affiliations == ["Department of Haematology, Lyon, France"]  # not the editor's


def test_bmc_gold(tmp_path):
    gold = _pair(tmp_path, BMC)
    assert gold.title == "A trial of exchange"
    assert gold.abstract == "Abstract Background text of the abstract."
    assert gold.headings == ["Background"]
    assert gold.paragraphs == ["Patients with cytokine release syndrome were enrolled at three centres."]
    assert gold.tables == 1 and gold.cells == ["Age", "45"]
    assert gold.journal == "Trials" and gold.doi == "10.1186/1745-6215-15-511"
    assert gold.affiliations == ["Blood Bank, Lyon, France"]


def test_tei_gold_with_its_header(tmp_path):
    gold = _pair(tmp_path, TEI, TEI_HEADER)
    assert gold.title == "Information Synthesis"
    assert gold.abstract == "This report is about our participation."
    assert gold.headings == ["1 Introduction"]
    assert gold.paragraphs == ["Answer validation is an important step of question answering, named-entity recognition helps."]
    assert gold.tables == 1 and gold.cells == []
    assert gold.affiliations == ["Saarland University, 66123 Saarbruecken, Germany"]


def test_gold_with_entities_is_refused(tmp_path):
    from pipeline.parsing.errors import ParseError

    with pytest.raises(ParseError):
        _pair(tmp_path, '<?xml version="1.0"?><!DOCTYPE art [<!ENTITY x "boom">]><art>&x;</art>')


MANIFEST = """| NN | source: path | journal (publisher), year | type | PMCID / DOI | pages | layout | gold |
|---|---|---|---|---|---|---|---|
| 01 | ami: `x` | Case Reports (Hindawi), 2016 | case report | PMC1 | 4 | H, 1 table | JATS; yes / 1 / 2 / 3 / 1 |
| 02 | norma: `y` | Frontiers in Psychology, 2015 | review | - | 10 | Fr | NLM; yes / 1 / 2 / 3 / 0 |
| 03 | grobid: PDF `z` | CLEF 2008 | paper | - | 5 | single column, 1 table | TEI |
"""


def test_families_come_from_the_manifest_layout_column(tmp_path):
    from bench.pdf_layout import families

    (tmp_path / "MANIFEST.md").write_text(MANIFEST)
    assert families(tmp_path / "MANIFEST.md") == {"01": "Hindawi", "02": "Frontiers", "03": "GROBID"}
    assert families(tmp_path / "missing.md") == {}


def test_plain_abstract_runs_from_its_label_or_the_title_to_the_introduction():
    from bench.pdf_layout import plain_abstract

    labelled = ["Journal banner", "A title", "Abstract: We report a case.", "It was rare.", "Keywords: CRS",
                "More text"]
    assert plain_abstract(labelled) == "We report a case.\nIt was rare."
    unlabelled = ["A title", "We report a case.", "1. Introduction", "Body text"]
    assert plain_abstract(unlabelled) == "We report a case."
    structured = ["Title", "Abstract", "Background: CRS is common.", "Background", "Body"]
    assert plain_abstract(structured) == "Background: CRS is common."


@pytest.mark.shared
def test_real_gold_agrees_with_the_manifest_counts(shared):
    """Abstract characters, headings and tables as MANIFEST.md counts them; paragraphs at least as many (a
    paragraph holding a figure or table counts here without it, where the manifest's count left it out)."""
    pairs = shared / "data" / "pdf-real"
    rows = re.findall(r"^\| (\d\d) \|.*\| [^|]*; yes / (\d+) / (\d+) / (\d+) / (\d+) \|$",
                      (pairs / "MANIFEST.md").read_text(), re.MULTILINE)
    assert len(rows) == 24  # 25, the GROBID TEI, is described in words
    for number, abstract, paragraphs, headings, tables in rows:
        gold = read_gold(next(pairs.glob(f"{number}_*")))
        assert gold.title, number
        assert (len(gold.abstract), len(gold.headings), gold.tables) == (int(abstract), int(headings), int(tables)), number
        assert len(gold.paragraphs) >= int(paragraphs), number
