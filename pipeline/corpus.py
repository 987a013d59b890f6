"""The embedded corpus: a manifest listing each document with its format and origin."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from pipeline.ncbi_cache import NcbiCache

MANIFEST = "manifest.csv"
SUFFIXES = {".xml", ".nxml", ".txt", ".pdf"}


@dataclass(frozen=True)
class CorpusEntry:
    path: Path
    format: str = ""
    origin: str = ""
    description: str = ""


def corpus_entries(corpus_dir: Path) -> list[CorpusEntry]:
    """Entries of the manifest, then any other document file under the folder (curators' drops), then the
    articles fetched from PubMed and PMC into its cache (each once: full text when there is one)."""
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise FileNotFoundError(f"{corpus_dir}: corpus folder not found")
    entries: list[CorpusEntry] = []
    listed: set[Path] = set()
    manifest = corpus_dir / MANIFEST
    if manifest.exists():
        with open(manifest, newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                path = (corpus_dir / row["file"]).resolve()
                listed.add(path)
                entries.append(CorpusEntry(path, row.get("format", ""), row.get("origin", ""), row.get("description", "")))
    for path in sorted(corpus_dir.rglob("*")):
        if path.is_file() and path.suffix.lower() in SUFFIXES and path.resolve() not in listed and "cache" not in path.parts:
            entries.append(CorpusEntry(path.resolve()))
    entries.extend(CorpusEntry(path.resolve(), origin="fetched") for path in NcbiCache(corpus_dir).documents())
    return entries
