"""Fetching from an E-utilities server on 127.0.0.1: request counts and parameters, the rate limit,
faults, kills, and incremental runs."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import pytest
from lxml import etree

from eutils_server import EutilsServer, FakeNcbi, Faults, Record, real_records
from pipeline.fetch.eutils import EutilsClient, EutilsConfig, EutilsError
from pipeline.fetch.updates import NOT_OPEN_ACCESS_RUNS, fetch_new
from pipeline.fetch.ncbi_cache import NcbiCache
from pipeline.parsing import parse_file

ROOT = Path(__file__).resolve().parent.parent
EMAIL = "curator@example.org"


def client(url: str, **overrides) -> EutilsClient:
    settings = {"base_url": url, "email": EMAIL, "backoff_seconds": 0.05, "backoff_max_seconds": 0.5, "timeout": 5.0}
    settings.update(overrides)
    return EutilsClient(EutilsConfig(**settings))


CLIENT_SETTINGS = ("timeout", "attempts", "api_key", "deadline", "max_response_bytes", "max_search_ids")


def fetch(corpus: Path, url: str, released: list[float] | None = None, **kwargs):
    """``released``, when given, receives the times at which the client's rate limiter let each request go."""
    with client(url, **{k: kwargs.pop(k) for k in list(kwargs) if k in CLIENT_SETTINGS}) as eutils:
        if released is not None:
            eutils.limiter = ReleaseLog(eutils.limiter, released)
        return fetch_new(corpus, eutils, "plasma exchange AND CAR-T", **kwargs)


class ReleaseLog:
    """A rate limiter that notes when it lets a request go. The limit is checked on these times, the client's
    own, not on when requests reach the test server: on a busy machine, requests sent a third of a second apart
    can arrive together."""

    def __init__(self, limiter, released: list[float]):
        self._limiter, self._released = limiter, released

    def try_acquire(self, *args, **kwargs):
        acquired = self._limiter.try_acquire(*args, **kwargs)
        self._released.append(time.monotonic())
        return acquired


def most_in_one_second(times: list[float]) -> int:
    times = sorted(times)
    return max((sum(1 for u in times[i:] if u < t + 1.0) for i, t in enumerate(times)), default=0)


def ends(work, safety_seconds: float = 120.0):
    """``work()``'s result; fails the test if it is still running after ``safety_seconds`` (a net, not a measure)."""
    outcome = {}

    def run() -> None:
        try:
            outcome["result"] = work()
        except BaseException as exc:  # handed to the test
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(safety_seconds)
    assert not thread.is_alive(), f"still running after {safety_seconds:g} s"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def stored(corpus: Path, kind: str) -> dict[str, Path]:
    folder = NcbiCache(corpus).root / kind
    return {p.stem: p for p in folder.glob("*.xml")} if folder.is_dir() else {}


def assert_all_well_formed(corpus: Path) -> None:
    for path in NcbiCache(corpus).root.rglob("*.xml"):
        root = etree.parse(str(path)).getroot()
        assert len(root) == 1, path
    assert not list(NcbiCache(corpus).root.rglob("*.tmp"))


def test_a_first_run_stores_every_record_and_full_text_in_few_requests(tmp_path):
    fake = FakeNcbi.generated(1000)
    released: list[float] = []
    with EutilsServer(fake) as url:
        summary = fetch(tmp_path, url, released=released)
    records, full_texts = stored(tmp_path, "pubmed"), stored(tmp_path, "pmc")
    assert len(records) == 1000 and set(records) == {r.pmid for r in fake.records}
    assert len(full_texts) == 200 == sum(1 for r in fake.records if r.pmcid and r.open_access)
    assert (summary.new, summary.full_texts, summary.failed, summary.failures) == (1000, 200, 0, [])
    assert summary.not_open_access == sum(1 for r in fake.records if r.pmcid and not r.open_access) > 0
    assert len(fake.log) == summary.requests <= 15
    for request in fake.log:
        assert request.params["tool"] == ["pecrs"] and request.params["email"] == [EMAIL]
    search = [r for r in fake.log if r.utility == "esearch"]
    assert len(search) == 1 and search[0].params["usehistory"] == ["y"] and search[0].params["db"] == ["pubmed"]
    pubmed = [r for r in fake.log if r.utility == "efetch" and r.params["db"] == ["pubmed"]]
    assert len(pubmed) == 5 and all(r.params["WebEnv"] and r.params["retmax"] == ["200"] for r in pubmed)
    pmc = [r for r in fake.log if r.utility == "efetch" and r.params["db"] == ["pmc"]]
    assert all(len(r.params["id"][0].split(",")) <= 100 for r in pmc)
    links = [r for r in fake.log if r.utility == "elink"]
    # elink only for records that carry no PMC id, an id parameter each, POSTed
    assert sum(len(r.params["id"]) for r in links) == sum(1 for r in fake.records if not (r.pmcid and r.pmcid_in_record))
    assert all(r.method == "POST" and len(r.params["id"]) <= 200 for r in links)
    assert len(released) == len(fake.log) and most_in_one_second(released) <= 3
    assert_all_well_formed(tmp_path)
    # a PMC id in a reference list is not the article's
    assert "PMC1" not in NcbiCache(tmp_path).load_state().pmcids.values()


def test_runs_after_the_first_fetch_only_what_is_new(tmp_path):
    fake = FakeNcbi.generated(1000)
    with EutilsServer(fake) as url:
        fetch(tmp_path, url)
        before = {p: p.stat().st_mtime_ns for p in NcbiCache(tmp_path).root.rglob("*.xml")}
        fake.log.clear()
        second = fetch(tmp_path, url)
        # nothing new, nothing modified: 3 searches (edat, mdat PubMed, mdat PMC) where there was 1, and PMC is asked
        # again for the full texts it withheld (until NOT_OPEN_ACCESS_RUNS)
        asked = [(r.utility, r.params["db"][0], r.params.get("datetype", [""])[0]) for r in fake.log]
        assert asked == [("esearch", "pubmed", "edat"), ("esearch", "pubmed", "mdat"), ("esearch", "pmc", "mdat"),
                         ("efetch", "pmc", "")], "an incremental run with nothing new: edat, mdat PubMed, mdat PMC"
        assert second.requests == 4
        assert (second.new, second.full_texts, second.updated, second.unchanged) == (0, 0, 0, 0)
        assert {p: p.stat().st_mtime_ns for p in NcbiCache(tmp_path).root.rglob("*.xml")} == before
        assert all(r.params["mindate"] == fake.log[0].params["mindate"] and r.params["maxdate"] for r in fake.log[:3])

        added = fake.add_records(50, date.today(), start_pmid=40000000)
        third = fetch(tmp_path, url)
    records = stored(tmp_path, "pubmed")
    assert third.new == 50 and set(records) - set(p.stem for p in before) == set(added)
    assert len(records) == 1050


def test_withheld_full_texts_are_given_up_after_a_few_runs(tmp_path):
    fake = FakeNcbi.generated(100)
    withheld = {r.pmcid for r in fake.records if r.pmcid and not r.open_access}
    with EutilsServer(fake) as url:
        for _ in range(NOT_OPEN_ACCESS_RUNS + 1):
            fake.log.clear()
            fetch(tmp_path, url)
        asked = [i for r in fake.log if r.utility == "efetch" and r.params["db"] == ["pmc"] for i in r.params["id"][0].split(",")]
    state = NcbiCache(tmp_path).load_state()
    assert withheld and all(state.not_open_access[p] == NOT_OPEN_ACCESS_RUNS for p in withheld)
    assert not asked  # the last run asks PMC nothing


def test_every_fault_is_survived_and_nothing_stored_is_broken(tmp_path):
    fake = FakeNcbi.generated(1000, faults=Faults(too_many=7, server_error=11, truncated=13))
    released: list[float] = []
    with EutilsServer(fake) as url:
        summary = fetch(tmp_path, url, released=released)
    assert summary.failures == [] and len(stored(tmp_path, "pubmed")) == 1000 and len(stored(tmp_path, "pmc")) == 200
    assert summary.retries >= 3 and {429, 500} <= {r.status for r in fake.log}
    assert_all_well_formed(tmp_path)
    # Retry-After is honoured: the request after a 429 comes a second or more later
    for before, after in zip(fake.log, fake.log[1:]):
        if before.status == 429:
            assert after.at - before.at >= 0.95
    assert len(released) == len(fake.log) and most_in_one_second(released) <= 3


def test_timeouts_resets_and_html_pages_are_retried(tmp_path):
    fake = FakeNcbi.generated(60, faults=Faults(timeout=3, reset=4, html=5, timeout_seconds=1.5))
    with EutilsServer(fake) as url:
        summary = fetch(tmp_path, url, timeout=0.5)
    assert summary.failures == [] and len(stored(tmp_path, "pubmed")) == 60
    assert_all_well_formed(tmp_path)


def test_a_failing_batch_is_reported_and_fetched_on_the_next_run(tmp_path):
    fake = FakeNcbi.generated(450)
    # the second of three batches always fails
    fake.broken_ids = {fake.records[300].pmid}
    with EutilsServer(fake) as url:
        first = fetch(tmp_path, url, attempts=2)
        assert first.failed == 200 and len(first.failures) == 1 and "PubMed records" in first.failures[0]
        assert len(stored(tmp_path, "pubmed")) == 250
        fake.broken_ids = set()
        second = fetch(tmp_path, url)
    assert second.new == 200 and len(stored(tmp_path, "pubmed")) == 450


def test_a_killed_fetch_leaves_whole_files_and_resumes(tmp_path):
    fake = FakeNcbi.generated(1000)
    with EutilsServer(fake) as url:
        script = (
            "import sys; sys.path[:0] = [sys.argv[1], sys.argv[2]]\n"
            "from pipeline.fetch.eutils import EutilsClient, EutilsConfig\n"
            "from pipeline.fetch.updates import fetch_new\n"
            f"fetch_new(sys.argv[3], EutilsClient(EutilsConfig(base_url={url!r}, email={EMAIL!r})), 'q')\n")
        process = subprocess.Popen([sys.executable, "-c", script, str(ROOT), str(ROOT / "tests"), str(tmp_path)])
        pubmed = NcbiCache(tmp_path).pubmed_dir
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(list(pubmed.glob("*.xml"))) < 300:
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait()
        partial = len(list(pubmed.glob("*.xml")))
        assert 0 < partial < 1000
        for path in pubmed.glob("*.xml"):
            etree.parse(str(path))
        summary = fetch(tmp_path, url)
    assert len(stored(tmp_path, "pubmed")) == 1000 and len(stored(tmp_path, "pmc")) == 200
    assert summary.new == 1000 - partial


@pytest.mark.shared
def test_real_recorded_records_and_full_text(shared, tmp_path):
    ncbi = shared / "data/ncbi"
    records = real_records(ncbi)
    fake = FakeNcbi(records=records + FakeNcbi.generated(1, start_pmid=34527728).records)
    fake.records[-1].pmcid = "PMC8435807"
    article = etree.parse(str(ncbi / "efetch_pmc.xml")).getroot()[0]
    article.tail = None
    fake.pmc_articles["PMC8435807"] = etree.tostring(article)
    with EutilsServer(fake) as url:
        summary = fetch(tmp_path, url)
    assert summary.new == len(records) + 1 == 9
    documents = [d for path in NcbiCache(tmp_path).documents() for d in parse_file(path)]
    titles = {d.pmid: d.title for d in documents}
    assert titles["27797938"].startswith("Leucocyte telomere length, genetic variants at the TERT gene region")
    full_text = next(d for d in documents if d.format == "jats-xml")
    assert full_text.doi == "10.1183/23120541.50193-2021" and full_text.pmid == "34527728"
    # the real records with PMC ids that PMC does not serve are noted as withheld
    assert summary.not_open_access == sum(1 for r in records if r.pmcid) == 4


@pytest.mark.shared
def test_recorded_answers_zero_hits_error_document_and_html_page(shared, tmp_path):
    ncbi = shared / "data/ncbi"
    fake = FakeNcbi(canned={"zero": (ncbi / "esearch8.xml").read_bytes(), "error": (ncbi / "esummary8.xml").read_bytes(),
                            "html": (ncbi / "pubmed3.html").read_bytes()})
    with EutilsServer(fake) as url, client(url, attempts=3) as eutils:
        assert eutils.esearch("pubmed", "zero").count == 0
        for term in ("error", "html"):
            with pytest.raises(EutilsError) as error:
                eutils.esearch("pubmed", term)
            assert "after 3 attempts" in str(error.value)
    assert len(fake.log) == 1 + 3 + 3


def test_ncbi_without_an_email_is_refused_and_a_key_raises_the_rate():
    with pytest.raises(EutilsError) as error:
        EutilsClient(EutilsConfig(email=""))
    assert "NCBI_EMAIL" in str(error.value)
    fake = FakeNcbi.generated(10)
    with EutilsServer(fake) as url, client(url, api_key="secret") as eutils:
        assert eutils.config.requests_per_second == 10
        started = time.monotonic()
        for _ in range(10):
            eutils.esearch("pubmed", "x", usehistory=False)
        assert time.monotonic() - started < 1.0
    assert all(r.params["api_key"] == ["secret"] for r in fake.log)


def test_since_full_and_a_changed_query_choose_the_search_window(tmp_path):
    fake = FakeNcbi.generated(20)
    with EutilsServer(fake) as url:
        fetch(tmp_path, url)
        fetch(tmp_path, url, since=date(2020, 1, 1))
        fetch(tmp_path, url, full=True)
        with client(url) as eutils:
            fetch_new(tmp_path, eutils, "another query")
    searches = [r.params for r in fake.log if r.utility == "esearch"]
    assert "mindate" not in searches[0] and searches[1]["mindate"] == ["2020/01/01"]
    assert "mindate" not in searches[2] and "mindate" not in searches[3]


def test_pecrs_fetch_command(tmp_path):
    fake = FakeNcbi.generated(30)
    with EutilsServer(fake) as url:
        env = {**os.environ, "PECRS_EUTILS_URL": url, "NCBI_EMAIL": EMAIL}
        shown = subprocess.run([sys.executable, "-m", "pipeline", "fetch", "--show-query"], capture_output=True,
                               text=True, cwd=ROOT, env=env)
        assert shown.returncode == 0 and '"Plasma Exchange"[Mesh]' in shown.stdout
        result = subprocess.run([sys.executable, "-m", "pipeline", "fetch", "--corpus", str(tmp_path)],
                                capture_output=True, text=True, cwd=ROOT, env=env)
    assert result.returncode == 0, result.stderr
    assert "30 new" in result.stdout and len(stored(tmp_path, "pubmed")) == 30


def test_a_run_can_start_with_a_fetch(tmp_path, monkeypatch):
    import csv

    from pipeline.run.flows import pecrs_run
    from pipeline.settings import settings

    fake = FakeNcbi.generated(12)
    with EutilsServer(fake) as url:
        monkeypatch.setenv("PECRS_EUTILS_URL", url)
        settings.cache_clear()  # importing the flows read the settings (the Prefect folder) before this variable
        summary = pecrs_run(corpus=tmp_path / "corpus", gold=None, out=tmp_path / "out", fetch=True,
                            query="plasma exchange", email=EMAIL)
    assert summary.fetched.new == 12 and summary.fetched.full_texts == 3
    rows = list(csv.DictReader(open(summary.run_dir / "documents.csv", encoding="utf-8")))
    # each article once: the 3 with full text as JATS, the 9 others as their PubMed record
    assert len(rows) == summary.documents == 12
    assert sorted(Path(r["file"]).parent.name for r in rows) == ["pmc"] * 3 + ["pubmed"] * 9


def test_search_ids_come_in_pages(tmp_path):
    fake = FakeNcbi.generated(20)
    with EutilsServer(fake) as url, client(url) as eutils:
        result = eutils.esearch("pubmed", "x", retmax=7)
    assert result.count == 20 and sorted(result.ids) == sorted(r.pmid for r in fake.records)
    assert [r.params.get("retstart") for r in fake.log] == [None, ["7"], ["14"]]
    assert [r.params.get("usehistory") for r in fake.log] == [["y"], None, None] and result.webenv == "MCID_00000001"


@pytest.mark.parametrize("drip_head", [False, True], ids=["body", "status line and headers"])
def test_an_answer_that_drips_fails_its_batch_at_the_deadline(tmp_path, drip_head):
    fake = FakeNcbi.generated(450, drip_head=drip_head)
    # the second of three batches is answered a byte at a time, each byte well within the read timeout
    fake.dripping_ids = {fake.records[300].pmid}
    with EutilsServer(fake) as url:
        summary = ends(lambda: fetch(tmp_path, url, attempts=2, deadline=3.0, timeout=5.0))
    assert summary.failed == 200 and len(summary.failures) == 1
    assert "PubMed records" in summary.failures[0] and "no whole answer within 3 s (after 2 attempts)" in summary.failures[0]
    assert len(stored(tmp_path, "pubmed")) == 250


def test_an_oversized_answer_is_refused_as_it_streams(tmp_path):
    limit, offered = 1024 * 1024, 200 * 1024 * 1024
    fake = FakeNcbi.generated(5, padding=offered)  # no Content-Length: only the bytes read show the size
    with EutilsServer(fake) as url, client(url, max_response_bytes=limit) as eutils:
        with pytest.raises(EutilsError) as error:
            ends(lambda: eutils.efetch("pubmed", [fake.records[0].pmid]))
        (answer,) = fake.log  # refused, not retried
        assert answer.done.wait(60)
    # what the server wrote before the client hung up: the limit, and what socket buffers took in meanwhile
    assert answer.sent < offered // 4
    assert f"over the limit of {limit:,} bytes" in str(error.value)


def test_a_search_whose_pages_repeat_ends_and_is_reported(tmp_path):
    fake = FakeNcbi.generated(20, endless_search=10**9)  # every page is the first, under a Count of a billion
    with EutilsServer(fake) as url:
        with client(url) as eutils:
            result = ends(lambda: eutils.esearch("pubmed", "x", retmax=7))
        assert len(result.ids) == len(set(result.ids)) == 7 and len(fake.log) == 2
        assert "repeated" in result.problem and "1,000,000,000" in result.problem
        fake.log.clear()
        summary = ends(lambda: fetch(tmp_path, url))
    # what the search gave is fetched; the search is reported, and searched again in full by the next run
    assert summary.new == 20 and len(stored(tmp_path, "pubmed")) == 20
    assert len(summary.failures) == 1 and summary.failures[0].startswith("PubMed search:")
    assert NcbiCache(tmp_path).load_state().last_entry_date == ""


def test_a_search_stops_at_the_most_ids_a_fetch_takes(tmp_path):
    fake = FakeNcbi.generated(50)
    with EutilsServer(fake) as url, client(url, max_search_ids=20) as eutils:
        result = eutils.esearch("pubmed", "x", retmax=7)
    assert len(result.ids) == 20 and len(fake.log) == 3 and "only the first 20" in result.problem


def test_ids_that_are_not_pmids_fail_only_their_records(tmp_path):
    fake = FakeNcbi.generated(30)
    fake.records += [Record("12ab", date(2024, 1, 1)), Record("../../etc", date(2024, 1, 2)),
                     Record("30000100", date(2024, 1, 3), pmcid="PMC1234567890123")]
    with EutilsServer(fake) as url:
        summary = ends(lambda: fetch(tmp_path, url))
    assert summary.new == 31 and summary.failed == 2 and len(stored(tmp_path, "pubmed")) == 31
    assert summary.failures == ["PubMed search: 2 ids that are not PMIDs: '../../etc', '12ab'",
                                "PMC links: 1 id that is not a PMCID: '1234567890123' for PMID 30000100"]
    state = NcbiCache(tmp_path).load_state()
    assert "12ab" not in state.pmcids and state.pmcids["30000100"] == ""
    cache_root = NcbiCache(tmp_path).root
    assert all(cache_root in path.parents for path in tmp_path.rglob("*") if path.is_file())


def test_a_fetch_state_with_ids_that_are_not_ids_loses_them(tmp_path):
    cache = NcbiCache(tmp_path)
    cache.root.mkdir(parents=True)
    cache.state_path.write_text(json.dumps({"query": "q", "pmcids": {"../x": "", "\u0663": "", "123": "PMC../y", "456": "PMC7"}}))
    assert cache.load_state().pmcids == {"123": "", "456": "PMC7"}


def test_a_bad_id_in_pecrs_fetch_fails_its_record_without_a_traceback(tmp_path):
    fake = FakeNcbi.generated(5)
    fake.records.append(Record("../../etc", date(2024, 1, 1)))
    with EutilsServer(fake) as url:
        env = {**os.environ, "PECRS_EUTILS_URL": url, "NCBI_EMAIL": EMAIL, "COLUMNS": "200"}
        result = subprocess.run([sys.executable, "-m", "pipeline", "fetch", "--corpus", str(tmp_path)],
                                capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "5 new" in result.stdout and "failed: PubMed search: 1 id that is not a PMID: '../../etc'" in result.stderr
    assert len([r for r in fake.log if r.utility == "esearch"]) == 1  # not tried again by Prefect


@pytest.mark.parametrize("name, value", [("PECRS_EUTILS_TIMEOUT", "soon"), ("PECRS_EUTILS_ATTEMPTS", "2.5")])
def test_eutils_settings_that_are_not_numbers_are_one_line_errors(tmp_path, name, value):
    env = {**os.environ, "PECRS_EUTILS_URL": "http://127.0.0.1:9/", name: value, "COLUMNS": "200"}
    result = subprocess.run([sys.executable, "-m", "pipeline", "fetch", "--corpus", str(tmp_path)],
                            capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1 and lines[0].startswith(f"error: {name}={value!r}: expected ")


@pytest.mark.parametrize("name, value", [
    ("PECRS_EUTILS_TIMEOUT", "0"), ("PECRS_EUTILS_DEADLINE", "-1"), ("PECRS_EUTILS_DEADLINE", "inf"),
    ("PECRS_EUTILS_BACKOFF", "nan"), ("PECRS_EUTILS_ATTEMPTS", "0"), ("PECRS_EUTILS_MAX_BYTES", "200MB"),
    ("PECRS_EUTILS_MAX_IDS", "many")])
def test_eutils_settings_out_of_range_name_the_setting(monkeypatch, name, value):
    from pipeline.settings import ConfigError

    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as error:
        EutilsConfig.from_settings()
    assert str(error.value).startswith(f"{name}={value!r}: expected ")


def test_eutils_settings_from_the_environment(monkeypatch):
    for name, value in {"PECRS_EUTILS_TIMEOUT": "7.5", "PECRS_EUTILS_DEADLINE": "30", "PECRS_EUTILS_ATTEMPTS": "2",
                        "PECRS_EUTILS_BACKOFF": "0", "PECRS_EUTILS_MAX_BYTES": "1000", "PECRS_EUTILS_MAX_IDS": "500"}.items():
        monkeypatch.setenv(name, value)
    config = EutilsConfig.from_settings(email=EMAIL)
    assert (config.timeout, config.deadline, config.attempts, config.backoff_seconds, config.max_response_bytes,
            config.max_search_ids, config.email) == (7.5, 30.0, 2, 0.0, 1000, 500, EMAIL)
