import pytest

from pipeline.document.builder import DocumentBuilder
from pipeline.document.ids import make_case_id
from pipeline.document.sections import classify_section


def test_builder_offsets_round_trip():
    builder = DocumentBuilder(doc_id="file:x", source_file="x.txt", format="text")
    builder.open_section("Case presentation")
    builder.add_block("A 23-year-old man received CAR-T cells. He developed CRS on day 1.")
    builder.add_table([[{"text": "Age", "is_header": True, "col": 0}, {"text": "IL-6", "is_header": True, "col": 1}],
                       [{"text": "23", "col": 0}, {"text": "5,000", "col": 1}]], label="Table 1", caption="Labs")
    document = builder.build()
    assert document.sections[0].kind == "case"
    for item in document.sections + document.paragraphs + document.sentences:
        assert 0 <= item.start <= item.end <= len(document.text)
    assert [document.quote(s.start, s.end) for s in document.sentences[1:3]] == [
        "A 23-year-old man received CAR-T cells.", "He developed CRS on day 1."]
    table = document.tables[0]
    assert {(c.row, c.col): document.quote(c.start, c.end) for c in table.cells} == {
        (0, 0): "Age", (0, 1): "IL-6", (1, 0): "23", (1, 1): "5,000"}
    assert table.header_rows == 1


def test_every_offset_in_the_corpus_round_trips(corpus_documents):
    assert len(corpus_documents) >= 12
    for document in corpus_documents:
        text = document.text
        for sentence in document.sentences:
            quoted = text[sentence.start:sentence.end]
            assert quoted and quoted == quoted.strip(), (document.doc_id, sentence)
        for table in document.tables:
            for cell in table.cells:
                assert text[cell.start:cell.end] == cell.text, (document.doc_id, cell)
        for section in document.sections:
            assert text[section.start:section.start + len(section.title)] == section.title or not section.title


@pytest.mark.parametrize("surname, stem", [("Yılmaz", "yilmaz"), ("Wójcik", "wojcik"), ("Echeverría", "echeverria"),
                                           ("Łukasiewicz", "lukasiewicz"), ("O'Dwyer", "odwyer"), ("Ørsted", "orsted")])
def test_a_case_id_spells_a_surname_in_ascii_letters(surname, stem):
    """Letters that Unicode does not decompose (the dotless ı, ł, ø) are transliterated, not dropped."""
    assert make_case_id(surname, 2023, 1) == f"{stem}2023-1"


def test_affiliations_survive_the_json_round_trip_and_older_documents_load_without_them():
    from pipeline.document.model import Document

    builder = DocumentBuilder(doc_id="file:x", source_file="x.pdf", format="pdf", journal="Apheresis Notes",
                              affiliations=["Department of Haematology, City Hospital, Lyon, France"])
    builder.open_section("Case presentation")
    builder.add_block("A 23-year-old man received CAR-T cells.")
    document = builder.build()
    again = Document.model_validate_json(document.model_dump_json())
    assert again.affiliations == document.affiliations and again.journal == "Apheresis Notes"
    older = document.model_dump(exclude={"affiliations", "sentences"})
    assert Document.model_validate(older).affiliations == []


def test_a_closing_parenthesis_ends_no_sentence_that_goes_on_in_lower_case():
    from pipeline.document.sentences import split_sentences
    # pysbd split after each ")" of this paragraph (a quoted "grade 3" sets it off)
    text = ('She had fever (the onset was recorded as day 2) and now had a low blood pressure. The team wrote "grade 3" '
            'in the notes at 21:00; by 02:00 she was on norepinephrine. Tocilizumab had been given twice (day 2 and day '
            '3) and a third dose was given at 23:00 on day 3. IL-6 rose (peak on day 4). Plasma exchange followed.')
    assert [text[a:b] for a, b in split_sentences(text)] == [
        "She had fever (the onset was recorded as day 2) and now had a low blood pressure.",
        'The team wrote "grade 3" in the notes at 21:00; by 02:00 she was on norepinephrine.',
        "Tocilizumab had been given twice (day 2 and day 3) and a third dose was given at 23:00 on day 3.",
        "IL-6 rose (peak on day 4).", "Plasma exchange followed."]


@pytest.mark.parametrize("title, kind", [
    ("What we learned", "discussion"),  # the authors' lessons, not the patient's story
    ("Lessons for practice", "discussion"),
    ("Teaching points", "discussion"),
    ("Case presentation", "case"),
    ("Hospital course", "case"),
    ("Patients and methods", "methods"),
    ("Night two", "other"),
    ("B - Background", "case"),  # a handover's SBAR parts
    ("R - Recommendation", "discussion"),
    ("Actions", "discussion"),  # a meeting's actions: what is to be done, not what was
    ("Answers", "case"),  # a teaching case's answers tell what was done
    ("Answers and teaching points", "discussion"),
    ("Background", "introduction"),
])
def test_a_section_title_gives_its_kind(title, kind):
    assert classify_section(title) == kind
