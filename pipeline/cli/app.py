"""The pecrs command line."""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Optional

import typer

from pipeline import __version__
from pipeline.cli import terminal
from pipeline.settings import ConfigError, settings
from pipeline.cli.long_lived import long_lived_imports
from pipeline.cli.curate import EXPORT_HELP, curate_app, export_table, gold_app
from pipeline.cli.progress import FetchProgressBar, say_progress
from pipeline.cli.terminal import fail, say_error

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="pecrs: plasma exchange for CRS after CAR-T, mined from the literature.")
console = terminal.console()
errors = terminal.console(stderr=True)


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"pecrs {__version__}\n")
        raise typer.Exit()


@app.callback()
def _options(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                          help="Print pecrs's version and stop.")) -> None:
    """pecrs: plasma exchange for CRS after CAR-T, mined from the literature."""


def _readable_file(path: Path, what: str) -> Path:
    if not path.exists():
        fail(f"{path}: {what} not found")
    if not path.is_file():
        fail(f"{path}: {what} is not a file")
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        fail(f"{path}: cannot read {what} ({exc.strerror})")
    return path


@app.command()
def run(
    corpus: Optional[Path] = typer.Option(None, help="Corpus folder with manifest.csv (default: the embedded corpus)."),
    gold: Optional[Path] = typer.Option(None, help="Gold case table to score against (default: gold/cases.csv)."),
    out: Optional[Path] = typer.Option(None, help="Outputs folder (default: outputs/)."),
    all_patients: bool = typer.Option(False, "--all-patients", help="Write every patient described, not only those given PE after CAR-T."),
    no_score: bool = typer.Option(False, "--no-score", help="Do not score against a gold table."),
    fetch_first: bool = typer.Option(False, "--fetch", help="First fetch what is new from PubMed and PMC into the corpus cache."),
    email: Optional[str] = typer.Option(None, help="Contact address sent to NCBI (default: $NCBI_EMAIL)."),
    workers: int = typer.Option(1, min=1, help="Parse and extract in parallel on a local Dask cluster of N processes."),
    dask_address: Optional[str] = typer.Option(None, help="Use an existing Dask scheduler, e.g. tcp://host:8786."),
    no_store: bool = typer.Option(False, "--no-store", help="A trial run: write the outputs, but do not record the run in the store (no curation applies)."),
) -> None:
    """Parse, extract and score the corpus; write cases, evidence, documents, scores and a report."""
    corpus = corpus or settings().corpus_dir
    out = out or settings().outputs_dir
    gold = None if no_score else (gold or settings().gold_path)
    if not corpus.is_dir():
        fail(f"{corpus}: corpus folder not found")
    if gold is not None:
        _readable_file(gold, "gold table")
    if fetch_first:
        _eutils_config(email)
    _check_inputs(corpus, gold, store=not no_store)
    from pipeline.run.corpus import corpus_entries

    if not fetch_first and not corpus_entries(corpus):
        fail(f"{corpus}: no documents found in the corpus folder; nothing was run or stored")
    from pipeline.run.prefect_server import ServerError, prefect_api

    try:
        with prefect_api():  # pecrs's shared Prefect server, started by the first command that needs it
            _run_flow(corpus, out, gold, all_patients, fetch_first, email, workers, dask_address, no_store)
    except ServerError as exc:
        fail(str(exc))


def _run_flow(corpus: Path, out: Path, gold: Path | None, all_patients: bool, fetch_first: bool, email: str | None,
              workers: int, dask_address: str | None, no_store: bool) -> None:
    with long_lived_imports():
        from pipeline.run.flows import RunRefused, files_to_process, with_workers
        from pipeline.run.run_folder import OutputsBusy

    if workers > 1 and not dask_address and not fetch_first and files_to_process(corpus, all_patients) == 0:
        # a local cluster costs its workers' start (each loads the pipeline), for nothing when all is cached
        say_progress(f"nothing new to parse or extract: no Dask cluster is started for {workers} workers")
        workers = 1
    run_flow = with_workers(workers, dask_address)
    try:
        summary = run_flow(corpus=corpus, gold=gold, out=out, all_patients=all_patients,
                           progress=say_progress,
                           fetch=fetch_first, query=settings().pubmed_query, email=email,
                           parallel=workers > 1 or bool(dask_address), record=not no_store)
    except (RunRefused, OutputsBusy) as exc:
        fail(str(exc))
    console.print(f"\n[bold]pecrs run {summary.run_id}[/bold]")
    console.print(f"documents: {summary.documents} ({summary.failed} files failed); patients: {summary.patients}; "
                  f"values refused: {summary.refused}{' (see warnings in documents.csv)' if summary.refused else ''}")
    if summary.scores:
        micro = summary.scores["micro"]
        console.print(f"micro P {micro['precision']:.3f}  R {micro['recall']:.3f}  F1 {micro['f1']:.3f}  "
                      f"(cases tp {summary.scores['cases']['tp']}, fp {summary.scores['cases']['fp']}, fn {summary.scores['cases']['fn']})")
    console.print(f"outputs: {summary.run_dir} and {Path(out) / 'latest'}")


def _check_inputs(corpus: Path, gold: Path | None, store: bool = True) -> None:
    """What would stop a run half-way, told before parsing starts: a manifest without its columns, a gold table
    that is not a case table, a store that cannot be opened."""
    from pipeline.run.corpus import ManifestError, check_manifest
    from pipeline.store import open_store

    try:
        check_manifest(corpus)
    except ManifestError as exc:
        fail(str(exc))
    if gold is not None:
        from pipeline.scoring.scoring import normalized_rows, read_case_table

        try:
            normalized_rows(read_case_table(gold), str(gold))
        except ValueError as exc:  # a bad column or value, or a file pandas cannot read
            fail(str(exc))
    if store:
        open_store().close()


def _eutils_config(email: str | None):
    from pipeline.fetch.eutils import EutilsConfig

    config = EutilsConfig.from_settings(email=email)
    if config.is_ncbi and not config.email:
        fail("NCBI asks every client for a contact address: set NCBI_EMAIL or pass --email")
    return config


@app.command()
def fetch(
    corpus: Optional[Path] = typer.Option(None, help="Corpus folder; records go to its cache/ncbi/ (default: the embedded corpus)."),
    since: Optional[datetime] = typer.Option(None, formats=["%Y-%m-%d"], help="Search from this entry date instead of the last one."),
    full: bool = typer.Option(False, "--full", help="Search the whole history of the query, not only what is new."),
    show_query: bool = typer.Option(False, "--show-query", help="Print the PubMed query and stop."),
    email: Optional[str] = typer.Option(None, help="Contact address sent to NCBI (default: $NCBI_EMAIL)."),
) -> None:
    """Fetch new PubMed records and PMC Open Access full texts into the corpus cache."""
    query = settings().pubmed_query
    if show_query:
        sys.stdout.write(query + "\n")
        return
    corpus = corpus or settings().corpus_dir
    if corpus.exists() and not corpus.is_dir():
        fail(f"{corpus}: corpus folder is not a folder")
    config = _eutils_config(email)
    from pipeline.fetch.eutils import EutilsError
    from pipeline.run.prefect_server import ServerError, prefect_api

    try:
        with prefect_api():  # pecrs's shared Prefect server, as for a run
            with long_lived_imports():
                from pipeline.run.flows import pecrs_fetch

            with FetchProgressBar(console) as progress:
                try:
                    summary = pecrs_fetch(corpus=corpus, query=query, since=since.date() if since else None,
                                          full=full, email=config.email, progress=progress)
                except EutilsError as exc:
                    fail(f"{config.base_url}: {exc}", code=1)
    except ServerError as exc:
        fail(str(exc))
    console.print(f"fetch: {summary.found} found, {summary.new} new, {summary.updated} updated, {summary.unchanged} "
                  f"fetched again unchanged, {summary.skipped} skipped, {summary.failed} failed; {summary.full_texts} "
                  f"full texts, {summary.not_open_access} not Open Access; {summary.requests} requests "
                  f"({summary.retries} retries) in {summary.seconds:.1f} s", highlight=False)
    for what, pmids in (("revised", summary.revised), ("now retracted", summary.retracted)):
        if pmids:
            console.print(terminal.text(f"{what}: PMID {', '.join(pmids[:20])}{' ...' if len(pmids) > 20 else ''}"),
                          highlight=False)
    for failure in summary.failures:
        errors.print(terminal.text(f"failed: {failure}", "yellow"), highlight=False)
    if summary.failures:
        raise typer.Exit(1)


app.add_typer(curate_app, name="curate")
app.add_typer(gold_app, name="gold")


@app.command("serve")
def serve_schedule(
    cron: str = typer.Option("0 3 * * 1", help="When to run, as a cron line (default: Mondays at 03:00)."),
    interval: Optional[int] = typer.Option(None, min=1, help="Run every N seconds instead of the cron schedule."),
    corpus: Optional[Path] = typer.Option(None, help="Corpus folder (default: the embedded corpus)."),
    out: Optional[Path] = typer.Option(None, help="Outputs folder (default: outputs/)."),
    gold: Optional[Path] = typer.Option(None, help="Gold table (default: gold/cases.csv)."),
    fetch_first: bool = typer.Option(True, "--fetch/--no-fetch", help="Fetch from PubMed and PMC before each run."),
    email: Optional[str] = typer.Option(None, help="Contact address sent to NCBI (default: $NCBI_EMAIL)."),
    name: str = typer.Option("scheduled", help="The deployment's name."),
) -> None:
    """Serve the main flow as a Prefect deployment on a schedule (Prefect's own scheduler) until interrupted."""
    corpus = corpus or settings().corpus_dir
    out = out or settings().outputs_dir
    gold = gold or settings().gold_path
    if not corpus.is_dir():
        fail(f"{corpus}: corpus folder not found")
    if fetch_first:
        email = _eutils_config(email).email
    _check_inputs(corpus, gold if gold.exists() else None)
    from pipeline.run.prefect_server import server_for_schedules

    schedule = f"every {interval} s" if interval else f"cron {cron!r}"
    # each cycle's line (pipeline.run.flows.CYCLE_LOG) on this console and with the flow run's logs on the server
    os.environ["PREFECT_LOGGING_EXTRA_LOGGERS"] = "pecrs"
    os.environ["PREFECT_LOGGING_TO_API_ENABLED"] = "true"
    with server_for_schedules() as api:
        with long_lived_imports():
            from pipeline.run.flows import pecrs_run

        console.print(f"serving pecrs-run/{name} ({schedule}) on the Prefect server at {api}; Ctrl+C stops", highlight=False)
        try:
            # limit=1: a run that comes due while the last one still runs waits for it (both would write one outputs
            # folder, which its lock gives to one run at a time: the other would fail)
            pecrs_run.serve(name=name, cron=None if interval else cron, interval=interval, print_starting_message=False,
                            limit=1,
                            parameters={"corpus": str(corpus), "out": str(out), "gold": str(gold) if gold.exists() else None,
                                        "fetch": fetch_first, "query": settings().pubmed_query, "email": email})
        except KeyboardInterrupt:
            console.print("stopped serving", highlight=False)


@app.command()
def runs(
    run_ids: Optional[list[str]] = typer.Argument(None, metavar="[RUN_A] [RUN_B]",
                                                 help="With --diff: the runs to compare (default: the latest and the run before it)."),
    limit: int = typer.Option(20, help="How many of the latest runs."),
    diff: bool = typer.Option(False, "--diff", help="What changed from RUN_A to RUN_B, as report.md tells it."),
    as_json: bool = typer.Option(False, "--json", help="With --diff: print changes.json's content instead."),
) -> None:
    """The runs recorded in the store: when, how many documents and cases, and their scores; with --diff, what
    changed between two of them."""
    from rich.table import Table

    from pipeline.store import open_store

    if diff:
        _diff_runs(run_ids or [], as_json)
        return
    if run_ids:
        fail("run ids are read only with --diff")
    with open_store(verify=True) as store:  # a listing that looks fine must not come from a damaged store
        recorded = store.runs(limit)
    table = Table("run", "started (UTC)", "finished (UTC)", "corpus", "outputs", "documents", "cases", "micro F1")
    for run in recorded:
        scores = json.loads(run.scores) if run.scores else None
        table.add_row(run.run_id, f"{run.started_at:%Y-%m-%d %H:%M:%S}", f"{run.finished_at:%Y-%m-%d %H:%M:%S}",
                      terminal.text(run.corpus), terminal.text(run.out_dir or "-"), str(run.documents), str(run.cases),
                      f"{scores['micro']['f1']:.3f}" if scores else "-")
    console.print(table)


def _diff_runs(run_ids: list[str], as_json: bool) -> None:
    from pipeline.report.changes import markdown_section, with_counts
    from pipeline.store import CurationError, open_store

    if len(run_ids) > 2:
        fail(f"--diff compares two runs; {len(run_ids)} were given")
    with open_store(verify=True) as store:
        if not run_ids:
            latest = store.latest_run()
            if latest is None:
                fail("no run is recorded in the store yet")
            after, before = latest.run_id, "previous"
        elif len(run_ids) == 1:  # the run given, against the one before it
            after, before = run_ids[0], "previous"
        else:
            before, after = run_ids
        try:
            changes = with_counts(store.changes(after, before))
        except CurationError as exc:
            fail(str(exc))
    if as_json:
        sys.stdout.write(json.dumps(changes, indent=1, ensure_ascii=False) + "\n")
        return
    sys.stdout.write(f"from {changes['previous'] or 'an empty store'} to {changes['run']}\n\n")
    sys.stdout.write("\n".join(markdown_section(changes)) + "\n")


@app.command("serve-ui")
def serve_ui(
    host: str = typer.Option("127.0.0.1", help="Address to listen on (default: this machine only; another needs --expose)."),
    port: int = typer.Option(8765, help="Port to listen on (0: one the system picks)."),
    expose: bool = typer.Option(False, "--expose", help="Allow a --host other machines can reach. The page has no login: "
                                                        "whoever reaches the port can read and curate."),
    allow_host: list[str] = typer.Option([], "--allow-host", help="Also answer requests addressed to this host name "
                                                                 "(e.g. a proxy's); repeatable."),
    database: Optional[str] = typer.Option(None, "--database", help="Store URL (default: $PECRS_DATABASE_URL or the data folder's pecrs.db)."),
) -> None:
    """The curators' web page: cases with their evidence, accept/correct/reject with a reason, undo, history, scores."""
    with long_lived_imports():
        from pipeline.store import open_store
        from pipeline.web import serve
        from pipeline.web.server import ServeError, check_database, listen

    try:
        check_database(database)
        listener = listen(host, port, expose, allow_host)
    except ServeError as exc:
        fail(str(exc))
    with listener.sock, open_store(database) as store:
        console.print(f"pecrs curation page on {listener.url}  (Ctrl+C to stop)", highlight=False, markup=False)
        if listener.exposed:
            errors.print(f"warning: {listener.warning()}", highlight=False, markup=False)
        serve(listener, store)


@app.command("export")
def export(file: Path = typer.Argument(..., help=EXPORT_HELP)) -> None:
    """The final case table (SCHEMA.md's columns): the latest predictions overlaid with the curations."""
    export_table(file)


@app.command()
def parse(file: Path = typer.Argument(..., help="A PubMed XML, JATS XML, PDF or text file."),
          as_json: bool = typer.Option(False, "--json", help="Print the whole document model as JSON.")) -> None:
    """Parse one file into the document model and print it."""
    from pipeline.parsing import ParseError, parse_file

    _readable_file(file, "file")
    try:
        documents = parse_file(file)
    except ParseError as exc:
        say_error(f"{exc.path}: {exc.reason}")
        raise typer.Exit(1)
    if as_json:
        payload = [d.model_dump() for d in documents]
        sys.stdout.write(json.dumps(payload if len(payload) > 1 else payload[0], ensure_ascii=False, indent=1) + "\n")
        return
    for d in documents:
        console.print(f"[bold]{d.doc_id}[/bold] ({d.format}) {d.title}", highlight=False)
        console.print(f"  {d.journal} {d.year or ''}; {len(d.sections)} sections, {len(d.paragraphs)} paragraphs, "
                      f"{len(d.sentences)} sentences, {len(d.tables)} tables", highlight=False)
        for section in d.sections:
            if section.title:
                console.print(f"  {'  ' * (section.level - 1)}- {section.title} [{section.kind}]", highlight=False)


@app.command()
def score(gold: Path = typer.Argument(..., help="Gold case table (CSV)."),
          predicted: Path = typer.Argument(..., help="Predicted case table (CSV)."),
          as_json: bool = typer.Option(False, "--json", help="Print the full score report as JSON.")) -> None:
    """Score a predicted case table against a gold one (SCHEMA.md's matching rules)."""
    from pipeline.scoring.scoring import score_files

    _readable_file(gold, "gold table")
    _readable_file(predicted, "predicted table")
    try:
        report = score_files(gold, predicted)
    except (ValueError, KeyError) as exc:
        fail(str(exc))
    if as_json:
        sys.stdout.write(json.dumps(report.as_dict(), indent=2) + "\n")
        return
    micro = report.micro
    console.print(f"micro P {micro.precision:.3f}  R {micro.recall:.3f}  F1 {micro.f1:.3f}  (tp {micro.tp}, fp {micro.fp}, fn {micro.fn})")
    console.print(f"cases tp {report.cases.tp}, fp {report.cases.fp}, fn {report.cases.fn}")
    for name, counts in report.fields.items():
        if counts.tp + counts.fp + counts.fn:
            console.print(f"  {name:20s} P {counts.precision:.3f}  R {counts.recall:.3f}  F1 {counts.f1:.3f}")


@app.command()
def doctor(full: bool = typer.Option(False, "--full", help="Also build the spaCy pipeline and run a Prefect flow "
                                                             "(10-20 s: it loads spaCy and Prefect).")) -> None:
    """Versions, the spaCy model in use, paths, the store, and pecrs's Prefect server; --full builds the pipeline
    and runs a flow."""
    import configparser
    import csv
    import platform
    from importlib.metadata import PackageNotFoundError, version

    from extractors.trained_model import trained_model_name

    console.print(f"pecrs {__version__}, Python {platform.python_version()}")
    for name in ("spacy", "scispacy", "medspacy", "prefect", "pandas", "lxml", "pdfplumber", "pint", "psycopg"):
        try:
            console.print(f"  {name} {version(name)}")
        except PackageNotFoundError:
            console.print(f"  {name} [red]not installed[/red]")
    console.print(f"spaCy model: {trained_model_name() or 'none installed; blank English + scispaCy tokenizer'}")
    if full:
        from extractors.nlp import pipeline_description

        console.print(f"pipeline: {pipeline_description()}")
    else:
        config = configparser.ConfigParser(interpolation=None)
        config.read(Path(__file__).resolve().parents[2] / "extractors" / "config.cfg", encoding="utf-8")
        components = json.loads(config["nlp"]["pipeline"])
        console.print(f"pipeline (extractors/config.cfg): {', '.join(components)}; --full builds it")
    s = settings()
    for label, path in (("corpus", s.corpus_dir), ("gold", s.gold_path), ("outputs", s.outputs_dir), ("data", s.data_dir)):
        console.print(f"{label}: {path} ({'present' if path.exists() else 'missing'})")
    if s.gold_path.exists():
        with open(s.gold_path, newline="", encoding="utf-8") as handle:
            gold_rows = sum(1 for _ in csv.DictReader(handle))
        sources, review = s.gold_path.with_name("sources.csv"), 0
        if sources.exists():
            with open(sources, newline="", encoding="utf-8") as handle:
                review = sum(1 for row in csv.DictReader(handle) if row.get("source") == "review-literature")
        console.print(f"gold cases: {gold_rows} ({review} of the review's 19 literature cases)")
    try:
        from pipeline.store import open_store

        with open_store() as store:
            views, run = store.cases(), store.latest_run()
        console.print(f"store: {store.url}; {len(views)} cases, {sum(v.curated for v in views)} curated cells, "
                      f"{sum(v.flagged for v in views)} flagged; latest run {run.run_id if run else 'none'}", highlight=False)
    except Exception as exc:  # a diagnosis reports, it does not crash
        console.print(f"store: [red]cannot open[/red] ({type(exc).__name__}: {exc})")
    _doctor_prefect(full)


def _doctor_prefect(full: bool) -> None:
    """Where runs report: PREFECT_API_URL, pecrs's shared server (running or not), or ephemeral servers; with
    ``full``, whether a flow runs there."""
    from pipeline.run.prefect_server import running_server

    if os.environ.get("PREFECT_API_URL"):
        console.print(f"prefect: runs report to {os.environ['PREFECT_API_URL']} (PREFECT_API_URL)", highlight=False)
    elif not settings().prefect_idle:
        console.print("prefect: each run starts Prefect's ephemeral server (PECRS_PREFECT_IDLE=0)")
    else:
        url = running_server()
        console.print(f"prefect: pecrs's shared server {'runs at ' + url if url else 'is not running (the next run starts it)'}; "
                      f"it stops after {settings().prefect_idle:g} s unused (PECRS_PREFECT_IDLE)", highlight=False)
    if not full:
        return
    try:
        from pipeline.run.prefect_server import prefect_api
        from pipeline.run.prefect_setup import configure_prefect

        with prefect_api():
            configure_prefect()
            from prefect import flow

            @flow(name="pecrs-doctor")
            def ping() -> str:
                return "ok"

            console.print(f"prefect: can run a flow ({ping()})")
    except Exception as exc:  # report, do not crash: this is a diagnosis
        console.print(f"prefect: [red]cannot run a flow[/red] ({type(exc).__name__}: {exc})")


def main() -> None:
    from sqlalchemy.exc import DatabaseError

    from pipeline.store import StoreError, store_failure

    try:
        app()
    except (ConfigError, StoreError) as exc:
        for line in str(exc).splitlines():  # a ConfigError has one per bad variable
            say_error(line)
        raise SystemExit(2) from None
    except DatabaseError as exc:  # a store damaged where opening it did not look
        say_error(str(store_failure(settings().store_url, exc)))
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
