"""Only new work (content-addressed cache), Dask workers with the serial run's outputs, runs killed and resumed,
and the flow served on a Prefect schedule."""

import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from contextlib import closing, suppress
from pathlib import Path

import pytest

from pipeline.run import stages
from pipeline.run.corpus import corpus_entries
from pipeline.run.run_folder import recover
from pipeline.store import Store
from pipeline.run.work_cache import WorkCache

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["adeyemi2024_labs.jats.xml", "pereira2021.xml", "authorea2023.txt", "bauer2021_noPE.txt", "xiao2019.jats.xml"]


@pytest.fixture
def small_corpus(tmp_path) -> Path:
    corpus = tmp_path / "corpus" / "docs"
    corpus.mkdir(parents=True)
    for name in SMALL:
        shutil.copy(ROOT / "corpus/docs" / name, corpus / name)
    return corpus.parent


def outcomes(corpus: Path, cache: WorkCache):
    return stages.process_batch(corpus_entries(corpus), corpus, cache=cache)


def test_an_unchanged_corpus_is_reused_and_a_changed_document_redone(small_corpus, tmp_path):
    cache = WorkCache(tmp_path / "cache")
    first = outcomes(small_corpus, cache)
    assert not any(o.cached for o in first)
    again = outcomes(small_corpus, cache)
    assert all(o.cached for o in again)
    assert [o.rows for o in again] == [o.rows for o in first] and [o.evidence for o in again] == [o.evidence for o in first]
    edited = small_corpus / "docs" / "authorea2023.txt"
    edited.write_text(edited.read_text(encoding="utf-8") + "\n\nA closing remark added by an editor.\n", encoding="utf-8")
    third = outcomes(small_corpus, cache)
    assert [Path(o.results[0].file).name for o in third if not o.cached] == ["authorea2023.txt"]


def test_a_new_extractor_configuration_redoes_extraction_but_not_parsing(small_corpus, tmp_path, monkeypatch):
    cache = WorkCache(tmp_path / "cache")
    outcomes(small_corpus, cache)
    import pipeline.run.work_cache as work_cache

    monkeypatch.setattr(work_cache, "extractor_fingerprint", lambda: "edited-lexicon")
    parsed = []
    real_parse = stages.parse_entry
    monkeypatch.setattr(stages, "parse_entry", lambda entry: parsed.append(entry) or real_parse(entry))
    redone = outcomes(small_corpus, cache)
    assert not any(o.cached for o in redone) and parsed == []
    monkeypatch.setattr(work_cache, "parser_fingerprint", lambda: "edited-parser")
    outcomes(small_corpus, cache)
    assert len(parsed) == len(SMALL)


def test_a_file_edited_after_the_listing_is_not_cached_under_its_old_content(small_corpus, tmp_path):
    from pipeline.run.corpus import with_content_hash

    cache = WorkCache(tmp_path / "cache")
    listed = [with_content_hash(entry) for entry in corpus_entries(small_corpus)]  # as the flow lists them
    edited = small_corpus / "docs" / "authorea2023.txt"
    edited.write_text(edited.read_text(encoding="utf-8") + "\n\nAn editor's line, added mid-run.\n", encoding="utf-8")
    done = stages.process_batch(listed, small_corpus, cache=cache)
    stale = next(entry for entry in listed if entry.path.name == "authorea2023.txt")
    assert not cache.is_extracted(stale, False) and cache.is_extracted(with_content_hash(stale), False) is False
    assert [o.results[0].content_hash for o in done if o.results[0].file.endswith("authorea2023.txt")] == \
        [with_content_hash(stale).sha256]
    assert all(cache.is_extracted(entry, False) for entry in listed if entry is not stale)


def run_cli(corpus: Path, out: Path, env: dict, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline", "run", "--corpus", str(corpus), "--out", str(out),
                           "--no-score", *extra], capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)


def _prefect_logs(api: str) -> list[dict]:
    request = urllib.request.Request(f"{api}/logs/filter", data=b"{}", method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def isolated_env(tmp_path: Path, name: str) -> dict:
    return {**os.environ, "PECRS_DATA": str(tmp_path / f"data-{name}"),
            "PECRS_DATABASE_URL": f"sqlite:///{tmp_path / f'{name}.db'}"}


@pytest.mark.slow
def test_a_no_op_re_run_into_a_new_folder_reuses_every_stage(small_corpus, tmp_path):
    env = isolated_env(tmp_path, "again")
    first = run_cli(small_corpus, tmp_path / "first", env)
    assert first.returncode == 0, first.stderr[-2000:]
    again = run_cli(small_corpus, tmp_path / "again", env, "--workers", "2")
    assert again.returncode == 0, again.stderr[-2000:]
    said = " ".join(again.stdout.split())  # rich wraps long lines
    assert "nothing new to parse or extract: no Dask cluster is started" in said
    assert f"{len(SMALL)} of {len(SMALL)} files unchanged and reused" in said
    assert "store: predictions unchanged" in said and "pages unchanged" in said
    before, after = tmp_path / "first/latest", tmp_path / "again/latest"
    for name in ("cases.csv", "evidence.jsonl", "documents.csv", "summary.json"):
        assert (before / name).read_bytes() == (after / name).read_bytes(), name
    run_ids = [(folder / "RUN").read_text().strip() for folder in (before, after)]
    assert run_ids[0] != run_ids[1]
    page = (after / "report.html").read_text(encoding="utf-8")
    assert f"What changed since run {run_ids[0]}" in page and 'id="nothing-changed"' in page
    page = _without_changes(page)  # the section on what changed is the run's own; the rest came from the cache
    assert run_ids[1] in page and run_ids[0] not in page and "@@" not in page
    assert page == _without_changes((before / "report.html").read_text(encoding="utf-8")).replace(run_ids[0], run_ids[1])


def _without_changes(page: str) -> str:
    return page[:page.index('<section id="changes">')] + page[page.index("</section>"):]


@pytest.mark.slow
def test_dask_workers_give_the_serial_outputs_byte_for_byte(small_corpus, tmp_path):
    """Batches of two files: three batches over two workers; then, with one document edited, a re-run in which
    the batch with new work goes to Dask and the cached ones are read by the flow, in corpus order."""
    serial_env, dask_env = (isolated_env(tmp_path, name) | {"PECRS_BATCH_SIZE": "2"} for name in ("serial", "dask"))

    def same_outputs(serial_out: str, dask_out: str) -> str:
        serial = run_cli(small_corpus, tmp_path / serial_out, serial_env)
        assert serial.returncode == 0, serial.stderr[-2000:]
        parallel = run_cli(small_corpus, tmp_path / dask_out, dask_env, "--workers", "2")
        assert parallel.returncode == 0, parallel.stderr[-2000:]
        # the run's own cluster says nothing of itself (its scheduler's and nannies' INFO lines)
        assert "distributed." not in parallel.stdout + parallel.stderr
        for name in ("cases.csv", "evidence.jsonl", "documents.csv"):
            assert (tmp_path / serial_out / "latest" / name).read_bytes() == \
                (tmp_path / dask_out / "latest" / name).read_bytes(), name
        return " ".join(parallel.stdout.split())

    said = same_outputs("serial", "dask")
    assert "in 3 batches" in said and "(cached)" not in said
    edited = small_corpus / "docs" / "bauer2021_noPE.txt"  # third in corpus order: the second batch
    edited.write_text(edited.read_text(encoding="utf-8") + "\n\nA closing remark added by an editor.\n", encoding="utf-8")
    said = same_outputs("serial-again", "dask-again")
    assert said.count("done (cached)") == 2 and "batch 1/3 done (cached)" in said and "batch 3/3 done (cached)" in said
    assert f"{len(SMALL) - 1} of {len(SMALL)} files unchanged and reused" in said


@pytest.mark.slow
def test_an_existing_dask_scheduler_runs_the_batches(small_corpus, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    env = {**isolated_env(tmp_path, "scheduler"), "PYTHONPATH": str(ROOT)}
    cluster = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                 "--port", str(port), "--dashboard-address", ":0"], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        cluster.append(subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nworkers", "1",
                                         "--nthreads", "1", "--name", "pecrs-test-worker"], cwd=ROOT, env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        from distributed import Client

        with Client(address, timeout=60) as client:  # the worker has joined before the run starts
            client.wait_for_workers(1, timeout=60)
        serial = run_cli(small_corpus, tmp_path / "serial", isolated_env(tmp_path, "serial"))
        assert serial.returncode == 0, serial.stderr[-2000:]
        remote = run_cli(small_corpus, tmp_path / "remote", env, "--dask-address", address)
        assert remote.returncode == 0, remote.stderr[-2000:]
        with Client(address, timeout=60) as client:  # the batches ran on that scheduler's worker
            executed = client.run(lambda dask_worker: dask_worker.state.executed_count)
        assert sum(executed.values()) >= 1
        for name in ("cases.csv", "evidence.jsonl", "documents.csv"):
            assert (tmp_path / "serial/latest" / name).read_bytes() == (tmp_path / "remote/latest" / name).read_bytes()
    finally:
        for process in reversed(cluster):
            process.terminate()
            process.wait(30)


def start_run(corpus: Path, out: Path, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "pipeline", "run", "--corpus", str(corpus), "--out", str(out),
                             "--no-score"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def kill_run(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait()
    with suppress(ProcessLookupError):  # Prefect's ephemeral API server outlives the run it served
        os.killpg(process.pid, signal.SIGKILL)


def recorded(database: Path, run_id: str) -> bool:
    """Whether the store holds the run, read as another process would while the run writes."""
    if not database.exists():
        return False
    try:
        with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=1)) as connection:
            return connection.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone() is not None
    except sqlite3.Error:  # the store being created or migrated
        return False


def kill_once_recorded(corpus: Path, out: Path, env: dict) -> str | None:
    """Starts a run and kills it once the store has recorded it but before it is published: waits for its partial
    folder's predicted_cases.csv (step 1 written), then for its row in the store. The id of the run killed
    recorded but unpublished, or None when the run ended before the kill could land."""
    database = Path(env["PECRS_DATABASE_URL"].removeprefix("sqlite:///"))
    process = start_run(corpus, out, env)
    try:
        while process.poll() is None:
            partial = next((p for p in out.glob(".*.partial") if (p / "predicted_cases.csv").exists()), None)
            if partial is not None:
                break
            time.sleep(0.05)
        else:
            return None
        run_id = partial.name[1:-len(".partial")]
        while process.poll() is None and not recorded(database, run_id):
            time.sleep(0.005)
        kill_run(process)
        return run_id if recorded(database, run_id) and partial.is_dir() else None
    finally:
        if process.poll() is None:
            kill_run(process)


def check_recovery(out: Path, env: dict) -> tuple[int, list[str]]:
    """The checks after a kill: a recorded run holds all its cases, and the next start finishes or removes what
    the killed run left, publishing the store's latest run. Returns the number of runs checked and what recovery
    did."""
    with Store(env["PECRS_DATABASE_URL"]) as store:
        runs = store.runs()
        for run in runs:  # no half-written run: a recorded run holds all its cases
            assert run.cases == sum(1 for v in store.cases() if v.predicted)
        done = recover(out, store)
        latest = store.latest_run(out_dir=str(out.resolve()))
    if latest is not None:
        assert (out / "latest/RUN").read_text().strip() == latest.run_id
    left = [p.name for p in out.rglob("*") if p.name.endswith((".partial", ".tmp")) or p.name.startswith(".latest.")]
    assert left == []
    return len(runs), done


@pytest.mark.slow
def test_runs_killed_at_random_points_resume_to_the_uninterrupted_outputs(small_corpus, tmp_path):
    reference = run_cli(small_corpus, tmp_path / "reference", isolated_env(tmp_path, "reference"))
    assert reference.returncode == 0, reference.stderr[-2000:]
    env = isolated_env(tmp_path, "killed")
    out = tmp_path / "killed"
    chance = random.Random(20261125)
    tested = False  # whether a kill left a partial folder while the store held a run, for the checks to meet
    for _ in range(3):
        process = start_run(small_corpus, out, env)
        time.sleep(chance.uniform(2.0, 25.0))
        kill_run(process)
        partial = any(out.glob(".*.partial"))
        runs, _ = check_recovery(out, env)
        tested |= partial and runs > 0
    if not tested:
        # the random kills missed: kill one run between its record in the store and its publication
        run_id = next(filter(None, (kill_once_recorded(small_corpus, out, env) for _ in range(3))), None)
        assert run_id is not None, "no run could be killed between its record and its publication"
        runs, done = check_recovery(out, env)
        assert runs >= 1
        assert f"finished run {run_id}, recorded in the store but killed before its outputs were written" in done
        assert f"published run {run_id} as latest" in done
    final = run_cli(small_corpus, tmp_path / "killed", env)
    assert final.returncode == 0, final.stderr[-2000:]
    for name in ("cases.csv", "evidence.jsonl", "documents.csv"):
        assert (tmp_path / "reference/latest" / name).read_bytes() == (tmp_path / "killed/latest" / name).read_bytes(), name


@pytest.mark.slow
@pytest.mark.timeout(1800)  # a safety net only: the test waits for the run, however busy the machine is
def test_the_flow_runs_on_a_prefect_schedule_and_its_run_is_recorded(small_corpus, tmp_path):
    env = isolated_env(tmp_path, "served")
    env.pop("PREFECT_API_URL", None)
    said = tmp_path / "served.out"
    # a session of its own, so that the Prefect server it starts is stopped with it
    with open(said, "wb") as output:
        server = subprocess.Popen([sys.executable, "-m", "pipeline", "serve", "--interval", "5", "--no-fetch",
                                   "--corpus", str(small_corpus), "--out", str(tmp_path / "served")],
                                  cwd=ROOT, env={**env, "COLUMNS": "400"}, stdout=output, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    try:
        recorded, logged = [], []
        latest = tmp_path / "served/latest/cases.csv"
        # each cycle's line on what changed: on the console, and with its flow run's logs on the Prefect server
        while not (recorded and latest.exists() and logged):
            time.sleep(1)
            assert server.poll() is None, "pecrs serve stopped"
            database = Path(env["PECRS_DATABASE_URL"].removeprefix("sqlite:///"))
            if database.exists():  # read only: the served run owns the store
                with closing(sqlite3.connect(database, timeout=10)) as connection:
                    try:
                        recorded = connection.execute("SELECT documents FROM runs").fetchall()
                    except sqlite3.OperationalError:  # not created yet
                        recorded = []
            text = said.read_text(encoding="utf-8", errors="replace")
            api = re.search(r"on the Prefect server at (\S+);", text)
            if recorded and api and "changes since an empty store" in text:
                logged = [entry["message"] for entry in _prefect_logs(api.group(1))
                          if entry["message"].startswith("changes since")]
    finally:  # the serving process, its Prefect server and any flow run in progress
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(10)
    assert recorded and recorded[0][0] == len(SMALL)
    assert logged[0].startswith(f"changes since an empty store: no fetch; documents {len(SMALL)} new")
    assert (tmp_path / "served/latest/cases.csv").exists()
