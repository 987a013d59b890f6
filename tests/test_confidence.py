"""A value's confidence: its rule's precision, lowered by each sign of doubt in its evidence; and the measure of
whether it ranks the errors first."""

import json

import pytest

from extractors import confidence as confidence_module
from extractors.confidence import confidence_rules, signs
from pipeline.parsing import parse_bytes
from pipeline.run import stages
from pipeline.scoring.confidence_check import ScoredValue, predicted_values, ranking

HEADER = "Plasma exchange after CAR-T cells\n\nAna Silva, Tom Berg\n\nDOI: 10.5555/conf.1\n\nCase presentation\n\n"
ACCOUNT = ("A 58-year-old man with diffuse large B-cell lymphoma received axicabtagene ciloleucel. "
           "He developed grade 4 CRS on day 2. Plasma exchange was performed on days 3 and 4. ")


def evidence_of(text: str) -> dict[str, dict]:
    """The evidence lines of the one patient of ``text``, by field."""
    extraction = stages.extract(parse_bytes((HEADER + text).encode(), "case.txt")[0])
    rows, lines = stages.case_rows([extraction], all_patients=True)
    assert len(rows) == 1
    return {line["field"]: line for line in lines}


def test_every_value_carries_its_rules_figure_when_nothing_casts_doubt():
    lines = evidence_of(ACCOUNT + "He received two doses of tocilizumab.")
    rules = confidence_rules()
    for line in lines.values():
        assert 0 < line["confidence"] <= 0.99
    line = lines["tocilizumab_doses"]
    assert line["confidence"] == round(min(0.99, rules["rules"].get(line["extractor"], rules["default_rule"])), 2)


def test_a_cue_of_doubt_the_rules_did_not_apply_lowers_the_value():
    plain = evidence_of(ACCOUNT + "He received two doses of tocilizumab.")["tocilizumab_doses"]
    doubted = evidence_of(ACCOUNT + "He received two doses of tocilizumab, and a third dose was planned but "
                                    "never given.")["tocilizumab_doses"]
    assert doubted["value"] == plain["value"] == "2"
    assert doubted["confidence"] <= plain["confidence"] * confidence_rules()["factors"]["contrary_cue"]
    assert "contrary_cue" in _signs_of(ACCOUNT + "He received two doses of tocilizumab, and a third dose was planned "
                                                 "but never given.", "tocilizumab_doses")


def test_a_value_told_beside_another_report_is_less_sure():
    # the authors speak of their own patient ("we"), so the value is read; the sentence also cites another's
    cited = ACCOUNT + "Before exchange we measured his ferritin at 41,000 ng/mL, close to the patient reported by Xiao et al."
    plain = ACCOUNT + "Before exchange we measured his ferritin at 41,000 ng/mL."
    assert "others_cited" in _signs_of(cited, "ferritin_pre")
    assert "others_cited" not in _signs_of(plain, "ferritin_pre")


def _signs_of(text: str, field: str) -> list[str]:
    extraction = stages.extract(parse_bytes((HEADER + text).encode(), "case.txt")[0])
    case = extraction.cases[0]
    finding = case.evidence[field][0]
    return signs(finding, case.readings[field], len(extraction.cases))


def test_the_rules_file_names_only_known_signs(tmp_path, monkeypatch):
    rules = json.loads(confidence_module.RULES_FILE.read_text(encoding="utf-8"))
    rules["factors"]["unheard_of"] = 0.5
    broken = tmp_path / "confidence.json"
    broken.write_text(json.dumps(rules), encoding="utf-8")
    monkeypatch.setattr(confidence_module, "RULES_FILE", broken)
    confidence_rules.cache_clear()
    try:
        with pytest.raises(ValueError, match="unknown factor 'unheard_of'"):
            confidence_rules()
    finally:
        confidence_rules.cache_clear()


def _value(case: str, field: str, value: str, figure: float | None) -> ScoredValue:
    return ScoredValue(case, field, value, figure, "rule")


def test_the_ranking_counts_errors_in_the_lowest_fifth_and_breaks_ties_against_itself():
    values = [_value(f"c{i}", "age_years", str(i), 0.9) for i in range(8)]
    values += [_value("c8", "age_years", "8", 0.3), _value("c9", "age_years", "9", 0.9)]
    # c8 is the one value of the lowest fifth (2 values: c8 and one of the ties at 0.9, a correct one first)
    ranked = ranking(values, {("c8", "age_years", "8"), ("c9", "age_years", "9")})
    assert ranked == {"values": 10, "errors": 2, "lowest_fifth": 2, "errors_in_lowest_fifth": 1,
                      "errors_median": pytest.approx(0.6), "correct_median": 0.9}


def test_a_list_item_takes_the_confidence_of_the_line_that_read_it():
    rows = [{"case_id": "c1", "other_drugs": "anakinra;siltuximab"}]
    evidence = [{"case_id": "c1", "field": "other_drugs", "value": "anakinra", "confidence": 0.9, "extractor": "a"},
                {"case_id": "c1", "field": "other_drugs", "value": "Siltuximab", "confidence": 0.4, "extractor": "b"}]
    assert {(v.value, v.confidence) for v in predicted_values(rows, evidence)} == {("anakinra", 0.9),
                                                                                  ("siltuximab", 0.4)}


def test_scores_json_says_where_the_errors_rank_and_each_errors_confidence(tmp_path):
    from pipeline.outputs.writer import csv_text
    from pipeline.schema import COLUMNS
    from pipeline.scoring.evaluation import evaluate

    def table(path, **cells):
        path.write_text(csv_text([{**{c: "" for c in COLUMNS}, "case_id": "c1", "doc_id": "doi:10.5555/x",
                                   "age_years": "54", "sex": "M", **cells}], COLUMNS), encoding="utf-8")
        return path

    gold = table(tmp_path / "gold.csv", crs_grade="3")
    predicted = table(tmp_path / "cases.csv", crs_grade="4")
    evidence = [{"case_id": "c1", "field": "age_years", "value": "54", "confidence": 0.95, "quote": "54",
                 "start": 1, "end": 3, "section": "Case", "extractor": "age"},
                {"case_id": "c1", "field": "sex", "value": "M", "confidence": 0.9, "quote": "man",
                 "start": 4, "end": 7, "section": "Case", "extractor": "sex"},
                {"case_id": "c1", "field": "crs_grade", "value": "4", "confidence": 0.4, "quote": "grade 4",
                 "start": 8, "end": 15, "section": "Case", "extractor": "grade"}]
    scores = evaluate(gold, predicted, evidence)
    assert scores["confidence"] == {"values": 3, "errors": 1, "lowest_fifth": 0, "errors_in_lowest_fifth": 0,
                                    "errors_median": 0.4, "correct_median": pytest.approx(0.925)}
    wrong = next(e for e in scores["errors"] if e["kind"] == "false_positive")
    assert wrong["evidence"][0]["confidence"] == 0.4
