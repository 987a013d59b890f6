"""Content-addressed cache of parses and extractions, in the data folder (not the outputs), so that a run does
only the work that is new.

A parse is keyed by the file's SHA-256 and the parser's fingerprint; an extraction by the same plus the
extractor's fingerprint. A fingerprint is a hash of the code and data that shape the result (the source files
of the parsers, or of the extractors with their lexicons and the spaCy model in use): editing a lexicon redoes
extraction but not parsing, and editing one document redoes that document only. diskcache (SQLite underneath)
makes every entry atomic and safe to share between processes, e.g. Dask workers.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import sys
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import diskcache

from pipeline.settings import PROJECT_ROOT, settings
from pipeline.run.corpus import CorpusEntry
from pipeline.outputs.writer import rows_sha256

# Each stage's fingerprint covers whole folders (and the one settings module the parsers read): a module added to
# a folder is covered without a list to keep. Extraction covers the run's folder too, which turns an extraction into
# the rows and evidence lines that are cached.
PARSER_SOURCES = ("pipeline/parsing", "pipeline/document", "pipeline/settings.py")
EXTRACTOR_SOURCES = ("extractors", "pipeline/schema", "pipeline/document", "pipeline/run")
REPORT_SOURCES = ("pipeline/report", "pipeline/outputs", "pipeline/store", "pipeline/schema")
# the kinds of file in those folders that shape a result: code, data, the spaCy pipeline's config, page templates, page scripts
SHAPING_SUFFIXES = (".py", ".jsonl", ".json", ".toml", ".cfg", ".html", ".js")
# scores.json's paths of the files scored, which the pages do not show
SCORED_FILES = ("gold", "predicted")
SIZE_LIMIT = 20 * 1024**3  # diskcache evicts the least recently used entries beyond this


def _hash_tree(paths: tuple[str, ...], extra: str = "") -> str:
    digest = hashlib.sha256(extra.encode())
    for relative in paths:
        root = PROJECT_ROOT / relative
        files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in SHAPING_SUFFIXES) \
            if root.is_dir() else [root]
        for path in files:
            digest.update(str(path.relative_to(PROJECT_ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@lru_cache(maxsize=1)
def parser_fingerprint() -> str:
    from importlib.metadata import version

    # a PDF parsed under another page limit is another parse; the size limit only refuses files, never cached
    return _hash_tree(PARSER_SOURCES, f"pysbd {version('pysbd')} pdfplumber {version('pdfplumber')} lxml {version('lxml')} "
                                      f"pdf pages {settings().pdf_max_pages}")


@lru_cache(maxsize=1)
def extractor_fingerprint() -> str:
    from importlib.metadata import version

    from extractors.trained_model import trained_model_name

    return _hash_tree(EXTRACTOR_SOURCES, f"spacy {version('spacy')} scispacy {version('scispacy')} "
                                         f"medspacy {version('medspacy')} model {trained_model_name() or 'blank'}")


@lru_cache(maxsize=1)
def report_fingerprint() -> str:
    from importlib.metadata import version

    return _hash_tree(REPORT_SOURCES, f"matplotlib {version('matplotlib')} jinja2 {version('jinja2')} scipy {version('scipy')}")


class WorkCache:
    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._cache: diskcache.Cache | None = None
        self.hits = self.misses = 0

    @property
    def cache(self) -> diskcache.Cache:
        if self._cache is None:  # opened lazily: a WorkCache travels to Dask workers unopened
            self._cache = self._open()
        return self._cache

    def _open(self) -> diskcache.Cache:
        try:
            return diskcache.Cache(str(self.folder), size_limit=SIZE_LIMIT)
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError):  # locked, unreachable: not damage
                raise
            # the cache holds only what can be computed again: a damaged one is set aside (for a look) and
            # a new one started
            aside = self.folder.with_name(f"{self.folder.name}.damaged-{datetime.now():%Y%m%dT%H%M%S}")
            try:
                os.replace(self.folder, aside)
            except OSError:  # another process of the run set it aside first
                pass
            print(f"warning: {self.folder}: the cache is damaged ({exc}); set aside as {aside.name}, and a new "
                  "one started", file=sys.stderr)
            return diskcache.Cache(str(self.folder), size_limit=SIZE_LIMIT)

    def __getstate__(self) -> dict:
        return {"folder": self.folder}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["folder"])

    # Keys hold the file's name as well as its content: a document without a DOI or PMID is named after its file,
    # so two files of the same bytes must not share one parse (nor its doc_id).
    @staticmethod
    def parse_key(sha: str, name: str) -> str:
        return f"parse/{parser_fingerprint()}/{sha}/{name}"

    @staticmethod
    def extraction_key(sha: str, all_patients: bool, name: str) -> str:
        return f"extract/{parser_fingerprint()}/{extractor_fingerprint()}/{int(all_patients)}/{sha}/{name}"

    @staticmethod
    def summary_key(table_version: str, evidence_sha: str, scores: dict | None) -> str:
        """The evidence summary's pages show the case table (named by Store.table_version), its evidence and the
        scores, and nothing else: not where the scored files lay (each run scores its own predicted_cases.csv)."""
        shown = {k: v for k, v in scores.items() if k not in SCORED_FILES} if scores is not None else None
        return f"summary/{report_fingerprint()}/{rows_sha256([table_version], evidence_sha, shown)}"

    def is_extracted(self, entry: CorpusEntry, all_patients: bool) -> bool:
        """Whether the outcome of the entry's content (see corpus.with_content_hash) is cached for the current
        code; an unreadable file's is not. A file refused or skipped by the corpus listing is no work."""
        return bool(entry.status) or bool(entry.sha256) and \
            self.extraction_key(entry.sha256, all_patients, entry.path.name) in self.cache

    def get(self, key: str):
        """The cached value, or None. A damaged entry (its pickle unreadable) is a miss: it is told once, on
        stderr, and removed, so that the work is done again and cached anew."""
        cache = self.cache
        try:
            value = cache.get(key)
        except Exception as exc:  # unpickling garbage fails in many ways: UnpicklingError, EOFError, ValueError...
            print(f"warning: {self.folder}: cache entry {key} is damaged ({type(exc).__name__}: {exc}); "
                  "it is computed again", file=sys.stderr)
            try:
                cache.delete(key)
            except sqlite3.Error:  # the damage is in the database's own pages: the entry stays a miss
                pass
            value = None
        if value is None:
            self.misses += 1
        else:
            self.hits += 1
        return value

    def put(self, key: str, value) -> None:
        self.cache.set(key, value)

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()
            self._cache = None
