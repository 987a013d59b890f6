"""Plain text laid out like a printed page (pipeline.parsing.pagelayout): page furniture, two columns flattened side
by side, words broken at line ends; and the title and byline of a plain text past its journal's front matter."""

from pathlib import Path

import pytest

from pipeline.parsing import parse_bytes
from pipeline.parsing.pagelayout import join_lines, read_in_order, vocabulary

ROOT = Path(__file__).resolve().parents[1]


def side_by_side(left: list[str], right: list[str], gap: int = 3) -> str:
    """Two columns flattened as a PDF copied to text gives them: each line the left line, spaces, the right line."""
    width = max(len(line) for line in left) + gap
    left += [""] * (len(right) - len(left))
    right += [""] * (len(left) - len(right))
    return "\n".join((a.ljust(width) + b).rstrip() for a, b in zip(left, right))


RULES = "-" * 70, "=" * 70


def page_break(number: int) -> list[str]:
    return ["", RULES[0], f"{number}" + " " * 40 + "Cell Ther Case Rep 2023; 5(1)", RULES[1],
            "OKAFOR ET AL." + " " * 30 + "PLASMA EXCHANGE AFTER LISO-CEL", ""]


PAGE_ONE = side_by_side(
    ["CASE PRESENTATION", "", "A 44-year-old man with diffuse large", "B-cell lymphoma in second relapse",
     "received lisocabtagene maraleucel.", "On day 3 he had fever and low blood", "pressure, and cytokine release syn-",
     "drome of grade 3 was diagnosed. He"],
    ["was given tocilizumab twice without", "effect. Plasma exchange with 5% al-",
     "bumin began on day 5 and was re-", "peated daily for three sessions.", "", "His interleukin-6 fell from 3,200",
     "pg/mL to 140 pg/mL, and he was well", "at his review on day 30, with the"])
PAGE_TWO = side_by_side(
    ["lymphoma in complete remission.", "", "DISCUSSION", "", "Plasma exchange clears circulating",
     "cytokines, and our patient improved", "within a day of the first session."],
    ["The timing suggests a real effect,", "although tocilizumab may have", "begun to act by then. A trial of",
     "exchange in refractory CRS would", "settle the question."])
FLATTENED = "\n".join([
    "Cell Ther Case Rep 2023; 5(1): 12-14", "DOI: 10.5555/layout.1", "",
    "Plasma exchange for cytokine release syndrome", "after lisocabtagene maraleucel", "",
    "Tomas J. Okafor(1), Lena Brandt(2),", "Priya Ramesh(1)", "",
    "(1) Department of Haematology; (2) Apheresis Unit", "",
    PAGE_ONE, *page_break(12), PAGE_TWO, *page_break(13), "Conflict of interest: none declared.", "",
])


def parse(text: str):
    return parse_bytes(text.encode(), "case.txt")[0]


def test_a_flattened_two_column_page_is_read_column_by_column():
    document = parse(FLATTENED)
    paragraphs = [document.text[p.start:p.end] for p in document.paragraphs]
    assert ("A 44-year-old man with diffuse large B-cell lymphoma in second relapse received lisocabtagene "
            "maraleucel. On day 3 he had fever and low blood pressure, and cytokine release syndrome of grade 3 was "
            "diagnosed. He was given tocilizumab twice without effect. Plasma exchange with 5% albumin began on day 5 "
            "and was repeated daily for three sessions.") in paragraphs
    # the right column's sentence runs on over the page break into the next page's left column
    assert ("His interleukin-6 fell from 3,200 pg/mL to 140 pg/mL, and he was well at his review on day 30, with the "
            "lymphoma in complete remission.") in paragraphs
    assert [s.title for s in document.sections if s.title] == ["CASE PRESENTATION", "DISCUSSION"]
    assert "OKAFOR ET AL" not in document.text and "-----" not in document.text and "=====" not in document.text
    assert "13" not in document.text.split()


def test_every_offset_of_a_reordered_document_is_into_its_own_text():
    document = parse(FLATTENED)
    for paragraph in document.paragraphs:
        assert document.text[paragraph.start:paragraph.end].strip() == document.text[paragraph.start:paragraph.end]
    sentence = next(s for s in document.sentences if "Plasma exchange with 5% albumin" in document.quote(s.start, s.end))
    assert document.quote(sentence.start, sentence.end).startswith("Plasma exchange with 5% albumin began on day 5")


def test_the_title_and_byline_are_found_past_the_journal_line():
    document = parse(FLATTENED)
    assert document.title == "Plasma exchange for cytokine release syndrome after lisocabtagene maraleucel"
    assert document.authors == ["Okafor, Tomas J.", "Brandt, Lena", "Ramesh, Priya"]


ONE_COLUMN = """Plasma exchange after CAR-T cells

Ana Silva, Tom Berg

Case presentation

A 50-year-old woman with follicular lymphoma received axicabtagene ciloleucel.  Grade 3
cytokine release syndrome began on day 2.  She was given tocilizumab and then  three
plasma exchanges with albumin.  Her ferritin fell from 9,000 to 2,000 ng/mL.
"""
ALIGNED_TABLE = """Table 1. Treatment by day

Day of illness          Treatment given on the day
Day 1 after infusion    Paracetamol and fluids only
Day 3 after infusion    Tocilizumab 8 mg/kg once
Day 5 after infusion    First plasma exchange session
"""
RULED_TABLE = """Table 2. Markers

----------------------------------------
Day      IL-6 (pg/mL)      CRP (mg/L)
----------------------------------------
D1       120               40
D3       2,400             180
----------------------------------------
"""


@pytest.mark.parametrize("text", [ONE_COLUMN, ALIGNED_TABLE, RULED_TABLE], ids=["one column", "aligned", "ruled"])
def test_a_text_without_columns_or_page_furniture_is_unchanged(text):
    assert read_in_order(text) == text


LAID_OUT_AS_PAGES = {"g5_ng_pdf2024.txt"}  # the corpus's one text copied from a two-column PDF page


@pytest.mark.parametrize("path", sorted(p for p in ROOT.glob("corpus/docs/*.txt") if p.name not in LAID_OUT_AS_PAGES),
                         ids=lambda path: path.name)
def test_the_corpus_one_column_texts_are_unchanged(path):
    text = path.read_text(encoding="utf-8")
    assert read_in_order(text) == text


@pytest.mark.parametrize("name", sorted(LAID_OUT_AS_PAGES))
def test_the_corpus_text_laid_out_as_pages_is_read_column_by_column(name):
    text = (ROOT / "corpus/docs" / name).read_text(encoding="utf-8")
    ordered = " ".join(read_in_order(text).split())
    assert "=====" not in ordered and "-----" not in ordered
    # a sentence of the left column that runs over a page break reads whole; the document joins its broken words
    assert "She achieved remission with a modi- fied UKALL regimen but relapsed in the marrow 14 months later" in ordered
    document = parse_bytes(text.encode(), name)[0]
    assert "She achieved remission with a modified UKALL regimen but relapsed" in " ".join(document.text.split())


def test_an_aligned_table_between_two_column_blocks_keeps_its_table():
    text = "\n\n".join([PAGE_ONE, ALIGNED_TABLE, PAGE_TWO])
    document = parse(text)
    [table] = document.tables
    assert table.label == "Table 1"
    assert [c.text for c in table.cells if c.row == 2] == ["Day 3 after infusion", "Tocilizumab 8 mg/kg once"]
    assert "was given tocilizumab twice without effect." in document.text


def test_running_heads_repeated_on_the_pages_and_page_numbers_are_dropped():
    text = "\n".join(["The first page ends here.", "", "=" * 40, "J Case Rep 2020; 1: 3", "- 3 -", "=" * 40, "",
                      "The second page ends here.", "", "=" * 40, "J Case Rep 2020; 1: 4", "- 4 -", "=" * 40, "",
                      "The third page.", "\f", "5", "", "The fourth page."])
    assert read_in_order(text).split("\n\n") == ["The first page ends here.", "The second page ends here.",
                                                 "The third page.", "The fourth page.\n"]


def test_a_ruled_table_keeps_its_rules_and_header():
    document = parse(RULED_TABLE)
    [table] = document.tables
    assert [c.text for c in table.cells if c.is_header] == ["Day", "IL-6 (pg/mL)", "CRP (mg/L)"]


@pytest.mark.parametrize("lines, joined", [
    (["acute leukae-", "mia"], "acute leukaemia"),  # a break inside a word
    (["relapsed B-", "cell lymphoma"], "relapsed B-cell lymphoma"),  # a capital before the hyphen
    (["her IL-", "6 level"], "her IL-6 level"),
    (["anti-", "CD19 cells"], "anti-CD19 cells"),
    (["scarce anti-", "cytokine drugs"], "scarce anti-cytokine drugs"),  # a prefix written with its hyphen
    (["disease-", "free survival"], "disease-free survival"),  # a second part written with its hyphen
    (["an un-", "related event"], "an unrelated event"),  # too short a first part for a compound
    (["the same twenty-four-", "hour period"], "the same twenty-four-hour period"),  # a compound's later part
    (["pre-", "and post-exchange"], "pre- and post-exchange"),  # a hyphen left hanging
    (["the dose -", "then"], "the dose - then"),  # a dash
])
def test_words_broken_at_line_ends(lines, joined):
    assert join_lines(lines) == joined


def test_the_documents_own_words_decide_a_broken_word():
    known = vocabulary("The antibody was given. A disease-negative marrow.")
    assert join_lines(["an anti-", "body"], known) == "an antibody"
    assert join_lines(["minimal residual disease-", "negative"], known) == "minimal residual disease-negative"
    assert join_lines(["minimal residual disease-", "negative"]) == "minimal residual disease-negative"


@pytest.mark.parametrize("front, byline, surname", [
    ("Transfus Pract 2022; 14(2): 88-90\nCorrespondence\nDOI: 10.5555/x.1", "Fiona Pemberton, Rajesh Sandhu and "
     "Gareth Llewellyn", "Pemberton"),
    ("SHORT COMMUNICATION", "Imogen C. Hargreaves(1), Rhodri Pughe(2),\nSaoirse Kinsella(1)", "Hargreaves"),
    ("Journal of Apheresis Notes (invented journal)\n2024; 6: e0117", "Kevin T. Brannigan, MD(1); Alicia M. Fuentes, "
     "MD(2)", "Brannigan"),
    ("J Blood Purif 2024, 19(3): 211-216", "LIANG Xiaoyu(1), FENG Jianguo(2), WU Shasha(1)", "Liang"),
    ("https://doi.org/10.5555/x.2", "Marcus D. Pruitt, MD (PGY-3, Internal Medicine); Janelle Okoro, DO (PGY-2)",
     "Pruitt"),
    ("Case report from the intensive care unit", "Authors: Itzel M. Quintero, Rogelio A. Batista, Eduardo J. Salas",
     "Quintero"),
])
def test_the_first_author_is_read_past_affiliation_marks_degrees_and_notes(front, byline, surname):
    document = parse(f"{front}\n\nPlasma exchange after CAR-T cells\n\n{byline}\n\n(1) Department of Haematology\n\n"
                     "Case\n\nA 40-year-old man received CAR-T cells.")
    assert document.title == "Plasma exchange after CAR-T cells"
    assert document.first_author_surname() == surname


def test_a_letters_salutation_is_no_byline():
    document = parse("Haematol Lett 2023; 31(2): 145-147\n\nPlasma exchange when tocilizumab is scarce\n\n"
                     "Dear Editor,\n\nA 24-year-old man received tisagenlecleucel.")
    assert document.title == "Plasma exchange when tocilizumab is scarce"
    assert document.authors == []


def test_a_pdf_mends_its_broken_words_by_the_same_rule():
    import zlib

    from test_hostile_input import pdf

    lines = ["A woman with B-cell acute leukae-", "mia relapsed. Her B-", "cell count and IL-", "6 level rose; anti-",
             "cytokine drugs were scarce."]
    content = "BT /F1 12 Tf 14 TL 72 720 Td " + " ".join(f"({line}) '" for line in lines) + " ET"
    document = parse_bytes(pdf(zlib.compress(content.encode())), "case.pdf")[0]
    assert ("A woman with B-cell acute leukaemia relapsed. Her B-cell count and IL-6 level rose; anti-cytokine drugs "
            "were scarce.") in document.text


def test_a_right_column_line_set_a_little_to_the_left_is_still_the_right_columns():
    lines = side_by_side(["A 47-year-old woman with mantle", "cell lymphoma was given brexu-", "cabtagene autoleucel and on day",
                          "2 developed grade 3 cytokine"],
                         ["release syndrome. Plasma exchange", "with albumin was started on day 4", "and repeated once. She was well",
                          "at three months."], gap=4).split("\n")
    lines[1] = lines[1][:33] + lines[1][34:]  # this line's right column one character to the left
    text = read_in_order("\n".join(lines))
    assert join_lines(text.split("\n")) == (
        "A 47-year-old woman with mantle cell lymphoma was given brexucabtagene autoleucel and on day 2 developed "
        "grade 3 cytokine release syndrome. Plasma exchange with albumin was started on day 4 and repeated once. "
        "She was well at three months.")


def test_a_row_of_units_under_the_header_belongs_to_the_header():
    document = parse("Table 1. Markers\n\nDay    IL-6       CRP\n       (pg/mL)    (mg/L)\nD1     120        40\n"
                     "D3     2,400      180\n")
    [table] = document.tables
    assert [c.text for c in table.cells if c.is_header] == ["Day", "IL-6", "CRP", "(pg/mL)", "(mg/L)"]


def test_headings_underlined_with_rules_stay_however_often_they_recur():
    text = "Case 1\n------\n\nA man of 50 years.\n\nCase 2\n------\n\nA woman of 40 years.\n"
    assert read_in_order(text) == text


def test_a_footer_above_a_page_break_and_a_head_below_it_are_dropped():
    text = "The first page ends.\nJ Case Rep 2020; 1: 3\n\fJ Case Rep 2020; 1: 4\nThe second page.\n"
    assert read_in_order(text).split() == "The first page ends. The second page.".split()


def test_a_heading_under_a_rule_is_no_running_head():
    text = "A first case.\n\n------\nCase 1\n\nA man of 50 years.\n\n------\nCase 2\n\nA woman of 40 years.\n"
    assert "Case 1" in read_in_order(text) and "Case 2" in read_in_order(text)


@pytest.mark.parametrize("front, name, year", [
    ("Haematol Lett 2021; 31(2): 145-147", "reply2024.txt", 2021),  # the journal's citation dates the article
    ("Correspondence\nDOI: 10.5555/x.4", "mensah2024_reply.txt", 2024),  # else the name the curator saved it under
    ("Correspondence\nDOI: 10.5555/x.4", "reply.txt", 2019),  # else the first year of the text
])
def test_the_year_is_the_citation_s_then_the_file_name_s_then_the_text_s(front, name, year):
    text = (f"{front}\n\nPlasma exchange for ICANS: the authors reply\n\nAkua Mensah, Kofi Boateng\n\n"
            "To the Editor:\n\nHer ICANS was grade 3 under the 2019 ASTCT consensus.")
    assert parse_bytes(text.encode(), name)[0].year == year


def test_a_surname_first_byline_takes_the_surname_the_file_is_named_after():
    from extractors.cases import extract_document

    text = ("Plasma exchange after CAR-T cells\n\nOng Jia Hui(1), Tan Wei Ming(2)\n\nCase presentation\n\n"
            "A 41-year-old woman with DLBCL received axicabtagene ciloleucel and had grade 3 CRS. PEX was performed "
            "on day 4.")
    assert [case.case_id for case in extract_document(parse_bytes(text.encode(), "ong2024_case.txt")[0]).cases] \
        == ["ong2024-1"]
    assert [case.case_id for case in extract_document(parse_bytes(text.encode(), "case.txt")[0]).cases] == ["hui-1"]
    accented = text.replace("Ong Jia Hui(1), Tan Wei Ming(2)", "Traoré Mariam, Coulibaly Seydou")
    assert [case.case_id for case in extract_document(parse_bytes(accented.encode(), "traore2023.txt")[0]).cases] \
        == ["traore2023-1"]


def test_a_line_over_a_list_heads_it_and_lines_of_named_values_are_entries():
    document = parse("Plasma exchange after CAR-T cells\n\nAna Silva, Tom Berg\n\n"
                     "Background of the patient\n- Sixty-seven-year-old man with myeloma.\n- Five prior lines.\n\n"
                     "Drugs considered but not given\n- Siltuximab: discussed on day 6.\n- Ruxolitinib: discussed.\n\n"
                     "LABS:\nIL-6 (pg/mL): 6,380->415 (before the first -> after the last exchange)\n"
                     "Ferritin (ng/mL): 22,450->8,120\nIFN-gamma was not measured.\n\n"
                     "Key messages\n- Grade CRS by one system.\n- Plan the exchange early.")
    kinds = {s.title: s.kind for s in document.sections}
    assert kinds["Background of the patient"] == "case" and kinds["Key messages"] == "discussion"
    assert "Drugs considered but not given" in kinds
    entries = [document.quote(p.start, p.end) for p in document.paragraphs if p.kind == "list-item"]
    assert "IL-6 (pg/mL): 6,380->415 (before the first -> after the last exchange)" in entries
    assert "Ferritin (ng/mL): 22,450->8,120" in entries


def test_a_numbered_heading_of_few_words_over_a_paragraph_opens_a_section():
    document = parse("Plasma exchange after CAR-T cells\n\nAna Silva, Tom Berg\n\nIntroduction\n\nA statement.\n\n"
                     "2. Grading\nWe recommend the ASTCT "
                     "consensus.\n\nThe index case\nThe index case is a 21-year-old woman with B-ALL.")
    titles = [s.title for s in document.sections]
    assert "2. Grading" in titles and "The index case" in titles


def test_running_prose_ends_the_front_matter_and_a_rule_line_is_no_text():
    """A document whose parts have no known heading word: the short line over its first running prose heads it, the
    short lines after it head theirs, and the rules drawn between the parts are left out."""
    text = (
        "Annals of Island Medicine - Clinical Documents\nReceived 2 May 2025\n\n"
        "A discharge letter after CAR-T therapy\n\n"
        "Editorial note\nThis series prints discharge letters as they were sent. Only names are removed. The letter "
        "below reports a man who received axicabtagene ciloleucel abroad and was flown home.\n\n"
        + "-" * 60 + "\nDISCHARGE LETTER\n\n"
        "Therapy:\n- Tocilizumab 8 mg/kg, 2 doses\n- Plasma exchange on 3 and 4 March\n\n"
        + "-" * 60 + "\nCommentary\n\n"
        "The letter shows the course well. Others have reported larger falls in IL-6 after exchange.\n\n"
        "Answers to the questions\n\nHe had grade 3 CRS by the ASTCT criteria.")
    document = parse_bytes(text.encode(), "letter.txt")[0]
    assert [(s.title, s.kind) for s in document.sections][1:] == [
        ("Editorial note", "other"), ("DISCHARGE LETTER", "other"), ("Therapy", "other"),
        ("Commentary", "discussion"), ("Answers to the questions", "case")]
    assert "---" not in document.text
