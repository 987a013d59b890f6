"""The evidence base (SQLite by default, PostgreSQL when PECRS_DATABASE_URL names one), through SQLAlchemy 2
with Alembic migrations."""

from pipeline.store.store import CaseView, Cell, CurationError, Store, database_url, export_columns

__all__ = ["CaseView", "Cell", "CurationError", "Store", "database_url", "export_columns", "open_store"]


def open_store(url: str | None = None) -> Store:
    from pipeline.config import settings

    return Store(url or database_url(settings().data_dir))
