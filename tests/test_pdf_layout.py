"""PDF layout: columns under a one-column header, running heads, headings by weight and numbering, the title by
size, spaces from gaps, words broken at line ends, superscript citation marks. The PDFs are written here, with
PDF operators and the standard fonts (whose widths pdfminer knows)."""

from __future__ import annotations

import pytest

from pdf_bytes import pdf_bytes
from pipeline.parsing.pdf import parse_pdf

REGULAR, BOLD = "F1", "F2"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def text(x: float, y: float, words: str, size: float = 10, font: str = REGULAR, tight: bool = False,
         superscript: str = "") -> str:
    """Operators that draw ``words`` at (x, y); ``tight`` sets them apart by a gap of a fifth of an em and no
    space character, as some journals do; ``superscript`` follows in a smaller size, raised."""
    if tight:
        shown = " -200 ".join(f"({_escape(w)})" for w in words.split())
        drawn = f"[{shown}] TJ"
    else:
        drawn = f"({_escape(words)}) Tj"
    raised = f" /{font} {size * 0.6} Tf {size * 0.4} Ts ({superscript}) Tj 0 Ts" if superscript else ""
    return f"BT /{font} {size} Tf {x} {y} Td {drawn}{raised} ET\n"


def pdf(pages: list[str]) -> bytes:
    """A PDF of ``pages`` (each a content stream), 612 x 792 points, Helvetica as F1 and Helvetica-Bold as F2."""
    return pdf_bytes([content.encode("latin-1") for content in pages])


LEFT = ["A 52-year-old man with lymphoma received", "CAR-T cells and developed a severe", "cytokine release syndrome on day two.",
        "His treat-", "ment began with tocilizumab, as is well", "known and widely practised in such cases.",
        "The fever did not settle within a day", "and his blood pressure kept falling."]
RIGHT = ["Plasma exchange was started on day", "three and repeated daily for five days.", "The treatment was well tolerated and",
         "his ferritin fell by half within a week.", "He left the intensive care unit on day", "nine and went home two weeks later.",
         "No further exchange was needed during", "the months of his follow-up visits."]
ABSTRACT = ["We report a man who received plasma exchange for a cytokine release syndrome after CAR-T cell therapy.",
            "The exchange was started on day three after tocilizumab and steroids had failed to settle his fever,",
            "and his condition improved within days of the first session; he was discharged two weeks later."]


def _furniture(page: int) -> str:
    return text(72, 770, "Journal of Invented Case Reports 2026, 4:12", 8) + text(300, 30, str(page), 8)


def _page_one() -> str:
    ops = [_furniture(1),
           text(72, 700, "Plasma Exchange for Cytokine Release", 18, BOLD),
           text(72, 678, "Syndrome after CAR-T Cell Therapy", 18, BOLD),
           text(72, 650, "Ana Silva, Tom Berg and Eva Holm", 11),
           text(72, 632, "Department of Haematology, Central Hospital, Lisbon, Portugal", 8)]
    ops += [text(72, 605 - 12 * i, line, 9) for i, line in enumerate(ABSTRACT)]
    ops.append(text(72, 540, "1. Introduction", 11, BOLD))
    y = 522
    for i, line in enumerate(LEFT):
        citation = "12" if line.startswith("known") else ""
        ops.append(text(72, y - 12 * i, line, 10, tight=True, superscript=citation))
    ops.append(text(320, 540, "2. Case Presentation", 11, BOLD))
    ops += [text(320, y - 12 * i, line, 10) for i, line in enumerate(RIGHT)]
    return "".join(ops)


def _page_two() -> str:
    ops = [_furniture(2), text(72, 700, "3. Discussion", 11, BOLD)]
    ops += [text(72, 682 - 12 * i, line, 10) for i, line in enumerate(
        ["Plasma exchange removes cytokines and", "may help where tocilizumab fails. Trials", "are needed to weigh it."])]
    ops += [text(320, 682 - 12 * i, line, 10) for i, line in enumerate(
        ["Other centres have reported similar", "courses in adults and in children with", "leukaemia after CAR-T cells."])]
    return "".join(ops)


@pytest.fixture(scope="module")
def document():
    return parse_pdf(pdf([_page_one(), _page_two()]), "case.pdf")[0]


def test_title_is_the_largest_type_near_the_top_lines_joined(document):
    assert document.title == "Plasma Exchange for Cytokine Release Syndrome after CAR-T Cell Therapy"
    assert document.first_author_surname() == "Silva"


def test_abstract_unlabelled_is_the_prose_after_the_title_group(document):
    abstract = [s for s in document.sections if s.kind == "abstract"]
    assert len(abstract) == 1
    text = document.text[abstract[0].start:abstract[0].end]
    assert "We report a man who received plasma exchange" in text
    assert "discharged two weeks later." in text
    assert "Introduction" not in text and "Haematology" not in text


def test_columns_are_read_one_after_the_other_below_a_one_column_header(document):
    text = document.text
    left = "His treatment began with tocilizumab"
    right = "Plasma exchange was started on day three and repeated daily for five days."
    assert left in text and right in text
    assert text.index("A 52-year-old man with lymphoma received CAR-T cells") < text.index(left) < text.index(right)
    assert text.index("and his blood pressure kept falling.") < text.index(right)


def test_running_heads_and_page_numbers_are_dropped(document):
    assert "Journal of Invented Case Reports" not in document.text
    assert not any(p.strip() in ("1", "2") for p in document.text.split("\n\n"))


def test_headings_from_bold_and_numbering_and_the_case_section(document):
    titles = [s.title for s in document.sections if s.title]
    assert titles == ["Abstract", "Introduction", "Case Presentation", "Discussion"]  # the numbers give levels
    case = next(s for s in document.sections if s.title == "Case Presentation")
    assert case.kind == "case"
    assert "Plasma exchange was started" in document.text[case.start:case.end]


def test_spaces_from_gaps_broken_word_joined_superscript_citation_dropped(document):
    text = document.text
    assert "A 52-year-old man with lymphoma received CAR-T cells and developed a severe" in text
    assert "treatment" in text and "treat-" not in text
    assert "widely practised in such cases. The fever" in text
    assert "cases.12" not in text and "12 The" not in text


def test_a_paragraph_of_the_second_page_is_whole(document):
    discussion = next(s for s in document.sections if s.title == "Discussion")
    assert ("Plasma exchange removes cytokines and may help where tocilizumab fails. Trials are needed to weigh it."
            in document.text[discussion.start:discussion.end])


@pytest.mark.shared
def test_a_real_hindawi_case_report(shared):
    path = shared / "data/pdf-real/01_cr-ards-cytokine/article.pdf"
    document = parse_pdf(path.read_bytes(), path.name)[0]
    assert document.title == ("Cytokine Reduction in the Setting of an ARDS-Associated Inflammatory Response "
                              "with Multiple Organ Failure")
    assert document.first_author_surname() == "Träger"
    assert document.doi == "10.1155/2016/9852073"
    case = next(s for s in document.sections if s.title == "Case Presentation")
    assert case.kind == "case"
    assert ("A 45-year-old male patient was admitted to our hospital with a small bowel obstruction due to torsion"
            in document.text[case.start:case.end])
    abstract = next(s for s in document.sections if s.kind == "abstract")
    assert document.text[abstract.start:abstract.end].rstrip().endswith("with no device-related adverse effects observed.")


def test_run_in_bold_case_headings_open_case_sections():
    def paragraph(y: float, label: str, lines: list[str]) -> str:
        first = f"BT /{BOLD} 10 Tf 72 {y} Td ({label}) Tj /{REGULAR} 10 Tf ( {lines[0]}) Tj ET\n"
        return first + "".join(text(72, y - 12 * (i + 1), line) for i, line in enumerate(lines[1:]))

    page = (text(72, 700, "Two Patients Treated with Plasma Exchange", 16, BOLD)
            + paragraph(640, "Case 1.", ["A 60-year-old woman developed a cytokine release syndrome on day 3",
                                         "after CAR-T cells and received five sessions of plasma exchange."])
            + paragraph(590, "Case 2.", ["A 45-year-old man developed a cytokine release syndrome on day 5",
                                         "and improved after three sessions of plasma exchange."]))
    document = parse_pdf(pdf([page]), "two.pdf")[0]
    cases = [s for s in document.sections if s.title.startswith("Case")]
    assert [s.title for s in cases] == ["Case 1", "Case 2"]
    assert all(s.kind == "case" for s in cases)
    assert document.text[cases[1].start:cases[1].end].endswith("improved after three sessions of plasma exchange.")


def test_labelled_abstract_runs_to_the_keywords_and_a_ruled_table_leaves_the_text():
    grid = "".join(f"72 {y} m 372 {y} l S\n" for y in (600, 585, 570, 555)) + "".join(
        f"{x} 600 m {x} 555 l S\n" for x in (72, 222, 372))
    cells = [("Day", "Ferritin"), ("1", "2400"), ("5", "800")]
    table = "".join(text(76 + 150 * c, 589 - 15 * r, cell, 9) for r, row in enumerate(cells) for c, cell in enumerate(row))
    page = (text(72, 740, "Plasma Exchange in a Child with Cytokine Storm", 16, BOLD)
            + text(72, 712, "Abstract", 12, BOLD)
            + text(72, 696, "A child with leukaemia received CAR-T cells and developed a severe cytokine storm.", 9)
            + text(72, 685, "Plasma exchange on day four brought her fever and ferritin down within two days.", 9)
            + text(72, 668, "Keywords: plasma exchange; cytokine release syndrome; children", 9)
            + text(72, 640, "Her ferritin fell after the exchange, as the table shows.", 10)
            + grid + table)
    document = parse_pdf(pdf([page]), "child.pdf")[0]
    abstract = next(s for s in document.sections if s.kind == "abstract")
    text_of_abstract = document.text[abstract.start:abstract.end]
    assert abstract.title == "Abstract"
    assert text_of_abstract.startswith("Abstract\n\nA child with leukaemia")
    assert text_of_abstract.rstrip().endswith("within two days.")
    assert [[c.text for c in t.cells] for t in document.tables] == [["Day", "Ferritin", "1", "2400", "5", "800"]]
    flowing = [document.text[p.start:p.end] for p in document.paragraphs if p.kind != "table-row"]
    assert not any("2400" in paragraph for paragraph in flowing)


def test_line_numbers_of_a_manuscript_are_dropped():
    sentence = ["A man of sixty received CAR-T cells for lymphoma and on the", "second day he developed fever,",
                "hypotension and hypoxia, a cytokine release syndrome of grade", "three that did not settle on tocilizumab."]
    ops = [text(72, 740, "Plasma Exchange for a Refractory Cytokine Release Syndrome", 16, BOLD)]
    for i in range(12):
        ops.append(text(40, 700 - 14 * i, str(i + 1), 8))
        ops.append(text(72, 700 - 14 * i, sentence[i % 4], 10))
    document = parse_pdf(pdf(["".join(ops)]), "manuscript.pdf")[0]
    assert "received CAR-T cells for lymphoma and on the second day he developed fever, hypotension" in document.text
    assert not any(ch.isdigit() for ch in document.text)


def test_numbered_subheadings_nest_under_their_heading():
    page = (text(72, 740, "Plasma Exchange after CAR-T Cells: A Case Report", 16, BOLD)
            + text(72, 700, "2. Case Presentation", 11, BOLD)
            + text(72, 684, "A woman of fifty developed a cytokine release syndrome after CAR-T cells.", 10)
            + text(72, 660, "2.1. Treatment", 11, BOLD)
            + text(72, 644, "She received tocilizumab and then five sessions of plasma exchange.", 10)
            + text(72, 620, "3. Discussion", 11, BOLD)
            + text(72, 604, "Plasma exchange may help where tocilizumab fails.", 10))
    document = parse_pdf(pdf([page]), "nested.pdf")[0]
    by_title = {s.title: s for s in document.sections}
    case, treatment, discussion = by_title["Case Presentation"], by_title["Treatment"], by_title["Discussion"]
    assert treatment.parent_id == case.id and treatment.kind == "case"
    assert discussion.level == case.level and discussion.parent_id is None
    assert "five sessions of plasma exchange" in document.text[case.start:case.end]


def test_a_numbered_case_heading_titles_its_section_without_the_number():
    page = (text(72, 740, "Plasma Exchange in Two Patients after CAR-T Cells", 16, BOLD)
            + text(72, 700, "2. Presentation of the Cases", 11, BOLD)
            + text(72, 676, "2.1. Case 1", 11, BOLD)
            + text(72, 660, "A woman of fifty developed a cytokine release syndrome after CAR-T cells.", 10)
            + text(72, 636, "2.2. Case 2", 11, BOLD)
            + text(72, 620, "A man of twenty-two developed it two days after his infusion.", 10))
    document = parse_pdf(pdf([page]), "two-cases.pdf")[0]
    by_title = {s.title: s for s in document.sections}
    assert {"Presentation of the Cases", "Case 1", "Case 2"} <= set(by_title)
    assert by_title["Case 2"].parent_id == by_title["Presentation of the Cases"].id
    assert "A man of twenty-two" in document.text[by_title["Case 2"].start:by_title["Case 2"].end]


def test_columns_below_a_full_width_table_are_read_after_the_columns_above_it():
    grid = "".join(f"72 {y} m 540 {y} l S\n" for y in (520, 505, 490, 475)) + "".join(
        f"{x} 520 m {x} 475 l S\n" for x in (72, 306, 540))
    cells = [("Day", "Ferritin"), ("1", "2400"), ("5", "800")]
    table = "".join(text(76 + 234 * c, 509 - 15 * r, cell, 9) for r, row in enumerate(cells) for c, cell in enumerate(row))
    above_left, above_right = LEFT[:3], RIGHT[:3]
    below_left, below_right = LEFT[3:], RIGHT[3:]
    ops = [text(72, 740, "Plasma Exchange for Cytokine Release Syndrome", 16, BOLD)]
    ops += [text(72, 680 - 12 * i, line, 10) for i, line in enumerate(above_left)]
    ops += [text(320, 680 - 12 * i, line, 10) for i, line in enumerate(above_right)]
    ops += [text(72, 440 - 12 * i, line, 10) for i, line in enumerate(below_left)]
    ops += [text(320, 440 - 12 * i, line, 10) for i, line in enumerate(below_right)]
    document = parse_pdf(pdf(["".join(ops) + grid + table]), "table-between.pdf")[0]
    order = [document.text.index(phrase) for phrase in (
        "A 52-year-old man", "Plasma exchange was started", "treatment began with tocilizumab", "his ferritin fell by half")]
    assert order == sorted(order)
    assert [[c.text for c in t.cells] for t in document.tables] == [["Day", "Ferritin", "1", "2400", "5", "800"]]


def test_a_table_stands_where_it_stood_with_the_notes_under_it():
    header = (text(76, 589, "Day", 9) + text(310, 589, "Day +5", 9)
              + f"BT /{REGULAR} 6 Tf 340 593 Td (a) Tj ET\n")  # raised, smaller: the note's mark
    body = "".join(text(76, 574 - 12 * i, name, 9) + text(310, 574 - 12 * i, value, 9) for i, (name, value) in
                   enumerate([("Ferritin (ng/mL)", "11,200"), ("CRP (mg/dL)", "15.3"), ("IL-6 (pg/mL)", "1,310")]))
    grid = (text(72, 610, "Table 1 Laboratory course of the patient (day 0: the day of her CAR-T cell infusion).", 9)
            + "".join(f"72 {y} m 540 {y} l S\n" for y in (600, 583, 544)))  # three rules, as most journals draw
    page = (text(72, 740, "Plasma Exchange for Cytokine Release Syndrome", 16, BOLD)
            + text(72, 700, "Plasma exchange", 11, BOLD)
            + text(72, 684, "She received five sessions of plasma exchange from day five.", 10)
            + text(72, 660, "Course", 11, BOLD)
            + text(72, 644, "Her ferritin fell within a week and she went home on day twenty.", 10)
            + grid + header + body
            + text(72, 534, "a Sampled two hours after the end of the exchange.", 8)
            + text(72, 520, "Discussion", 11, BOLD)
            + text(72, 504, "Plasma exchange may help where tocilizumab fails.", 10))
    document = parse_pdf(pdf([page]), "notes.pdf")[0]
    table = document.tables[0]
    assert [c.text for c in table.cells][2:] == ["Ferritin (ng/mL)", "11,200", "CRP (mg/dL)", "15.3", "IL-6 (pg/mL)", "1,310"]
    assert table.footnotes == ["a Sampled two hours after the end of the exchange."]
    course = next(s for s in document.sections if s.title == "Course")
    assert table.section_id == course.id  # under the paragraph above it, not after the page's text
    assert document.text.count("Sampled two hours") == 1  # the note is the table's, not also a paragraph


def test_a_heading_level_with_two_lines_of_the_next_column_leaves_them_two_lines():
    ops = [text(72, 740, "Plasma Exchange for Cytokine Release Syndrome", 16, BOLD)]
    ops += [text(72, 680 - 12 * i, line, 10) for i, line in enumerate(LEFT[:4])]
    ops.append(text(72, 625, "2. Case", 13, BOLD))  # larger, between two lines on the right: its box reaches both
    ops += [text(72, 680 - 12 * (i + 6), line, 10) for i, line in enumerate(LEFT[4:])]
    ops += [text(320, 680 - 12 * i, line, 10) for i, line in enumerate(RIGHT)]
    document = parse_pdf(pdf(["".join(ops)]), "level.pdf")[0]
    assert " ".join(RIGHT) in document.text.replace("\n", " ")


def test_a_number_word_broken_at_its_hyphen_keeps_it_in_the_title_and_the_text():
    page = (text(72, 740, "Plasma Exchange for Cytokine Release Syndrome: a Four-", 16, BOLD)
            + text(72, 720, "year Review of One Apheresis Service", 16, BOLD)
            + text(72, 680, "We looked back over the records of a three-", 10)
            + text(72, 668, "day course of plasma exchange in fourteen adults.", 10))
    document = parse_pdf(pdf([page]), "four-year.pdf")[0]
    assert document.title == ("Plasma Exchange for Cytokine Release Syndrome: a Four-year Review of One Apheresis "
                              "Service")
    assert "a three-day course" in document.text


def test_back_matter_headings_in_small_type_and_a_font_of_their_own_open_sections(monkeypatch):
    import pdf_bytes as writer  # a third font, Times-Roman as F3, which no name marks bold

    monkeypatch.setattr(writer, "FONTS", writer.FONTS.rsplit(b">>", 1)[0]
                        + b"/F3 << /Type /Font /Subtype /Type1 /BaseFont /Times-Roman >> >>")
    ops = [text(72, 740, "Plasma Exchange for Cytokine Release Syndrome", 16, BOLD),
           text(72, 700, "Discussion", 11, BOLD)]
    ops += [text(72, 684 - 12 * i, line, 10) for i, line in enumerate(LEFT)]
    back = [("Competing interests", ["The authors declare that they have no competing interests."]),
            ("Funding", ["This work was funded by the Invented Foundation for Apheresis (grant 12).",
                         "The funder had no role in the design of the study or in writing it."])]
    y = 570
    for title, lines in back:
        ops.append(text(72, y, title, 7.5, "F3"))
        ops += [text(72, y - 9 * (i + 1), line, 7.5) for i, line in enumerate(lines)]
        y -= 9 * (len(lines) + 1) + 6
    document = parse_pdf(pdf(["".join(ops)]), "back.pdf")[0]
    by_title = {s.title: s for s in document.sections}
    assert {"Discussion", "Competing interests", "Funding"} <= set(by_title)
    funding = by_title["Funding"]
    assert document.text[funding.start:funding.end].rstrip().endswith("or in writing it.")


def test_words_drawn_inside_a_figure_leave_the_text_and_its_caption_stays():
    chart = ("0.5 w 100 450 m 100 300 l 400 300 l S\n"  # the axes: one path of two strokes, a curve to pdfplumber
             "1 w 100 320 m 150 360 l 200 410 l 250 400 l 300 430 l 350 440 l S\n")
    labels = (text(104, 440, "IL-6", 8) + text(150, 305, "5", 8) + text(300, 305, "10", 8) + text(370, 305, "Day", 8)
              + text(300, 350, "after TPE", 8) + text(200, 420, "peak", 8))
    ops = [text(72, 740, "Plasma Exchange for Cytokine Release Syndrome", 16, BOLD)]
    ops += [text(72, 700 - 12 * i, line, 10) for i, line in enumerate(LEFT[:3])]
    ops.append(text(72, 280, "Figure 1. Interleukin-6 before and after plasma exchange.", 9))
    ops += [text(72, 240 - 12 * i, line, 10) for i, line in enumerate(RIGHT[:3])]
    document = parse_pdf(pdf(["".join(ops) + chart + labels]), "figure.pdf")[0]
    flowing = " ".join(document.text.split()) + " "
    for label in ("IL-6 ", "after TPE", "peak", "Day "):
        assert label not in flowing
    assert "Figure 1. Interleukin-6 before and after plasma exchange." in flowing
    assert " ".join(LEFT[:3]) in flowing and " ".join(RIGHT[:3]) in flowing


def test_the_journal_from_the_running_head_and_the_affiliation_between_byline_and_abstract(document):
    assert document.journal == "Journal of Invented Case Reports"
    assert document.affiliations == ["Department of Haematology, Central Hospital, Lisbon, Portugal"]


BODY = ["Plasma exchange was begun on the third day after the infusion and repeated",
        "daily; the method followed a published protocol (doi:10.5555/cited.9) and",
        "the patient recovered within two weeks of the first exchange session."]


def _front_page(head: str, foot: list[str], front: list[str]) -> str:
    """A first page: running head, title, byline, the lines ``front`` under it, the abstract, a heading and the
    body (which cites a DOI), and ``foot`` in small type at the bottom."""
    ops = [text(72, 770, head, 8) if head else "",
           text(72, 700, "Plasma Exchange for Cytokine Release Syndrome", 18, BOLD),
           text(72, 672, "Ana Silva, Tom Berg and Eva Holm", 11)]
    ops += [text(72, 654 - 10 * i, line, 8) for i, line in enumerate(front)]
    ops += [text(72, 590 - 12 * i, line, 9) for i, line in enumerate(ABSTRACT)]
    ops.append(text(72, 530, "1. Introduction", 11, BOLD))
    ops += [text(72, 512 - 12 * i, line, 10) for i, line in enumerate(BODY)]
    ops += [text(72, 120 - 9 * i, line, 7) for i, line in enumerate(foot)]
    return "".join(ops)


def _second_page(head: str) -> str:
    return (text(72, 770, head, 8) if head else "") + "".join(
        text(72, 700 - 12 * i, line, 10) for i, line in enumerate(RIGHT))


def test_a_doi_broken_at_a_line_end_is_joined_and_a_doi_cited_in_the_body_does_not_win():
    front = ["Citation: Silva A, Berg T, Holm E (2026) Plasma Exchange. Apheresis Letters 12(3): e0345. doi:10.5555/",
             "journal.apl.0012345"]
    document = parse_pdf(pdf([_front_page("", [], front), _second_page("")]), "case.pdf")[0]
    assert document.doi == "10.5555/journal.apl.0012345"


def test_the_doi_and_journal_of_the_running_footer_win_over_a_doi_cited_on_the_first_page():
    head = "Apheresis Letters | DOI:10.5555/journal.apl.0012345 March 3, 2026"
    document = parse_pdf(pdf([_front_page(head, [], []), _second_page(head)]), "case.pdf")[0]
    assert document.doi == "10.5555/journal.apl.0012345"
    assert document.journal == "Apheresis Letters"


def test_affiliations_marked_at_the_foot_of_the_first_page():
    foot = ["* Correspondence: ana.silva@example.org", "1 Department of Haematology, Central Hospital, Rua da",
            "Saudade 12, 1100 Lisbon, Portugal", "2 Blood Transfusion Service, Porto, Portugal",
            "Full list of author information is available at the end of the article"]
    head = "Silva et al. Apheresis Letters 2026, 12:345"
    document = parse_pdf(pdf([_front_page(head, foot, []), _second_page(head)]), "case.pdf")[0]
    assert document.affiliations == [
        "Department of Haematology, Central Hospital, Rua da Saudade 12, 1100 Lisbon, Portugal",
        "Blood Transfusion Service, Porto, Portugal"]
    assert document.journal == "Apheresis Letters"


def test_the_journal_and_doi_of_the_pdfs_document_information():
    data = pdf([_front_page("", [], []), _second_page("")])
    subject = b"Journal of Invented Haematology, 12 (2026) 345-350. doi:10.5555/j.jih.2026.01.007"
    data = data.replace(b"/Root 1 0 R >>", b"/Root 1 0 R /Info << /Subject (" + subject + b") >> >>")
    document = parse_pdf(data, "case.pdf")[0]
    assert document.journal == "Journal of Invented Haematology"
    assert document.doi == "10.5555/j.jih.2026.01.007"


@pytest.mark.parametrize("heading", ["Author details", "Author1 details"])  # a superscript strayed into it
def test_the_author_details_at_the_end_list_every_affiliation(heading):
    head = "Silva et al. Apheresis Letters 2026, 12:345"
    foot = ["1 Department of Haematology, Central Hospital, Lisbon, Portugal",
            "Full list of author information is available at the end of the article"]
    details = ["1 Department of Haematology, Central Hospital, Lisbon, Portugal.Blood Transfusion",
               "Service, Porto, Portugal. 3 School of Medicine, University of Minho, Braga, Portugal."]
    last = (_second_page(head) + text(72, 560, heading, 8, BOLD)
            + "".join(text(72, 548 - 9 * i, line, 7) for i, line in enumerate(details)))
    document = parse_pdf(pdf([_front_page(head, foot, []), last]), "case.pdf")[0]
    assert document.affiliations == ["Department of Haematology, Central Hospital, Lisbon, Portugal",
                                     "Blood Transfusion Service, Porto, Portugal",
                                     "School of Medicine, University of Minho, Braga, Portugal"]


@pytest.mark.parametrize("head, name", [
    ("Chiarotto et al. Trials 2014, 15:511", "Trials"),
    ("Behav Ecol Sociobiol (2015) 69:1383–1394", "Behav Ecol Sociobiol"),
    ("PLOS ONE | DOI:10.1371/journal.pone.0115884 December 31, 2014", "PLOS ONE"),
    ("Bone Marrow Transplantation (2021) 56:1234–1240; https://doi.org/10.1038/s41409-021-01234-5",
     "Bone Marrow Transplantation"),
    ("J Clin Apher. Author manuscript; available in PMC 2021 May 01.", "J Clin Apher"),
    ("January 2015 | Volume 5 | Article 1582 | 1", ""),
    ("CASE REPORT", ""),
    ("Downloaded from https://academic.oup.com/x by guest on 03 March 2024", ""),
])
def test_the_journals_name_in_a_running_head(head, name):
    from pipeline.parsing.pdf_front import journal_in

    assert journal_in(head)[0] == name
