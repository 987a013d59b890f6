"""pecrs's own local Prefect server, shared by the commands that run flows: started by the first one that needs it,
reused by the next ones (a one-off `pecrs run` does not pay Prefect's 10-15 s server start each time), and stopped
once no pecrs command has used it for PECRS_PREFECT_IDLE seconds (0: no shared server, each run starts Prefect's
ephemeral one as before). PREFECT_API_URL, when set, is used instead and nothing is started.

A supervisor process (``python -m pipeline.run.prefect_server supervise``) owns the server: it starts
`prefect server start` on 127.0.0.1, writes where it listens to ``<data>/prefect/server.json``, and watches the
leases that commands using the server hold (``<data>/prefect/leases/<pid>.json``). A lease whose process is gone
(a run killed halfway) is cleared, and the flow runs it named are marked Crashed rather than left Running. When no
lease is held for the idle time, or the supervisor is asked to stop (SIGTERM), the server is stopped with it."""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock

from pipeline.outputs.atomic import atomic_write_text
from pipeline.settings import settings

POLL_SECONDS = 2.0  # how often the supervisor looks at the leases and the server
STARTUP_SECONDS = 180.0  # the most a first start may take on a busy machine


class ServerError(RuntimeError):
    """The shared server could not be started; the message names its log."""


def folder() -> Path:
    path = settings().data_dir / "prefect"
    (path / "leases").mkdir(parents=True, exist_ok=True)
    return path


def process_alive(pid: int) -> bool:
    """Whether ``pid`` runs: a process that has ended but was not waited for (a zombie, as a killed supervisor is
    where nothing reaps orphans) does not."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True  # no /proc: the signal's answer stands


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


def _state() -> dict | None:
    try:
        return json.loads((folder() / "server.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def running_server() -> str | None:
    """The API URL of the shared server if it runs and answers; None otherwise."""
    state = _state()
    if state and process_alive(state["supervisor"]) and _healthy(state["url"]):
        return state["url"]
    return None


def shared_server() -> str:
    """The shared server's API URL, started now if no pecrs command left one running."""
    home = folder()
    with FileLock(str(home / "server.lock")):  # two commands at once start one server
        url = running_server()
        if url:
            return url
        _stop_orphan()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        log = home / "server.log"
        with open(log, "ab") as output:
            supervisor = subprocess.Popen(
                [sys.executable, "-m", "pipeline.run.prefect_server", "supervise", "--port", str(port)],
                stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
                env={k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"})
        deadline = time.monotonic() + STARTUP_SECONDS
        while (state := _state()) is None or state.get("supervisor") != supervisor.pid:
            if supervisor.poll() is not None:
                raise ServerError(f"pecrs's Prefect server stopped as it started (see {log})")
            if time.monotonic() > deadline:
                supervisor.terminate()
                raise ServerError(f"pecrs's Prefect server did not start within {STARTUP_SECONDS:g} s (see {log})")
            time.sleep(0.2)
        return state["url"]


def _stop_orphan() -> None:
    """A server whose supervisor was killed (nobody would ever stop it) is stopped before another is started."""
    state = _state()
    if state and not process_alive(state["supervisor"]) and process_alive(state["server"]):
        os.kill(state["server"], signal.SIGTERM)


def stop_shared_server() -> bool:
    """Ask the supervisor to stop the server; returns whether one was running. Waits until both have stopped."""
    state = _state()
    if not state or not process_alive(state["supervisor"]):
        return False
    os.kill(state["supervisor"], signal.SIGTERM)
    deadline = time.monotonic() + 60  # the supervisor gives the server 20 s before it kills it
    for pid in (state["supervisor"], state["server"]):
        while process_alive(pid) and not _reaped(pid):
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
            time.sleep(0.1)
    return True


def _reaped(pid: int) -> bool:
    """A child of this process that has exited is a zombie until waited for; others are never ours to wait."""
    try:
        return os.waitpid(pid, os.WNOHANG)[0] == pid
    except ChildProcessError:
        return False


@contextmanager
def prefect_api():
    """The Prefect API the flows of this command report to, for the command's duration: PREFECT_API_URL when set;
    else the shared server, held by a lease meanwhile; else (PECRS_PREFECT_IDLE=0) None, Prefect's ephemeral
    server. Set before Prefect is imported."""
    if os.environ.get("PREFECT_API_URL") or not settings().prefect_idle:
        yield os.environ.get("PREFECT_API_URL")
        return
    with lease():  # first: a supervisor about to stop for idleness keeps the server for this command
        os.environ["PREFECT_API_URL"] = url = shared_server()
        try:
            yield url
        finally:
            os.environ.pop("PREFECT_API_URL", None)


@contextmanager
def server_for_schedules():
    """The Prefect API `pecrs serve` serves its schedules on (they need a real server, not an ephemeral one):
    PREFECT_API_URL, else the shared server (held while serving), else one of its own for as long as it serves."""
    if os.environ.get("PREFECT_API_URL") or settings().prefect_idle:
        with prefect_api() as url:
            yield url
        return
    with server_of_its_own() as url:
        yield url


@contextmanager
def server_of_its_own():
    """A Prefect server for this process alone, on a free port of 127.0.0.1, stopped on exit; PREFECT_API_URL is
    set to it meanwhile."""
    from pipeline.run.prefect_setup import configure_prefect

    configure_prefect()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = folder() / "server.log"
    with open(log, "ab") as output:
        server = _start_server(port, output)
    url = f"http://127.0.0.1:{port}/api"
    try:
        if not _wait_until_healthy(url, server, []):
            raise ServerError(f"the Prefect server did not start (see {log})")
        os.environ["PREFECT_API_URL"] = url
        yield url
    finally:
        os.environ.pop("PREFECT_API_URL", None)
        _stop_server(server)


def _start_server(port: int, output=None) -> subprocess.Popen:
    """`prefect server start` on 127.0.0.1:``port``; its own log lines from WARNING up."""
    return subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                             "--port", str(port)], stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                            env={**os.environ, "PREFECT_SERVER_LOGGING_LEVEL": "WARNING"})


def _wait_until_healthy(url: str, server: subprocess.Popen, stopping: list) -> bool:
    """Whether the server answers before it stops, a stop is asked (``stopping``) or STARTUP_SECONDS pass."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while not _healthy(url):
        if server.poll() is not None or stopping or time.monotonic() > deadline:
            return False
        time.sleep(0.3)
    return True


def _stop_server(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


# -- the leases of the commands using the server --------------------------------------------------------------------
def _lease_path(pid: int) -> Path:
    return folder() / "leases" / f"{pid}.json"


@contextmanager
def lease():
    """Hold the shared server while a command uses it (the supervisor will not stop it meanwhile)."""
    path = _lease_path(os.getpid())
    atomic_write_text(path, json.dumps({"pid": os.getpid(), "flow_runs": []}))
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


def note_flow_run(flow_run_id: str) -> None:
    """Name a flow run this process runs in its lease: if the process is killed, the supervisor marks it Crashed."""
    path = _lease_path(os.getpid())
    try:
        held = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return  # no lease: not on the shared server
    held["flow_runs"].append(flow_run_id)
    atomic_write_text(path, json.dumps(held))


def _crash(url: str, flow_run_id: str, pid: int) -> None:
    body = json.dumps({"state": {"type": "CRASHED", "name": "Crashed",
                                 "message": f"the pecrs process {pid} that ran it ended without finishing it"},
                       "force": True}).encode()
    request = urllib.request.Request(f"{url}/flow_runs/{flow_run_id}/set_state", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10):
            pass
    except OSError as exc:
        print(f"could not mark flow run {flow_run_id} crashed: {exc}", file=sys.stderr, flush=True)


def _held_leases(url: str) -> int:
    """The leases of live processes; those of processes gone are cleared, their flow runs marked Crashed."""
    held = 0
    for path in (folder() / "leases").glob("*.json"):
        try:
            lease_of = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # being written
        if process_alive(lease_of["pid"]):
            held += 1
            continue
        for flow_run_id in lease_of.get("flow_runs", []):
            _crash(url, flow_run_id, lease_of["pid"])
        path.unlink(missing_ok=True)
    return held


# -- the supervisor ---------------------------------------------------------------------------------------------------
def supervise(port: int, idle_seconds: float) -> None:
    url = f"http://127.0.0.1:{port}/api"
    server = _start_server(port)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(True))
    try:
        if not _wait_until_healthy(url, server, stopping):
            return
        state = {"supervisor": os.getpid(), "server": server.pid, "port": port, "url": url}
        atomic_write_text(folder() / "server.json", json.dumps(state))
        print(f"pecrs's Prefect server at {url} (supervisor {os.getpid()}, server {server.pid})", flush=True)
        last_used = time.monotonic()
        while not stopping and server.poll() is None:
            if _held_leases(url):
                last_used = time.monotonic()
            elif time.monotonic() - last_used > idle_seconds:
                print(f"idle for {idle_seconds:g} s: stopping", flush=True)
                break
            time.sleep(POLL_SECONDS)
    finally:
        if (_state() or {}).get("supervisor") == os.getpid():
            (folder() / "server.json").unlink(missing_ok=True)
        _stop_server(server)


def main() -> None:
    parser = argparse.ArgumentParser(description="pecrs's shared Prefect server (started by pecrs itself)")
    parser.add_argument("command", choices=["supervise"])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    from pipeline.run.prefect_setup import configure_prefect

    configure_prefect()
    supervise(args.port, settings().prefect_idle)


if __name__ == "__main__":
    main()
