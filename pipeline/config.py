"""Settings in one place; each can be overridden by a PECRS_* environment variable."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser() if value else default


@dataclass(frozen=True)
class Settings:
    corpus_dir: Path
    gold_path: Path
    outputs_dir: Path
    data_dir: Path
    max_file_bytes: int
    pdf_max_pages: int


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings(
        corpus_dir=_env_path("PECRS_CORPUS", PROJECT_ROOT / "corpus"),
        gold_path=_env_path("PECRS_GOLD", PROJECT_ROOT / "gold" / "cases.csv"),
        outputs_dir=_env_path("PECRS_OUTPUTS", PROJECT_ROOT / "outputs"),
        data_dir=_env_path("PECRS_DATA", PROJECT_ROOT / ".pecrs"),
        max_file_bytes=int(os.environ.get("PECRS_MAX_FILE_BYTES", 50 * 1024 * 1024)),
        pdf_max_pages=int(os.environ.get("PECRS_PDF_MAX_PAGES", 500)),
    )
