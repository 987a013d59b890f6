"""The evidence base (SQLite by default, PostgreSQL when PECRS_DATABASE_URL names one), through SQLAlchemy 2
with Alembic migrations."""

from pipeline.store.store import CaseView, Cell, CurationError, Store, StoreError, export_columns

__all__ = ["CaseView", "Cell", "CurationError", "Store", "StoreError", "export_columns", "open_store", "store_failure"]


def open_store(url: str | None = None, verify: bool = False) -> Store:
    """The store at ``url`` (default: $PECRS_DATABASE_URL or the data folder's pecrs.db), or a StoreError saying
    what is wrong with it. ``verify`` also reads a SQLite file through for damage (PRAGMA quick_check), which the
    tables a command reads may not show."""
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    from pipeline.settings import settings

    url = url or settings().store_url
    try:
        store = Store(url)
    except (ImportError, SQLAlchemyError, OSError) as exc:
        raise store_failure(url, exc) from None
    if verify and store.engine.dialect.name == "sqlite":
        try:
            with store.engine.connect() as connection:
                problems = [row[0] for row in connection.execute(text("PRAGMA quick_check"))]
        except SQLAlchemyError as exc:
            problems = [exc]
        if problems != ["ok"]:
            store.close()
            raise store_failure(url, problems[0]) if isinstance(problems[0], Exception) else StoreError(
                _damaged(url, problems[0]))
    return store


def store_failure(url: str, exc: Exception) -> StoreError:
    """The one line that says what went wrong with the store at ``url``, and what to do."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, DatabaseError, OperationalError

    if isinstance(exc, ArgumentError):
        return StoreError(f"PECRS_DATABASE_URL: not a database URL ({exc})")
    address = make_url(url)
    where = _where(url)
    if isinstance(exc, ImportError):
        if address.get_backend_name() == "postgresql":
            return StoreError(f"{where}: the PostgreSQL driver ({exc.name}) is not installed: pip install "
                              f"'pecrs[postgres]'{'' if exc.name == 'psycopg' else ' and write postgresql+psycopg://'}")
        return StoreError(f"{where}: the database driver {exc.name} is not installed")
    reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
    if isinstance(exc, DatabaseError) and not isinstance(exc, OperationalError) and address.get_backend_name() == "sqlite":
        return StoreError(_damaged(url, reason))
    return StoreError(f"{where}: cannot open the store ({reason})")


def _where(url: str) -> str:
    """The store's file, or its URL without the password."""
    from sqlalchemy.engine import make_url

    address = make_url(url)
    if address.get_backend_name() == "sqlite" and address.database:
        return address.database
    return address.render_as_string(hide_password=True)


def _damaged(url: str, reason: str) -> str:
    return (f"{_where(url)}: the store is damaged ({reason}); restore it from a backup, or move it aside and the "
            "next `pecrs run` starts a new one (without the curations)")
