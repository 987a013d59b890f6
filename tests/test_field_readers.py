"""The field readers of extractors/fields/ on short texts and on table cells: each field group's prose rule and cell
reader, the same value from a sentence and from a cell, and the patient context the rules are given."""

from datetime import date

import pytest

from extractors.cases import extract_document
from extractors.evidence import sentences
from extractors.fields import toxicity
from extractors.fields.inputs import PatientContext
from extractors.nlp import process
from pipeline.parsing import parse_bytes

NO_CONTEXT = PatientContext()


def document_of(text: str, name: str = "case.txt"):
    return parse_bytes(text.encode(), name)[0]


def sentences_of(text: str):
    return sentences(process(document_of(text)))


def values(findings) -> dict[str, str]:
    return {finding.field: finding.value for finding in findings}


# -- the patient's context is an argument of the rules ------------------------------------------------------------
def test_a_date_is_counted_from_the_infusion_date_the_rule_is_given():
    text = "She received axicabtagene ciloleucel. She developed CRS on 14 March 2021 with fever."
    onset = {infused: values(toxicity.crs_onset(sentences_of(text), PatientContext(infusion_date=infused)))
             for infused in (date(2021, 3, 12), date(2021, 3, 10), None)}
    assert onset == {date(2021, 3, 12): {"crs_onset_day": "2"}, date(2021, 3, 10): {"crs_onset_day": "4"}, None: {}}


def test_each_patient_of_an_article_counts_dates_from_their_own_infusion():
    extraction = extract_document(document_of(
        "Plasma exchange after CAR-T cells\n\nAna Silva\n\n"
        "Patient 1\n\nA 58-year-old man with myeloma was infused with idecabtagene vicleucel on 3 March 2021. "
        "He developed grade 3 CRS on 5 March 2021. TPE was initiated on 7 March 2021.\n\n"
        "Patient 2\n\nA 41-year-old woman with DLBCL was infused with axi-cel on 10 April 2021. "
        "She developed grade 4 CRS on 13 April 2021. TPE was initiated on 17 April 2021.\n\n"))
    assert [(c.values.get("crs_onset_day"), c.values.get("pe_start_day")) for c in extraction.cases] == [
        ("2", "4"), ("3", "7")]
