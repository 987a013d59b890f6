import pytest

from pipeline.schema import COLUMNS, InvalidValue, normalize_cell
from pipeline.scoring.scoring import align, label_key, score_rows


def row(case_id, doc="doi:10.5555/x", **values):
    r = {c: "" for c in COLUMNS}
    r.update(case_id=case_id, doc_id=doc, doi=doc[4:] if doc.startswith("doi:") else "")
    r.update({k: str(v) for k, v in values.items()})
    for name in list(r):
        if name not in ("case_id", "doc_id", "pmid", "pmcid", "doi", "patient_label"):
            r[name] = normalize_cell(name, r[name])
    return r


def test_numbers_within_one_percent_match_and_beyond_do_not():
    gold = [row("a-1", age_years=40, sex="M", il6_pre=5000)]
    assert score_rows(gold, [row("p-1", age_years=40, sex="M", il6_pre=5049)]).fields["il6_pre"].tp == 1
    report = score_rows(gold, [row("p-1", age_years=40, sex="M", il6_pre=5060)])
    assert (report.fields["il6_pre"].tp, report.fields["il6_pre"].fp, report.fields["il6_pre"].fn) == (0, 1, 1)


def test_blank_prediction_is_a_miss_and_extra_value_a_false_positive():
    gold = [row("a-1", age_years=40, sex="M", crs_grade=4)]
    report = score_rows(gold, [row("p-1", age_years=40, sex="M", icans_grade=0)])
    assert report.fields["crs_grade"].fn == 1 and report.fields["crs_grade"].fp == 0
    assert report.fields["icans_grade"].fp == 1 and report.fields["icans_grade"].fn == 0
    kinds = {(e.kind, e.field) for e in report.errors}
    assert ("false_negative", "crs_grade") in kinds and ("false_positive", "icans_grade") in kinds


def test_lists_compare_element_by_element():
    gold = [row("a-1", age_years=40, sex="M", corticosteroids="dexamethasone;methylprednisolone")]
    report = score_rows(gold, [row("p-1", age_years=40, sex="M", corticosteroids="dexamethasone;hydrocortisone")])
    counts = report.fields["corticosteroids"]
    assert (counts.tp, counts.fp, counts.fn) == (1, 1, 1)


def test_rows_pair_by_label_before_age_and_sex():
    gold = [row("a-1", patient_label="Patient 1", age_years=30, sex="F"),
            row("a-2", patient_label="Patient 2", age_years=50, sex="M")]
    pred = [row("p-2", patient_label="Case 2", age_years=31, sex="F"),
            row("p-1", patient_label="P1", age_years=30, sex="F")]
    pairs, missed, spurious = align(gold, pred)
    assert {(g["case_id"], p["case_id"]) for g, p in pairs} == {("a-1", "p-1"), ("a-2", "p-2")}
    assert not missed and not spurious


def test_unlabelled_rows_pair_by_age_and_sex():
    gold = [row("g-1", age_years=63, sex="M"), row("g-2", age_years=45, sex="F")]
    pred = [row("p-1", age_years=45, sex="F"), row("p-2", age_years=63, sex="M")]
    pairs, _, _ = align(gold, pred)
    assert {(g["case_id"], p["case_id"]) for g, p in pairs} == {("g-1", "p-2"), ("g-2", "p-1")}


def test_missed_and_spurious_cases_count_every_filled_field():
    gold = [row("g-1", age_years=63, sex="M", crs_grade=4)]
    pred = [row("p-1", doc="doi:10.5555/other", age_years=20, sex="F")]
    report = score_rows(gold, pred)
    assert (report.cases.tp, report.cases.fp, report.cases.fn) == (0, 1, 1)
    assert report.micro.fn == 3 and report.micro.fp == 2 and report.micro.tp == 0


def test_rows_of_different_documents_never_pair():
    gold = [row("g-1", age_years=63, sex="M")]
    pred = [row("p-1", doc="pmid:123", age_years=63, sex="M")]
    pairs, missed, spurious = align(gold, pred)
    assert not pairs and len(missed) == 1 and len(spurious) == 1


def test_normalisation_of_cells():
    assert normalize_cell("crs_grade", "4.0") == "4"
    assert normalize_cell("il6_pre", "5,230") == "5230"
    assert normalize_cell("corticosteroids", "Methylprednisolone; dexamethasone") == "dexamethasone;methylprednisolone"
    assert normalize_cell("sex", "f") == "F"
    with pytest.raises(InvalidValue):
        normalize_cell("crs_grade", "7")
    with pytest.raises(InvalidValue):
        normalize_cell("diagnosis", "leukemia")


def test_label_key():
    assert label_key("Patient 2") == label_key("Case 2") == label_key("P2") == "2"
