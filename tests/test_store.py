"""The evidence base: predictions replaced by each run, curations kept through every re-run, undo, flags,
validation, exports, a killed run, and the review-table import."""

import csv
import json
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.scoring.gold_import import GoldImportError, import_table
from pipeline.outputs.writer import csv_text
from pipeline.schema import COLUMNS
from pipeline.scoring.scoring import score_files
from pipeline.store import CurationError, Store

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
runner = CliRunner()


def a_run(il6_pre: str = "5230", quote: str = "IL-6 was 5,230 pg/mL") -> tuple[list[dict], list[dict], list[dict]]:
    documents = [{"doc_id": "doi:10.5555/s.1", "file": "docs/s1.txt", "format": "text", "title": "A case",
                  "status": "relevant", "reason": "1 patient", "content_hash": "ab" * 32}]
    cases = [{"case_id": "smith2024-1", "doc_id": "doi:10.5555/s.1", "doi": "10.5555/s.1", "patient_label": "",
              "age_years": "34", "sex": "F", "crs_grade": "4", "il6_pre": il6_pre, "pe_sessions": "3"}]
    evidence = [{"case_id": "smith2024-1", "field": "il6_pre", "value": il6_pre, "doc_id": "doi:10.5555/s.1",
                 "section": "Case", "start": 100, "end": 100 + len(quote), "quote": quote,
                 "sentence": {"id": "x4", "start": 90, "end": 160, "text": "Before the exchange " + quote + "."}},
                {"case_id": "smith2024-1", "field": "crs_grade", "value": "4", "doc_id": "doi:10.5555/s.1",
                 "section": "Case", "start": 40, "end": 51, "quote": "grade 4 CRS"}]
    return documents, cases, evidence


def record(store: Store, run_id: str, **kwargs) -> None:
    documents, cases, evidence = a_run(**kwargs)
    store.record_run(run_id, datetime.now(timezone.utc), "corpus", documents, cases, evidence, None)


@pytest.fixture
def store(store_url):
    """A store on each backend (SQLite and PostgreSQL, tests/conftest.py), holding one run."""
    store = Store(store_url)
    record(store, "run-1")
    yield store
    store.close()


def row_of(store: Store, case_id: str) -> dict:
    return next(r for r in store.table() if r["case_id"] == case_id)


def test_a_correction_survives_re_runs_and_undo_restores_the_prediction(store):
    store.decide("smith2024-1", "crs_grade", "correct", "Ana", value="III", why="the table says grade 3")
    for run in ("run-2", "run-3"):
        record(store, run)
        row = row_of(store, "smith2024-1")
        assert row["crs_grade"] == "3" and row["curated_fields"] == "crs_grade" and row["flagged_fields"] == ""
    [decision] = store.history("smith2024-1")
    assert (decision.by, decision.why, decision.predicted_value) == ("Ana", "the table says grade 3", "4")
    store.undo("smith2024-1", "crs_grade", "Ana")
    assert row_of(store, "smith2024-1")["crs_grade"] == "4"
    history = store.history("smith2024-1")
    assert len(history) == 1 and history[0].withdrawn_by == "Ana"


def test_a_re_run_writes_only_what_changed(store):
    documents, cases, evidence = a_run()
    unchanged = store.record_run("run-2", datetime.now(timezone.utc), "corpus", documents, cases, evidence, None)
    assert str(unchanged) == "predictions unchanged"
    before = store.table()

    documents, cases, evidence = a_run(il6_pre="5300", quote="IL-6 was 5,300 pg/mL")
    cases[0]["sex"] = ""  # no longer predicted
    cases.append({"case_id": "smith2024-2", "doc_id": "doi:10.5555/s.1", "doi": "10.5555/s.1", "patient_label": "2",
                  "crs_grade": "3"})
    evidence.append({"case_id": "smith2024-2", "field": "crs_grade", "value": "3", "doc_id": "doi:10.5555/s.1",
                     "section": "Case", "start": 300, "end": 311, "quote": "grade 3 CRS"})
    changes = store.record_run("run-3", datetime.now(timezone.utc), "corpus", documents, cases, evidence, None)
    assert (changes.cells_written, changes.cells_removed, changes.cases_new, changes.cases_dropped) == (2, 1, 1, 0)
    first, second = row_of(store, "smith2024-1"), row_of(store, "smith2024-2")
    assert (first["il6_pre"], first["sex"], first["crs_grade"]) == ("5300", "", "4")
    assert second["crs_grade"] == "3" and second["patient_label"] == "2"
    il6 = store.case("smith2024-1").cells["il6_pre"]
    assert il6.evidence["quote"] == "IL-6 was 5,300 pg/mL"

    documents, cases, evidence = a_run()
    changes = store.record_run("run-4", datetime.now(timezone.utc), "corpus", documents, cases, evidence, None)
    assert changes.cases_dropped == 1 and store.table() == before
    assert [r.run_id for r in store.runs()][:3] == ["run-4", "run-3", "run-2"]


def test_a_run_with_the_latest_runs_digest_leaves_the_predictions_unread(store):
    def unread():
        raise AssertionError("the evidence was read")
        yield

    documents, cases, evidence = a_run()
    store.record_run("run-2", datetime.now(timezone.utc), "corpus", documents, cases, evidence, None, digest="d1")
    same = store.record_run("run-3", datetime.now(timezone.utc), "corpus", documents, cases, unread(), None, digest="d1")
    assert str(same) == "predictions unchanged" and store.latest_run().digest == "d1"
    documents, cases, evidence = a_run(il6_pre="5300", quote="IL-6 was 5,300 pg/mL")
    store.record_run("run-4", datetime.now(timezone.utc), "corpus", documents, cases, evidence, None, digest="d2")
    # "d1" again, but the latest run is "d2": the cells are compared and the first run's value comes back
    documents, cases, evidence = a_run()
    back = store.record_run("run-5", datetime.now(timezone.utc), "corpus", documents, cases, evidence, None, digest="d1")
    assert back.cells_written == 1 and row_of(store, "smith2024-1")["il6_pre"] == "5230"


def test_the_table_version_changes_whenever_the_table_does(store):
    """The summary pages are cached under table_version(): two states with one version must have one table."""
    states = []

    def recorded(run_id: str, digest: str | None, **kwargs) -> None:
        documents, cases, evidence = a_run(**kwargs)
        store.record_run(run_id, datetime.now(timezone.utc), "corpus", documents, cases, evidence, None, digest=digest)

    def note() -> None:
        states.append((store.table_version(), store.table()))

    recorded("run-2", "d1"); note()
    recorded("run-3", "d1"); note()
    store.decide("smith2024-1", "sex", "correct", "Ana", value="M", why="he"); note()
    store.decide("smith2024-1", "crs_grade", "accept", "Ana"); note()
    store.undo("smith2024-1", "sex", "Ana"); note()
    recorded("run-4", "d2", il6_pre="6100"); note()
    store.decide("smith2024-1", "", "remove-case", "Ben", why="a duplicate"); note()
    assert states[0][0] == states[1][0] and None not in {version for version, _ in states}
    for version, table in states:
        assert all(other == table for again, other in states if again == version)
    assert len({version for version, _ in states}) == len(states) - 1
    recorded("run-5", None)
    assert store.table_version() is None  # a run without a digest: the table has no name, it is read


def test_undo_goes_back_one_decision_at_a_time(store):
    store.decide("smith2024-1", "sex", "correct", "Ana", value="M", why="he")
    store.decide("smith2024-1", "sex", "reject", "Ben", why="not stated")
    assert row_of(store, "smith2024-1")["sex"] == ""
    store.undo("smith2024-1", "sex", "Ben")
    assert row_of(store, "smith2024-1")["sex"] == "M"
    store.undo("smith2024-1", "sex", "Ben")
    assert row_of(store, "smith2024-1")["sex"] == "F"
    with pytest.raises(CurationError):
        store.undo("smith2024-1", "sex", "Ben")


def test_a_changed_prediction_or_evidence_flags_the_curated_cell(store):
    store.decide("smith2024-1", "il6_pre", "accept", "Ana")
    record(store, "run-2", quote="IL-6 was 5,230 pg/mL ")  # same value, other evidence
    assert row_of(store, "smith2024-1")["flagged_fields"] == "il6_pre"
    record(store, "run-3", il6_pre="6100")
    row = row_of(store, "smith2024-1")
    assert row["il6_pre"] == "5230" and row["flagged_fields"] == "il6_pre"  # the curator's value stands
    assert store.case("smith2024-1").flagged == 1


def test_values_are_validated_and_a_name_is_required(store):
    with pytest.raises(CurationError) as error:
        store.decide("smith2024-1", "crs_grade", "correct", "Ana", value="9", why="x")
    assert "crs_grade must be between 1 and 5" in str(error.value)
    with pytest.raises(CurationError) as error:
        store.decide("smith2024-1", "outcome", "correct", "Ana", value="survived", why="x")
    assert "alive, died" in str(error.value)
    with pytest.raises(CurationError):
        store.decide("smith2024-1", "crs_grade", "correct", "", value="3")
    with pytest.raises(CurationError):
        store.decide("nobody-1", "crs_grade", "correct", "Ana", value="3")
    with pytest.raises(CurationError):
        store.decide("smith2024-1", "colour", "correct", "Ana", value="3")


def test_cases_added_and_removed_by_a_curator(store):
    store.decide("smith2024-2", "", "add-case", "Ana", why="patient 2 in the discussion table", doc_id="doi:10.5555/s.1")
    store.decide("smith2024-2", "age_years", "correct", "Ana", value="61", why="table 2")
    assert row_of(store, "smith2024-2")["age_years"] == "61"
    store.decide("smith2024-1", "", "remove-case", "Ben", why="PE before CAR-T")
    record(store, "run-2")
    assert [r["case_id"] for r in store.table()] == ["smith2024-2"]
    def seen(view):
        return (view.case_id, view.identity, view.predicted, view.added, view.removed,
                {name: (cell.value, cell.source, cell.flagged, cell.evidence) for name, cell in view.cells.items()})

    views = store.cases()  # one case read alone is the same as in the list of all
    assert [seen(store.case(v.case_id)) for v in views] == [seen(v) for v in views] and len(views) == 2
    with pytest.raises(CurationError, match="no case"):
        store.case("smith2024-9")
    with pytest.raises(CurationError, match="already exists"):
        store.decide("smith2024-2", "", "add-case", "Ana", doc_id="doi:10.5555/s.1")


def test_exports_csv_and_parquet(store, tmp_path, monkeypatch):
    monkeypatch.setenv("PECRS_DATABASE_URL", store.url)
    store.decide("smith2024-1", "crs_grade", "correct", "Ana", value="3", why="table 1")
    result = runner.invoke(app, ["curate", "export", str(tmp_path / "curations.parquet")])
    assert result.exit_code == 0, result.output
    frame = pd.read_parquet(tmp_path / "curations.parquet")
    assert list(frame.columns) == ["case_id", "field", "predicted_value", "curated_value", "action", "by", "at", "why"]
    assert frame.iloc[0][["field", "predicted_value", "curated_value", "by", "why"]].tolist() == ["crs_grade", "4", "3", "Ana", "table 1"]
    assert runner.invoke(app, ["export", str(tmp_path / "final.csv")]).exit_code == 0
    rows = list(csv.DictReader(open(tmp_path / "final.csv", encoding="utf-8")))
    assert rows[0]["crs_grade"] == "3" and rows[0]["curated_fields"] == "crs_grade" and list(rows[0])[:len(COLUMNS)] == COLUMNS


def test_curate_commands(store, monkeypatch):
    monkeypatch.setenv("PECRS_DATABASE_URL", store.url)
    result = runner.invoke(app, ["curate", "set", "smith2024-1", "pe_sessions", "2", "--by", "Ana", "--why", "one was cancelled"])
    assert result.exit_code == 0 and "correct: smith2024-1 pe_sessions = '2' by Ana" in result.output
    result = runner.invoke(app, ["curate", "set", "smith2024-1", "sex", "X", "--by", "Ana", "--why", "?"])
    assert result.exit_code == 2 and "sex must be one of M, F" in result.output
    assert runner.invoke(app, ["curate", "accept", "smith2024-1", "age_years", "--by", "Ben"]).exit_code == 0
    shown = runner.invoke(app, ["curate", "show", "smith2024-1"])
    assert "pe_sessions" in shown.output and "curator" in shown.output and "5,230" in shown.output
    listed = runner.invoke(app, ["curate", "list", "--field", "pe_sessions"])
    assert "smith2024-1" in listed.output and "2" in listed.output
    assert runner.invoke(app, ["curate", "undo", "smith2024-1", "pe_sessions", "--by", "Ana"]).exit_code == 0
    history = runner.invoke(app, ["curate", "history", "smith2024-1"])
    assert "withdrawn by Ana" in history.output and "accept age_years" in history.output
    assert row_of(store, "smith2024-1")["pe_sessions"] == "3"


def test_a_run_killed_in_the_middle_leaves_the_store_as_it_was(store_url):
    url = store_url
    store = Store(url)
    record(store, "run-1")
    store.decide("smith2024-1", "crs_grade", "correct", "Ana", value="3", why="table 1")
    before = store.table()
    store.close()
    # a run with many cases, killed while its transaction is open
    script = (
        "import sys, time; sys.path.insert(0, sys.argv[1])\n"
        "from datetime import datetime, timezone\n"
        "from pipeline.store import Store\n"
        "from pipeline.store import store as module\n"
        "store = Store(sys.argv[2])\n"
        "cases = [{'case_id': f'big-{i}', 'doc_id': 'doi:10.5555/big', 'age_years': '50', 'sex': 'M'} for i in range(4000)]\n"
        "real_replace = module._replace\n"
        "def slow_replace(connection, model, key, rows, run_id):\n"  # predictions and cases written, no commit yet
        "    real_replace(connection, model, key, rows, run_id)\n"
        "    if model is module.models.Case:\n"
        "        print('inside', flush=True); time.sleep(60)\n"
        "module._replace = slow_replace\n"
        "store.record_run('run-killed', datetime.now(timezone.utc), 'c', [], cases, [], None)\n")
    process = subprocess.Popen([sys.executable, "-c", script, str(ROOT), url], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "inside"
    time.sleep(0.3)
    process.kill()
    process.wait()
    store = Store(url)
    try:
        assert store.table() == before and store.latest_run().run_id == "run-1"
    finally:
        store.close()


def test_a_review_table_imports_as_gold_that_scores(tmp_path):
    rows = import_table(DATA / "review_table.csv", DATA / "review_mapping.yaml")
    assert [(r["case_id"], r["age_years"], r["sex"], r["crs_grade"], r["il6_pre"], r["crp_pre"], r["outcome"]) for r in rows] == [
        ("doi-10-5555-rev-1-1", "23", "M", "4", "5230", "215", "alive"),
        ("doi-10-5555-rev-1-2", "45", "F", "3", "5000", "", "died"),
        ("doi-10-5555-rev-2-1", "8", "F", "5", "1250", "", "alive")]
    assert rows[0]["car_t_product"] == "tisagenlecleucel" and rows[1]["crs_grading"] == "Lee 2014"
    gold = tmp_path / "gold.csv"
    gold.write_text(csv_text(rows, COLUMNS), encoding="utf-8")
    # a prediction that differs in one cell scores one fp and one fn, no more
    predicted = [dict(r) for r in rows]
    predicted[2]["crs_grade"] = "4"
    (tmp_path / "pred.csv").write_text(csv_text(predicted, COLUMNS), encoding="utf-8")
    report = score_files(gold, tmp_path / "pred.csv")
    assert (report.cases.tp, report.micro.fp, report.micro.fn) == (3, 1, 1)
    result = runner.invoke(app, ["gold", "import", str(DATA / "review_table.csv"), "--mapping",
                                 str(DATA / "review_mapping.yaml"), "--out", str(tmp_path / "imported.csv")])
    assert result.exit_code == 0 and (tmp_path / "imported.csv").read_text(encoding="utf-8") == gold.read_text(encoding="utf-8")


def test_a_bad_review_cell_names_its_line_column_and_the_allowed_values(tmp_path):
    table = tmp_path / "bad.csv"
    lines = (DATA / "review_table.csv").read_text(encoding="utf-8").splitlines()
    table.write_text("\n".join(lines[:2] + [lines[2].replace("Died", "Lost")]) + "\n", encoding="utf-8")
    with pytest.raises(GoldImportError) as error:
        import_table(table, DATA / "review_mapping.yaml")
    assert "line 3, column 'Outcome'" in str(error.value) and "alive, died" in str(error.value)


def an_old_store(url: str, revision: str, *statements: str) -> str:
    """``url``, a new database, made a store at schema ``revision`` holding what ``statements`` (SQL) put in it."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine, text

    from pipeline.store.store import MIGRATIONS

    engine = create_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        for statement in statements:
            connection.execute(text(statement))
    engine.dispose()
    return url


def test_a_store_made_before_run_digests_is_upgraded_with_its_data(store_url):
    url = an_old_store(store_url, "0001", "INSERT INTO runs (run_id, started_at, finished_at, corpus, documents, cases) "
                                         "VALUES ('old-run', '2026-01-01 00:00:00', '2026-01-01 00:05:00', 'c', 3, 4)")
    store = Store(url)
    try:
        [run] = store.runs()
        assert (run.run_id, run.cases, run.digest) == ("old-run", 4, None)
        record(store, "new-run")
        assert [r.run_id for r in store.runs()] == ["new-run", "old-run"]
    finally:
        store.close()


def test_the_schema_revision_a_store_is_opened_at_is_alembics_newest(store_url):
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine, text

    from pipeline.store.store import MIGRATIONS, SCHEMA_REVISION

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == SCHEMA_REVISION
    url = store_url
    Store(url).close()
    engine = create_engine(url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == SCHEMA_REVISION
        # the tables the migrations made are the ones the models declare, column by column and index by index
        from alembic.autogenerate import compare_metadata
        from alembic.migration import MigrationContext

        from pipeline.store import models

        assert compare_metadata(MigrationContext.configure(connection), models.Base.metadata) == []
    engine.dispose()


def test_a_bulk_accept_takes_only_undecided_values_and_one_undo_withdraws_it(store):
    store.decide("smith2024-1", "crs_grade", "correct", "Ana", value="3", why="Table 1")
    cells = [("smith2024-1", name) for name in ("age_years", "sex", "crs_grade", "il6_pre", "hlh")]
    batch, accepted = store.accept_all(cells, "Ben", why="checked against the abstract")
    assert accepted == 3  # crs_grade was decided already; hlh has no value to accept
    decisions = store.decisions()
    assert {name for (_, name), d in decisions.items() if d.batch == batch} == {"age_years", "sex", "il6_pre"}
    assert all(d.by == "Ben" and d.why == "checked against the abstract" for d in decisions.values() if d.batch == batch)
    record(store, "run-2")  # a re-run keeps them
    assert sum(d.batch == batch for d in store.decisions().values()) == 3
    assert store.undo_batch(batch, "Ben") == 3
    assert set(store.decisions()) == {("smith2024-1", "crs_grade")}  # the correction is not part of the batch
    with pytest.raises(CurationError, match="no decision of batch"):
        store.undo_batch(batch, "Ben")


def test_a_correction_keeps_the_span_the_curator_picked_as_its_evidence(store):
    store.decide("smith2024-1", "pe_volume_ml", "correct", "Ana", value="3000", why="the methods give the volume",
                 evidence={"start": 300, "end": 308, "quote": "3,000 mL"})
    decision = store.decisions()[("smith2024-1", "pe_volume_ml")]
    assert json.loads(decision.evidence) == {"doc_id": "doi:10.5555/s.1", "start": 300, "end": 308,
                                             "quote": "3,000 mL", "source": "curator"}
    with pytest.raises(CurationError, match="only a correction"):
        store.decide("smith2024-1", "il6_pre", "accept", "Ana", evidence={"start": 1, "end": 2})
    with pytest.raises(CurationError, match="not a span"):
        store.decide("smith2024-1", "sex", "correct", "Ana", value="M", why="x", evidence={"start": 9, "end": 3})


def test_a_store_of_revision_0003_is_upgraded_with_its_curations(store_url):
    url = an_old_store(
        store_url, "0003",
        "INSERT INTO cases (case_id, doc_id, pmid, pmcid, doi, patient_label, in_latest_run, corpus, run_id) "
        "VALUES ('old-1', 'd', '', '', '', '', TRUE, 'c', 'r')",
        "INSERT INTO predictions (case_id, field, value, evidence, run_id) VALUES ('old-1', 'sex', 'F', '{}', 'r')",
        "INSERT INTO curations (case_id, field, action, value, by, at, why, predicted_value, predicted_evidence, "
        "doc_id, withdrawn_by) VALUES ('old-1', 'sex', 'accept', 'F', 'Ana', '2026-01-01 00:00:00', '', 'F', '{}', "
        "'', '')")
    store = Store(url)
    try:
        cell = store.case("old-1").cells["sex"]
        assert (cell.value, cell.confidence, cell.decision.by, cell.decision.batch, cell.decision.evidence) == \
            ("F", None, "Ana", "", "{}")
    finally:
        store.close()


def _open(url: str, start, told) -> None:
    """One process opening the store at ``url`` once ``start`` is set; tells what happened."""
    try:
        start.wait()
        Store(url).close()
        told.put("opened")
    except Exception as exc:  # what the test reports, whatever it is
        told.put(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")


def test_four_processes_opening_a_new_store_at_once_all_open_it(store_url):
    import multiprocessing

    context = multiprocessing.get_context("spawn")  # a fresh interpreter each, as separate commands would be
    start, told = context.Event(), context.Queue()
    processes = [context.Process(target=_open, args=(store_url, start, told)) for _ in range(4)]
    for process in processes:
        process.start()
    start.set()  # all at once, from one event
    outcomes = [told.get(timeout=120) for _ in processes]
    for process in processes:
        process.join()
    assert outcomes == ["opened"] * 4
    with Store(store_url) as store:
        record(store, "run-1")
        assert [r.run_id for r in store.runs()] == ["run-1"]


def test_a_store_of_revision_0004_gets_each_cells_extractor_from_its_evidence(store_url):
    url = an_old_store(
        store_url, "0004",
        "INSERT INTO cases (case_id, doc_id, pmid, pmcid, doi, patient_label, in_latest_run, corpus, run_id) "
        "VALUES ('old-1', 'd', '', '', '', '', TRUE, 'c', 'r')",
        "INSERT INTO predictions (case_id, field, value, evidence, confidence, run_id) VALUES "
        "('old-1', 'sex', 'F', '{\"quote\": \"woman\", \"extractor\": \"demographics.sex\"}', 0.9, 'r'), "
        "('old-1', 'age_years', '40', '{}', NULL, 'r')")
    with Store(url) as store:
        cells = store.case("old-1").cells
        assert (cells["sex"].extractor, cells["sex"].confidence) == ("demographics.sex", 0.9)
        assert cells["age_years"].extractor == ""
        documents, cases, evidence = a_run()
        evidence[0]["extractor"] = "labs.value"
        store.record_run("run-1", datetime.now(timezone.utc), "corpus", documents, cases, evidence, None)
        assert store.case("smith2024-1").cells["il6_pre"].extractor == "labs.value"  # a run writes it itself
