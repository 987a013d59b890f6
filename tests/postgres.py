"""A throw-away PostgreSQL cluster from Debian's packages for the store's tests: made in a temporary folder,
listening on a Unix socket there only (no TCP port to collide with), trusting local connections, and removed at
the end. As root (CI), the server runs as Debian's postgres user, since PostgreSQL refuses to run as root."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

PORT = 5432  # names the socket file in the cluster's own folder; no TCP port is opened


def server_bin() -> Path | None:
    """The folder of initdb and pg_ctl: on PATH, or Debian's /usr/lib/postgresql/<version>/bin."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(candidates[-1]).parent if candidates else None


def require_postgres() -> Path:
    """The server's programs; missing ones skip the test, but never under CI (where make installs them)."""
    folder = server_bin()
    if folder is None:
        reason = "PostgreSQL's server is not installed (apt-get install postgresql, or `make postgres`)"
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL test cannot run under CI: {reason}")
        pytest.skip(reason)
    return folder


class Cluster:
    def __init__(self, folder: Path):
        self.bin = require_postgres()
        self.folder = folder
        self.data = folder / "data"
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _run(self, *args: str) -> None:
        result = subprocess.run([*self._as, *args], capture_output=True, text=True)
        if result.returncode:
            raise RuntimeError(f"{' '.join(args[:2])}: {result.stderr.strip() or result.stdout.strip()}")

    def start(self) -> "Cluster":
        if self._as:
            user = pwd.getpwnam("postgres")
            os.chown(self.folder, user.pw_uid, user.pw_gid)
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync",
                  "-E", "UTF8")
        options = (f"-c listen_addresses='' -k {self.folder} -p {PORT} -c fsync=off -c synchronous_commit=off "
                   f"-c full_page_writes=off -c max_connections=60")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.folder / "server.log"),
                  "-w", "start")
        return self

    def stop(self) -> None:
        try:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@/{database}?host={self.folder}&port={PORT}"

    def new_database(self) -> str:
        """A fresh, empty database; returns its URL."""
        import psycopg

        name = "t" + uuid.uuid4().hex[:12]
        with psycopg.connect(host=str(self.folder), port=PORT, user="postgres", dbname="postgres",
                             autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def start_cluster() -> Cluster:
    # not under pytest's tmp_path: its folders are private to root, and the server runs as postgres
    return Cluster(Path(tempfile.mkdtemp(prefix="pecrs-pg-"))).start()
