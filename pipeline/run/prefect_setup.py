"""Prefect settings for local runs, applied before Prefect is imported (it reads them at import)."""

from __future__ import annotations

import os

from pipeline.settings import settings


def configure_prefect() -> None:
    home = settings().data_dir / "prefect"
    home.mkdir(parents=True, exist_ok=True)
    defaults = {
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_LOGGING_TO_API_ENABLED": "false",
        # a one-off run's ephemeral API server is stopped as the run ends, at times while it is still recording the
        # last task events; it then prints tracebacks about its own throwaway database, not about the run
        "PREFECT_SERVER_LOGGING_LEVEL": "CRITICAL",
    }
    for key, value in defaults.items():
        os.environ.setdefault(key, value)
