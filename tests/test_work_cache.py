"""The cache keys' fingerprints: they must cover every module that shapes a cached result, or an edit to that
module would be served the old result from the cache."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import pipeline.run.work_cache as work_cache
from pipeline.run.work_cache import EXTRACTOR_SOURCES, PARSER_SOURCES, REPORT_SOURCES

ROOT = Path(__file__).resolve().parent.parent
# loaded along the way but shaping no cached result: files and folders, the cache itself, the corpus listing
NOT_SHAPING = {"pipeline/__init__.py", "pipeline/outputs/__init__.py", "pipeline/outputs/atomic.py",
               "pipeline/outputs/writer.py", "pipeline/fetch/__init__.py", "pipeline/fetch/ncbi_cache.py"}

PARSE_AND_EXTRACT = """
from pathlib import Path
from pipeline.run import stages
from pipeline.run.corpus import corpus_entries
stages.process_batch(corpus_entries(Path("corpus")), Path("corpus"))
"""
DRAW_PAGES = """
from pipeline.report.html import render_summary
from pipeline.store import open_store
import pipeline.report.figures
import pipeline.outputs.final_table  # the evidence the pages quote
"""


def modules_loaded(code: str) -> set[str]:
    """The project's source files that ``code`` loads, in a fresh interpreter."""
    probe = code + "\nimport sys, json\nprint(json.dumps([getattr(m, '__file__', None) for m in list(sys.modules.values())]))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    files = (Path(f) for f in json.loads(done.stdout.splitlines()[-1]) if f)
    return {str(f.relative_to(ROOT)) for f in files if f.is_relative_to(ROOT) and ".venv" not in f.parts}


def covered(relative: str, sources: tuple[str, ...]) -> bool:
    return any(relative == s or relative.startswith(s.rstrip("/") + "/") for s in sources)


def test_every_fingerprinted_source_exists():
    for source in {*PARSER_SOURCES, *EXTRACTOR_SOURCES, *REPORT_SOURCES}:
        assert (ROOT / source).exists(), source


@pytest.mark.parametrize("code, sources", [(PARSE_AND_EXTRACT, PARSER_SOURCES + EXTRACTOR_SOURCES),
                                           (DRAW_PAGES, REPORT_SOURCES)], ids=["parse and extract", "report pages"])
def test_the_fingerprints_cover_every_module_that_shapes_a_cached_result(code, sources):
    loaded = modules_loaded(code)
    assert any(f.startswith(("pipeline/", "extractors/")) for f in loaded)
    assert sorted(f for f in loaded - NOT_SHAPING if not covered(f, sources)) == []


def copy_sources(sources: tuple[str, ...], root: Path) -> None:
    for source in sources:
        copied = root / source
        copied.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if (ROOT / source).is_dir() else shutil.copy)(ROOT / source, copied)


def test_editing_a_module_that_draws_the_pages_changes_their_cache_key(tmp_path, monkeypatch):
    copy_sources(REPORT_SOURCES, tmp_path)
    monkeypatch.setattr(work_cache, "PROJECT_ROOT", tmp_path)

    def key() -> str:
        work_cache.report_fingerprint.cache_clear()
        return work_cache.WorkCache.summary_key("0002/run-digest/0/None/0", "evidence-sha", None)

    before = key()
    assert key() == before
    figures = tmp_path / "pipeline/report/figures.py"
    figures.write_text(figures.read_text(encoding="utf-8") + "\n# a figure redrawn\n", encoding="utf-8")
    assert key() != before
    work_cache.report_fingerprint.cache_clear()  # the real fingerprint again for the tests that follow


def test_editing_the_spacy_pipelines_config_changes_the_extraction_fingerprint(tmp_path, monkeypatch):
    copy_sources(EXTRACTOR_SOURCES, tmp_path)
    monkeypatch.setattr(work_cache, "PROJECT_ROOT", tmp_path)

    def fingerprint() -> str:
        work_cache.extractor_fingerprint.cache_clear()
        return work_cache.extractor_fingerprint()

    before = fingerprint()
    config = tmp_path / "extractors/config.cfg"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("max_scope = 8", "max_scope = 9"), encoding="utf-8")
    assert config.read_text(encoding="utf-8") != text
    assert fingerprint() != before
    work_cache.extractor_fingerprint.cache_clear()  # the real fingerprint again for the tests that follow


def test_the_summary_pages_key_ignores_where_the_scored_files_lay():
    def key(**scores) -> str:
        return work_cache.WorkCache.summary_key("0004/run-digest/0/None/0", "evidence-sha", scores)

    scored = {"micro": {"f1": 0.9}, "errors": []}
    # each scored run scores its own predicted_cases.csv: a re-run into another folder draws the same pages
    assert key(**scored, gold="gold/cases.csv", predicted="outputs/r1/predicted_cases.csv") == \
        key(**scored, gold="gold/cases.csv", predicted="elsewhere/r2/predicted_cases.csv")
    assert key(**scored, predicted="a") != key(micro={"f1": 0.8}, errors=[], predicted="a")
