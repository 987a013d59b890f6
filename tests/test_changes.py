"""What changed between runs, read from the store's history: documents new, revised and retracted; patients added
and dropped; values changed with their evidence; curated cells flagged; decisions taken; the pooled answer; and
``pecrs runs --diff``."""

import json
from datetime import datetime, timezone

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.report.changes import cycle_line, markdown_section, pooled_movement, with_counts
from pipeline.report.html import render_changes
from pipeline.store import CurationError, Store
from pipeline.store import models

runner = CliRunner()
DOC = "doi:10.5555/s.1"


def documents(content: str = "v1", retracted: str = "", more: bool = False) -> list[dict]:
    docs = [{"doc_id": DOC, "file": "docs/s1.xml", "format": "pubmed-xml", "title": "A case", "status": "relevant",
             "reason": "", "content_hash": content * 32, "retracted": retracted}]
    if more:
        docs.append({"doc_id": "doi:10.5555/s.2", "file": "docs/s2.xml", "format": "pubmed-xml", "title": "Another",
                     "status": "relevant", "reason": "", "content_hash": "cd" * 32})
    return docs


def case(case_id: str, doc_id: str = DOC, **values) -> dict:
    return {"case_id": case_id, "doc_id": doc_id, "patient_label": "", **values}


def line(case_id: str, field: str, value: str, start: int, quote: str, doc_id: str = DOC) -> dict:
    return {"case_id": case_id, "field": field, "value": value, "doc_id": doc_id, "section": "Abstract",
            "start": start, "end": start + len(quote), "quote": quote}


def record(store: Store, run_id: str, docs: list[dict], cases: list[dict], evidence: list[dict],
           corpus: str = "corpus", pooled: dict | None = None) -> None:
    store.record_run(run_id, datetime.now(timezone.utc), corpus, docs, cases, evidence, None)
    if pooled is not None:
        store.set_pooled(run_id, pooled)


def pooled(patients: int, il6_pairs: int, il6_change: float | None, alive: int) -> dict:
    return {"patients": patients, "articles": 1, "left_out": 0,
            "markers": {"il6": {"label": "IL-6", "n_pairs": il6_pairs, "median_change_pct": il6_change, "p_value": None}},
            "outcome_reported": patients, "alive": alive, "died": patients - alive, "resolution_reported": 0,
            "resolved": 0}


@pytest.fixture
def store(store_url):
    store = Store(store_url)
    yield store
    store.close()


def first_run(store: Store) -> None:
    record(store, "run-1", documents(), [case("smith2024-1", pe_volume_ml="3000", crs_grade="4")],
           [line("smith2024-1", "pe_volume_ml", "3000", 100, "3,000 mL"),
            line("smith2024-1", "crs_grade", "4", 40, "grade 4")], pooled=pooled(1, 0, None, 1))


def test_the_first_run_is_compared_with_an_empty_store(store):
    first_run(store)
    changes = with_counts(store.changes("run-1"))
    assert changes["previous"] is None and changes["run"] == "run-1"
    assert [d["doc_id"] for d in changes["documents"]["new"]] == [DOC]
    assert [p["case_id"] for p in changes["patients"]["added"]] == ["smith2024-1"]
    assert changes["values"] == [] and changes["counts"]["patients_added"] == 1
    assert markdown_section(changes)[0] == "## What changed: the first run of this corpus"


def test_a_revised_value_is_listed_with_both_readings_and_flags_the_cell_a_curator_decided(store):
    first_run(store)
    store.decide("smith2024-1", "pe_volume_ml", "accept", "Ana", why="read in the abstract")
    store.decide("smith2024-1", "crs_grade", "accept", "Ana")
    record(store, "run-2", documents(content="v2", more=True),
           [case("smith2024-1", pe_volume_ml="2000", crs_grade="4"),
            case("lee2025-1", doc_id="doi:10.5555/s.2", crs_grade="3")],
           [line("smith2024-1", "pe_volume_ml", "2000", 100, "2,000 mL"),
            line("smith2024-1", "crs_grade", "4", 40, "grade 4"),
            line("lee2025-1", "crs_grade", "3", 10, "grade 3", doc_id="doi:10.5555/s.2")],
           pooled=pooled(2, 0, None, 2))
    changes = with_counts(store.changes("run-2"))
    assert changes["previous"] == "run-1"
    assert [d["doc_id"] for d in changes["documents"]["new"]] == ["doi:10.5555/s.2"]
    assert [(d["doc_id"], d["content_hash_before"][:2], d["content_hash"][:2]) for d in changes["documents"]["revised"]] \
        == [(DOC, "v1", "v2")]
    assert [p["case_id"] for p in changes["patients"]["added"]] == ["lee2025-1"]
    [value] = changes["values"]  # the new patient's values are its own news, not value changes
    assert (value["case_id"], value["field"], value["before"], value["after"]) == ("smith2024-1", "pe_volume_ml", "3000", "2000")
    assert value["evidence_before"]["quote"] == "3,000 mL" and value["evidence"]["quote"] == "2,000 mL"
    assert value["curated"] and value["flagged"]
    [flagged] = changes["flagged"]
    assert (flagged["case_id"], flagged["field"], flagged["curated_value"], flagged["predicted"]) == \
        ("smith2024-1", "pe_volume_ml", "3000", "2000")
    assert [(e["action"], e["field"], e["by"]) for e in changes["curations"]] == \
        [("accept", "pe_volume_ml", "Ana"), ("accept", "crs_grade", "Ana")]
    movement = {row["figure"]: row for row in changes["pooled_movement"]}
    assert (movement["patients"]["before"], movement["patients"]["after"], movement["patients"]["changed"]) == (1, 2, True)
    assert movement["died"]["changed"] is False
    # the stored history holds the value as it was, ended by the run that replaced it
    with store.sessions() as session:
        [old] = session.scalars(select(models.PredictionHistory).where(models.PredictionHistory.field == "pe_volume_ml"))
        [old_doc] = session.scalars(select(models.DocumentHistory))
    assert (old.value, old.run_id, old.ended_run_id) == ("3000", "run-1", "run-2")
    assert (old_doc.content_hash[:2], old_doc.ended_run_id) == ("v1", "run-2")
    line_text = cycle_line(changes)
    assert "patients +1 -0" in line_text and "values changed 1" in line_text and "cells flagged 1" in line_text
    page = render_changes(changes)
    assert "What changed since run run-1" in page and 'id="changed-values"' in page
    assert '<tr class="flagged"><td><a href="#case-smith2024-1">smith2024-1</a></td><td>pe_volume_ml</td><td>3000</td><td>2000</td>' in page
    text = "\n".join(markdown_section(changes))
    assert "| smith2024-1 | pe_volume_ml | 3000 | 2000 | 2,000 mL | flagged |" in text
    assert "- Articles: 1 new, 1 revised, 0 retracted." in text and "| patients | 1 | **2** |" in text


def test_a_re_run_with_nothing_new_says_nothing_changed(store):
    first_run(store)
    first_run_again = store.changes  # the same predictions, recorded again
    record(store, "run-2", documents(), [case("smith2024-1", pe_volume_ml="3000", crs_grade="4")],
           [line("smith2024-1", "pe_volume_ml", "3000", 100, "3,000 mL"),
            line("smith2024-1", "crs_grade", "4", 40, "grade 4")], pooled=pooled(1, 0, None, 1))
    changes = with_counts(first_run_again("run-2"))
    assert changes["changed"] is False and changes["counts"] == dict.fromkeys(changes["counts"], 0)
    assert any(text.startswith("Nothing changed") for text in markdown_section(changes))


def test_a_dropped_patient_and_a_retracted_article_are_told(store):
    first_run(store)
    store.decide("smith2024-1", "crs_grade", "correct", "Ana", value="3", why="the table says 3")
    record(store, "run-2", documents(retracted="Retracted Publication"), [], [], pooled=pooled(0, 0, None, 0))
    changes = with_counts(store.changes("run-2"))
    assert [(d["doc_id"], d["retracted"]) for d in changes["documents"]["retracted"]] == [(DOC, "Retracted Publication")]
    assert [(p["case_id"], p["curated_cells"]) for p in changes["patients"]["dropped"]] == [("smith2024-1", 1)]
    assert changes["values"] == []  # a dropped patient's values go with it
    text = "\n".join(markdown_section(changes))
    assert "retracted: doi:10.5555/s.1 (Retracted Publication)" in text and "1 curated cells kept, flagged" in text


def test_any_two_runs_compare_and_other_corpora_stay_out(store):
    first_run(store)
    record(store, "other-1", [], [case("other2020-1", doc_id="doi:10.5555/o", crs_grade="2")],
           [line("other2020-1", "crs_grade", "2", 5, "grade 2", doc_id="doi:10.5555/o")], corpus="elsewhere")
    for run_id, volume in (("run-2", "2000"), ("run-3", "1500")):
        record(store, run_id, documents(), [case("smith2024-1", pe_volume_ml=volume, crs_grade="4")],
               [line("smith2024-1", "pe_volume_ml", volume, 100, f"{volume} mL"),
                line("smith2024-1", "crs_grade", "4", 40, "grade 4")])
    assert store.previous_run("run-2").run_id == "run-1"  # not the other corpus's run between them
    across = with_counts(store.changes("run-3", "run-1"))
    assert [(v["before"], v["after"]) for v in across["values"]] == [("3000", "1500")]
    assert across["patients"]["added"] == []  # the other corpus's patient is not this corpus's news
    backwards = with_counts(store.changes("run-1", "run-3"))  # given in either order, compared in the order recorded
    assert [(v["before"], v["after"]) for v in backwards["values"]] == [("3000", "1500")]
    with pytest.raises(CurationError, match="no run 'run-9'"):
        store.changes("run-9")


def test_pecrs_runs_diff_prints_the_changes(store, store_url, monkeypatch):
    first_run(store)
    record(store, "run-2", documents(), [case("smith2024-1", pe_volume_ml="2000", crs_grade="4")],
           [line("smith2024-1", "pe_volume_ml", "2000", 100, "2,000 mL"),
            line("smith2024-1", "crs_grade", "4", 40, "grade 4")])
    monkeypatch.setenv("PECRS_DATABASE_URL", store_url)
    latest = runner.invoke(app, ["runs", "--diff"])
    assert latest.exit_code == 0, latest.output
    assert "from run-1 to run-2" in latest.output and "| smith2024-1 | pe_volume_ml | 3000 | 2000 |" in latest.output
    as_json = runner.invoke(app, ["runs", "--diff", "run-1", "run-2", "--json"])
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.output)["counts"]["values_changed"] == 1
    unknown = runner.invoke(app, ["runs", "--diff", "nope"])
    assert unknown.exit_code != 0 and "no run 'nope'" in unknown.output
    too_many = runner.invoke(app, ["runs", "--diff", "a", "b", "c"])
    assert too_many.exit_code != 0 and "compares two runs" in too_many.output


def test_the_pooled_answer_moves_marker_by_marker():
    rows = pooled_movement(pooled(3, 3, -50.0, 2), pooled(4, 4, -62.5, 3))
    by_figure = {row["figure"]: row for row in rows}
    assert by_figure["IL-6: median change"]["before"] == -50.0 and by_figure["IL-6: median change"]["after"] == -62.5
    assert by_figure["IL-6: patients paired"]["changed"] and not by_figure["CRS resolved"]["changed"]
    assert pooled_movement(None, None) == []
    unknown = pooled_movement(None, pooled(4, 4, -62.5, 3))  # a run recorded before the store kept its figures
    assert unknown and not any(row["changed"] for row in unknown) and unknown[0]["before"] is None
