"""The jobs as Prefect flows: fetch (PubMed and PMC), and the main run (fetch ->) parse -> extract -> score
-> write. Thin: the work is in pipeline.fetch.updates and pipeline.run.stages."""

from __future__ import annotations

import logging
import shutil
import sys
import time
from collections import deque
from dataclasses import asdict, dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.run.prefect_setup import configure_prefect

configure_prefect()

from prefect import flow, task, unmapped  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402
from prefect.utilities.annotations import quote  # noqa: E402

from pipeline.fetch.ncbi_cache import NcbiCache  # noqa: E402
from pipeline.run import stages  # noqa: E402
from pipeline.settings import settings  # noqa: E402
from pipeline.run.corpus import CorpusEntry, corpus_entries, with_content_hash  # noqa: E402
from pipeline.run.collect import RunCollector  # noqa: E402
from pipeline.outputs.writer import EvidenceSpool, read_evidence, run_digest, write_predictions, write_scores  # noqa: E402
from pipeline.run.run_folder import (PREDICTED_CASES, PREDICTED_EVIDENCE, RunFolder, acquire, finish,  # noqa: E402
                                 outputs_lock, recover, write_meta)
from pipeline.store import open_store  # noqa: E402
from pipeline.run.work_cache import WorkCache  # noqa: E402

# One line per run on what changed, printed (or told as progress) and logged here. `pecrs serve` makes "pecrs" one of
# Prefect's extra loggers (PREFECT_LOGGING_EXTRA_LOGGERS): the line goes to the Prefect server with the flow run's
# logs, which the Prefect UI shows. Elsewhere nothing handles it: it does not reach the root logger.
CYCLE_LOG = logging.getLogger("pecrs.runs")
CYCLE_LOG.setLevel(logging.INFO)
logging.getLogger("pecrs").propagate = False

if TYPE_CHECKING:  # the fetching code loads only for a run that fetches
    from pipeline.fetch.updates import FetchSummary


@dataclass
class RunSummary:
    run_id: str
    run_dir: Path
    documents: int
    failed: int
    patients: int
    scores: dict | None
    timings: dict[str, float]
    fetched: FetchSummary | None = None
    refused: int = 0  # values the field registry refused (documents.csv's warnings)
    changes: dict | None = None  # changes.json's content


@task(name="fetch", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=30)
def fetch_task(corpus: Path, query: str, since: date | None = None, full: bool = False, email: str | None = None,
               progress: Any = None) -> FetchSummary:
    from pipeline.fetch.eutils import EutilsClient, EutilsConfig
    from pipeline.fetch.updates import fetch_new

    with EutilsClient(EutilsConfig.from_settings(email=email)) as client:
        return fetch_new(Path(corpus), client, query, since=since, full=full, progress=progress)


@flow(name="pecrs-fetch", log_prints=False)
def pecrs_fetch(corpus: Path, query: str, since: date | None = None, full: bool = False, email: str | None = None,
                progress: Any = None) -> FetchSummary:
    """Search PubMed, store the new records and their PMC Open Access full texts in the corpus cache."""
    return fetch_task(corpus, query, since, full, email, progress)


class RunRefused(ValueError):
    """A run that would record nothing true: it found no documents (an empty or mistaken corpus folder)."""


@task(name="store", cache_policy=NO_CACHE)
def store_task(run_id: str, started_at: datetime, corpus: str, out_dir: str, documents: list[dict], rows: list[dict],
               evidence_path: Path, digest: str, scores: dict | None, fetched: dict | None = None) -> str:
    """Record the run; returns what it changed in the stored predictions of its corpus, in words."""
    with open_store() as store:
        return str(store.record_run(run_id, started_at, corpus, documents, rows, read_evidence(evidence_path), scores,
                                    digest=digest, out_dir=out_dir, fetched=fetched))


@task(name="finish", cache_policy=NO_CACHE)
def finish_task(folder: RunFolder, record: bool, cache: WorkCache | None):
    """The final table (the predictions with the curations) and its pages; the folder renamed and published."""
    if not record:
        return finish(folder, None, cache)
    with open_store() as store:
        return finish(folder, store, cache)


@task(name="parse and extract", cache_policy=NO_CACHE)
def process_batch_task(entries: list[CorpusEntry], corpus: Path, all_patients: bool, cache: WorkCache | None):
    return stages.process_batch(entries, corpus, all_patients, cache)


@task(name="score", cache_policy=NO_CACHE)
def score_task(gold: Path, predicted: Path, evidence) -> dict:
    from pipeline.scoring.evaluation import evaluate  # pandas loads only for a scored run

    return evaluate(gold, predicted, evidence)


def _compact(row: dict) -> dict:
    """A case row with its keys and short values interned: the run holds every row until the end, and each came
    unpickled with its own copies of the same 40 column names."""
    return {sys.intern(k): sys.intern(v) if isinstance(v, str) and len(v) <= 40 else v for k, v in row.items()}


def new_run_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")


@flow(name="pecrs-run", log_prints=False)
def pecrs_run(corpus: Path, gold: Path | None, out: Path, all_patients: bool = False,
              progress: Any = None, fetch: bool = False, query: str = "", email: str | None = None,
              parallel: bool = False, use_cache: bool = True, record: bool = True) -> RunSummary:
    """The main job. ``parallel`` maps the batches over the flow's task runner (see ``with_workers``).
    ``progress`` is a Callable[[str], None], typed Any: a deployment's run validates the parameters with a
    pydantic model, which cannot resolve that annotation. ``record`` False keeps the run out of the store (a
    trial run: its outputs are its predictions, uncurated)."""
    _name_flow_run_in_lease()
    corpus, out = Path(corpus).resolve(), Path(out).resolve()
    lock = outputs_lock(out)
    acquire(lock, out)
    try:
        return _run(corpus, gold, out, all_patients, progress, fetch, query, email, parallel, use_cache, record)
    finally:
        lock.release()


def _name_flow_run_in_lease() -> None:
    """On pecrs's shared Prefect server, this flow run is named in the command's lease: if the command is killed,
    the server's supervisor marks the run Crashed instead of leaving it Running."""
    from prefect.runtime import flow_run

    from pipeline.run.prefect_server import note_flow_run

    if flow_run.id:
        note_flow_run(flow_run.id)


def _run(corpus: Path, gold: Path | None, out: Path, all_patients: bool, progress, fetch: bool, query: str,
         email: str | None, parallel: bool, use_cache: bool, record: bool) -> RunSummary:
    say = progress or (lambda message: None)
    timings: dict[str, float] = {}
    folder = RunFolder(out, new_run_id())
    run_id, staging = folder.run_id, folder.staging
    run_started = datetime.now(timezone.utc)
    if record:
        with open_store() as store:
            recovered = recover(out, store)
    else:
        recovered = recover(out, None)
    for line in recovered:
        say(f"recovery: {line}")

    fetched = None
    if fetch:
        from pipeline.fetch.eutils import EutilsError

        started = time.perf_counter()
        try:
            fetched = fetch_task(corpus, query, email=email)
            say(f"fetch: {fetched.new} new records, {fetched.updated} updated ({len(fetched.retracted)} now "
                f"retracted), {fetched.full_texts} full texts, {len(fetched.failures)} batches failed "
                f"({fetched.requests} requests)")
        except EutilsError as exc:  # the run goes on with what the cache already holds
            say(f"fetch failed: {exc}; going on with the cached corpus")
        timings["fetch"] = time.perf_counter() - started

    started = time.perf_counter()
    cache = WorkCache(settings().data_dir / "cache") if use_cache else None
    entries = corpus_entries(corpus)
    if not entries:
        raise RunRefused(f"{corpus}: no documents found in the corpus folder; nothing was run or stored")
    if cache is not None:  # each file is read once for its hash, here; the hash travels with its entry
        entries = list(map(with_content_hash, entries))
    size = settings().batch_size
    batches = [entries[i:i + size] for i in range(0, len(entries), size)]
    say(f"parse and extract: {len(entries)} files from {corpus} in {len(batches)} batches")
    spool = EvidenceSpool(staging / PREDICTED_EVIDENCE)
    # A batch whose every file is cached is read here: as a task it would cost more in Prefect's bookkeeping
    # than the reading itself, and a re-run with nothing new is mostly such batches.
    new_work = [cache is None or not all(cache.is_extracted(entry, all_patients) for entry in batch)
                for batch in batches]
    try:
        with RunCollector(staging) as collector:
            if parallel and any(new_work):  # the flow's task runner (Dask) spreads the batches with new work
                futures = deque(process_batch_task.map([b for b, new in zip(batches, new_work) if new],
                                                       unmapped(corpus), unmapped(all_patients), unmapped(cache)))
            for number, (batch, new) in enumerate(zip(batches, new_work), start=1):
                if not new:
                    outcomes = stages.process_batch(batch, corpus, all_patients, cache)
                elif parallel:
                    outcomes = futures.popleft().result()  # a batch kept is let go, here and on its worker
                else:
                    outcomes = process_batch_task(batch, corpus, all_patients, cache)
                for outcome in outcomes:  # only the small parts stay in memory; evidence goes to disk
                    collector.add(outcome)
                say(f"  batch {number}/{len(batches)} done{'' if new else ' (cached)'}")
            results, rows, reused = collector.finish(spool, _compact)
        spool.commit()
    except BaseException:
        spool.discard()
        shutil.rmtree(staging, ignore_errors=True)
        raise
    results = stages.mark_retracted(results, NcbiCache(corpus).retractions())
    read = [r for r in results if r.doc_id and r.status != "duplicate"]  # the documents read, one per article
    documents = len(read)
    failed = sum(1 for r in results if r.status == "failed")
    duplicates = sum(1 for r in results if r.status == "duplicate")
    refused = sum(len(r.warnings) for r in read)
    timings["parse+extract"] = time.perf_counter() - started
    say(f"parse and extract: {documents} documents, {failed} failed, {duplicates} duplicates, {len(rows)} patients, "
        f"{refused} values refused; {reused} of {len(entries)} files unchanged and reused "
        f"({timings['parse+extract']:.1f} s)")
    if not documents:
        shutil.rmtree(staging, ignore_errors=True)
        raise RunRefused(f"{corpus}: none of its {len(entries)} files could be read as a document (see the reasons "
                         f"with --no-store); nothing was stored")

    write_predictions(staging, rows, results)
    scores = None
    if gold is not None:
        started = time.perf_counter()
        scores = score_task(Path(gold), staging / PREDICTED_CASES, spool.lines())
        scores["predicted"] = PREDICTED_CASES  # the run folder's own file, wherever the folder is
        write_scores(staging, scores)
        timings["score"] = time.perf_counter() - started
        say(f"score: micro F1 {scores['micro']['f1']:.3f} ({timings['score']:.1f} s)")
    stored_documents = [asdict(r) for r in read]
    digest = run_digest(stored_documents, rows, spool.sha256)
    write_meta(staging, {"run_id": run_id, "corpus": str(corpus), "started_at": run_started.isoformat(),
                         "recorded": record, "digest": digest, "evidence_sha256": spool.sha256, "timings": timings})
    if record:
        started = time.perf_counter()
        # quote(): Prefect would otherwise walk every value of these large lists looking for futures
        changed = store_task(run_id, run_started, str(corpus), str(out), quote(stored_documents), quote(rows),
                             spool.path, digest, scores, _fetched_brief(fetched))
        timings["store"] = time.perf_counter() - started
        say(f"store: {changed}; curations kept ({timings['store']:.1f} s)")
    else:
        say("store: not recorded (--no-store)")
    started = time.perf_counter()
    finished = finish_task(folder, record, cache)
    timings["finish"] = time.perf_counter() - started
    say(f"outputs: cases.csv, evidence.jsonl, report.html and summary.json over the final table "
        f"({finished.cases} patients{', with the curations' if record else ', uncurated'})"
        f"{', pages unchanged' if finished.summary_reused else ''} ({timings['finish']:.1f} s)")
    (progress or _print)(finished.changes_line)  # a served run has no progress to tell it: it prints it
    CYCLE_LOG.info(finished.changes_line)
    return RunSummary(run_id, finished.run_dir, documents, failed, len(rows), scores, timings, fetched, refused,
                      finished.changes)


def _print(line: str) -> None:
    print(line, flush=True)


def _fetched_brief(fetched: FetchSummary | None) -> dict | None:
    """What the store keeps of a run's fetch."""
    if fetched is None:
        return None
    return {"found": fetched.found, "new": fetched.new, "updated": fetched.updated, "failed": fetched.failed,
            "revised": list(fetched.revised), "retracted": list(fetched.retracted)}


def files_to_process(corpus: Path, all_patients: bool = False) -> int:
    """How many of the corpus files a run would parse and extract: those without a cached outcome."""
    cache = WorkCache(settings().data_dir / "cache")
    try:
        return sum(not cache.is_extracted(with_content_hash(entry), all_patients)
                   for entry in corpus_entries(Path(corpus)))
    finally:
        cache.close()


def with_workers(workers: int = 1, dask_address: str | None = None):
    """pecrs_run on a Dask cluster: a local one of ``workers`` processes, or the scheduler at ``dask_address``."""
    if workers <= 1 and not dask_address:
        return pecrs_run
    from prefect_dask import DaskTaskRunner

    if dask_address:  # that cluster's workers have their own configuration (see the README)
        return pecrs_run.with_options(task_runner=DaskTaskRunner(address=dask_address))
    import dask

    # A worker's statistical profiler keeps its last 1,000 one-second call trees, twice over: on spaCy's deep
    # stacks that is hundreds of MB per worker by the end of a long run, and nothing here reads them (no
    # dashboard). The local cluster's workers inherit this configuration.
    dask.config.set({"distributed.worker.profile.enabled": False})
    # the cluster is the run's own, started and stopped with it: its scheduler's and nannies' INFO lines (about 40
    # a run: addresses, workers registered, streams closed) say nothing a user of pecrs can act on
    logging.getLogger("distributed").setLevel(logging.WARNING)
    # "Worker process still alive after 4.0 seconds, killing": a worker slow to exit (spaCy loaded, a busy machine)
    # when the run's cluster closes, its work done; stopping it is what closing asked
    logging.getLogger("distributed.nanny").setLevel(logging.ERROR)
    runner = DaskTaskRunner(
        cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True, "dashboard_address": None})
    return pecrs_run.with_options(task_runner=runner)
