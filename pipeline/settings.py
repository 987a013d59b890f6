"""Settings in one place; each can be overridden by a PECRS_* environment variable."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(ValueError):
    """A PECRS_* variable holds a value pecrs cannot use."""


def _env_count(name: str, default: int) -> int:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise ConfigError(f"{name}={value!r}: expected a whole number of at least 1")
    return number


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser() if value else default


# The PubMed search for the topic: exchange x toxicity x CAR-T, MeSH where it exists, title/abstract words and
# product names (generic and brand) for what MeSH does not index yet.
DEFAULT_QUERY = (
    '("Plasma Exchange"[Mesh] OR "Plasmapheresis"[Mesh] OR "plasma exchange"[tiab] OR plasmapheresis[tiab] '
    'OR "TPE"[tiab] OR "PLEX"[tiab]) '
    'AND ("Cytokine Release Syndrome"[Mesh] OR "cytokine release syndrome"[tiab] OR "cytokine storm"[tiab] OR "CRS"[tiab] '
    'OR "Neurotoxicity Syndromes"[Mesh] OR "ICANS"[tiab] OR "immune effector cell-associated neurotoxicity"[tiab] '
    'OR "Lymphohistiocytosis, Hemophagocytic"[Mesh] OR "HLH"[tiab] OR "hemophagocytic"[tiab]) '
    'AND ("Receptors, Chimeric Antigen"[Mesh] OR "Immunotherapy, Adoptive"[Mesh] OR "chimeric antigen receptor"[tiab] '
    'OR "CAR-T"[tiab] OR "CAR T"[tiab] OR tisagenlecleucel OR axicabtagene OR brexucabtagene OR lisocabtagene '
    'OR idecabtagene OR ciltacabtagene OR obecabtagene OR relmacabtagene OR equecabtagene OR Kymriah OR Yescarta '
    'OR Tecartus OR Breyanzi OR Abecma OR Carvykti OR Aucatzyl)'
)


@dataclass(frozen=True)
class Settings:
    corpus_dir: Path
    gold_path: Path
    outputs_dir: Path
    data_dir: Path
    max_file_bytes: int
    pdf_max_pages: int
    pdf_max_mb: int  # memory of the process that reads one PDF: bounds what its streams inflate to
    pdf_max_seconds: int  # CPU time of that process
    pubmed_query: str
    batch_size: int  # files per parse-and-extract task: memory stays flat; the unit spread over Dask workers


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings(
        corpus_dir=_env_path("PECRS_CORPUS", PROJECT_ROOT / "corpus"),
        gold_path=_env_path("PECRS_GOLD", PROJECT_ROOT / "gold" / "cases.csv"),
        outputs_dir=_env_path("PECRS_OUTPUTS", PROJECT_ROOT / "outputs"),
        data_dir=_env_path("PECRS_DATA", PROJECT_ROOT / ".pecrs"),
        max_file_bytes=_env_count("PECRS_MAX_FILE_BYTES", 50 * 1024 * 1024),
        pdf_max_pages=_env_count("PECRS_PDF_MAX_PAGES", 500),
        pdf_max_mb=_env_count("PECRS_PDF_MAX_MB", 384),
        pdf_max_seconds=_env_count("PECRS_PDF_MAX_SECONDS", 120),
        pubmed_query=os.environ.get("PECRS_QUERY", DEFAULT_QUERY),
        batch_size=_env_count("PECRS_BATCH_SIZE", 25),
    )


# -- NCBI E-utilities: the defaults of pipeline.fetch.eutils.EutilsConfig, and their PECRS_EUTILS_* variables ------------
EUTILS_TIMEOUT = 60.0  # seconds one read of an answer may wait
EUTILS_DEADLINE = 120.0  # seconds one request may take in all, however its answer trickles in
EUTILS_ATTEMPTS = 6
EUTILS_BACKOFF = 1.0  # seconds the first retry waits at most; each further one up to twice as long
EUTILS_MAX_BYTES = 200 * 1024 * 1024  # the largest answer read; a longer one is refused as it arrives
EUTILS_MAX_IDS = 100_000  # the most ids one search collects


def _env_seconds(name: str, default: float, zero: bool = False) -> float:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or number < 0 or (number == 0 and not zero):
        raise ConfigError(f"{name}={value!r}: expected a number of seconds{' (0 or more)' if zero else ' above 0'}")
    return number


def eutils_env() -> dict:
    """EutilsConfig's fields as the environment sets them; a value that is not a usable number is a ConfigError."""
    text = {"base_url": "PECRS_EUTILS_URL", "email": "NCBI_EMAIL", "api_key": "NCBI_API_KEY"}
    return {field: os.environ[name] for field, name in text.items() if os.environ.get(name)} | dict(
        timeout=_env_seconds("PECRS_EUTILS_TIMEOUT", EUTILS_TIMEOUT),
        deadline=_env_seconds("PECRS_EUTILS_DEADLINE", EUTILS_DEADLINE),
        attempts=_env_count("PECRS_EUTILS_ATTEMPTS", EUTILS_ATTEMPTS),
        backoff_seconds=_env_seconds("PECRS_EUTILS_BACKOFF", EUTILS_BACKOFF, zero=True),
        max_response_bytes=_env_count("PECRS_EUTILS_MAX_BYTES", EUTILS_MAX_BYTES),
        max_search_ids=_env_count("PECRS_EUTILS_MAX_IDS", EUTILS_MAX_IDS),
    )
