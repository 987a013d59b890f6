"""The embedded corpus: a manifest listing each document with its format and origin."""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, replace
from pathlib import Path

from pipeline.ncbi_cache import NcbiCache

MANIFEST = "manifest.csv"
SUFFIXES = {".xml", ".nxml", ".txt", ".pdf"}


class ManifestError(ValueError):
    """A manifest pecrs cannot read: no header, or no 'file' column."""


def check_manifest(corpus_dir: Path) -> None:
    """ManifestError naming the manifest when its header has no 'file' column; a folder without one is fine."""
    manifest = Path(corpus_dir) / MANIFEST
    if not manifest.is_file():
        return
    try:
        with open(manifest, newline="", encoding="utf-8") as handle:
            header = next(csv.reader(handle), None)
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{manifest}: unreadable ({exc})") from None
    if not header:
        raise ManifestError(f"{manifest}: empty; a manifest starts with a header line naming its columns (file, "
                            "format, origin, description)")
    if "file" not in header:
        raise ManifestError(f"{manifest}: no 'file' column (columns: {', '.join(header)}); a manifest lists each "
                            "document's path in a column named 'file'")


@dataclass(frozen=True)
class CorpusEntry:
    path: Path
    format: str = ""
    origin: str = ""
    description: str = ""
    sha256: str | None = None  # of the file's bytes, once read (see with_content_hash); "" when unreadable


def corpus_entries(corpus_dir: Path) -> list[CorpusEntry]:
    """Entries of the manifest, then any other document file under the folder (curators' drops), then the
    articles fetched from PubMed and PMC into its cache (each once: full text when there is one)."""
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise FileNotFoundError(f"{corpus_dir}: corpus folder not found")
    real = _RealPaths()
    entries: list[CorpusEntry] = []
    listed: set[Path] = set()
    manifest = corpus_dir / MANIFEST
    check_manifest(corpus_dir)
    if manifest.exists():
        with open(manifest, newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                path = real(corpus_dir / row["file"])
                listed.add(path)
                entries.append(CorpusEntry(path, row.get("format", ""), row.get("origin", ""), row.get("description", "")))
    for path in sorted(corpus_dir.rglob("*")):
        if path.suffix.lower() in SUFFIXES and "cache" not in path.parts and path.is_file() and real(path) not in listed:
            entries.append(CorpusEntry(real(path)))
    entries.extend(CorpusEntry(real(path), origin="fetched") for path in NcbiCache(corpus_dir).documents())
    return entries


class _RealPaths:
    """Path.resolve() for many files of a few folders: each folder is resolved once, and a file only when it
    is itself a link (a corpus of 10,000 files would otherwise cost a lookup per folder level per file)."""

    def __init__(self):
        self._folders: dict[Path, Path] = {}

    def __call__(self, path: Path) -> Path:
        if path.name in ("", ".", "..") or path.is_symlink():
            return path.resolve()
        folder = self._folders.get(path.parent)
        if folder is None:
            folder = self._folders[path.parent] = path.parent.resolve()
        return folder / path.name


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def content_sha256(path: Path) -> str:
    """SHA-256 of the file's bytes as they are now; "" for a file that cannot be read."""
    try:
        return file_sha256(path)
    except OSError:
        return ""


def with_content_hash(entry: CorpusEntry) -> CorpusEntry:
    return replace(entry, sha256=content_sha256(entry.path))
