"""The embedded corpus: a manifest listing each document with its format and origin.

The corpus folder is the boundary: a manifest row or a link that leads outside it, and a file that is not a
regular one (a device, a FIFO, a socket), are refused and never opened; files whose suffix pecrs does not read
are listed as skipped. Both reach documents.csv with their reason.
"""

from __future__ import annotations

import csv
import hashlib
import os
import stat
from dataclasses import dataclass, replace
from pathlib import Path

from pipeline.fetch.ncbi_cache import NcbiCache
from pipeline.parsing.files import file_kind, open_regular

MANIFEST = "manifest.csv"
SUFFIXES = {".xml", ".nxml", ".txt", ".pdf"}
CACHE = "cache"  # the fetch cache's folder (see NcbiCache): its documents are listed apart


class ManifestError(ValueError):
    """A manifest pecrs cannot read: no header, or no 'file' column."""


def check_manifest(corpus_dir: Path) -> None:
    """ManifestError naming the manifest when its header has no 'file' column; a folder without one is fine."""
    manifest = Path(corpus_dir) / MANIFEST
    if not manifest.is_file():
        return
    try:
        with open(manifest, newline="", encoding="utf-8-sig") as handle:  # a spreadsheet saves a BOM first
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
    status: str = ""  # "failed" (refused) or "skipped": the file is not opened, documents.csv gives the reason
    reason: str = ""


def _unread(path: Path, status: str, reason: str) -> CorpusEntry:
    return CorpusEntry(path, sha256="", status=status, reason=reason)


def corpus_entries(corpus_dir: Path) -> list[CorpusEntry]:
    """Entries of the manifest, then any other file under the folder (curators' drops; hidden files and the
    cache folder aside), then the articles fetched from PubMed and PMC into its cache (each once: full text
    when there is one)."""
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise FileNotFoundError(f"{corpus_dir}: corpus folder not found")
    files = _Files(corpus_dir)
    entries: list[CorpusEntry] = []
    listed: set[Path] = set()
    manifest = corpus_dir / MANIFEST
    check_manifest(corpus_dir)
    if manifest.exists():
        with open(manifest, newline="", encoding="utf-8-sig") as handle:
            for line, row in enumerate(csv.DictReader(handle), start=2):
                if not (row.get("file") or "").strip():
                    entries.append(_unread(manifest, "failed", f"line {line} of the manifest names no file"))
                    continue
                entry = files.entry(corpus_dir / row["file"])
                if entry.reason == _MISSING:
                    entry = replace(entry, reason=f"{_MISSING} (listed in the manifest)")
                elif entry.reason == _OUTSIDE:  # named as the row names it: "../x.txt", "/dev/zero"
                    entry = replace(entry, path=files.root / row["file"])
                listed.add(entry.path)
                entries.append(replace(entry, format=row.get("format", ""), origin=row.get("origin", ""),
                                       description=row.get("description", "")))
    for path, mode in sorted(_scan(corpus_dir)):
        entry = files.entry(path, mode)
        if entry.path in listed or entry.reason == _LINKED_FOLDER:
            continue
        if not entry.status and path.suffix.lower() not in SUFFIXES:
            entry = _unread(entry.path, "skipped", f"not a document pecrs reads ({path.suffix.lower() or 'no suffix'})")
        listed.add(entry.path)  # a link to a file of the corpus is that file
        entries.append(entry)
    entries.extend(replace(files.entry(path), origin="fetched") for path in NcbiCache(corpus_dir).documents())
    return entries


def _scan(corpus_dir: Path) -> list[tuple[Path, int]]:
    """Files under the folder with their kind (as lstat gives it), but the manifest, hidden files and the cache
    folder. The kind comes from the folder listing: a regular file or a link costs no lookup of its own."""
    found, folders = [], [str(corpus_dir)]
    while folders:
        with os.scandir(folders.pop()) as listing:
            for item in listing:
                if item.name.startswith("."):
                    continue
                if item.is_dir(follow_symlinks=False):
                    if item.name != CACHE:
                        folders.append(item.path)
                elif item.is_file(follow_symlinks=False):
                    found.append((Path(item.path), stat.S_IFREG))
                elif item.is_symlink():
                    found.append((Path(item.path), stat.S_IFLNK))
                else:  # a device, a FIFO, a socket
                    found.append((Path(item.path), item.stat(follow_symlinks=False).st_mode))
    manifest = Path(corpus_dir) / MANIFEST
    return [(path, mode) for path, mode in found if path != manifest]


_MISSING = "not found"
_OUTSIDE = "refused: outside the corpus folder"
_LINKED_FOLDER = "a link to a folder of the corpus"  # its files are listed where they are


class _Files:
    """Where files of the corpus really are, and whether pecrs may read them. Each folder is resolved once and a
    file only when it is itself a link: a corpus of 10,000 files would otherwise cost a lookup per folder level
    per file."""

    def __init__(self, corpus_dir: Path):
        self.root = Path(corpus_dir).resolve()
        self._folders: dict[Path, Path] = {}

    def entry(self, path: Path, mode: int | None = None) -> CorpusEntry:
        """The file's entry at its real path, or an unread one saying why. ``mode``: its lstat mode, if known."""
        if path.name in ("", ".", ".."):
            location = path.resolve()
        else:
            folder = self._folders.get(path.parent)
            if folder is None:
                folder = self._folders[path.parent] = path.parent.resolve()
            location = folder / path.name
        if not location.is_relative_to(self.root):
            return _unread(location, "failed", _OUTSIDE)
        try:
            mode = os.lstat(location).st_mode if mode is None else mode
        except FileNotFoundError:
            return _unread(location, "failed", _MISSING)
        except OSError as exc:
            return _unread(location, "failed", f"cannot read file ({exc.strerror})")
        real = location
        if stat.S_ISLNK(mode):
            try:
                real = location.resolve()
            except RuntimeError:  # a loop of links
                return _unread(location, "failed", "a broken link")
            if not real.is_relative_to(self.root):
                return _unread(location, "failed", "refused: a link to outside the corpus folder")
            try:
                mode = os.stat(real).st_mode
            except OSError:
                return _unread(location, "failed", "a broken link")
            if stat.S_ISDIR(mode):
                return _unread(location, "skipped", _LINKED_FOLDER)
        if not stat.S_ISREG(mode):
            return _unread(location, "failed", f"refused: not a regular file ({file_kind(mode)})")
        return CorpusEntry(real)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open_regular(path) as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def content_sha256(path: Path) -> str:
    """SHA-256 of the file's bytes as they are now; "" for a file that cannot be read or is not a regular file."""
    try:
        return file_sha256(path)
    except OSError:
        return ""


def with_content_hash(entry: CorpusEntry) -> CorpusEntry:
    """The entry with its content's hash; an entry refused or skipped is not opened."""
    return entry if entry.status else replace(entry, sha256=content_sha256(entry.path))
