"""A living evidence base, cycle by cycle, against the E-utilities stand-in: new articles, a revised record, a
retracted one and a curation, each cycle's changes.json checked value by value, and the report's section."""

import csv
import json
import logging
import os
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from browser import CHROMIUM, CHROMIUM_ARGS, require_browser
from eutils_server import EutilsServer, FakeNcbi, Record
from pipeline.fetch.ncbi_cache import NcbiCache
from pipeline.report.changes import cycle_line
from pipeline.store import Store, models

EMAIL = "curator@example.org"
START = date(2026, 1, 5)  # the first cycle's day; then one a week, as `pecrs serve` runs by default
OKAFOR = ("A 45-year-old man with diffuse large B-cell lymphoma received axicabtagene ciloleucel. On day 2 he "
          "developed grade 4 cytokine release syndrome (ASTCT criteria) that did not respond to tocilizumab and "
          "dexamethasone. Therapeutic plasma exchange was started on day 4: three sessions, each exchanging {volume} "
          "against 5% albumin. Interleukin-6 fell from 4,800 pg/mL before the first exchange to 210 pg/mL after the "
          "third. The syndrome resolved and he was discharged alive on day 30.")
BERG = ("A 62-year-old woman with multiple myeloma was given ciltacabtagene autoleucel and developed grade 3 cytokine "
        "release syndrome on day 6. Two sessions of plasma exchange with fresh frozen plasma were performed from day "
        "8. Her interleukin-6 level went from 1,200 pg/mL to 150 pg/mL. She died of sepsis on day 40.")
NAVARRO = ("A 30-year-old man with B-cell acute lymphoblastic leukemia received tisagenlecleucel. Grade 4 cytokine "
           "release syndrome began on day 1 and was treated with plasmapheresis on day 3, one session replacing "
           "plasma with albumin. Interleukin-6 decreased from 9,000 pg/mL to 700 pg/mL and he recovered.")


class Calendar(date):
    """The fetch's "today", set by the test: the searches' date windows move as the weeks of the test do."""
    day = START

    @classmethod
    def today(cls) -> date:
        return cls.day


def week(n: int) -> date:
    return START + timedelta(days=7 * n)


@pytest.fixture(scope="module")
def weeks(tmp_path_factory):
    """Five weekly cycles of the scheduled job (fetch, parse, extract, write, record) against a stand-in NCBI, with a
    store and corpus of their own: (1) two case reports; (2) a curator accepts a value, a third report appears;
    (3) the first report's abstract is corrected; (4) the second is retracted; (5) nothing new. Gives each cycle's
    changes.json and the ids its efetches asked for, the store, the folder and the stand-in."""
    from pipeline.run.flows import CYCLE_LOG, pecrs_run
    from pipeline.settings import settings

    folder = tmp_path_factory.mktemp("living")
    fake = FakeNcbi(records=[Record("41000001", date(2025, 3, 1), abstract=OKAFOR.format(volume="3,000 mL")),
                             Record("41000002", date(2025, 4, 1), abstract=BERG)])
    store_url = f"sqlite:///{folder / 'store.db'}"
    changes, fetched, said = [], [], []
    heard = logging.Handler()
    heard.emit = lambda record: said.append(record.getMessage())
    CYCLE_LOG.addHandler(heard)
    with pytest.MonkeyPatch.context() as monkeypatch, EutilsServer(fake) as url:
        monkeypatch.setattr("pipeline.fetch.updates.date", Calendar)
        monkeypatch.setenv("PECRS_EUTILS_URL", url)
        monkeypatch.setenv("PECRS_DATABASE_URL", store_url)
        monkeypatch.setenv("NCBI_API_KEY", "test-key")  # 10 requests/s instead of 3: the rate is not under test here
        settings.cache_clear()
        store = Store(store_url)

        def cycle(day: date) -> None:
            Calendar.day = day
            fake.log.clear()
            summary = pecrs_run(corpus=folder / "corpus", gold=None, out=folder / "out", fetch=True,
                                query="plasma exchange AND CAR-T", email=EMAIL)
            written = json.loads((summary.run_dir / "changes.json").read_text(encoding="utf-8"))
            assert written == summary.changes and written["run"] == summary.run_id
            changes.append(written)
            fetched.append(sorted(fake.efetched("pubmed")))
            assert said[len(changes) - 1:] == [cycle_line(written)]  # one line a cycle, for `pecrs serve` to show

        cycle(week(0))
        okafor = case_of(store, "41000001")
        assert store.case(okafor).cells["pe_volume_ml"].predicted == "3000"
        store.decide(okafor, "pe_volume_ml", "accept", "Ana", why="read in the abstract")
        fake.records.append(Record("41000003", week(0) + timedelta(days=2), abstract=NAVARRO))
        cycle(week(1))
        fake.revise("41000001", week(1) + timedelta(days=2), abstract=OKAFOR.format(volume="2,000 mL"))
        cycle(week(2))
        fake.revise("41000002", week(2) + timedelta(days=3), abstract=BERG, retracted="J Gen Cases 2026;9:1")
        cycle(week(3))
        cycle(week(4))  # the windows of the searches no longer reach back to any change
    settings.cache_clear()
    CYCLE_LOG.removeHandler(heard)
    yield SimpleNamespace(changes=changes, fetched=fetched, store=store, folder=folder)
    store.close()


def case_of(store: Store, pmid: str) -> str:
    [case] = [row["case_id"] for row in store.table() if row["pmid"] == pmid]
    return case


@pytest.mark.browser
def test_the_report_shows_the_section_first(weeks):
    """The section as Chromium shows it, at the top of the page: the retraction, the patients left out.
    PECRS_SCREENSHOTS names a folder for a picture of it (the issue's note)."""
    fourth = weeks.changes[3]
    report, previous, folder = weeks.folder / "out" / fourth["run"] / "report.html", fourth["previous"], weeks.folder
    sync_playwright = require_browser()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(report.as_uri())
            section = page.locator("#changes")
            assert page.get_by_role("heading", name=f"What changed since run {previous}").is_visible()
            assert section.get_by_text("J Gen Cases 2026;9:1", exact=False).first.is_visible()
            assert page.locator("#left-out").is_visible()
            top = page.evaluate("document.querySelector('#changes').getBoundingClientRect().top")
            assert top < page.evaluate("document.querySelector('#cohort').getBoundingClientRect().top")
            shots = Path(os.environ.get("PECRS_SCREENSHOTS") or folder)
            section.screenshot(path=str(shots / "changes.png"))
            assert (shots / "changes.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        finally:
            browser.close()


def test_each_cycle_says_what_changed(weeks):
    store, folder = weeks.store, weeks.folder
    first, second, third, fourth, fifth = weeks.changes

    # 1. the first cycle: two articles, two patients, compared with an empty store
    assert first["previous"] is None and first["counts"]["documents_new"] == 2
    assert first["counts"]["patients_added"] == 2 and first["values"] == [] and first["fetched"]["new"] == 2
    okafor, berg = case_of(store, "41000001"), case_of(store, "41000002")
    assert {p["case_id"] for p in first["patients"]["added"]} == {okafor, berg}
    assert first["pooled"]["after"]["patients"] == 2

    # 2. a curator accepts the exchanged volume; a new article appears
    assert second["previous"] == first["run"]
    assert weeks.fetched[1] == ["41000003"]  # only the new record
    navarro = case_of(store, "41000003")
    assert [d["doc_id"] for d in second["documents"]["new"]] == ["doi:10.5555/generated.41000003"]
    assert [p["case_id"] for p in second["patients"]["added"]] == [navarro]
    assert second["values"] == [] and second["flagged"] == [] and second["documents"]["revised"] == []
    assert [(e["action"], e["case_id"], e["field"], e["value"], e["by"]) for e in second["curations"]] == \
        [("accept", okafor, "pe_volume_ml", "3000", "Ana")]
    assert (second["pooled"]["before"]["patients"], second["pooled"]["after"]["patients"]) == (2, 3)

    # 3. the abstract of the first article is corrected: 3,000 mL -> 2,000 mL
    assert weeks.fetched[2] == ["41000001"]  # exactly the revised record
    assert third["fetched"]["updated"] == 1 and third["fetched"]["revised"] == ["41000001"]
    versions = NcbiCache(folder / "corpus").pubmed_versions("41000001")
    assert len(versions) == 1 and "3,000 mL" in versions[0].read_text(encoding="utf-8")
    assert "2,000 mL" in (NcbiCache(folder / "corpus").pubmed_path("41000001")).read_text(encoding="utf-8")
    assert [d["doc_id"] for d in third["documents"]["revised"]] == ["doi:10.5555/generated.41000001"]
    assert third["patients"] == {"added": [], "dropped": []}
    [volume] = [v for v in third["values"] if v["field"] == "pe_volume_ml"]
    assert (volume["case_id"], volume["before"], volume["after"], volume["curated"], volume["flagged"]) == \
        (okafor, "3000", "2000", True, True)
    assert "3,000 mL" in volume["evidence_before"]["quote"] and "2,000 mL" in volume["evidence"]["quote"]
    assert [(c["case_id"], c["field"], c["curated_value"], c["predicted"]) for c in third["flagged"]] == \
        [(okafor, "pe_volume_ml", "3000", "2000")]
    row = next(r for r in store.table() if r["case_id"] == okafor)
    assert row["pe_volume_ml"] == "3000" and row["flagged_fields"] == "pe_volume_ml"  # the curator's value stands
    with store.sessions() as session:
        hashes = [d.content_hash for d in session.scalars(
            select(models.DocumentHistory).where(models.DocumentHistory.doc_id == "doi:10.5555/generated.41000001"))]
    assert len(hashes) == 1 and hashes[0] != store.document("doi:10.5555/generated.41000001").content_hash

    # 4. the second article is retracted
    assert weeks.fetched[3] == ["41000002"] and fourth["fetched"]["retracted"] == ["41000002"]
    [retracted] = fourth["documents"]["retracted"]
    assert retracted["doc_id"] == "doi:10.5555/generated.41000002" and "J Gen Cases 2026;9:1" in retracted["retracted"]
    assert store.document("doi:10.5555/generated.41000002").retracted == retracted["retracted"]
    run_dir = folder / "out" / fourth["run"]
    documents = {r["doc_id"]: r for r in csv.DictReader(open(run_dir / "documents.csv", encoding="utf-8"))}
    assert "Retracted Publication" in documents["doi:10.5555/generated.41000002"]["retracted"]
    assert documents["doi:10.5555/generated.41000001"]["retracted"] == ""
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["patients"] == 2 and berg not in summary["case_ids"]  # left out of the pooled answer ...
    assert [(item["doc_id"], item["case_ids"]) for item in summary["left_out"]] == \
        [("doi:10.5555/generated.41000002", [berg])]
    assert berg in {r["case_id"] for r in csv.DictReader(open(run_dir / "cases.csv", encoding="utf-8"))}  # ... not the table
    pooled = {row["figure"]: row for row in fourth["pooled_movement"]}
    assert (pooled["patients"]["before"], pooled["patients"]["after"]) == (3, 2)
    assert (pooled["patients left out (retracted articles)"]["after"], pooled["died"]["before"], pooled["died"]["after"]) \
        == (1, 1, 0)
    report = (run_dir / "report.html").read_text(encoding="utf-8")
    section = report[report.index('<section id="changes">'):report.index("</section>")]
    assert f"What changed since run {third['run']}" in section and "J Gen Cases 2026;9:1" in section
    assert 'id="left-out"' in report
    markdown = (run_dir / "report.md").read_text(encoding="utf-8")
    assert f"## What changed since run {third['run']}" in markdown and "- Articles: 0 new, 1 revised, 1 retracted." in markdown

    # 5. nothing new: the cycle says so
    assert fifth["changed"] is False and fifth["counts"] == dict.fromkeys(fifth["counts"], 0)
    assert cycle_line(third).endswith("patients +0 -0; values changed 1; cells flagged 1")
    assert cycle_line(third).startswith(f"changes since {second['run']}: fetched 0 new, 1 updated;")
    assert weeks.fetched[4] == []
    report = (folder / "out" / fifth["run"] / "report.html").read_text(encoding="utf-8")
    assert 'id="nothing-changed"' in report
