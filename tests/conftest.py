import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"

# the tests' runs record into a store of their own, never the user's
# the tests' runs start Prefect's ephemeral server each, as a one-off command did before pecrs kept a shared one
# (tests/test_prefect_server.py tries the shared server on its own data folder and stops it)
os.environ.setdefault("PECRS_PREFECT_IDLE", "0")
if "PECRS_DATABASE_URL" not in os.environ:
    import tempfile

    os.environ["PECRS_DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp(prefix='pecrs-test-')}/pecrs.db"


@pytest.fixture(autouse=True)
def settings_as_the_test_sets_them():
    """settings() reads the environment once per process; a test's monkeypatch.setenv("PECRS_...") is read by the
    first settings() of that test."""
    from pipeline.settings import settings

    settings.cache_clear()
    yield
    settings.cache_clear()


@pytest.fixture(scope="session")
def shared() -> Path:
    """../shared, the read-only real data; a missing folder fails under PECRS_REQUIRE_SHARED=1."""
    if not (SHARED / "data").is_dir():
        if os.environ.get("PECRS_REQUIRE_SHARED") == "1":
            pytest.fail(f"{SHARED} is missing but PECRS_REQUIRE_SHARED=1")
        pytest.skip("../shared is not present on this machine")
    return SHARED


@pytest.fixture(scope="session")
def nlp():
    from extractors.nlp import build_nlp

    return build_nlp()


@pytest.fixture(scope="session")
def corpus_documents():
    from pipeline.run.corpus import corpus_entries
    from pipeline.parsing import parse_file

    return [d for entry in corpus_entries(ROOT / "corpus") for d in parse_file(entry.path)]


@pytest.fixture(scope="session")
def postgres_cluster():
    """A throw-away PostgreSQL cluster for the session (tests/postgres.py)."""
    from postgres import start_cluster

    cluster = start_cluster()
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path) -> str:
    """A new, empty store's URL on each backend the store supports."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'pecrs.db'}"
    return request.getfixturevalue("postgres_cluster").new_database()
