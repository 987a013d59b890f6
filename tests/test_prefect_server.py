"""pecrs's shared Prefect server: one-off runs reuse one server, a killed run's flow run is marked Crashed and leaves
no server of its own behind, and the server stops once unused. Each test has its own data folder and stops what it
started."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from pipeline.run.prefect_server import process_alive

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["authorea2023.txt", "bauer2021_noPE.txt", "g1_echeverria2021.txt"]
WAIT = 180  # seconds at most for an event a test waits on (a busy machine); never a measure


@pytest.fixture
def small_corpus(tmp_path) -> Path:
    corpus = tmp_path / "corpus"
    (corpus / "docs").mkdir(parents=True)
    lines = (ROOT / "corpus/manifest.csv").read_text(encoding="utf-8").splitlines()
    kept = [lines[0]] + [line for line in lines[1:] if line.split(",")[0].removeprefix("docs/") in SMALL]
    (corpus / "manifest.csv").write_text("\n".join(kept) + "\n", encoding="utf-8")
    for name in SMALL:
        (corpus / "docs" / name).write_bytes((ROOT / "corpus/docs" / name).read_bytes())
    return corpus


@pytest.fixture
def env(tmp_path):
    """A data folder of the test's own, with a shared server allowed; whatever server it starts is stopped."""
    # no Prefect variable of the test session's (its PREFECT_HOME holds the other tests' flow runs)
    values = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    values.update(PECRS_DATA=str(tmp_path / "data"), PECRS_PREFECT_IDLE="600",
                  PECRS_DATABASE_URL=f"sqlite:///{tmp_path / 'pecrs.db'}")
    yield values
    state = tmp_path / "data/prefect/server.json"
    if state.exists():
        supervisor = json.loads(state.read_text(encoding="utf-8"))["supervisor"]
        if process_alive(supervisor):
            os.kill(supervisor, signal.SIGTERM)
        _wait_for(lambda: not process_alive(supervisor), "the supervisor to stop")


def _wait_for(condition, what: str):
    deadline = time.monotonic() + WAIT
    while not (value := condition()):
        assert time.monotonic() < deadline, f"waited {WAIT} s for {what}"
        time.sleep(0.2)
    return value


def _servers(within: Path) -> set[int]:
    """The pids of Prefect API servers whose environment names the folder ``within`` (a test's own: its data
    folder, a worker's Prefect home), whatever else the machine runs meanwhile."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
                environment = (entry / "environ").read_bytes()
            except OSError:
                continue
            if (b"prefect server start" in command or b"prefect.server.api.server:create_app" in command) \
                    and str(within).encode() in environment:
                found.add(int(entry.name))
    return found


def _run(corpus: Path, out: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline", "run", "--corpus", str(corpus), "--out", str(out),
                           "--no-score"], capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)


def _flow_runs(url: str) -> list[dict]:
    request = urllib.request.Request(f"{url}/flow_runs/filter", data=b"{}", method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


@pytest.mark.slow
def test_one_off_runs_share_one_server_and_are_flow_runs_on_it(small_corpus, tmp_path, env):
    first = _run(small_corpus, tmp_path / "out1", env)
    assert first.returncode == 0, first.stderr[-2000:]
    state = json.loads((tmp_path / "data/prefect/server.json").read_text(encoding="utf-8"))
    second = _run(small_corpus, tmp_path / "out2", env)
    assert second.returncode == 0, second.stderr[-2000:]
    assert json.loads((tmp_path / "data/prefect/server.json").read_text(encoding="utf-8")) == state
    assert _servers(tmp_path) == {state["server"]}  # one server for both runs, none of their own
    runs = _flow_runs(state["url"])
    assert sorted((r["name"] is not None, r["state_type"]) for r in runs) == [(True, "COMPLETED")] * 2
    assert not list((tmp_path / "data/prefect/leases").iterdir())  # both commands let go of the server


@pytest.mark.slow
def test_a_killed_run_is_marked_crashed_and_leaves_no_server_of_its_own(small_corpus, tmp_path, env):
    run = subprocess.Popen([sys.executable, "-m", "pipeline", "run", "--corpus", str(small_corpus), "--out",
                            str(tmp_path / "out"), "--no-score"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    lease = tmp_path / "data/prefect/leases" / f"{run.pid}.json"

    def flow_runs_named():
        try:
            return json.loads(lease.read_text(encoding="utf-8"))["flow_runs"]
        except (OSError, ValueError):
            return []

    [flow_run_id] = _wait_for(flow_runs_named, "the run's flow run to be named in its lease")
    run.kill()
    run.wait()
    state = json.loads((tmp_path / "data/prefect/server.json").read_text(encoding="utf-8"))
    crashed = _wait_for(lambda: [r for r in _flow_runs(state["url"]) if r["id"] == flow_run_id
                                 and r["state_type"] == "CRASHED"], "the killed run's flow run to be marked crashed")
    assert str(run.pid) in crashed[0]["state"]["message"]
    assert not lease.exists()
    assert _servers(tmp_path) == {state["server"]}  # the shared server only, none left by the killed run


@pytest.mark.slow
def test_the_server_stops_once_no_command_uses_it(small_corpus, tmp_path, env):
    env["PECRS_PREFECT_IDLE"] = "1"
    done = _run(small_corpus, tmp_path / "out", env)
    assert done.returncode == 0, done.stderr[-2000:]
    log = (tmp_path / "data/prefect/server.log")
    _wait_for(lambda: not (tmp_path / "data/prefect/server.json").exists(), "the idle server to stop")
    assert "idle for 1 s: stopping" in log.read_text(encoding="utf-8")
    started = [line for line in log.read_text(encoding="utf-8").splitlines() if line.startswith("pecrs's Prefect server")]
    server = int(started[-1].split("server ")[-1].rstrip(")"))
    _wait_for(lambda: not process_alive(server), "the server process to end")


@pytest.mark.slow
def test_an_external_dask_worker_reports_to_the_runs_server_and_starts_none(small_corpus, tmp_path, env):
    import socket

    from distributed import Client

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    # a worker as a user starts it: pecrs importable, no Prefect setting of pecrs's, its own Prefect home
    worker_env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "PECRS_"))}
    worker_env.update(PYTHONPATH=str(ROOT), PREFECT_HOME=str(tmp_path / "worker-prefect"), HOME=str(tmp_path))
    cluster = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                 "--port", str(port), "--dashboard-address", ":0"], cwd=ROOT, env=worker_env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        cluster.append(subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nworkers",
                                         "1", "--nthreads", "1"], cwd=ROOT, env=worker_env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        with Client(address, timeout=60) as client:
            client.wait_for_workers(1, timeout=60)
        done = subprocess.run([sys.executable, "-m", "pipeline", "run", "--corpus", str(small_corpus), "--out",
                               str(tmp_path / "out"), "--no-score", "--dask-address", address], capture_output=True,
                              text=True, cwd=ROOT, env=env, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        state = json.loads((tmp_path / "data/prefect/server.json").read_text(encoding="utf-8"))
        assert _servers(tmp_path) == {state["server"]}  # the worker (its Prefect home in tmp_path) started none
        request = urllib.request.Request(f"{state['url']}/task_runs/filter", data=b"{}", method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            task_runs = json.loads(answer.read())
        assert any(run["name"].startswith("parse and extract") for run in task_runs), [r["name"] for r in task_runs]
        # Prefect on the worker made its home folder, but no database of its own in it
        assert not [p for p in (tmp_path / "worker-prefect").rglob("*") if p.is_file()]
    finally:
        for process in reversed(cluster):
            process.terminate()
            process.wait(30)


@pytest.mark.slow
def test_a_server_whose_supervisor_was_killed_is_stopped_before_another_starts(small_corpus, tmp_path, env):
    first = _run(small_corpus, tmp_path / "out1", env)
    assert first.returncode == 0, first.stderr[-2000:]
    state = json.loads((tmp_path / "data/prefect/server.json").read_text(encoding="utf-8"))
    os.kill(state["supervisor"], signal.SIGKILL)  # the server it owned is left without an owner
    _wait_for(lambda: not process_alive(state["supervisor"]), "the supervisor to die")
    second = _run(small_corpus, tmp_path / "out2", env)
    assert second.returncode == 0, second.stderr[-2000:]
    _wait_for(lambda: not process_alive(state["server"]), "the orphaned server to stop")
    now = json.loads((tmp_path / "data/prefect/server.json").read_text(encoding="utf-8"))
    assert _servers(tmp_path) == {now["server"]} != {state["server"]}
