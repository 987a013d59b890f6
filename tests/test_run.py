"""The main job end to end on the embedded corpus, through the Prefect flow, as `pecrs run` does it."""

import csv
import json
from pathlib import Path

import pytest

from pipeline.scoring.scoring import score_files

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    from pipeline.run.flows import pecrs_run

    out = tmp_path_factory.mktemp("outputs")
    summary = pecrs_run(corpus=ROOT / "corpus", gold=ROOT / "gold/cases.csv", out=out)
    assert summary.run_dir.parent == out
    return out


def read_csv(path: Path) -> tuple[list[str], list[dict]]:
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_latest_holds_every_output(run_dir):
    """Each output of the published run parses, and the files agree with one another and with the corpus."""
    from pipeline.schema import COLUMNS
    from pipeline.store import export_columns

    latest = run_dir / "latest"
    run_id = json.loads((latest / "run.json").read_text(encoding="utf-8"))["run_id"]
    assert run_id and (latest / "RUN").read_text(encoding="utf-8").strip() == run_id

    header, cases = read_csv(latest / "cases.csv")
    assert header == export_columns()
    summary = json.loads((latest / "summary.json").read_text(encoding="utf-8"))
    assert len(cases) == summary["patients"] > 0
    assert [row["case_id"] for row in cases] == summary["case_ids"]
    case_ids = {row["case_id"] for row in cases}
    assert len(case_ids) == len(cases)

    header, predicted = read_csv(latest / "predicted_cases.csv")
    assert header == COLUMNS and predicted

    _, documents = read_csv(latest / "documents.csv")
    _, manifest = read_csv(ROOT / "corpus/manifest.csv")
    assert sorted(row["file"] for row in documents) == sorted(row["file"] for row in manifest)

    scores = json.loads((latest / "scores.json").read_text(encoding="utf-8"))
    assert {"micro", "macro", "fields"} <= set(scores) and scores["fields"]
    assert 0 <= scores["micro"]["f1"] <= 1 and 0 <= scores["macro"]["f1"] <= 1

    report_md = (latest / "report.md").read_text(encoding="utf-8")
    assert report_md.splitlines()[0] == f"# pecrs run {run_id}"
    summary = json.loads((latest / "summary.json").read_text(encoding="utf-8"))
    il6 = summary["markers"]["il6"]  # the clinical answer of the same table, in words
    assert f"| IL-6 (pg/mL) | {il6['n_pairs']} of {il6['denominator']} |" in report_md
    assert run_id in (latest / "report.html").read_text(encoding="utf-8")

    evidence = read_jsonl(latest / "evidence.jsonl")
    assert evidence and {line["case_id"] for line in evidence} <= case_ids
    predicted_evidence = read_jsonl(latest / "predicted_evidence.jsonl")
    assert predicted_evidence and {line["case_id"] for line in predicted_evidence} <= {r["case_id"] for r in predicted}


def test_every_evidence_span_quotes_its_document(run_dir, corpus_documents):
    texts = {d.doc_id: d.text for d in corpus_documents}
    lines = [json.loads(line) for line in (run_dir / "latest/predicted_evidence.jsonl").read_text().splitlines()]
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
    again = score_files(ROOT / "gold/cases.csv", run_dir / "latest/predicted_cases.csv").as_dict()
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


def test_a_curator_correction_survives_a_re_run_of_the_pipeline(run_dir, tmp_path):
    from typer.testing import CliRunner

    from pipeline.cli.app import app
    from pipeline.run.flows import pecrs_run
    from pipeline.store import open_store

    runner = CliRunner()
    predicted = {r["case_id"]: r for r in csv.DictReader(open(run_dir / "latest/cases.csv", encoding="utf-8"))}
    store = open_store()
    try:
        assert {v.case_id for v in store.cases() if v.predicted} == set(predicted)
    finally:
        store.close()
    case_id = sorted(predicted)[0]
    wrong = "2" if predicted[case_id]["crs_grade"] != "2" else "3"
    result = runner.invoke(app, ["curate", "set", case_id, "crs_grade", wrong, "--by", "Test Curator", "--why", "re-read table 1"])
    assert result.exit_code == 0, result.output
    pecrs_run(corpus=ROOT / "corpus", gold=None, out=tmp_path / "again")
    assert runner.invoke(app, ["export", str(tmp_path / "final.csv")]).exit_code == 0
    final = {r["case_id"]: r for r in csv.DictReader(open(tmp_path / "final.csv", encoding="utf-8"))}
    assert final[case_id]["crs_grade"] == wrong and final[case_id]["curated_fields"] == "crs_grade"
    # the run's case table is the final one; the machine's own is kept beside it, untouched by curation
    again = {r["case_id"]: r for r in csv.DictReader(open(tmp_path / "again/latest/cases.csv", encoding="utf-8"))}
    assert again[case_id]["crs_grade"] == wrong and again[case_id]["curated_fields"] == "crs_grade"
    machine = {r["case_id"]: r for r in csv.DictReader(open(tmp_path / "again/latest/predicted_cases.csv", encoding="utf-8"))}
    assert machine[case_id]["crs_grade"] == predicted[case_id]["crs_grade"]
    result = runner.invoke(app, ["curate", "undo", case_id, "crs_grade", "--by", "Test Curator"])
    assert result.exit_code == 0


@pytest.mark.browser
def test_a_correction_made_on_the_page_survives_a_re_run_of_the_pipeline(run_dir, tmp_path):
    from browser import CHROMIUM, CHROMIUM_ARGS, require_browser, serving
    from typer.testing import CliRunner

    from pipeline.cli.app import app
    from pipeline.run.flows import pecrs_run
    from pipeline.store import open_store
    from pipeline.web import create_app

    sync_playwright = require_browser()
    store = open_store()
    case_id = sorted(v.case_id for v in store.cases() if v.predicted)[-1]
    predicted = store.case(case_id).cells["pe_sessions"].predicted
    corrected = "7" if predicted != "7" else "8"
    try:
        with serving(create_app(store)) as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page()
                page.goto(url)
                page.fill("#name-form input[name=name]", "Page Curator")
                page.click("#name-form button")
                page.goto(f"{url}/cases/{case_id}")
                row = page.locator("tr#pe_sessions")
                row.locator("input[name=value]").fill(corrected)
                row.locator("input[name=why]").fill("the discussion counts every session")
                row.locator("button[value=correct]").click()
                page.wait_for_url(f"**/cases/{case_id}#pe_sessions")
            finally:
                browser.close()
    finally:
        store.close()
    pecrs_run(corpus=ROOT / "corpus", gold=None, out=tmp_path / "again")
    assert CliRunner().invoke(app, ["export", str(tmp_path / "final.csv")]).exit_code == 0
    final = {r["case_id"]: r for r in csv.DictReader(open(tmp_path / "final.csv", encoding="utf-8"))}
    assert final[case_id]["pe_sessions"] == corrected and "pe_sessions" in final[case_id]["curated_fields"]


def test_summary_json_pairs_the_markers_of_cases_csv(run_dir):
    summary = json.loads((run_dir / "latest/summary.json").read_text(encoding="utf-8"))
    rows = list(csv.DictReader(open(run_dir / "latest/cases.csv", encoding="utf-8")))
    pairs = [r["case_id"] for r in rows if r["il6_pre"] and r["il6_post"] and float(r["il6_pre"]) > 0]
    assert summary["markers"]["il6"]["n_pairs"] == len(pairs) and sorted(summary["markers"]["il6"]["case_ids"]) == sorted(pairs)


def test_a_run_on_postgresql_writes_what_the_sqlite_run_wrote_and_keeps_curations(run_dir, postgres_cluster, tmp_path,
                                                                                  monkeypatch):
    from typer.testing import CliRunner

    from pipeline.cli.app import app
    from pipeline.run.flows import pecrs_run

    monkeypatch.setenv("PECRS_DATABASE_URL", postgres_cluster.new_database())
    pecrs_run(corpus=ROOT / "corpus", gold=ROOT / "gold/cases.csv", out=tmp_path / "pg")
    for name in ("cases.csv", "evidence.jsonl", "documents.csv", "summary.json", "predicted_cases.csv"):
        assert (tmp_path / "pg/latest" / name).read_bytes() == (run_dir / "latest" / name).read_bytes(), name
    runner = CliRunner()
    case_id = read_csv(run_dir / "latest/cases.csv")[1][0]["case_id"]
    result = runner.invoke(app, ["curate", "set", case_id, "pe_sessions", "9", "--by", "Ana", "--why", "table 2"])
    assert result.exit_code == 0, result.output
    pecrs_run(corpus=ROOT / "corpus", gold=None, out=tmp_path / "pg-again")
    assert runner.invoke(app, ["export", str(tmp_path / "final.csv")]).exit_code == 0
    final = {row["case_id"]: row for row in read_csv(tmp_path / "final.csv")[1]}
    assert final[case_id]["pe_sessions"] == "9" and final[case_id]["curated_fields"] == "pe_sessions"
