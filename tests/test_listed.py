"""Values listed per patient beside a statement about several (extractors/listed.py): read one patient at a time,
with evidence at the patient's own figure."""

import pytest

from extractors.cases import extract_document
from extractors.evidence import Finding
from extractors.listed import listed_edits, listed_patients
from extractors.respectively import DealtText
from pipeline.parsing import parse_bytes


def dealt(text: str, number: int) -> str:
    out = text
    for edit in sorted(listed_edits(text, number), key=lambda e: -e.start):
        copied = text[edit.source[0]:edit.source[1]] if edit.source else ""
        out = out[:edit.start] + copied + out[edit.end:]
    return out


@pytest.mark.parametrize("text, number, reading", [
    # a summary figure, then each patient's figure in a parenthesis: the patient's in the summary's place
    ("Exchanges started a mean of 4 days after the cells (case 1, day 6; case 2, day 2).", 2,
     "Exchanges started 2 days after the cells."),
    ("Ferritin went from 12 000 (pt 1: 15 500; pt 2: 8 500) ng/mL to 5 000 (pt 1: 6 100; pt 2: 3 900) ng/mL.", 1,
     "Ferritin went from 15 500 ng/mL to 6 100 ng/mL."),
    ("They needed a median of 3 sessions (patient A, four; patient B, two; patient C, three).", 3,
     "They needed three sessions."),
    # no summary: the patient's item stays in its parenthesis
    ("Volumes differed (P1: 1.5 plasma volumes; P2: 1 plasma volume).", 1, "Volumes differed (1.5 plasma volumes)."),
    # each item followed by its patient's label
    ("Responses were CR (Patient 1), PR (Patient 2) and progression (Patient 3).", 2, "Responses were PR."),
    ("Responses were CR (Patient 1), PR (Patient 2) and progression (Patient 3).", 1, "Responses were CR."),
    # parts ending on the patients they tell of, one on a group
    ("ICANS was grade 2 in Patients 1 and 3 and grade 1 in Patient 2.", 2, "ICANS was grade 1 in Patient 2."),
    ("ICANS was grade 2 in Patients 1 and 3 and grade 1 in Patient 2.", 3, "ICANS was grade 2 in Patients 1 and 3."),
])
def test_a_list_of_values_per_patient_reads_as_the_patients_own(text, number, reading):
    assert listed_patients(text) >= {1, 2}
    assert dealt(text, number) == reading


@pytest.mark.parametrize("text", [
    "Two patients were treated (P1, 34M, B-ALL, academic CAR-T; P2, 58F, DLBCL, axi-cel).",  # descriptions in turn
    "IL-6 fell from 5 000 to 300 pg/mL (Patient 2).",  # one patient named
    "CRS reached grade 3 in Patient 1.",
])
def test_other_parentheses_list_no_values_per_patient(text):
    assert listed_patients(text) == set()
    assert listed_edits(text, 1) == []


def test_a_finding_over_a_copied_figure_points_at_the_figure():
    text = "Plasma exchange after CAR-T\n\nA. Author\n\nResults\n\nIL-6 fell from 4 000 (P1: 6 000; P2: 2 000) pg/mL."
    document = parse_bytes(text.encode(), "case.txt")[0]
    base = document.text.index("IL-6")
    edits = [e.__class__(base + e.start, base + e.end, e.source and (base + e.source[0], base + e.source[1]))
             for e in listed_edits(document.text[base:], 2)]
    reading = DealtText.of(document, [], edits)
    assert "IL-6 fell from 2 000 pg/mL." in reading.dealt.text
    start = reading.dealt.text.index("IL-6")
    found = reading.finding_in_article(Finding("il6_pre", "2000", start, reading.dealt.text.index(" pg/mL") + 6, "t"))
    assert document.text[found.start:found.end] == "2 000"
    assert found.start == document.text.index("P2: 2 000") + 4
    # the text around the replacement maps back unchanged
    assert document.text[reading.to_article(start):].startswith("IL-6 fell from 4 000")
    assert reading.to_dealt(document.text.index(" pg/mL")) == reading.dealt.text.index(" pg/mL")


ABSTRACT = """Plasma exchange for severe CRS after CAR-T cells: a two-centre series

A. Author, B. Author

Case series

Two patients were given plasma exchange for CRS graded by the ASTCT criteria. Patient 1, a 58-year-old woman with
DLBCL, received axicabtagene ciloleucel; Patient 2, a 44-year-old man with B-ALL, received tisagenlecleucel.

Results

CRS reached grade 4 in Patient 1 and grade 3 in Patient 2. The first exchange was done a median of 5 days after
infusion (patient 1, day 6; patient 2, day 4), and a median of 2.5 exchanges were performed (patient 1, 3;
patient 2, 2). IL-6 fell from a median of 7 300 (patient 1, 9 800; patient 2, 4 800) pg/mL to a median of
600 (patient 1, 900; patient 2, 300) pg/mL. Both are alive; best responses were complete remission (Patient 1) and
partial remission (Patient 2).
"""


def test_a_series_told_by_medians_and_parentheses_gives_each_patient_their_values():
    extraction = extract_document(parse_bytes(ABSTRACT.encode(), "series.txt")[0])
    fields = ("age_years", "crs_grade", "pe_start_day", "pe_sessions", "il6_pre", "il6_post", "response", "outcome")
    assert [{f: case.values.get(f, "") for f in fields} for case in extraction.cases] == [
        {"age_years": "58", "crs_grade": "4", "pe_start_day": "6", "pe_sessions": "3", "il6_pre": "9800",
         "il6_post": "900", "response": "CR", "outcome": "alive"},
        {"age_years": "44", "crs_grade": "3", "pe_start_day": "4", "pe_sessions": "2", "il6_pre": "4800",
         "il6_post": "300", "response": "PR", "outcome": "alive"}]
    text = extraction.document.text
    second = extraction.cases[1]
    for name, quote in (("pe_start_day", "4"), ("il6_pre", "4 800"), ("il6_post", "300"), ("pe_sessions", "2")):
        span = second.evidence[name][0]
        assert text[span._.quote_start:span._.quote_end] == quote, name
        assert "patient 2, " in text[span._.quote_start - 16:span._.quote_start], name


def test_an_editorial_tells_of_no_patient_of_its_own():
    text = ("Journal of Apheresis\nEditorial | 2025 | doi:10.5555/editorial.1\n\nPlasma exchange for CRS: caution\n\n"
            "A. Author\n\nA patient who had CAR T-cells days ago is on two vasopressors despite tocilizumab, and the "
            "team asks for plasma exchange. The first reported case was a young man whose IL-6 fell after three "
            "exchanges with albumin; anakinra is often given as well, and remission may depend on the cells.\n")
    document = parse_bytes(text.encode(), "editorial.txt")[0]
    assert document.article_type == "editorial"
    extraction = extract_document(document)
    assert extraction.cases == [] and extraction.status == "irrelevant"


def test_a_discussion_of_this_series_tells_of_the_patients_it_counts():
    text = ("Plasma exchange for CRS: a series\n\nA. Author\n\nResults\n\n"
            "Patient 1, a 40-year-old woman with B-ALL, received tisagenlecleucel and had grade 3 CRS from day 1; "
            "plasma exchange was started on day 3.\n\n"
            "Patient 2, a 66-year-old man with DLBCL, received axicabtagene ciloleucel and had grade 4 CRS from day 2; "
            "he had two plasma exchanges from day 4.\n\n"
            "Patient 3, a 59-year-old man with myeloma, had grade 2 CRS after idecabtagene vicleucel; an exchange was "
            "requested but not done.\n\n"
            "Discussion\n\nIn this small series CRS resolved in both patients who underwent plasma exchange.\n")
    extraction = extract_document(parse_bytes(text.encode(), "series.txt")[0])
    resolved = {case.number: case.values.get("crs_resolved", "") for case in extraction.cases if case.in_scope}
    assert resolved == {1: "yes", 2: "yes"}
