"""Findings as spans on the Doc (extractors/finding_spans.py): each case's findings in its span group, each span with
its sentence, its attributes, the concepts it came from and the exact characters it quotes."""

import spacy

from extractors.assertion import context_modifiers
from extractors.cases import extract_document
from extractors.evidence import Finding
from extractors.finding_spans import finding_span, patient_findings_key
from pipeline.parsing import parse_bytes
from pipeline.run.stages import case_rows

TEXT = ("Plasma exchange after CAR-T cells\n\nAna Silva, Tom Berg\n\nDOI: 10.5555/test.1\n\nCase presentation\n\n"
        "A 34-year-old woman with relapsed diffuse large B-cell lymphoma received axicabtagene ciloleucel. "
        "Cytokine release syndrome (CRS) progressed to grade IV (ASTCT) on day 3. "
        "IL-6 fell from 7,900 to 260 pg/mL after three sessions of plasma exchange. There was no ICANS. "
        "She was discharged alive.")


def extraction():
    return extract_document(parse_bytes(TEXT.encode(), "case.txt")[0])


def test_a_case_keeps_its_findings_as_a_span_group_on_the_doc():
    [case] = extraction().cases
    group = case.doc.spans[patient_findings_key(case.number)]
    assert [(s.start, s.end, s.label_) for s in group] == [(s.start, s.end, s.label_) for s in case.findings]
    assert {s._.field for s in group} == set(case.values)
    for span in group:
        assert span.label_ == span._.field and span._.extractor
        assert span._.value in case.values[span._.field]  # a list field's value holds each item's


def test_a_finding_span_has_its_sentence_and_the_characters_it_quotes():
    [case] = extraction().cases
    for span in case.findings:
        sentence = span.sent
        assert sentence.start_char <= span._.quote_start < span._.quote_end <= sentence.end_char
        assert TEXT[span._.quote_start:span._.quote_end] in sentence.text
    [age] = case.evidence["age_years"]
    assert age.sent.text.startswith("A 34-year-old woman") and TEXT[age._.quote_start:age._.quote_end] == "34-year-old"


def test_findings_on_the_same_tokens_keep_their_own_attributes():
    # spaCy keys extension values by a span's characters: the before and after values of one sentence share them
    [case] = extraction().cases
    [pre], [post] = case.evidence["il6_pre"], case.evidence["il6_post"]
    assert (pre.start_char, pre.end_char) == (post.start_char, post.end_char)
    assert (pre._.value, post._.value) == ("7900", "260") and (pre._.field, post._.field) == ("il6_pre", "il6_post")


def test_the_concepts_a_finding_came_from_and_their_context_are_reachable_from_it():
    [case] = extraction().cases
    [diagnosis] = case.evidence["diagnosis"]
    assert [(c.label_, c.text) for c in diagnosis._.concepts] == [("DIAGNOSIS", "diffuse large B-cell lymphoma")]
    [icans] = case.evidence["icans_grade"]
    [concept] = [c for c in icans._.concepts if c.label_ == "ICANS"]
    assert icans._.value == "0" and "NEGATED_EXISTENCE" in {m.category for m in context_modifiers(concept)}


def test_characters_within_tokens_are_quoted_as_they_are():
    doc = spacy.blank("en")("The patient was a woman of 60.")
    start = doc.text.index("oman")
    span = finding_span(doc, Finding("sex", "F", start, start + 4, "test.rule"))
    assert span.text == "woman" and doc.text[span._.quote_start:span._.quote_end] == "oman"
    end = len(doc.text)  # an empty range after the last token: no token to cover, an empty span there
    empty = finding_span(doc, Finding("sex", "F", end, end, "test.rule"))
    assert (empty.start, empty.end) == (len(doc), len(doc)) and (empty._.quote_start, empty._.value) == (end, "F")
    assert doc[0:2]._.finding is None and doc[0:2]._.value is None  # a span that is no finding


def test_evidence_lines_are_made_from_the_spans_at_the_output_boundary():
    result = extraction()
    [case] = result.cases
    _, lines = case_rows([result])
    assert [(line["field"], line["value"], line["start"], line["end"], line["extractor"]) for line in lines] == [
        (s._.field, s._.value, s._.quote_start, s._.quote_end, s._.extractor) for s in case.findings]
    assert all(line["quote"] == TEXT[line["start"]:line["end"]] for line in lines)
