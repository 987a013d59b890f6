"""Writing a run's outputs atomically: a file is whole or absent, `latest` is swapped in one rename."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path

from pipeline.atomic import atomic_write_text
from pipeline.schema import COLUMNS

DOCUMENT_COLUMNS = ["doc_id", "file", "format", "title", "status", "reason", "patients_found", "patients_in_scope"]


def csv_text(rows: list[dict], columns: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def write_run(run_dir: Path, cases: list[dict], evidence: list[dict], documents, scores: dict | None, report: str) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run_dir / "cases.csv", csv_text(cases, COLUMNS))
    atomic_write_text(run_dir / "evidence.jsonl", "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in evidence))
    atomic_write_text(run_dir / "documents.csv", csv_text([asdict(d) for d in documents], DOCUMENT_COLUMNS))
    if scores is not None:
        atomic_write_text(run_dir / "scores.json", json.dumps(scores, indent=2, ensure_ascii=False) + "\n")
    atomic_write_text(run_dir / "report.md", report)


def publish_latest(run_dir: Path, latest: Path) -> None:
    """Replace ``latest`` with a copy of ``run_dir``; readers see the old or the new, never a mix."""
    staging = Path(tempfile.mkdtemp(dir=latest.parent, prefix=".latest."))
    try:
        for item in run_dir.iterdir():
            shutil.copy2(item, staging / item.name)
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
