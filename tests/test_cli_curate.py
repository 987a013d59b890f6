"""The curators' commands, `pecrs export` and `pecrs serve-ui`: stored values printed as text, one-line errors
naming what is wrong, and a page that binds its port and checks its settings before it says where it listens."""

import os
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.store import Store

ROOT = Path(__file__).resolve().parent.parent
DOC = "doi:10.5555/cli.2024.1"
runner = CliRunner()


@pytest.fixture
def store(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'pecrs.db'}"
    monkeypatch.setenv("PECRS_DATABASE_URL", url)
    store = Store(url)
    store.record_run("r1", datetime.now(UTC), "made-up",
                     [{"doc_id": DOC, "file": "docs/cli.txt", "format": "text", "title": "t", "status": "relevant",
                       "reason": ""}],
                     [{"case_id": "cli-1", "doc_id": DOC, "patient_label": "Patient 1", "crs_grade": "4"}], [], None)
    yield store
    store.close()


def curate(*args: str):
    return runner.invoke(app, ["curate", *args])


def one_line_error(result, *named: str) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    [line] = result.stderr.splitlines()
    assert line.startswith("error: ") and all(name in line for name in named), line
    return line


def test_markup_in_a_case_id_is_stored_and_listed_as_text(store):
    added = curate("add-case", "[/]evil", "--doc", DOC, "--by", "Ana", "--why", "missed")
    assert added.exit_code == 0 and "[/]evil" in added.stdout
    listed = curate("list")
    assert listed.exit_code == 0 and "[/]evil" in listed.stdout and "cli-1" in listed.stdout
    shown = curate("show", "[/]evil")
    assert shown.exit_code == 0 and "[/]evil" in shown.stdout
    again = curate("add-case", "[/]evil", "--doc", DOC, "--by", "Ana", "--why", "missed")
    one_line_error(again, "[/]evil", "already exists")


def test_markup_in_a_name_is_a_decision_taken_and_printed(store):
    decided = curate("set", "cli-1", "crs_grade", "3", "--by", "[/bold]", "--why", "[red]Table 2")
    assert decided.exit_code == 0 and "by [/bold]" in decided.stdout
    history = curate("history", "cli-1")
    assert history.exit_code == 0 and "[/bold]" in history.stdout and "[red]Table 2" in history.stdout
    [decision] = store.history("cli-1")
    assert (decision.by, decision.value) == ("[/bold]", "3")


def test_terminal_escapes_in_stored_values_are_shown_escaped(store):
    for args in (["set", "cli-1", "crs_grade", "3", "--by", "\x1b[31mEve", "--why", "bell\x07\x9b2J"],
                 ["add-case", "x\x1b]0;owned\x07", "--doc", DOC, "--by", "Eve", "--why", "x"]):
        result = curate(*args)
        assert result.exit_code == 0 and "\x1b" not in result.stdout and "\\x1b" in result.stdout
    for args in (["history", "cli-1"], ["list", "--field", "crs_grade"], ["show", "cli-1"]):
        result = curate(*args)
        assert result.exit_code == 0 and not any(c in result.stdout for c in "\x1b\x07\x9b"), args
    assert "\\x1b[31mEve" in curate("history", "cli-1").stdout
    assert "bell\\x07\\x9b2J" in curate("history", "cli-1").stdout
    assert "x\\x1b]0;owned\\x07" in curate("list").stdout


def test_history_of_an_unknown_case_is_an_error_naming_it(store):
    one_line_error(curate("history", "nope-1"), "nope-1")
    assert curate("history", "cli-1").exit_code == 0


def test_list_refuses_an_unknown_field_and_lists_the_fields(store):
    one_line_error(curate("list", "--field", "bogus"), "--field", "bogus", "crs_grade", "il6_pre")
    listed = curate("list", "--field", "crs_grade")
    assert listed.exit_code == 0 and "machine" in listed.stdout


def test_a_value_that_is_not_a_number_names_its_field(store):
    one_line_error(curate("set", "cli-1", "il6_pre", "abc", "--by", "Ana", "--why", "x"), "il6_pre", "'abc'")
    one_line_error(curate("set", "cli-1", "crs_grade", "3", "--by", "Ana", "--why", " "), "crs_grade", "reason")
    assert store.history("cli-1") == []


@pytest.mark.parametrize("command", [["export"], ["curate", "export"]])
def test_export_into_a_folder_that_does_not_exist_is_refused(store, tmp_path, command):
    target = tmp_path / "missing" / "sub" / "final.csv"
    one_line_error(runner.invoke(app, [*command, str(target)]), str(target.parent), "not found")
    assert not (tmp_path / "missing").exists()
    one_line_error(runner.invoke(app, [*command, str(tmp_path)]), str(tmp_path), "is a folder")
    written = runner.invoke(app, [*command, str(tmp_path / "final.csv")])
    assert written.exit_code == 0 and (tmp_path / "final.csv").is_file()


def test_serve_ui_refuses_a_port_that_is_not_one(store):
    one_line_error(runner.invoke(app, ["serve-ui", "--port", "99999"]), "--port", "99999")


def test_serve_ui_on_a_port_in_use_says_so_before_anything_else(store):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = runner.invoke(app, ["serve-ui", "--port", port])
    one_line_error(result, "--port", port, "in use")
    assert result.stdout == ""  # no address printed for a page that is not served


def test_serve_ui_refuses_a_database_in_a_folder_that_does_not_exist(tmp_path):
    missing = tmp_path / "missing" / "sub"
    # a subprocess: were the folder made, the page would be served until the safety-net timeout
    done = subprocess.run([sys.executable, "-m", "pipeline", "serve-ui", "--port", "0", "--database",
                           f"sqlite:///{missing / 'pecrs.db'}"], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)
    assert done.returncode == 2 and done.stdout == "" and "Traceback" not in done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith("error: ") and str(missing) in line and "not found" in line
    assert not (tmp_path / "missing").exists()


def test_serve_ui_beyond_this_machine_needs_expose_and_says_what_it_exposes(store, monkeypatch):
    served = []  # the page is not run: what it would be run with is kept
    monkeypatch.setattr("pipeline.web.serve", lambda *args, **kwargs: served.append(args[0].hosts))
    one_line_error(runner.invoke(app, ["serve-ui", "--host", "0.0.0.0", "--port", "0"]), "--host", "0.0.0.0",
                   "--expose")
    assert served == []
    result = runner.invoke(app, ["serve-ui", "--host", "0.0.0.0", "--port", "0", "--expose",
                                 "--allow-host", "curation.lab.example"])
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("warning: ") and "no login" in result.stderr and "anyone" in result.stderr
    assert "curation.lab.example" in result.stderr
    [hosts] = served
    assert hosts[:3] == ["127.0.0.1", "localhost", "[::1]"] and "curation.lab.example" in hosts


def test_serve_ui_answers_its_own_address_and_refuses_other_hosts(tmp_path):
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PECRS_DATABASE_URL": f"sqlite:///{tmp_path / 'pecrs.db'}"}
    server = subprocess.Popen([sys.executable, "-m", "pipeline", "serve-ui", "--port", "0"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = server.stdout.readline()  # printed once the port is bound
        assert line.startswith("pecrs curation page on http://127.0.0.1:"), line
        url = line.split()[4]
        import httpx

        assert httpx.get(url, timeout=60).status_code == 200
        assert httpx.get(url, headers={"Host": "evil.example"}, timeout=60).status_code == 400
    finally:
        server.terminate()
        server.wait(60)


def test_gold_import_into_a_folder_that_does_not_exist_is_refused(tmp_path):
    target = tmp_path / "missing" / "gold.csv"
    result = runner.invoke(app, ["gold", "import", str(ROOT / "tests/data/review_table.csv"), "--mapping",
                                 str(ROOT / "tests/data/review_mapping.yaml"), "--out", str(target)])
    one_line_error(result, str(target.parent), "not found")
    assert not target.parent.exists()


def test_serve_checks_the_corpus_manifest_before_it_serves(store, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "manifest.csv").write_text("path,format\ndocs/a.txt,text\n", encoding="utf-8")
    result = runner.invoke(app, ["serve", "--no-fetch", "--corpus", str(corpus), "--out", str(tmp_path / "out")])
    one_line_error(result, str(corpus / "manifest.csv"), "'file'")


def test_serve_takes_the_ncbi_contact_address_and_passes_it_to_each_run(tmp_path, monkeypatch):
    from contextlib import contextmanager

    from pipeline.run import flows, prefect_server

    monkeypatch.delenv("NCBI_EMAIL", raising=False)
    monkeypatch.delenv("PECRS_EUTILS_URL", raising=False)
    result = runner.invoke(app, ["serve", "--interval", "60", "--out", str(tmp_path / "out")])
    one_line_error(result, "NCBI asks every client for a contact address", "--email")
    served = {}

    @contextmanager
    def no_server():
        yield "http://127.0.0.1:1/api"

    monkeypatch.setattr(prefect_server, "server_of_its_own", no_server)  # as PECRS_PREFECT_IDLE=0 has it
    monkeypatch.setattr(flows.pecrs_run, "serve", lambda **kwargs: served.update(kwargs))
    result = runner.invoke(app, ["serve", "--interval", "60", "--email", "curator@example.org",
                                 "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert served["interval"] == 60 and served["parameters"]["email"] == "curator@example.org"
    assert served["limit"] == 1  # one run at a time: a second would find the outputs folder locked
