"""The jobs as Prefect flows: fetch (PubMed and PMC), and the main run (fetch ->) parse -> extract -> score
-> write. Thin: the work is in pipeline.fetch and pipeline.stages."""

from __future__ import annotations

import sys
import time
from collections import deque
from dataclasses import asdict, dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.prefect_setup import configure_prefect

configure_prefect()

from prefect import flow, task, unmapped  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402
from prefect.utilities.annotations import quote  # noqa: E402

from pipeline import stages  # noqa: E402
from pipeline.config import settings  # noqa: E402
from pipeline.corpus import CorpusEntry, corpus_entries, with_content_hash  # noqa: E402
from pipeline.outputs import EvidenceSpool, publish_latest, read_evidence, run_digest, write_run  # noqa: E402
from pipeline.report import render_report  # noqa: E402
from pipeline.store import open_store  # noqa: E402
from pipeline.work_cache import WorkCache  # noqa: E402

if TYPE_CHECKING:  # the fetching code loads only for a run that fetches
    from pipeline.fetch import FetchSummary


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


@task(name="fetch", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=30)
def fetch_task(corpus: Path, query: str, since: date | None = None, full: bool = False, email: str | None = None,
               progress: Any = None) -> FetchSummary:
    from pipeline.eutils import EutilsClient, EutilsConfig
    from pipeline.fetch import fetch_new

    with EutilsClient(EutilsConfig.from_env(email=email)) as client:
        return fetch_new(Path(corpus), client, query, since=since, full=full, progress=progress)


@flow(name="pecrs-fetch", log_prints=False)
def pecrs_fetch(corpus: Path, query: str, since: date | None = None, full: bool = False, email: str | None = None,
                progress: Any = None) -> FetchSummary:
    """Search PubMed, store the new records and their PMC Open Access full texts in the corpus cache."""
    return fetch_task(corpus, query, since, full, email, progress)


@task(name="store", cache_policy=NO_CACHE)
def store_task(run_id: str, started_at: datetime, corpus: str, documents: list[dict], rows: list[dict],
               evidence_path: Path, evidence_sha256: str, scores: dict | None) -> str:
    """Record the run; returns what it changed in the stored predictions, in words."""
    with open_store() as store:
        return str(store.record_run(run_id, started_at, corpus, documents, rows, read_evidence(evidence_path), scores,
                                    digest=run_digest(documents, rows, evidence_sha256)))


@task(name="summary", cache_policy=NO_CACHE)
def summary_task(run_dir: Path, run_id: str, scores: dict | None, evidence_sha256: str, cache: WorkCache | None) -> bool:
    """report.html and summary.json over the final case table: this run's predictions with the curations.
    Returns whether the pages came from the cache (nothing they show has changed since they were rendered)."""
    with open_store() as store:
        version = store.table_version()
        key = cache.summary_key(version, evidence_sha256, scores) if cache is not None and version else None
        pages = cache.get(key) if key else None
        reused = pages is not None
        if not reused:
            from pipeline.report_html import render_summary  # the template engine loads only to render

            pages = render_summary(store.table(), read_evidence(run_dir / "evidence.jsonl"), scores)
            if key:
                cache.put(key, pages)
    pages.write(run_dir, run_id)
    return reused


@task(name="parse and extract", cache_policy=NO_CACHE)
def process_batch_task(entries: list[CorpusEntry], corpus: Path, all_patients: bool, cache: WorkCache | None):
    return stages.process_batch(entries, corpus, all_patients, cache)


@task(name="score", cache_policy=NO_CACHE)
def score_task(gold: Path, predicted: Path, evidence) -> dict:
    from pipeline.evaluation import evaluate  # pandas loads only for a scored run

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
              parallel: bool = False, use_cache: bool = True) -> RunSummary:
    """The main job. ``parallel`` maps the batches over the flow's task runner (see ``with_workers``).
    ``progress`` is a Callable[[str], None], typed Any: a deployment's run validates the parameters with a
    pydantic model, which cannot resolve that annotation."""
    say = progress or (lambda message: None)
    timings: dict[str, float] = {}
    run_id = new_run_id()
    run_dir = Path(out) / run_id
    run_started = datetime.now(timezone.utc)

    fetched = None
    if fetch:
        from pipeline.eutils import EutilsError

        started = time.perf_counter()
        try:
            fetched = fetch_task(Path(corpus), query, email=email)
            say(f"fetch: {fetched.new} new records, {fetched.full_texts} full texts, {len(fetched.failures)} batches "
                f"failed ({fetched.requests} requests)")
        except EutilsError as exc:  # the run goes on with what the cache already holds
            say(f"fetch failed: {exc}; going on with the cached corpus")
        timings["fetch"] = time.perf_counter() - started

    started = time.perf_counter()
    cache = WorkCache(settings().data_dir / "cache") if use_cache else None
    entries = corpus_entries(Path(corpus))
    if cache is not None:  # each file is read once for its hash, here; the hash travels with its entry
        entries = list(map(with_content_hash, entries))
    size = settings().batch_size
    batches = [entries[i:i + size] for i in range(0, len(entries), size)]
    say(f"parse and extract: {len(entries)} files from {corpus} in {len(batches)} batches")
    results, rows, reused = [], [], 0
    spool = EvidenceSpool(run_dir)
    case_ids = stages.CaseIdRegistry()

    def keep(batch_outcomes) -> None:  # only the small parts stay in memory; evidence goes to disk
        nonlocal reused
        for outcome in map(case_ids.unique, batch_outcomes):
            results.extend(outcome.results)
            rows.extend(map(_compact, outcome.rows))
            spool.write(outcome.evidence_text)
            reused += outcome.cached

    # A batch whose every file is cached is read here: as a task it would cost more in Prefect's bookkeeping
    # than the reading itself, and a re-run with nothing new is mostly such batches.
    new_work = [cache is None or not all(cache.is_extracted(entry, all_patients) for entry in batch)
                for batch in batches]
    try:
        if parallel and any(new_work):  # the flow's task runner (Dask) spreads the batches with new work
            futures = deque(process_batch_task.map([b for b, new in zip(batches, new_work) if new],
                                                   unmapped(Path(corpus)), unmapped(all_patients), unmapped(cache)))
        for number, (batch, new) in enumerate(zip(batches, new_work), start=1):
            if not new:
                keep(stages.process_batch(batch, Path(corpus), all_patients, cache))
            elif parallel:
                keep(futures.popleft().result())  # a batch kept is let go, here and on its worker
            else:
                keep(process_batch_task(batch, Path(corpus), all_patients, cache))
            say(f"  batch {number}/{len(batches)} done{'' if new else ' (cached)'}")
        spool.commit()
    except BaseException:
        spool.discard()
        raise
    documents = sum(1 for r in results if r.doc_id)
    failed = sum(1 for r in results if r.status == "failed")
    timings["parse+extract"] = time.perf_counter() - started
    say(f"parse and extract: {documents} documents, {failed} failed, {len(rows)} patients; {reused} of "
        f"{len(entries)} files unchanged and reused ({timings['parse+extract']:.1f} s)")

    scores = None
    if gold is not None:
        started = time.perf_counter()
        write_run(run_dir, rows, results, None, "")  # the scorer reads cases.csv; the report follows the scores
        scores = score_task(Path(gold), run_dir / "cases.csv", spool.lines())
        timings["score"] = time.perf_counter() - started
        say(f"score: micro F1 {scores['micro']['f1']:.3f} ({timings['score']:.1f} s)")
    started = time.perf_counter()
    write_run(run_dir, rows, results, scores, render_report(run_id, results, rows, scores, timings))
    timings["write"] = time.perf_counter() - started
    started = time.perf_counter()
    # quote(): Prefect would otherwise walk every value of these large lists looking for futures
    changed = store_task(run_id, run_started, str(corpus), quote([asdict(r) for r in results if r.doc_id]), quote(rows),
                         spool.path, spool.sha256, scores)
    timings["store"] = time.perf_counter() - started
    say(f"store: {changed}; curations kept ({timings['store']:.1f} s)")
    started = time.perf_counter()
    reused_pages = summary_task(run_dir, run_id, scores, spool.sha256, cache)
    timings["summary"] = time.perf_counter() - started
    say(f"summary: report.html and summary.json over the curated case table{', unchanged' if reused_pages else ''} "
        f"({timings['summary']:.1f} s)")
    started = time.perf_counter()
    publish_latest(run_dir, Path(out) / "latest")
    timings["publish"] = time.perf_counter() - started
    return RunSummary(run_id, run_dir, documents, failed, len(rows), scores, timings, fetched)


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
    runner = DaskTaskRunner(
        cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True, "dashboard_address": None})
    return pecrs_run.with_options(task_runner=runner)
