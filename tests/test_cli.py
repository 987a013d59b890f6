import json
import os
import re
import subprocess
import sys
from pathlib import Path

from typer.main import get_command_name
from typer.testing import CliRunner

from pipeline.cli.app import app

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


def app_commands(typer_app) -> dict[str, dict]:
    """The commands registered on a Typer app, by the name the command line uses: each group with its own."""
    commands = {}
    for command in typer_app.registered_commands:
        commands[command.name or get_command_name(command.callback.__name__)] = {}
    for group in typer_app.registered_groups:
        commands[group.name] = app_commands(group.typer_instance)
    return commands


def help_commands(output: str) -> list[str]:
    """The command names listed in the Commands panel of a --help page."""
    panel = output[output.index("─ Commands "):]
    panel = panel[:panel.index("╰")]
    return re.findall(r"^│ (\S+)\s", panel, flags=re.MULTILINE)


def readme_commands() -> dict[str, set[str]]:
    """The commands README's command-line block names, each group's subcommands with it."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme[readme.index("## The command line"):]
    block = block[block.index("```") + 3:]
    block = block[:block.index("```")]
    named = {}
    for line in block.splitlines():
        words = line.split()
        if not words or words[0] != "pecrs" or words[1].startswith("-"):
            continue
        named.setdefault(words[1], set())
        if len(words) > 2 and re.fullmatch(r"[a-z-]+(\|[a-z-]+)*", words[2]) and words[1] in ("curate", "gold"):
            named[words[1]] |= set(words[2].split("|"))
    return named


def test_help_lists_every_command():
    commands = app_commands(app)
    assert len(commands) >= 11  # run, serve, runs, fetch, curate, export, gold, serve-ui, parse, score, doctor
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert sorted(help_commands(result.output)) == sorted(commands)
    for name, subcommands in commands.items():
        result = runner.invoke(app, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        if subcommands:
            assert sorted(help_commands(result.output)) == sorted(subcommands), name
        for subcommand in subcommands:
            result = runner.invoke(app, [name, subcommand, "--help"])
            assert result.exit_code == 0, (name, subcommand, result.output)


def test_readme_names_the_commands_the_app_has():
    commands = app_commands(app)
    assert set(readme_commands()) == set(commands)
    for group in ("curate", "gold"):
        assert readme_commands()[group] == set(commands[group]), group


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
from pipeline.cli import long_lived
with long_lived.long_lived_imports():
    import json
print(gc.get_freeze_count(), gc.isenabled())
long_lived.for_this_process()
with long_lived.long_lived_imports():
    import pipeline.run.flows
print(gc.get_freeze_count(), gc.isenabled())
"""
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    host, cli = (line.split() for line in done.stdout.splitlines()[-2:])
    assert host == ["0", "True"]  # a host's collector is left as it is
    assert int(cli[0]) > 50_000 and cli[1] == "True"  # Prefect and the rest frozen, the collector back on


def test_commands_that_run_no_flow_load_neither_spacy_nor_prefect(tmp_path):
    """--help, curate, runs, score and doctor answer at once: a user types them many times a day."""
    probe = """
import sys
from typer.testing import CliRunner
from pipeline.cli.app import app
said = []
for command in (["--help"], ["curate", "list"], ["runs"], ["score", "--help"], ["doctor"]):
    result = CliRunner().invoke(app, command)
    said.append(result.output)
    assert result.exit_code == 0, (command, result.output)
print(sorted(m for m in ("spacy", "prefect", "pandas", "distributed") if m in sys.modules))
print("pecrs's shared server" in said[-1] and "pipeline (extractors/config.cfg): pecrs_sentences" in said[-1])
"""
    env = {**os.environ, "PECRS_DATA": str(tmp_path / "data"), "PECRS_PREFECT_IDLE": "600",
           "PECRS_DATABASE_URL": f"sqlite:///{tmp_path / 'pecrs.db'}"}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines()[-2:] == ["[]", "True"]
