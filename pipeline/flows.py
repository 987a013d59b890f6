"""The jobs as Prefect flows: fetch (PubMed and PMC), and the main run (fetch ->) parse -> extract -> score
-> write. Thin: the work is in pipeline.fetch and pipeline.stages."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Callable

from pipeline.prefect_setup import configure_prefect

configure_prefect()

from prefect import flow, task  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402

from pipeline import stages  # noqa: E402
from pipeline.corpus import corpus_entries  # noqa: E402
from pipeline.eutils import EutilsClient, EutilsConfig, EutilsError  # noqa: E402
from pipeline.evaluation import evaluate  # noqa: E402
from pipeline.fetch import FetchSummary, Progress as FetchProgress, fetch_new  # noqa: E402
from pipeline.outputs import publish_latest, write_run  # noqa: E402
from pipeline.report import render_report  # noqa: E402
from pipeline.store import open_store  # noqa: E402


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


Progress = Callable[[str], None]


@task(name="fetch", cache_policy=NO_CACHE)
def fetch_task(corpus: Path, query: str, since: date | None = None, full: bool = False, email: str | None = None,
               progress: FetchProgress | None = None) -> FetchSummary:
    with EutilsClient(EutilsConfig.from_env(email=email)) as client:
        return fetch_new(Path(corpus), client, query, since=since, full=full, progress=progress)


@flow(name="pecrs-fetch", log_prints=False)
def pecrs_fetch(corpus: Path, query: str, since: date | None = None, full: bool = False, email: str | None = None,
                progress: FetchProgress | None = None) -> FetchSummary:
    """Search PubMed, store the new records and their PMC Open Access full texts in the corpus cache."""
    return fetch_task(corpus, query, since, full, email, progress)


@task(name="store", cache_policy=NO_CACHE)
def store_task(run_id: str, started_at: datetime, corpus: str, documents: list[dict], rows: list[dict],
               evidence: list[dict], scores: dict | None) -> None:
    store = open_store()
    try:
        store.record_run(run_id, started_at, corpus, documents, rows, evidence, scores)
    finally:
        store.close()


@task(name="parse")
def parse_task(entries):
    return [stages.parse_entry(entry) for entry in entries]


@task(name="extract")
def extract_task(documents):
    return [stages.extract(document) for document in documents]


@task(name="score")
def score_task(gold: Path, predicted: Path, evidence: list[dict]) -> dict:
    return evaluate(gold, predicted, evidence)


def new_run_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")


@flow(name="pecrs-run", log_prints=False)
def pecrs_run(corpus: Path, gold: Path | None, out: Path, all_patients: bool = False,
              progress: Progress | None = None, fetch: bool = False, query: str = "", email: str | None = None) -> RunSummary:
    say = progress or (lambda message: None)
    timings: dict[str, float] = {}
    run_id = new_run_id()
    run_dir = Path(out) / run_id
    run_started = datetime.now(timezone.utc)

    fetched = None
    if fetch:
        started = time.perf_counter()
        try:
            fetched = fetch_task(Path(corpus), query, email=email)
            say(f"fetch: {fetched.new} new records, {fetched.full_texts} full texts, {len(fetched.failures)} batches "
                f"failed ({fetched.requests} requests)")
        except EutilsError as exc:  # the run goes on with what the cache already holds
            say(f"fetch failed: {exc}; going on with the cached corpus")
        timings["fetch"] = time.perf_counter() - started

    started = time.perf_counter()
    entries = corpus_entries(Path(corpus))
    say(f"parse: {len(entries)} files from {corpus}")
    parsed = parse_task(entries)
    documents = [d for item in parsed for d in item.documents]
    failed = sum(1 for item in parsed if item.error)
    timings["parse"] = time.perf_counter() - started
    say(f"parse: {len(documents)} documents, {failed} files failed ({timings['parse']:.1f} s)")

    started = time.perf_counter()
    say(f"extract: {len(documents)} documents")
    extractions = extract_task(documents)
    rows, evidence = stages.case_rows(extractions, all_patients)
    timings["extract"] = time.perf_counter() - started
    say(f"extract: {len(rows)} patients ({timings['extract']:.1f} s)")

    results = stages.document_results(parsed, extractions, Path(corpus))
    write_run(run_dir, rows, evidence, results, None, "")
    scores = None
    if gold is not None:
        started = time.perf_counter()
        scores = score_task(Path(gold), run_dir / "cases.csv", evidence)
        timings["score"] = time.perf_counter() - started
        say(f"score: micro F1 {scores['micro']['f1']:.3f} ({timings['score']:.1f} s)")
    write_run(run_dir, rows, evidence, results, scores, render_report(run_id, results, rows, scores, timings))
    publish_latest(run_dir, Path(out) / "latest")
    store_task(run_id, run_started, str(corpus), [asdict(r) for r in results if r.doc_id], rows, evidence, scores)
    say("store: predictions replaced; curations kept")
    return RunSummary(run_id, run_dir, len(documents), failed, len(rows), scores, timings, fetched)
