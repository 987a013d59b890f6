"""Revised records: a stored PubMed record or PMC full text that NCBI changed is fetched again (found by a search by
modification date, or by a full search), compared, and replaced with its earlier version kept. Time moves through
fetch_new's ``today``; every answer comes from the E-utilities stand-in on 127.0.0.1."""

import json
from datetime import date, timedelta

import pytest
from lxml import etree

from eutils_server import EutilsServer, FakeNcbi, Record, real_records
from pipeline.fetch import ncbi_cache
from pipeline.fetch.eutils import EutilsClient, EutilsConfig
from pipeline.fetch.ncbi_cache import NcbiCache
from pipeline.fetch.updates import OVERLAP_DAYS, fetch_new

EMAIL = "curator@example.org"
QUERY = "plasma exchange AND CAR-T"
FIRST_RUN = date(2024, 3, 1)
DOSED, FULL_TEXT, OTHER = "31000001", "31000002", "31000003"


def fetch(corpus, url: str, today: date, attempts: int = 3, **kwargs):
    # an API key raises the client's rate to 10 requests/s (the limit itself is tested in test_fetch.py)
    config = EutilsConfig(base_url=url, email=EMAIL, api_key="test-key", backoff_seconds=0.01,
                          backoff_max_seconds=0.05, attempts=attempts)
    with EutilsClient(config) as eutils:
        return fetch_new(corpus, eutils, QUERY, today=today, **kwargs)


def three_records() -> FakeNcbi:
    """Entered a month before the first run: later runs' searches by entry date find nothing."""
    return FakeNcbi(records=[
        Record(DOSED, date(2024, 2, 1), abstract="Plasma exchange of 3,000 mL was given."),
        Record(FULL_TEXT, date(2024, 2, 2), pmcid="PMC7000002"),
        Record(OTHER, date(2024, 2, 3))])


def day(offset: int) -> date:
    return FIRST_RUN + timedelta(days=offset)


def texts(paths) -> list[str]:
    return [path.read_text(encoding="utf-8") for path in paths]


def test_a_revised_record_is_fetched_again_and_its_earlier_version_kept(tmp_path):
    fake = three_records()
    cache = NcbiCache(tmp_path)
    with EutilsServer(fake) as url:
        assert fetch(tmp_path, url, FIRST_RUN).new == 3
        fake.log.clear()
        fake.revise(DOSED, on=day(4), abstract="Plasma exchange of 2,000 mL was given.")
        second = fetch(tmp_path, url, day(5))
        assert fake.efetched("pubmed") == [DOSED] and fake.efetched("pmc") == []
        assert (second.updated, second.revised, second.new, second.unchanged, second.skipped) == (1, [DOSED], 0, 0, 0)
        assert len(fake.log) == second.requests == 4  # 3 searches and the efetch
        current = cache.pubmed_path(DOSED)
        assert "2,000 mL" in current.read_text() and "3,000 mL" not in current.read_text()
        (first_version,) = cache.pubmed_versions(DOSED)
        assert first_version.name == "1.xml" and "3,000 mL" in first_version.read_text()

        fake.revise(DOSED, on=day(10), abstract="Plasma exchange of 1,500 mL was given.")
        third = fetch(tmp_path, url, day(11))
    assert third.revised == [DOSED] and "1,500 mL" in current.read_text()
    versions = cache.pubmed_versions(DOSED)
    assert [p.name for p in versions] == ["1.xml", "2.xml"]
    first, second = texts(versions)
    assert "3,000 mL" in first and "2,000 mL" in second
    # the versions are history: a run reads each article once, from its current file
    assert all("versions" not in path.parts for path in cache.documents()) and len(cache.documents()) == 3


def test_a_new_modification_date_with_the_same_content_writes_nothing(tmp_path):
    fake = three_records()
    cache = NcbiCache(tmp_path)
    with EutilsServer(fake) as url:
        fetch(tmp_path, url, FIRST_RUN)
        before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in cache.root.rglob("*.xml")}
        fake.log.clear()
        fake.touch(OTHER, on=day(4))
        summary = fetch(tmp_path, url, day(5))
    assert fake.efetched("pubmed") == [OTHER]
    assert (summary.unchanged, summary.updated, summary.revised, summary.new) == (1, 0, [], 0)
    assert cache.pubmed_versions(OTHER) == [] and not (cache.root / "versions").exists()
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in cache.root.rglob("*.xml")} == before


def test_a_revised_full_text_is_fetched_again_and_versioned(tmp_path):
    fake = three_records()
    fake.records[2].pmcid, fake.records[2].open_access = "PMC7000003", False  # withheld, for now
    cache = NcbiCache(tmp_path)
    with EutilsServer(fake) as url:
        assert fetch(tmp_path, url, FIRST_RUN).full_texts == 1
        fake.log.clear()
        fake.revise_pmc("PMC7000002", on=day(4))
        summary = fetch(tmp_path, url, day(5))
        # the revised one, after the withheld one asked again (a new full text, for PMC may yet release it)
        assert fake.efetched("pmc") == ["7000003", "7000002"] and fake.efetched("pubmed") == []
        assert (summary.updated, summary.revised, summary.full_texts, summary.unchanged) == (1, [FULL_TEXT], 0, 0)
        assert summary.not_open_access == 1  # the withheld one only: a stored one asked again is not counted
        (earlier,) = cache.pmc_versions("PMC7000002")
        assert "(revision 1)" in earlier.read_text() and "(revision 2)" in cache.pmc_path("PMC7000002").read_text()

        # the record and the full text of one article revised in one run: one article updated
        fake.revise(FULL_TEXT, on=day(8))
        fake.revise_pmc("PMC7000002", on=day(8))
        # and an article revised that gains its full text in the same run: one article updated too
        fake.records[2].open_access = True
        fake.revise(OTHER, on=day(8))
        both = fetch(tmp_path, url, day(9))
    assert (both.updated, both.revised, both.full_texts) == (2, [FULL_TEXT, OTHER], 1)
    assert len(cache.pmc_versions("PMC7000002")) == 2 and len(cache.pubmed_versions(FULL_TEXT)) == 1
    assert cache.has_pmc("PMC7000003") and cache.pmc_versions("PMC7000003") == []


def test_full_compares_every_stored_record_and_catches_a_revision_without_a_new_date(tmp_path):
    fake = three_records()
    cache = NcbiCache(tmp_path)
    with EutilsServer(fake) as url:
        fetch(tmp_path, url, FIRST_RUN)
        # revised, but its modification date is not one a search of the last days sees
        fake.revise(DOSED, on=date(2024, 2, 1), abstract="Plasma exchange of 2,000 mL was given.")
        missed = fetch(tmp_path, url, day(5))
        assert (missed.revised, missed.unchanged) == ([], 0) and "3,000 mL" in cache.pubmed_path(DOSED).read_text()
        fake.log.clear()
        full = fetch(tmp_path, url, day(6), full=True)
    assert [r.params.get("datetype") for r in fake.log if r.utility == "esearch"] == [None]  # one search, no window
    assert sorted(fake.efetched("pubmed")) == [DOSED, FULL_TEXT, OTHER] and fake.efetched("pmc") == ["7000002"]
    assert (full.revised, full.updated, full.unchanged, full.skipped, full.new) == ([DOSED], 1, 3, 0, 0)
    assert "2,000 mL" in cache.pubmed_path(DOSED).read_text() and len(cache.pubmed_versions(DOSED)) == 1


def test_a_record_that_becomes_retracted_is_reported_and_kept_in_the_state(tmp_path):
    fake = three_records()
    with EutilsServer(fake) as url:
        assert fetch(tmp_path, url, FIRST_RUN).retracted == []
        fake.revise(OTHER, on=day(4), retracted="Blood 2024;143:100")
        summary = fetch(tmp_path, url, day(5))
        assert (summary.retracted, summary.revised) == ([OTHER], [OTHER])
        assert NcbiCache(tmp_path).retractions() == {OTHER: "Retracted Publication; retracted in Blood 2024;143:100 "
                                                            "(PMID 91000003)"}
        # the same again is no news; a record revised not to be retracted any more leaves the state
        fake.touch(OTHER, on=day(8))
        assert fetch(tmp_path, url, day(9)).retracted == []
        fake.revise(OTHER, on=day(12), retracted="")
        cleared = fetch(tmp_path, url, day(13))
    assert cleared.retracted == [] and cleared.revised == [OTHER] and NcbiCache(tmp_path).retractions() == {}


def test_a_fetch_state_written_before_retractions_loads(tmp_path):
    cache = NcbiCache(tmp_path)
    cache.root.mkdir(parents=True)
    cache.state_path.write_text(json.dumps({"query": QUERY, "last_entry_date": "2024-03-01", "pmcids": {"123": ""},
                                            "linked": [], "not_open_access": {}, "version": 1}))
    assert cache.load_state().retracted == {} and cache.retractions() == {}


@pytest.mark.shared
def test_a_real_recorded_record_revised_with_new_bytes_is_versioned(shared, tmp_path):
    records = real_records(shared / "data/ncbi")
    fake = FakeNcbi(records=records)
    record = next(r for r in records if r.pmid == "27797938")
    original = record.xml
    cache = NcbiCache(tmp_path)
    with EutilsServer(fake) as url:
        assert fetch(tmp_path, url, FIRST_RUN).new == len(records)
        fake.revise(record.pmid, on=day(4), xml=original.replace(b"<ArticleTitle>", b"<ArticleTitle>[Corrected] ", 1))
        summary = fetch(tmp_path, url, day(5))
    assert (summary.revised, summary.updated) == ([record.pmid], 1)
    assert "[Corrected] Leucocyte telomere length" in cache.pubmed_path(record.pmid).read_text(encoding="utf-8")
    (earlier,) = cache.pubmed_versions(record.pmid)
    kept = etree.parse(str(earlier)).getroot()[0]
    assert etree.tostring(kept, method="c14n") == etree.tostring(etree.fromstring(original), method="c14n")


@pytest.mark.parametrize("db", ["pubmed", "pmc"])
def test_a_failing_search_by_modification_date_is_reported_and_its_days_searched_again(tmp_path, db):
    fake = three_records()
    cache = NcbiCache(tmp_path)
    with EutilsServer(fake) as url:
        fetch(tmp_path, url, FIRST_RUN)
        if db == "pubmed":
            fake.revise(DOSED, on=day(4), abstract="Plasma exchange of 2,000 mL was given.")
        else:
            fake.revise_pmc("PMC7000002", on=day(4))
        fake.broken_searches = {(db, "mdat")}
        failed = fetch(tmp_path, url, day(5), attempts=2)
        assert len(failed.failures) == 1 and failed.failures[0].startswith(
            f"{'PubMed' if db == 'pubmed' else 'PMC'} search by modification date: esearch: HTTP 500")
        assert failed.revised == [] and cache.load_state().last_entry_date == FIRST_RUN.isoformat()
        fake.broken_searches = set()
        later = fetch(tmp_path, url, day(20))
    # the window kept: the next run searches from the first run's date, and finds the revision
    assert later.since == (FIRST_RUN - timedelta(days=OVERLAP_DAYS)).isoformat()
    assert later.failures == [] and later.revised == [DOSED if db == "pubmed" else FULL_TEXT]
    assert cache.load_state().last_entry_date == day(20).isoformat()


class Killed(BaseException):
    """A kill, as the run sees it: nothing after it runs."""


def test_a_run_killed_between_keeping_the_version_and_replacing_the_record(tmp_path, monkeypatch):
    """The old record stays current, and the next run completes the revision without keeping the version twice."""
    fake = three_records()
    cache = NcbiCache(tmp_path)
    current = cache.pubmed_path(DOSED)
    write = ncbi_cache.atomic_write_bytes

    def killed_at_the_replace(path, data):
        if path == current:  # the earlier version is in the history by now
            monkeypatch.setattr(ncbi_cache, "atomic_write_bytes", write)
            raise Killed
        write(path, data)

    with EutilsServer(fake) as url:
        fetch(tmp_path, url, FIRST_RUN)
        old = current.read_bytes()
        fake.revise(DOSED, on=day(4), abstract="Plasma exchange of 2,000 mL was given.")
        monkeypatch.setattr(ncbi_cache, "atomic_write_bytes", killed_at_the_replace)
        with pytest.raises(Killed):
            fetch(tmp_path, url, day(5))
        assert current.read_bytes() == old and [p.read_bytes() for p in cache.pubmed_versions(DOSED)] == [old]
        assert ncbi_cache.atomic_write_bytes is write  # the kill happened
        summary = fetch(tmp_path, url, day(6))
    assert summary.revised == [DOSED] and "2,000 mL" in current.read_text()
    assert [p.read_bytes() for p in cache.pubmed_versions(DOSED)] == [old]  # not kept twice
