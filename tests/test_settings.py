"""The settings object: each bad value's one-line error, the defaults the README gives, the README's list of
variables, one read per process, and no PECRS_ variable read anywhere else."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.settings import ConfigError, settings, variable_names

ROOT = Path(__file__).resolve().parent.parent

# (variable, a value it refuses, what its error says it expects); a secret's value is not in its error
BAD = [
    ("PECRS_MAX_FILE_BYTES", "50MB", "a whole number of at least 1"),
    ("PECRS_PDF_MAX_PAGES", "-3", "a whole number of at least 1"),
    ("PECRS_PDF_MAX_MB", "2.5", "a whole number of at least 1"),
    ("PECRS_PDF_MAX_SECONDS", "0", "a whole number of at least 1"),
    ("PECRS_BATCH_SIZE", "x", "a whole number of at least 1"),
    ("PECRS_PREFECT_IDLE", "-1", "a number of seconds (0 or more)"),
    ("PECRS_QUERY", "   ", "a PubMed search, not blank"),
    ("PECRS_EUTILS_URL", "ftp://example.org/eutils/", "an http:// or https:// URL"),
    ("PECRS_EUTILS_URL", "eutils", "an http:// or https:// URL"),
    ("PECRS_EUTILS_TIMEOUT", "soon", "a number of seconds above 0"),
    ("PECRS_EUTILS_TIMEOUT", "0", "a number of seconds above 0"),
    ("PECRS_EUTILS_DEADLINE", "inf", "a number of seconds above 0"),
    ("PECRS_EUTILS_ATTEMPTS", "2.5", "a whole number of at least 1"),
    ("PECRS_EUTILS_BACKOFF", "-0.5", "a number of seconds (0 or more)"),
    ("PECRS_EUTILS_BACKOFF", "nan", "a number of seconds (0 or more)"),
    ("PECRS_EUTILS_MAX_BYTES", "0", "a whole number of at least 1"),
    ("PECRS_EUTILS_MAX_IDS", "many", "a whole number of at least 1"),
    ("NCBI_EMAIL", "nobody", "an e-mail address"),
    ("PECRS_DATABASE_URL", "pecrs:hunter2@db.example.org/pecrs",
     "a database URL, dialect[+driver]://... (sqlite:///path/pecrs.db, postgresql+psycopg://user@host/db)"),
]
SECRETS = {"PECRS_DATABASE_URL", "NCBI_API_KEY", "PECRS_UI_SECRET"}
ANY_VALUE_GOES = {"PECRS_CORPUS", "PECRS_GOLD", "PECRS_OUTPUTS", "PECRS_DATA", "NCBI_API_KEY", "PECRS_UI_SECRET"}


@pytest.fixture
def unset(monkeypatch):
    """No settings variable set (the tests' own PECRS_DATABASE_URL included)."""
    for name in variable_names():
        monkeypatch.delenv(name, raising=False)
    settings.cache_clear()


def test_every_variable_is_either_bounded_here_or_takes_any_value():
    bounded = {name for name, _, _ in BAD}
    assert bounded | ANY_VALUE_GOES == set(variable_names()) and not bounded & ANY_VALUE_GOES


@pytest.mark.parametrize("name, value, expected", BAD, ids=[f"{name}={value}" for name, value, _ in BAD])
def test_a_bad_value_is_one_line_naming_the_variable_its_value_and_what_is_expected(unset, monkeypatch, name,
                                                                                    value, expected):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as error:
        settings()
    shown = f"{name}: expected {expected}" if name in SECRETS else f"{name}={value!r}: expected {expected}"
    assert error.value.problems == [shown] and str(error.value) == shown


def test_each_bad_variable_has_its_line_in_the_order_of_the_settings(unset, monkeypatch):
    monkeypatch.setenv("NCBI_EMAIL", "nobody")
    monkeypatch.setenv("PECRS_BATCH_SIZE", "0")
    monkeypatch.setenv("PECRS_EUTILS_TIMEOUT", "soon")
    with pytest.raises(ConfigError) as error:
        settings()
    assert [line.split("=")[0] for line in error.value.problems] == ["PECRS_BATCH_SIZE", "PECRS_EUTILS_TIMEOUT",
                                                                      "NCBI_EMAIL"]


def test_the_command_line_prints_each_bad_variable_on_a_line_and_exits_2(tmp_path):
    env = {**os.environ, "PECRS_BATCH_SIZE": "x", "PECRS_EUTILS_DEADLINE": "-1", "COLUMNS": "200",
           "PECRS_DATABASE_URL": f"sqlite:///{tmp_path / 'pecrs.db'}"}
    done = subprocess.run([sys.executable, "-m", "pipeline", "runs"], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=300)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == ["error: PECRS_BATCH_SIZE='x': expected a whole number of at least 1",
                                        "error: PECRS_EUTILS_DEADLINE='-1': expected a number of seconds above 0"]


def test_defaults_are_as_documented(unset):
    s = settings()
    assert (s.corpus_dir, s.gold_path, s.outputs_dir, s.data_dir) == (
        ROOT / "corpus", ROOT / "gold" / "cases.csv", ROOT / "outputs", ROOT / ".pecrs")
    assert (s.max_file_bytes, s.pdf_max_pages, s.pdf_max_mb, s.pdf_max_seconds, s.batch_size) == (
        50 * 1024 * 1024, 500, 384, 120, 25)
    assert s.pubmed_query.startswith('("Plasma Exchange"[Mesh]') and "Carvykti" in s.pubmed_query
    assert s.eutils_url == "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
    assert (s.eutils_timeout, s.eutils_deadline, s.eutils_attempts, s.eutils_backoff, s.eutils_max_bytes,
            s.eutils_max_ids) == (60.0, 120.0, 6, 1.0, 200 * 1024 * 1024, 100_000)
    assert (s.ncbi_email, s.ncbi_api_key, s.database_url, s.ui_secret) == (None, None, None, None)
    assert s.store_url == f"sqlite:///{ROOT / '.pecrs' / 'pecrs.db'}"


def test_values_are_read_with_their_types_and_an_empty_one_is_unset(unset, monkeypatch):
    for name, value in {"PECRS_CORPUS": "~/papers", "PECRS_GOLD": "", "PECRS_BATCH_SIZE": "3",
                        "PECRS_EUTILS_BACKOFF": "0", "PECRS_QUERY": "  car-t AND plasmapheresis ",
                        "PECRS_DATABASE_URL": "postgresql+psycopg://pecrs@127.0.0.1/pecrs",
                        "NCBI_API_KEY": "k3y", "PECRS_UI_SECRET": "s3cret"}.items():
        monkeypatch.setenv(name, value)
    s = settings()
    assert s.corpus_dir == Path.home() / "papers" and s.gold_path == ROOT / "gold" / "cases.csv"
    assert s.batch_size == 3 and s.eutils_backoff == 0.0 and s.pubmed_query == "car-t AND plasmapheresis"
    assert s.store_url == "postgresql+psycopg://pecrs@127.0.0.1/pecrs" and (s.ncbi_api_key, s.ui_secret) == ("k3y", "s3cret")
    assert "k3y" not in repr(s) and "s3cret" not in repr(s) and "psycopg" not in repr(s)


def test_settings_are_read_once_per_process(unset, monkeypatch):
    first = settings()
    monkeypatch.setenv("PECRS_BATCH_SIZE", "7")
    assert settings() is first and first.batch_size == 25
    settings.cache_clear()
    assert settings().batch_size == 7


def test_the_readme_lists_every_variable_and_no_other():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    listing = re.search(r"^Environment variables:(.*?)(?:\n\n|\Z)", readme, re.MULTILINE | re.DOTALL)
    assert listing, "README.md has no paragraph starting 'Environment variables:'"
    listed = re.findall(r"`([A-Z][A-Z0-9]*_[A-Z0-9_]+)`", listing.group(1))
    assert sorted(set(listed)) == sorted(variable_names())
    assert set(re.findall(r"\bPECRS_[A-Z0-9_]*[A-Z0-9]", readme)) <= set(variable_names())


def test_no_module_reads_a_settings_variable_but_settings_py():
    reads = re.compile(r"(environ|getenv).*\b(PECRS_|NCBI_)|\b(PECRS_|NCBI_).*(environ|getenv)")
    offenders = [f"{path.relative_to(ROOT)}:{number}" for folder in ("pipeline", "extractors")
                 for path in sorted((ROOT / folder).rglob("*.py")) if path != ROOT / "pipeline" / "settings.py"
                 for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
                 if reads.search(line)]
    assert offenders == []
