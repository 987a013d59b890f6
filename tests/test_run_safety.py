"""Runs under real use: the same article in several files, an empty or another corpus folder, outputs that agree
with the store after curation, and runs killed between the store and the outputs."""

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.run import stages
from pipeline.run.collect import duplicate_winners
from pipeline.run.corpus import corpus_entries
from pipeline.run.stages import DocumentResult
from pipeline.store import Store
from pipeline.run.work_cache import WorkCache

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "corpus/docs"


def make_corpus(folder: Path, *names: str, copies: dict[str, str] | None = None) -> Path:
    docs = folder / "docs"
    docs.mkdir(parents=True)
    for name in names:
        shutil.copy(DOCS / name, docs / name)
    for name, source in (copies or {}).items():
        shutil.copy(DOCS / source, docs / name)
    return folder


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def store_url(tmp_path, monkeypatch) -> str:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    monkeypatch.setenv("PECRS_DATABASE_URL", url)
    return url


def run(corpus: Path, out: Path, **options):
    from pipeline.run.flows import pecrs_run

    return pecrs_run(corpus=corpus, gold=None, out=out, **options)


# -- 1. one document per article ---------------------------------------------------------------------------------

def result(doc_id: str, file: str, fmt: str, content_hash: str = "", **ids) -> DocumentResult:
    return DocumentResult(doc_id, file, fmt, "", "relevant", "", content_hash=content_hash, **ids)


def test_an_article_in_several_formats_is_read_once_full_text_first():
    record = result("pmid:111", "cache/pubmed/111.xml", "pubmed-xml", "a", pmid="111")
    pdf = result("doi:10.1/x", "docs/x.pdf", "pdf", "b", doi="10.1/X", pmid="111")
    jats = result("doi:10.1/x", "cache/pmc/PMC9.xml", "jats-xml", "c", doi="https://doi.org/10.1/x", pmcid="PMC9")
    other = result("doi:10.1/y", "docs/y.txt", "text", "d", doi="10.1/y")
    winners = duplicate_winners([[record], [pdf], [other], [jats]])
    assert winners == {(0, 0): jats, (1, 0): jats}  # linked through the PMID and the DOI; the JATS full text wins


def test_identical_files_are_one_article_and_the_first_in_corpus_order_is_read():
    first = result("file:a.txt", "docs/a.txt", "text", "same")
    second = result("file:b.txt", "docs/b.txt", "text", "same")
    assert duplicate_winners([[first], [second]]) == {(1, 0): first}
    # documents of one file that are not the same article are not duplicates of each other
    assert duplicate_winners([[result("pmid:1", "f.xml", "pubmed-xml", "h", pmid="1"),
                               result("pmid:2", "f.xml", "pubmed-xml", "h", pmid="2")]]) == {}


def test_two_files_of_the_same_bytes_never_share_a_doc_id_through_the_cache(tmp_path):
    corpus = make_corpus(tmp_path / "corpus", "authorea2023.txt")  # no DOI: its doc_id comes from the file name
    cache = WorkCache(tmp_path / "cache")
    stages.process_batch(corpus_entries(corpus), corpus, cache=cache)
    shutil.copy(corpus / "docs/authorea2023.txt", corpus / "docs/copy.txt")
    outcomes = stages.process_batch(corpus_entries(corpus), corpus, cache=cache)
    assert sorted(r.doc_id for o in outcomes for r in o.results) == ["file:authorea2023.txt", "file:copy.txt"]
    assert {row["doc_id"] for o in outcomes for row in o.rows} == {"file:authorea2023.txt", "file:copy.txt"}


@pytest.mark.slow
def test_duplicate_files_are_listed_and_the_run_is_recorded(tmp_path, store_url):
    corpus = make_corpus(tmp_path / "corpus", "xiao2019.jats.xml", "authorea2023.txt", "pereira2021.xml",
                         copies={"xiao_copy.jats.xml": "xiao2019.jats.xml", "authorea_again.txt": "authorea2023.txt"})
    summary = run(corpus, tmp_path / "out")
    latest = tmp_path / "out/latest"
    documents = {row["file"]: row for row in read_csv(latest / "documents.csv")}
    assert documents["docs/xiao_copy.jats.xml"]["status"] == "duplicate"
    assert documents["docs/xiao_copy.jats.xml"]["duplicate_of"] == "docs/xiao2019.jats.xml"
    assert documents["docs/authorea_again.txt"]["status"] == "duplicate"
    assert documents["docs/authorea_again.txt"]["duplicate_of"] == "docs/authorea2023.txt"
    assert documents["docs/xiao2019.jats.xml"]["status"] == "relevant"
    cases = read_csv(latest / "cases.csv")
    assert sorted(row["case_id"] for row in cases) == ["authorea2023-1", "pereira2021-1", "xiao2019-1"]
    assert summary.documents == 3
    with Store(store_url) as store:
        assert len(store.runs()) == 1 and store.document("doi:10.1158/1078-0432.ccr-18-1379").file == "docs/xiao2019.jats.xml"


@pytest.mark.slow
def test_two_articles_of_one_author_and_year_have_distinct_case_ids_in_cases_and_evidence(tmp_path, store_url):
    corpus = make_corpus(tmp_path / "corpus", "pereira2021.xml")
    # another article of Pereira's in 2021: its own PMID and DOI, the same first author and year
    text = (DOCS / "pereira2021.xml").read_text(encoding="utf-8")
    (corpus / "docs/pereira_second.xml").write_text(
        text.replace("99000201", "99000299").replace("pecrs.2021.0201", "pecrs.2021.0299"), encoding="utf-8")
    run(corpus, tmp_path / "out")
    latest = tmp_path / "out/latest"
    case_of = {row["case_id"]: row["doc_id"] for row in read_csv(latest / "cases.csv")}
    assert sorted(case_of) == ["pereira2021-1", "pereira2021b-1"] and len(set(case_of.values())) == 2
    for name in ("evidence.jsonl", "predicted_evidence.jsonl"):
        evidence = read_jsonl(latest / name)
        assert {line["case_id"] for line in evidence} == set(case_of), name
        assert all(case_of[line["case_id"]] == line["doc_id"] for line in evidence), name
        assert all(next(iter(line)) == "case_id" for line in evidence), name  # as the lines were first written


# -- 2. an empty or another corpus ---------------------------------------------------------------------------------

def pecrs(*args: str, env: dict) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "pipeline", *args], capture_output=True, text=True, cwd=ROOT,
                          env={**env, "COLUMNS": "1000"}, timeout=600)
    return done


@pytest.mark.slow
def test_an_empty_or_unreadable_corpus_is_refused_and_stores_nothing(tmp_path, store_url):
    import os

    corpus = make_corpus(tmp_path / "corpus", "pereira2021.xml")
    run(corpus, tmp_path / "out")
    env = {**os.environ, "PECRS_DATABASE_URL": store_url}
    (tmp_path / "empty").mkdir()
    done = pecrs("run", "--corpus", str(tmp_path / "empty"), "--out", str(tmp_path / "out"), "--no-score", env=env)
    assert done.returncode == 2 and "no documents found" in done.stderr and "Traceback" not in done.stderr
    junk = tmp_path / "junk"
    (junk / "docs").mkdir(parents=True)
    (junk / "docs/broken.xml").write_text("<PubmedArticleSet><PubmedArticle>", encoding="utf-8")
    done = pecrs("run", "--corpus", str(junk), "--out", str(tmp_path / "out"), "--no-score", env=env)
    assert done.returncode == 2 and "could be read as a document" in done.stderr, done.stderr[-2000:]
    with Store(store_url) as store:
        assert len(store.runs()) == 1 and [v.case_id for v in store.cases() if v.predicted] == ["pereira2021-1"]
    assert len([p for p in (tmp_path / "out").iterdir() if not p.name.startswith(".")]) == 2  # one run and latest


@pytest.mark.slow
def test_a_run_over_another_corpus_keeps_the_first_corpus_cases(tmp_path, store_url):
    first = make_corpus(tmp_path / "first", "pereira2021.xml", "xiao2019.jats.xml")
    second = make_corpus(tmp_path / "second", "authorea2023.txt")
    run(first, tmp_path / "out-first")
    run(second, tmp_path / "out-second")
    with Store(store_url) as store:
        found = {v.case_id for v in store.cases() if v.predicted}
        assert found == {"pereira2021-1", "xiao2019-1", "authorea2023-1"}
        assert [r["case_id"] for r in store.table(corpus=str(first.resolve()))] == ["pereira2021-1", "xiao2019-1"]
        runs = store.runs()
        assert [(r.corpus, r.out_dir) for r in runs] == [(str(second.resolve()), str((tmp_path / "out-second").resolve())),
                                                         (str(first.resolve()), str((tmp_path / "out-first").resolve()))]
    # the second corpus's outputs describe its own cases only
    assert [r["case_id"] for r in read_csv(tmp_path / "out-second/latest/cases.csv")] == ["authorea2023-1"]
    # a trial run is kept out of the store
    run(second, tmp_path / "trial", record=False)
    with Store(store_url) as store:
        assert len(store.runs()) == 2
    assert (tmp_path / "trial/latest/cases.csv").exists()


def test_runs_lists_each_runs_corpus_and_outputs(tmp_path, store_url):
    from typer.testing import CliRunner

    from pipeline.cli.app import app
    from datetime import datetime, timezone

    with Store(store_url) as store:
        now = datetime.now(timezone.utc)
        store.record_run("r1", now, "/data/corpus-a", [], [], [], None, digest="d1", out_dir="/data/out-a")
    listed = CliRunner().invoke(app, ["runs"], env={"COLUMNS": "300"})
    assert listed.exit_code == 0 and "/data/corpus-a" in listed.output and "/data/out-a" in listed.output


# -- 4. every file of a run folder describes the same table ---------------------------------------------------------

@pytest.mark.slow
def test_after_curation_every_output_shows_the_curated_table(tmp_path, store_url):
    corpus = make_corpus(tmp_path / "corpus", "pereira2021.xml", "xiao2019.jats.xml")
    run(corpus, tmp_path / "out")
    latest = tmp_path / "out/latest"
    predicted = {r["case_id"]: r for r in read_csv(latest / "cases.csv")}
    grade = predicted["pereira2021-1"]["crs_grade"]
    corrected = "2" if grade != "2" else "3"
    with Store(store_url) as store:
        store.decide("pereira2021-1", "crs_grade", "correct", "Ana", value=corrected, why="table 1 says so")
        store.decide("pereira2021-1", "pe_sessions", "reject", "Ana", why="counted twice")
        store.decide("xiao2019-1", "", "remove-case", "Ana", why="not in scope")
    run(corpus, tmp_path / "out")
    final = {r["case_id"]: r for r in read_csv(latest / "cases.csv")}
    assert set(final) == {"pereira2021-1"}
    assert final["pereira2021-1"]["crs_grade"] == corrected and final["pereira2021-1"]["pe_sessions"] == ""
    assert final["pereira2021-1"]["curated_fields"] == "crs_grade;pe_sessions"
    machine = {r["case_id"]: r for r in read_csv(latest / "predicted_cases.csv")}
    assert machine["pereira2021-1"]["crs_grade"] == grade and machine["pereira2021-1"]["pe_sessions"]
    assert set(machine) == {"pereira2021-1", "xiao2019-1"}
    evidence = read_jsonl(latest / "evidence.jsonl")
    assert {line["case_id"] for line in evidence} == {"pereira2021-1"}
    grades = [line for line in evidence if line["field"] == "crs_grade"]
    assert [(g["value"], g["source"], g["curation"]["by"]) for g in grades] == [(corrected, "curator", "Ana")]
    assert not [line for line in evidence if line["field"] == "pe_sessions"]
    assert any(line["field"] == "pe_sessions" for line in read_jsonl(latest / "predicted_evidence.jsonl"))
    summary = json.loads((latest / "summary.json").read_text(encoding="utf-8"))
    assert summary["patients"] == 1
    page = (latest / "report.html").read_text(encoding="utf-8")
    changes = slice(page.index('<section id="changes">'), page.index("</section>"))
    assert "xiao2019-1" not in page[:changes.start] + page[changes.stop:]
    assert "remove-case xiao2019-1" in page[changes]  # the decision, told among the changes since the last run


# -- 5. killed between the store and the outputs ---------------------------------------------------------------------

class Killed(BaseException):
    """The process dying at a step of the run."""


def run_killed_at(step: str, corpus: Path, out: Path, monkeypatch) -> None:
    """A run that dies as ``step`` (a task of pipeline.run.flows) starts."""
    import pipeline.run.flows as flows

    def die(*args, **kwargs):
        raise Killed()

    with monkeypatch.context() as patch:
        patch.setattr(getattr(flows, step), "fn", die)
        with pytest.raises(Killed):
            run(corpus, out)


@pytest.mark.slow
def test_a_run_killed_after_the_store_is_finished_and_published_by_the_next_start(tmp_path, store_url, monkeypatch):
    from pipeline.run.run_folder import recover

    corpus = make_corpus(tmp_path / "corpus", "pereira2021.xml")
    out = tmp_path / "out"
    first = run(corpus, out)
    run_killed_at("finish_task", corpus, out, monkeypatch)  # right after the store's commit
    with Store(store_url) as store:
        killed_run = store.latest_run().run_id
        assert killed_run != first.run_id and (out / "latest/RUN").read_text().strip() == first.run_id
        assert (out / f".{killed_run}.partial").is_dir()
        (out / f".{killed_run}.partial/.cases.csv.cut.tmp").write_text("case_id,do")  # a write the kill cut short
        done = recover(out, store)
    assert any(f"finished run {killed_run}" in line for line in done)
    assert (out / "latest/RUN").read_text().strip() == killed_run
    assert {"cases.csv", "evidence.jsonl", "report.html", "summary.json"} <= {p.name for p in (out / killed_run).iterdir()}
    assert not [p for p in out.iterdir() if p.name.endswith(".partial") or p.name.startswith(".latest.")]
    assert not list((out / killed_run).glob("*.tmp"))


@pytest.mark.slow
def test_a_run_killed_before_the_store_leaves_nothing_after_the_next_start(tmp_path, store_url, monkeypatch):
    from pipeline.run.run_folder import recover

    corpus = make_corpus(tmp_path / "corpus", "pereira2021.xml")
    out = tmp_path / "out"
    first = run(corpus, out)
    run_killed_at("store_task", corpus, out, monkeypatch)
    assert [p for p in out.iterdir() if p.name.endswith(".partial")]  # what the killed run left
    (out / ".latest.old.12345").mkdir()  # and a publishing leftover
    with Store(store_url) as store:
        assert store.latest_run().run_id == first.run_id
        recover(out, store)
    assert sorted(p.name for p in out.iterdir()) == sorted([".pecrs.lock", first.run_id, "latest"])
    assert (out / "latest/RUN").read_text().strip() == first.run_id


def test_a_pubmed_record_takes_its_own_ids_not_those_of_the_articles_it_cites(tmp_path):
    from pipeline.parsing import parse_file

    def record(pmid: str) -> str:
        return (f"<PubmedArticle><MedlineCitation><PMID>{pmid}</PMID><Article><ArticleTitle>Record {pmid}"
                f"</ArticleTitle></Article></MedlineCitation><PubmedData><ArticleIdList><ArticleId IdType=\"pubmed\">"
                f"{pmid}</ArticleId></ArticleIdList><ReferenceList><Reference><Citation>A cited article.</Citation>"
                f"<ArticleIdList><ArticleId IdType=\"pmc\">PMC1</ArticleId><ArticleId IdType=\"doi\">10.1/cited"
                f"</ArticleId></ArticleIdList></Reference></ReferenceList></PubmedData></PubmedArticle>")

    path = tmp_path / "records.xml"
    path.write_text(f"<PubmedArticleSet>{record('11')}{record('12')}</PubmedArticleSet>", encoding="utf-8")
    documents = parse_file(path)
    assert [(d.pmid, d.pmcid, d.doi) for d in documents] == [("11", None, None), ("12", None, None)]
    results = [result(d.doc_id, "records.xml", d.format, "h", pmid=d.pmid) for d in documents]
    assert duplicate_winners([results]) == {}


def test_a_manifest_saved_by_a_spreadsheet_and_a_row_without_a_file_are_read(tmp_path):
    corpus = make_corpus(tmp_path / "corpus", "pereira2021.xml")
    (corpus / "manifest.csv").write_bytes("\ufefffile,format\ndocs/pereira2021.xml,pubmed-xml\n,text\nshort\n"
                                          .encode("utf-8"))
    entries = corpus_entries(corpus)
    assert [(e.path.name, e.format, e.status) for e in entries][0] == ("pereira2021.xml", "pubmed-xml", "")
    assert [e.reason for e in entries if e.status] == ["line 3 of the manifest names no file",
                                                     "not found (listed in the manifest)"]


def test_a_second_run_into_the_same_outputs_folder_is_refused_while_one_writes(tmp_path, store_url):
    from pipeline.run.run_folder import OutputsBusy, outputs_lock

    corpus = make_corpus(tmp_path / "corpus", "pereira2021.xml")
    with outputs_lock(tmp_path / "out"):  # a run writing there
        with pytest.raises(OutputsBusy, match="another pecrs run"):
            run(corpus, tmp_path / "out")
    with Store(store_url) as store:
        assert store.runs() == []
