"""Statements telling several patients side by side ("aged 34 and 61 years, respectively"), dealt out one patient at
a time (extractors/respectively.py), and the accounts built on them."""

import pytest

from extractors.cases import extract_document
from extractors.evidence import sentences
from extractors.nlp import process
from extractors.respectively import DealtText, dealt_sentence_text, pairs_with_patients
from pipeline.parsing import parse_bytes

HEADER = "Plasma exchange after CAR-T cells\n\nAna Silva, Tom Berg\n\nCase presentation\n\n"


def first_sentence(text: str):
    document = parse_bytes((HEADER + text).encode(), "case.txt")[0]
    doc = process(document)
    return next(s for s in sentences(doc) if s.text.strip().startswith(text[:12]))


@pytest.mark.parametrize("text, index, dealt", [
    ("CRS began on D+1 and D+6, respectively.", 1, "CRS began on D+6, respectively."),
    # a prefix written on the first item and a unit on the last belong to all
    ("It peaked at grade 3 and 4, respectively.", 1, "It peaked at grade 4, respectively."),
    ("IL-6 fell from 2,840 and 9,120 pg/mL to 210 and 655 pg/mL, respectively.", 0,
     "IL-6 fell from 2,840 pg/mL to 210 pg/mL, respectively."),
    ("They had two, three and five sessions, respectively.", 1, "They had three sessions, respectively."),
    # the stretch after the last "respectively" is not dealt
    ("They had 2 and 3 doses, respectively, of 8 mg/kg and 6 and 7 days of fever.", 0,
     "They had 2 doses, respectively, of 8 mg/kg and 6 and 7 days of fever."),
    # a list of other length pairs with something else: left alone
    ("IL-6, ferritin and CRP were 10, 20 and 30, respectively.", 0, "IL-6, ferritin and CRP were 10, 20 and 30, respectively."),
])
def test_a_sentence_dealt_out_keeps_the_patients_items(text, index, dealt):
    sentence = first_sentence(text)
    count = 3 if "five" in text else 2
    assert dealt_sentence_text(sentence, index, count).strip() == dealt


def test_figures_paired_with_analytes_are_not_dealt_to_patients():
    sentence = first_sentence("IL-6 and ferritin were 210 and 3,100, respectively.")
    assert dealt_sentence_text(sentence, 0, 2).strip() == "IL-6 and ferritin were 210 and 3,100, respectively."


def test_a_value_written_before_the_subject_stays_with_its_patient():
    extraction = extract(
        "A man and a woman, aged 50 and 58 years, respectively, received axicabtagene ciloleucel for DLBCL and "
        "developed grade 3 CRS; both had two plasma exchanges. Grade 2 ICANS occurred in the woman and none in the man.")
    assert [case.values.get("icans_grade", "") for case in extraction.cases] == ["", "2"]


@pytest.mark.parametrize("text, pairs", [
    ("TPE was started on day 4 and day 5, respectively, when hypotension persisted.", True),
    ("CRS resolved on day 9 and day 12, respectively.", True),
    ("Fever and hypotension began on day 1 and day 2, respectively.", False),  # the days pair with the signs
    ("TPE was started on day 4 and day 5.", False),
])
def test_a_sentence_pairs_its_figures_with_the_patients(text, pairs):
    assert pairs_with_patients(first_sentence(text), 2) is pairs


def test_dealt_offsets_go_back_to_the_article():
    document = parse_bytes((HEADER + "Ages were 34 and 61 years, respectively. More text follows here.").encode(),
                           "case.txt")[0]
    start = document.text.index("34 and ")
    dealt = DealtText.of(document, [(start + 2, start + 9)])  # " and 61" out
    text = dealt.dealt.text
    assert "Ages were 34 years, respectively." in text
    assert document.text[dealt.to_article(text.index("More")):].startswith("More")
    assert dealt.to_dealt(document.text.index("More")) == text.index("More")
    # every sentence and paragraph moved with the text
    told = [text[s.start:s.end].strip() for s in dealt.dealt.sentences]
    assert told[-2:] == ["Ages were 34 years, respectively.", "More text follows here."]
    assert text[dealt.dealt.paragraphs[-1].start:dealt.dealt.paragraphs[-1].end].startswith("Ages were 34 years")


def extract(text: str):
    return extract_document(parse_bytes((HEADER + text).encode(), "case.txt")[0])


FIELDS = ("age_years", "sex", "crs_onset_day", "crs_grade", "pe_start_day", "pe_sessions", "ferritin_pre",
          "ferritin_post", "icans_grade", "other_drugs")


def test_two_patients_introduced_side_by_side_get_their_own_values():
    extraction = extract(
        "A boy and a girl, aged 9 and 14 years, respectively, received tisagenlecleucel for relapsed B-ALL. "
        "CRS started on day 2 and day 3, respectively, and reached grade 4 and 3, respectively, by ASTCT criteria. "
        "Plasma exchange against 5% albumin was begun on day 5 and day 4, respectively, and they had four and two "
        "sessions, respectively. Ferritin fell from 41,000 and 12,500 ng/mL before the exchanges to 9,800 and 3,300 "
        "ng/mL after them, respectively. ICANS reached grade 2 in the girl and was absent in the boy. Both are "
        "alive; the girl also received anakinra.")
    values = [{name: case.values.get(name, "") for name in FIELDS} for case in extraction.cases]
    assert values == [
        {"age_years": "9", "sex": "M", "crs_onset_day": "2", "crs_grade": "4", "pe_start_day": "5", "pe_sessions": "4",
         "ferritin_pre": "41000", "ferritin_post": "9800", "icans_grade": "0", "other_drugs": ""},
        {"age_years": "14", "sex": "F", "crs_onset_day": "3", "crs_grade": "3", "pe_start_day": "4", "pe_sessions": "2",
         "ferritin_pre": "12500", "ferritin_post": "3300", "icans_grade": "2", "other_drugs": "anakinra"}]
    # each value's evidence is where the patient's own figure is written in the article
    text = extraction.document.text
    girl = extraction.cases[1]
    for name, figure in (("pe_start_day", "4"), ("ferritin_pre", "12,500"), ("crs_onset_day", "3")):
        span = girl.evidence[name][0]
        assert figure in text[span._.quote_start:span._.quote_end], (name, text[span._.quote_start:span._.quote_end])


def test_a_side_by_side_statement_inside_one_patients_account_is_about_both():
    extraction = extract(
        "Patient 1\n\nA 47-year-old man with DLBCL received axicabtagene ciloleucel and developed grade 3 CRS.\n\n"
        "Patient 2\n\nA 62-year-old woman with myeloma received ciltacabtagene autoleucel and developed grade 4 CRS. "
        "TPE was started on day 6 and day 8, respectively, after tocilizumab had failed. "
        "Each patient had two sessions.")
    assert [case.values.get("pe_start_day") for case in extraction.cases] == ["6", "8"]
