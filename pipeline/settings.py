"""Settings in one place: every PECRS_* environment variable, and NCBI's two, with its type, default and bounds.

``settings()`` reads them once per process (tests call ``settings.cache_clear()`` after changing one); a value
that is not usable is a ConfigError with one line per bad variable, naming it, its value and what it must be.
An empty variable counts as unset.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, Field, HttpUrl, StringConstraints, TypeAdapter, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(ValueError):
    """Environment variables that hold values pecrs cannot use: ``problems``, one line each."""

    def __init__(self, *problems: str):
        super().__init__("\n".join(problems))
        self.problems = list(problems)


class Expected:
    """What a variable of a type must hold, as its error says it: `expected <what>`."""

    def __init__(self, what: str):
        self.what = what


def _http_url(value: str) -> str:
    TypeAdapter(HttpUrl).validate_python(value)
    return value  # as written: pydantic's form of a URL may differ from it (a slash added)


Count = Annotated[int, Field(ge=1), Expected("a whole number of at least 1")]
Seconds = Annotated[float, Field(gt=0, allow_inf_nan=False), Expected("a number of seconds above 0")]
SecondsOrNone = Annotated[float, Field(ge=0, allow_inf_nan=False), Expected("a number of seconds (0 or more)")]
Folder = Annotated[Path, AfterValidator(Path.expanduser), Expected("a path")]
Search = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1), Expected("a PubMed search, not blank")]
WebAddress = Annotated[str, AfterValidator(_http_url), Expected("an http:// or https:// URL")]
# None: the variable is unset
EmailAddress = Annotated[str | None, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+$"), Expected("an e-mail address")]
# SQLAlchemy reads the rest of the URL when the store opens (pipeline.store.store_failure says what is wrong then)
DatabaseUrl = Annotated[str | None, StringConstraints(pattern=r"^[A-Za-z][\w+]*://"),
                        Expected("a database URL, dialect[+driver]://... (sqlite:///path/pecrs.db, "
                                 "postgresql+psycopg://user@host/db)")]
Secret = Annotated[str | None, Expected("text")]


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

# -- NCBI E-utilities: also the defaults of pipeline.fetch.eutils.EutilsConfig ----------------------------------------
EUTILS_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
EUTILS_TIMEOUT = 60.0  # seconds one read of an answer may wait
EUTILS_DEADLINE = 120.0  # seconds one request may take in all, however its answer trickles in
EUTILS_ATTEMPTS = 6
EUTILS_BACKOFF = 1.0  # seconds the first retry waits at most; each further one up to twice as long
EUTILS_MAX_BYTES = 200 * 1024 * 1024  # the largest answer read; a longer one is refused as it arrives
EUTILS_MAX_IDS = 100_000  # the most ids one search collects


def _variable(default, name: str, secret: bool = False):
    """A field read from the environment variable ``name``; a ``secret`` one is never printed, not even in errors."""
    return Field(default, validation_alias=name, repr=not secret)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(case_sensitive=True, env_ignore_empty=True, frozen=True)

    corpus_dir: Folder = _variable(PROJECT_ROOT / "corpus", "PECRS_CORPUS")
    gold_path: Folder = _variable(PROJECT_ROOT / "gold" / "cases.csv", "PECRS_GOLD")
    outputs_dir: Folder = _variable(PROJECT_ROOT / "outputs", "PECRS_OUTPUTS")
    data_dir: Folder = _variable(PROJECT_ROOT / ".pecrs", "PECRS_DATA")  # caches, Prefect's state, the SQLite store
    max_file_bytes: Count = _variable(50 * 1024 * 1024, "PECRS_MAX_FILE_BYTES")
    pdf_max_pages: Count = _variable(500, "PECRS_PDF_MAX_PAGES")
    pdf_max_mb: Count = _variable(384, "PECRS_PDF_MAX_MB")  # memory of the process that reads one PDF: bounds what its streams inflate to
    pdf_max_seconds: Count = _variable(120, "PECRS_PDF_MAX_SECONDS")  # CPU time of that process
    # seconds pecrs's shared Prefect server waits unused before it stops; 0: none, each run starts its own
    prefect_idle: SecondsOrNone = _variable(900.0, "PECRS_PREFECT_IDLE")
    batch_size: Count = _variable(25, "PECRS_BATCH_SIZE")  # files per parse-and-extract task: memory stays flat; the unit spread over Dask workers
    pubmed_query: Search = _variable(DEFAULT_QUERY, "PECRS_QUERY")
    eutils_url: WebAddress = _variable(EUTILS_URL, "PECRS_EUTILS_URL")
    eutils_timeout: Seconds = _variable(EUTILS_TIMEOUT, "PECRS_EUTILS_TIMEOUT")
    eutils_deadline: Seconds = _variable(EUTILS_DEADLINE, "PECRS_EUTILS_DEADLINE")
    eutils_attempts: Count = _variable(EUTILS_ATTEMPTS, "PECRS_EUTILS_ATTEMPTS")
    eutils_backoff: SecondsOrNone = _variable(EUTILS_BACKOFF, "PECRS_EUTILS_BACKOFF")
    eutils_max_bytes: Count = _variable(EUTILS_MAX_BYTES, "PECRS_EUTILS_MAX_BYTES")
    eutils_max_ids: Count = _variable(EUTILS_MAX_IDS, "PECRS_EUTILS_MAX_IDS")
    ncbi_email: EmailAddress = _variable(None, "NCBI_EMAIL")
    ncbi_api_key: Secret = _variable(None, "NCBI_API_KEY", secret=True)
    database_url: DatabaseUrl = _variable(None, "PECRS_DATABASE_URL", secret=True)  # a password may be in it
    ui_secret: Secret = _variable(None, "PECRS_UI_SECRET", secret=True)  # signs the web page's session cookie

    @property
    def store_url(self) -> str:
        """The store's SQLAlchemy URL: PECRS_DATABASE_URL, else the data folder's SQLite file."""
        return self.database_url or f"sqlite:///{self.data_dir / 'pecrs.db'}"


def variable_names() -> list[str]:
    """Every environment variable the settings read, in the order of their fields."""
    return [field.validation_alias for field in Settings.model_fields.values()]


def _problem(error: dict) -> str:
    """One line for one bad variable: its name, its value (unless it is a secret) and what it must be."""
    name = error["loc"][0]
    field = next(field for field in Settings.model_fields.values() if field.validation_alias == name)
    expected = next(item.what for item in field.metadata if isinstance(item, Expected))
    return f"{name}={error['input']!r}: expected {expected}" if field.repr else f"{name}: expected {expected}"


@lru_cache(maxsize=1)
def settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigError(*dict.fromkeys(_problem(error) for error in exc.errors())) from None
