import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from pipeline.cli import app

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


def test_help_lists_every_command():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("run", "parse", "score", "doctor"):
        assert command in result.output


def test_missing_file_is_a_one_line_error_with_exit_2(tmp_path):
    missing = tmp_path / "nope.xml"
    result = runner.invoke(app, ["parse", str(missing)])
    assert result.exit_code == 2
    assert "nope.xml" in result.output and "not found" in result.output and "Traceback" not in result.output


def test_score_rejects_a_table_with_bad_values(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("case_id,doc_id,crs_grade\nx-1,doi:10.5555/x,9\n")
    result = runner.invoke(app, ["score", str(ROOT / "gold/cases.csv"), str(bad)])
    assert result.exit_code == 2 and "crs_grade" in result.output and "Traceback" not in result.output


def test_score_of_gold_against_itself_is_perfect():
    result = runner.invoke(app, ["score", str(ROOT / "gold/cases.csv"), str(ROOT / "gold/cases.csv"), "--json"])
    assert result.exit_code == 0
    report = json.loads(result.output)
    assert report["micro"]["f1"] == 1.0 and report["cases"]["fn"] == 0 and report["errors"] == []


def test_parse_json_prints_the_document_model():
    result = runner.invoke(app, ["parse", str(ROOT / "corpus/docs/pereira2021.xml"), "--json"])
    assert result.exit_code == 0
    document = json.loads(result.output)
    assert document["doc_id"] == "doi:10.5555/pecrs.2021.0201" and document["format"] == "pubmed-xml"
    assert document["sentences"] and all(document["text"][s["start"]:s["end"]] for s in document["sentences"])


def test_bad_option_exits_2_without_traceback():
    result = subprocess.run([sys.executable, "-m", "pipeline", "run", "--corpus", "/nonexistent/folder"],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 2 and "Traceback" not in result.stderr and "/nonexistent/folder" in result.stderr


def test_a_setting_that_is_not_a_count_is_a_one_line_error_naming_it(tmp_path):
    env = {**os.environ, "PECRS_BATCH_SIZE": "0", "PECRS_DATA": str(tmp_path / "data")}
    done = subprocess.run([sys.executable, "-m", "pipeline", "run", "--out", str(tmp_path / "out"), "--no-score"],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert done.returncode == 2
    assert "PECRS_BATCH_SIZE='0'" in done.stderr and "at least 1" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_only_the_command_line_process_loads_the_frameworks_frozen():
    probe = """
import gc
from pipeline import long_lived
with long_lived.long_lived_imports():
    import json
print(gc.get_freeze_count(), gc.isenabled())
long_lived.for_this_process()
with long_lived.long_lived_imports():
    import pipeline.flows
print(gc.get_freeze_count(), gc.isenabled())
"""
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    host, cli = (line.split() for line in done.stdout.splitlines()[-2:])
    assert host == ["0", "True"]  # a host's collector is left as it is
    assert int(cli[0]) > 50_000 and cli[1] == "True"  # Prefect and the rest frozen, the collector back on
