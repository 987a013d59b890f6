"""Clear errors instead of tracebacks (damaged cache and store, wrong manifest, gold or mapping, missing driver),
exports in the format their suffix names, output files that follow the umask, and small consistency faults."""

import json
import os
import sqlite3
import subprocess
import sys
import tomllib
import warnings
from datetime import datetime, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline import __version__
from pipeline.cli import app as cli
from pipeline.store import Store

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
runner = CliRunner()


def command_line(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """`pecrs ARGS` in this process, through main() (which turns the known errors into one line and exit 2)."""
    monkeypatch.setattr(sys, "argv", ["pecrs", *args])
    with pytest.raises(SystemExit) as done:
        cli.main()
    captured = capsys.readouterr()
    return done.value.code or 0, captured.out, captured.err


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0]


def a_store(url: str) -> None:
    """A store holding one run of one case, with values of each kind (numbers, whole numbers, lists)."""
    case = {"case_id": "smith2024-1", "doc_id": "doi:10.5555/s.1", "doi": "10.5555/s.1", "patient_label": "",
            "age_years": "34.5", "sex": "F", "crs_grade": "4", "il6_pre": "5230", "pe_sessions": "3",
            "other_purification": "crrt;hemoadsorption"}
    document = {"doc_id": "doi:10.5555/s.1", "file": "docs/s1.txt", "format": "text", "title": "A case",
                "status": "relevant", "reason": "1 patient", "content_hash": "ab" * 32}
    store = Store(url)
    try:
        store.record_run("run-1", datetime.now(timezone.utc), "corpus", [document], [case], [], None)
        store.decide("smith2024-1", "crs_grade", "correct", "Ana", value="3", why="the table says 3")
    finally:
        store.close()


# -- item 6: a damaged cache entry, a damaged store ---------------------------------------------------------------
def damage_every_entry(folder: Path) -> None:
    """Garbage for every value of a diskcache folder: those kept in its SQLite file and those kept in files."""
    with sqlite3.connect(folder / "cache.db") as db:
        db.execute("UPDATE Cache SET value = X'80049500DEADBEEF' WHERE filename IS NULL")
    for value_file in folder.rglob("*.val"):
        value_file.write_bytes(b"\x80\x04garbage, not a pickle")


def test_a_damaged_cache_entry_is_a_miss_reported_once(tmp_path, capsys):
    from pipeline.run.work_cache import WorkCache

    cache = WorkCache(tmp_path / "cache")
    cache.put("small", {"rows": [1, 2, 3]})
    cache.put("large", "x" * 200_000)  # beyond diskcache's inline size: kept in a file of its own
    damage_every_entry(tmp_path / "cache")
    assert cache.get("small") is None and cache.get("large") is None
    reports = capsys.readouterr().err.strip().splitlines()
    assert len(reports) == 2 and all(line.startswith("warning: ") and "damaged" in line for line in reports)
    assert any("small" in line for line in reports) and any("large" in line for line in reports)
    assert cache.get("small") is None and capsys.readouterr().err == ""  # reported once: the entry is gone
    cache.put("small", {"rows": [1, 2, 3]})
    assert cache.get("small") == {"rows": [1, 2, 3]}
    cache.close()


def test_a_cache_whose_database_is_damaged_is_set_aside_and_started_anew(tmp_path, capsys):
    from pipeline.run.work_cache import WorkCache

    folder = tmp_path / "cache"
    folder.mkdir()
    (folder / "cache.db").write_bytes(os.urandom(20_000))
    cache = WorkCache(folder)
    assert cache.get("small") is None
    [report] = capsys.readouterr().err.strip().splitlines()
    assert report.startswith(f"warning: {folder}: ") and "damaged" in report
    [aside] = [p for p in tmp_path.iterdir() if p.name.startswith("cache.damaged")]
    assert (aside / "cache.db").stat().st_size == 20_000 and aside.name in report
    cache.put("small", {"rows": [1]})
    assert cache.get("small") == {"rows": [1]} and capsys.readouterr().err == ""
    cache.close()


def test_a_file_whose_cached_outcome_is_damaged_is_parsed_and_extracted_again(tmp_path, capsys):
    from pipeline.run.corpus import CorpusEntry, with_content_hash
    from pipeline.run.stages import process_file
    from pipeline.run.work_cache import WorkCache

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "case.txt").write_text(
        "Plasma exchange for CRS after CAR-T\n\nCase presentation\n\nA 34-year-old woman with DLBCL received "
        "axicabtagene ciloleucel and developed grade 4 CRS. IL-6 was 5,230 pg/mL. She had three sessions of "
        "plasma exchange and recovered.\n", encoding="utf-8")
    entry = with_content_hash(CorpusEntry(corpus / "case.txt"))
    cache = WorkCache(tmp_path / "cache")
    first = process_file(entry, corpus, cache=cache)
    cache.close()
    damage_every_entry(tmp_path / "cache")
    capsys.readouterr()
    again = process_file(entry, corpus, cache=cache)
    assert not again.cached and again.rows == first.rows and again.evidence == first.evidence
    reports = capsys.readouterr().err.strip().splitlines()
    assert reports and all(line.startswith("warning: ") and "damaged" in line for line in reports)
    assert process_file(entry, corpus, cache=cache).cached and capsys.readouterr().err == ""
    cache.close()


def test_a_store_file_of_garbage_is_one_line_naming_it(tmp_path, monkeypatch, capsys):
    damaged = tmp_path / "pecrs.db"
    damaged.write_bytes(os.urandom(8192))
    monkeypatch.setenv("PECRS_DATABASE_URL", f"sqlite:///{damaged}")
    code, out, err = command_line(monkeypatch, capsys, "runs")
    line = one_error_line(err)
    assert code == 2 and out == "" and str(damaged) in line and "move it aside" in line


def test_runs_prints_no_table_from_a_store_damaged_past_its_first_pages(tmp_path, monkeypatch, capsys):
    path = tmp_path / "pecrs.db"
    a_store(f"sqlite:///{path}")
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode=DELETE")  # the write-ahead log folded in: every page is in the file
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
        cases_page = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'predictions'").fetchone()[0]
    with open(path, "r+b") as handle:
        handle.seek((cases_page - 1) * page_size)
        handle.write(os.urandom(page_size))
    monkeypatch.setenv("PECRS_DATABASE_URL", f"sqlite:///{path}")
    code, out, err = command_line(monkeypatch, capsys, "runs")
    line = one_error_line(err)
    assert code == 2 and out == "" and str(path) in line


# -- item 13: clear errors ------------------------------------------------------------------------------------------
def test_a_postgres_url_without_its_driver_names_the_extra(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as where the driver is not installed
    monkeypatch.setenv("PECRS_DATABASE_URL", "postgresql://pecrs:secret@127.0.0.1:1/pecrs")
    code, out, err = command_line(monkeypatch, capsys, "runs")
    line = one_error_line(err)
    assert code == 2 and "pip install 'pecrs[postgres]'" in line and "secret" not in line and "127.0.0.1" in line


def test_the_postgres_extra_is_declared():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    postgres = project["optional-dependencies"]["postgres"]
    assert any(d.replace(" ", "").startswith("psycopg[binary]>=3") for d in postgres)
    assert any(d.startswith("openpyxl") for d in project["dependencies"])


def test_a_manifest_without_a_file_column_stops_the_run_before_it_starts(tmp_path, monkeypatch, capsys):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "manifest.csv").write_text("path,format\ndocs/a.txt,text\n", encoding="utf-8")
    out_dir = tmp_path / "out"
    code, out, err = command_line(monkeypatch, capsys, "run", "--corpus", str(corpus), "--out", str(out_dir),
                                  "--no-score")
    line = one_error_line(err)
    assert code == 2 and str(corpus / "manifest.csv") in line and "'file'" in line
    assert not out_dir.exists()


@pytest.mark.parametrize("table, named", [("case,document,grade\nx-1,doi:10.5555/x,4\n", "case_id"),
                                          ("case_id,doc_id,crs_grade\nx-1,doi:10.5555/x,9\n", "crs_grade")])
def test_a_gold_table_with_wrong_columns_or_values_stops_the_run_before_it_starts(tmp_path, monkeypatch, capsys,
                                                                                  table, named):
    gold = tmp_path / "gold.csv"
    gold.write_text(table, encoding="utf-8")
    out_dir = tmp_path / "out"
    (tmp_path / "corpus").mkdir()
    code, out, err = command_line(monkeypatch, capsys, "run", "--gold", str(gold), "--out", str(out_dir),
                                  "--corpus", str(tmp_path / "corpus"))
    line = one_error_line(err)
    assert code == 2 and str(gold) in line and named in line
    assert not out_dir.exists()


def review_mapping(tmp_path: Path, text: str, replace: str = "") -> Path:
    mapping = tmp_path / "mapping.yaml"
    original = (DATA / "review_mapping.yaml").read_text(encoding="utf-8")
    mapping.write_text(original.replace(text, replace) if text else original, encoding="utf-8")
    return mapping


def test_gold_import_with_an_unknown_unit_names_the_mapping_column_and_unit(tmp_path):
    mapping = review_mapping(tmp_path, "unit: pg/mL", "unit: pg/mll")
    result = runner.invoke(cli.app, ["gold", "import", str(DATA / "review_table.csv"), "--mapping", str(mapping)])
    line = one_error_line(result.stderr)
    assert result.exit_code == 2 and str(mapping) in line and "IL-6 before/after (pg/ml)" in line and "pg/mll" in line


def test_gold_import_with_a_unit_of_another_kind_is_an_error_too(tmp_path):
    mapping = review_mapping(tmp_path, "unit: mg/dL", "unit: mL")
    result = runner.invoke(cli.app, ["gold", "import", str(DATA / "review_table.csv"), "--mapping", str(mapping)])
    line = one_error_line(result.stderr)
    assert result.exit_code == 2 and "CRP before/after (mg/dl)" in line and "'mL'" in line


def test_gold_import_reports_every_bad_cell_at_once(tmp_path):
    table = tmp_path / "review.csv"
    lines = (DATA / "review_table.csv").read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace("Survived", "Lost")
    lines[3] = lines[3].replace(",V,", ",VII,").replace("8/F", "8-F")
    table.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(cli.app, ["gold", "import", str(table), "--mapping", str(DATA / "review_mapping.yaml")])
    errors = result.stderr.strip().splitlines()
    assert result.exit_code == 2 and "Traceback" not in result.stderr and result.stdout == ""
    assert len(errors) == 3 and all(line.startswith(f"error: {table} line ") for line in errors)
    assert "line 2, column 'Outcome'" in errors[0] and "line 4, column 'Age/Sex'" in errors[1]
    assert "line 4, column 'CRS grade'" in errors[2]


def test_score_of_an_empty_file_names_it(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    result = runner.invoke(cli.app, ["score", str(ROOT / "gold/cases.csv"), str(empty)])
    line = one_error_line(result.stderr)
    assert result.exit_code == 2 and str(empty) in line and "empty" in line


def test_version():
    result = runner.invoke(cli.app, ["--version"])
    assert result.exit_code == 0 and result.stdout.strip() == f"pecrs {__version__}"


# -- item 14: exports in the format their suffix names ----------------------------------------------------------------
@pytest.fixture
def stored(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'pecrs.db'}"
    a_store(url)
    monkeypatch.setenv("PECRS_DATABASE_URL", url)
    return url


def test_export_writes_parquet_with_typed_columns(tmp_path, stored):
    import pyarrow as pa
    import pyarrow.parquet as pq

    file = tmp_path / "final.parquet"
    assert runner.invoke(cli.app, ["export", str(file)]).exit_code == 0
    table = pq.read_table(file)
    schema = table.schema
    assert schema.field("age_years").type == pa.float64() and schema.field("crs_grade").type == pa.int64()
    assert schema.field("other_purification").type == pa.list_(pa.string())
    assert schema.field("sex").type == pa.string() and schema.field("curated_fields").type == pa.list_(pa.string())
    [row] = table.to_pylist()
    assert (row["age_years"], row["crs_grade"], row["pe_sessions"], row["il6_pre"]) == (34.5, 3, 3, 5230.0)
    assert row["other_purification"] == ["crrt", "hemoadsorption"] and row["curated_fields"] == ["crs_grade"]
    assert row["icans_grade"] is None and row["corticosteroids"] == []


def test_export_writes_json_with_typed_values(tmp_path, stored):
    file = tmp_path / "final.json"
    assert runner.invoke(cli.app, ["export", str(file)]).exit_code == 0
    [row] = json.loads(file.read_text(encoding="utf-8"))
    assert (row["case_id"], row["age_years"], row["crs_grade"], row["sex"]) == ("smith2024-1", 34.5, 3, "F")
    assert row["other_purification"] == ["crrt", "hemoadsorption"] and row["icans_grade"] is None


def test_export_writes_a_real_xlsx_workbook(tmp_path, stored):
    from openpyxl import load_workbook

    file = tmp_path / "final.xlsx"
    assert runner.invoke(cli.app, ["export", str(file)]).exit_code == 0
    sheet = load_workbook(file).active
    header, values = [[cell.value for cell in row] for row in sheet.iter_rows(max_row=2)]
    row = dict(zip(header, values))
    assert (row["case_id"], row["age_years"], row["crs_grade"]) == ("smith2024-1", 34.5, 3)
    assert row["other_purification"] == "crrt;hemoadsorption" and row["icans_grade"] is None


def test_export_writes_csv_as_before(tmp_path, stored):
    file = tmp_path / "final.csv"
    assert runner.invoke(cli.app, ["export", str(file)]).exit_code == 0
    header, row = file.read_text(encoding="utf-8").splitlines()
    assert header.startswith("case_id,doc_id,") and row.startswith("smith2024-1,doi:10.5555/s.1,")


@pytest.mark.parametrize("command", [["export"], ["curate", "export"]])
def test_an_export_to_a_suffix_of_no_known_format_is_refused(tmp_path, stored, command):
    for name in ("final.txt", "final"):
        file = tmp_path / name
        result = runner.invoke(cli.app, [*command, str(file)])
        line = one_error_line(result.stderr)
        assert result.exit_code == 2 and str(file) in line and ".xlsx" in line and not file.exists()


def test_curate_export_writes_the_format_its_suffix_names(tmp_path, stored):
    from openpyxl import load_workbook

    assert runner.invoke(cli.app, ["curate", "export", str(tmp_path / "curations.json")]).exit_code == 0
    [decision] = json.loads((tmp_path / "curations.json").read_text(encoding="utf-8"))
    assert (decision["case_id"], decision["field"], decision["curated_value"], decision["by"]) == \
        ("smith2024-1", "crs_grade", "3", "Ana")
    assert runner.invoke(cli.app, ["curate", "export", str(tmp_path / "curations.xlsx")]).exit_code == 0
    sheet = load_workbook(tmp_path / "curations.xlsx").active
    assert [cell.value for cell in sheet[1]][:3] == ["case_id", "field", "predicted_value"]
    assert sheet.max_row == 2


# -- item 15: output files follow the umask -------------------------------------------------------------------------
WRITE_OUTPUTS = """
import sys
from pathlib import Path
from pipeline.outputs.atomic import atomic_write_text
from pipeline.outputs.writer import EvidenceSpool, publish_latest
out = Path(sys.argv[1])
run = out / "run-1"
atomic_write_text(run / "cases.csv", "case_id\\n")
spool = EvidenceSpool(run / "evidence.jsonl")
spool.write([{}])
spool.commit()
publish_latest(run, out / "latest")
"""


@pytest.mark.parametrize("umask, file_mode, folder_mode", [(0o022, 0o644, 0o755), (0o027, 0o640, 0o750)])
def test_output_files_follow_the_umask(tmp_path, umask, file_mode, folder_mode):
    done = subprocess.run([sys.executable, "-c", WRITE_OUTPUTS, str(tmp_path)], capture_output=True, text=True,
                          cwd=ROOT, umask=umask, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    for name in ("run-1/cases.csv", "run-1/evidence.jsonl", "latest/cases.csv", "latest/evidence.jsonl"):
        assert (tmp_path / name).stat().st_mode & 0o777 == file_mode, name
    assert (tmp_path / "latest").stat().st_mode & 0o777 == folder_mode


# -- item 16: small consistency faults ----------------------------------------------------------------------------
def test_the_outcomes_legend_has_one_colour_per_outcome(monkeypatch):
    from pipeline.report.summary import summarize

    rows = [{"case_id": "p1", "doc_id": "doi:10.5555/x.1", "crs_grade": "4", "outcome": "alive", "crs_resolved": "yes",
             "crs_onset_day": "1", "pe_start_day": "3"}]
    with warnings.catch_warnings():  # matplotlib's pyparsing noise, as figures.draw_figures silences it
        warnings.simplefilter("ignore", DeprecationWarning)
        from matplotlib.colors import to_hex

        import pipeline.report.figures as figures

        monkeypatch.setattr(figures, "_data_uri", lambda figure: figure)
        figure = figures.figure_outcomes(summarize(rows))
    for axes in figure.axes:
        legend = axes.get_legend()
        colours = {text.get_text(): to_hex(handle.get_facecolor())
                   for text, handle in zip(legend.get_texts(), legend.legend_handles)}
        assert colours == {"alive": figures.GREEN, "CRS resolved": figures.BLUE}


def test_report_md_shows_the_scores_as_scores_json_holds_them():
    from pipeline.report.markdown import render_report
    from pipeline.scoring.scoring import ScoreReport

    report = ScoreReport()
    report.fields["sex"].tp, report.fields["sex"].fp = 60, 7  # precision 0.89552...
    scores = report.as_dict()
    scores["review_literature"] = {"in_gold": 0, "review_cases": 19, "micro": scores["micro"]}
    held = json.loads(json.dumps(scores))["micro"]["precision"]
    assert held == 0.896
    text = render_report("run-1", [], [], scores, {})
    assert f"- micro: P {held:.3f}," in text and f"| sex | 60 | 7 | 0 | {held:.3f} |" in text


def test_scores_keep_a_file_doc_id_as_written():
    from pipeline.scoring.scoring import score_rows
    from pipeline.schema import COLUMNS

    def row(doc_id: str, grade: str) -> dict:
        return {**{c: "" for c in COLUMNS}, "case_id": "held2020-1", "doc_id": doc_id, "crs_grade": grade,
                "sex": "F"}

    report = score_rows([row("file:HeldD_peds2020.txt", "4")], [row("file:heldd_PEDS2020.txt", "3")])
    assert report.cases.tp == 1  # matched whatever the case
    assert {e.doc_id for e in report.errors} == {"file:HeldD_peds2020.txt"}


def test_piped_output_is_not_wrapped(tmp_path):
    url = f"sqlite:///{tmp_path / 'pecrs.db'}"
    a_store(url)
    deep = tmp_path.joinpath(*["a-folder-with-a-long-name"] * 6)
    deep.mkdir(parents=True)
    file = deep / "final.csv"
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    done = subprocess.run([sys.executable, "-m", "pipeline", "export", str(file)], capture_output=True, text=True,
                          cwd=ROOT, env={**env, "PECRS_DATABASE_URL": url}, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert len(str(file)) > 120 and done.stdout.splitlines() == [f"1 cases written to {file}"]


def test_a_damaged_store_stops_the_run_before_it_starts(tmp_path, monkeypatch, capsys):
    damaged = tmp_path / "pecrs.db"
    damaged.write_bytes(os.urandom(8192))
    monkeypatch.setenv("PECRS_DATABASE_URL", f"sqlite:///{damaged}")
    (tmp_path / "corpus").mkdir()
    out_dir = tmp_path / "out"
    code, out, err = command_line(monkeypatch, capsys, "run", "--corpus", str(tmp_path / "corpus"), "--out",
                                  str(out_dir), "--no-score")
    line = one_error_line(err)
    assert code == 2 and str(damaged) in line and not out_dir.exists()
