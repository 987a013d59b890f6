"""Writing a run's outputs atomically: a file is whole or absent, `latest` is swapped in one rename."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Iterable

from pipeline.outputs.atomic import atomic_write_text, file_mode, folder_mode
from pipeline.schema import COLUMNS

DOCUMENT_COLUMNS = ["doc_id", "file", "format", "title", "status", "reason", "patients_found", "patients_in_scope",
                    "duplicate_of", "retracted", "warnings"]
WARNING_SEPARATOR = " | "


def csv_text(rows: list[dict], columns: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def jsonl_line(line: dict) -> str:
    """An evidence line as a line of evidence.jsonl: one JSON object, non-ASCII characters as they are (JSON escapes
    the newlines within strings)."""
    return _LINE_ENCODER.encode(line) + "\n"


_LINE_ENCODER = json.JSONEncoder(ensure_ascii=False)


class EvidenceSpool:
    """An evidence file written batch by batch (a run's evidence is its largest output; it never sits in memory
    whole), to a temporary file renamed into place by ``commit``. Evidence is kept as records up to here: this is
    where it becomes text."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
        self._temporary = Path(temporary)
        os.fchmod(handle, file_mode())
        self._out = os.fdopen(handle, "w", encoding="utf-8", newline="")
        self._sha256 = hashlib.sha256()

    def write(self, lines: Iterable[dict]) -> None:
        """Append evidence lines (an iterable: they need not be in memory all at once)."""
        for line in lines:
            text = jsonl_line(line)
            self._out.write(text)
            self._sha256.update(text.encode("utf-8"))

    @property
    def sha256(self) -> str:
        """SHA-256 of the file as written so far (it is not read again to know it)."""
        return self._sha256.hexdigest()

    def commit(self) -> None:
        self._out.flush()
        os.fsync(self._out.fileno())
        self._out.close()
        os.replace(self._temporary, self.path)

    def discard(self) -> None:
        if not self._out.closed:
            self._out.close()
        self._temporary.unlink(missing_ok=True)

    def lines(self):
        return read_evidence(self.path)


def read_evidence(path: Path):
    """The lines of an evidence.jsonl, one at a time."""
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            yield json.loads(line)


def rows_sha256(*parts) -> str:
    """SHA-256 of lists of JSON-able items and of plain values, fed item by item (a large case table is never
    one string in memory)."""
    digest = hashlib.sha256()
    for part in parts:
        for item in part if isinstance(part, list) else [part]:
            digest.update(json.dumps(item, sort_keys=True, ensure_ascii=False, default=str).encode())
            digest.update(b"\n")
        digest.update(b"\x1e")  # between parts
    return digest.hexdigest()


def run_digest(documents: list[dict], cases: list[dict], evidence_sha256: str) -> str:
    """What a run predicted, in one hash: its documents, its case table and its evidence."""
    return rows_sha256(documents, cases, evidence_sha256)


def write_predictions(run_dir: Path, cases: list[dict], documents) -> None:
    """The machine's case table (predicted_cases.csv) and documents.csv; an EvidenceSpool writes the evidence."""
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run_dir / "predicted_cases.csv", csv_text(cases, COLUMNS))
    atomic_write_text(run_dir / "documents.csv", csv_text([document_row(d) for d in documents], DOCUMENT_COLUMNS))


def document_row(result) -> dict:
    """A DocumentResult as a documents.csv row: its warnings in one cell."""
    return {**asdict(result), "warnings": WARNING_SEPARATOR.join(result.warnings)}


def write_scores(run_dir: Path, scores: dict) -> None:
    atomic_write_text(run_dir / "scores.json", json.dumps(scores, indent=2, ensure_ascii=False) + "\n")


def link_or_copy(source: Path, target: Path) -> None:
    """A hard link where the file system allows one (a run's files are replaced by rename, never edited in
    place, so sharing them is safe and the 100 MB evidence of a large run is not copied), a copy otherwise."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def publish_latest(run_dir: Path, latest: Path) -> None:
    """Replace ``latest`` with a copy of ``run_dir``; readers see the old or the new, never a mix."""
    staging = Path(tempfile.mkdtemp(dir=latest.parent, prefix=".latest."))
    try:
        staging.chmod(folder_mode())
        for item in run_dir.iterdir():
            link_or_copy(item, staging / item.name)
        (staging / "RUN").write_text(run_dir.name + "\n", encoding="utf-8")
        if latest.is_symlink() or latest.is_file():
            latest.unlink()
        retired = None
        if latest.exists():
            retired = latest.with_name(f".latest.old.{os.getpid()}")
            os.replace(latest, retired)
        os.replace(staging, latest)
        if retired is not None:
            shutil.rmtree(retired, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
