"""The main job end to end on the embedded corpus, through the Prefect flow, as `pecrs run` does it."""

import csv
import json
from pathlib import Path

import pytest

from pipeline.scoring import score_files

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    from pipeline.flows import pecrs_run

    out = tmp_path_factory.mktemp("outputs")
    summary = pecrs_run(corpus=ROOT / "corpus", gold=ROOT / "gold/cases.csv", out=out)
    assert summary.run_dir.parent == out
    return out


def test_latest_holds_the_five_outputs(run_dir):
    latest = run_dir / "latest"
    for name in ("cases.csv", "evidence.jsonl", "documents.csv", "scores.json", "report.md"):
        assert (latest / name).stat().st_size > 0, name


def test_every_evidence_span_quotes_its_document(run_dir, corpus_documents):
    texts = {d.doc_id: d.text for d in corpus_documents}
    lines = [json.loads(line) for line in (run_dir / "latest/evidence.jsonl").read_text().splitlines()]
    assert len(lines) > 100
    for line in lines:
        assert texts[line["doc_id"]][line["start"]:line["end"]] == line["quote"], line
        assert "sentence" in line or "table" in line


def test_every_filled_cell_has_evidence(run_dir):
    with open(run_dir / "latest/cases.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    cited = {(line["case_id"], line["field"]) for line in map(json.loads, (run_dir / "latest/evidence.jsonl").read_text().splitlines())}
    identity = {"case_id", "doc_id", "pmid", "pmcid", "doi", "patient_label"}
    for row in rows:
        for name, value in row.items():
            if value and name not in identity:
                assert (row["case_id"], name) in cited, (row["case_id"], name, value)


def test_scores_json_agrees_with_pecrs_score(run_dir):
    scores = json.loads((run_dir / "latest/scores.json").read_text())
    again = score_files(ROOT / "gold/cases.csv", run_dir / "latest/cases.csv").as_dict()
    assert scores["micro"] == again["micro"] and scores["fields"] == again["fields"] and scores["cases"] == again["cases"]
    assert scores["review_literature"]["review_cases"] == 19 and scores["review_literature"]["in_gold"] == 2
    for error in scores["errors"]:
        assert {"kind", "field", "value", "reason", "evidence"} <= set(error)


def test_documents_csv_reports_every_input(run_dir):
    with open(run_dir / "latest/documents.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    with open(ROOT / "corpus/manifest.csv", newline="") as handle:
        manifest = {row["file"]: row for row in csv.DictReader(handle)}
    assert {row["file"] for row in rows} == set(manifest)
    for row in rows:
        assert row["status"] == manifest[row["file"]]["expected_status"], row
