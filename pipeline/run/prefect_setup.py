"""Prefect settings for local runs, applied before Prefect is imported (it reads them at import)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager

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


@contextmanager
def prefect_server(startup_timeout: float = 180.0):
    """A Prefect server for schedules when none is configured (the ephemeral one runs flows but cannot schedule
    them): `prefect server start` on a free port of 127.0.0.1, stopped on exit. With PREFECT_API_URL set, that
    server is used and nothing is started."""
    if os.environ.get("PREFECT_API_URL"):
        yield os.environ["PREFECT_API_URL"]
        return
    configure_prefect()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = open(settings().data_dir / "prefect" / "server.log", "ab")
    server = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                              stdout=log, stderr=subprocess.STDOUT,
                              env={**os.environ, "PREFECT_SERVER_LOGGING_LEVEL": "WARNING"})  # this one's log is kept
    url = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"the Prefect server stopped at start (see {log.name})")
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the Prefect server did not answer within {startup_timeout:g} s (see {log.name})")
            time.sleep(0.5)
        os.environ["PREFECT_API_URL"] = url
        yield url
    finally:
        os.environ.pop("PREFECT_API_URL", None)
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
