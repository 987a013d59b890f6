"""The stages the flow runs, on a small corpus with bad files among good ones."""

import re
import shutil
from pathlib import Path

from pipeline.run import stages
from pipeline.run.corpus import corpus_entries

ROOT = Path(__file__).resolve().parent.parent


def make_corpus(folder: Path) -> Path:
    docs = folder / "docs"
    docs.mkdir(parents=True)
    shutil.copy(ROOT / "corpus/docs/santos_multi2023.txt", docs)
    (docs / "broken.xml").write_text("<PubmedArticleSet><PubmedArticle>")
    (docs / "error.xml").write_text("<!DOCTYPE html><html><body>Service unavailable</body></html>")
    (docs / "scan.pdf").write_bytes(b"%PDF-1.4\nthis is not a PDF body")
    return folder


def test_failing_files_are_reported_and_do_not_stop_the_run(tmp_path):
    corpus = make_corpus(tmp_path)
    parsed = [stages.parse_entry(entry) for entry in corpus_entries(corpus)]
    documents = [d for item in parsed for d in item.documents]
    extractions = [stages.extract(d) for d in documents]
    results = {r.file: r for r in stages.document_results(parsed, extractions, corpus)}
    assert results["docs/santos_multi2023.txt"].status == "relevant"
    assert results["docs/santos_multi2023.txt"].patients_in_scope == 3
    assert results["docs/broken.xml"].status == "failed" and "malformed XML" in results["docs/broken.xml"].reason
    assert results["docs/error.xml"].reason == "not an NCBI XML response (an HTML page)"
    assert results["docs/scan.pdf"].status == "failed" and "PDF" in results["docs/scan.pdf"].reason


def test_all_patients_writes_every_patient_with_zero_sessions_where_no_exchange(tmp_path):
    corpus = make_corpus(tmp_path)
    documents = [d for e in corpus_entries(corpus) for d in stages.parse_entry(e).documents]
    extractions = [stages.extract(d) for d in documents]
    in_scope, _ = stages.case_rows(extractions)
    everyone, evidence = stages.case_rows(extractions, all_patients=True)
    assert [r["patient_label"] for r in in_scope] == ["Patient 1", "Patient 2", "Patient 4"]
    assert [r["patient_label"] for r in everyone] == ["Patient 1", "Patient 2", "Patient 3", "Patient 4"]
    third = everyone[2]
    assert third["pe_sessions"] == "0" and third["other_purification"] == "crrt;hemoadsorption"
    cited = {(line["case_id"], line["field"]) for line in evidence}
    assert (third["case_id"], "pe_sessions") in cited


def test_case_ids_stay_unique_across_articles_of_one_author_and_year():
    from pipeline.run.stages import CaseIdRegistry, FileOutcome

    def outcome(doc_id: str, *case_ids: str) -> FileOutcome:
        return FileOutcome([], [{"case_id": c, "doc_id": doc_id} for c in case_ids],
                           [{"case_id": c, "field": "sex"} for c in case_ids])

    registry = CaseIdRegistry()
    first = registry.unique(outcome("doi:a", "wang2021-1", "wang2021-2"))
    second = registry.unique(outcome("doi:b", "wang2021-1"))
    third = registry.unique(outcome("doi:c", "wang2021-1"))
    again = registry.unique(outcome("doi:b", "wang2021-1"))
    assert [r["case_id"] for r in first.rows] == ["wang2021-1", "wang2021-2"]
    assert [r["case_id"] for r in second.rows] == ["wang2021b-1"] and second.evidence[0]["case_id"] == "wang2021b-1"
    assert [r["case_id"] for r in third.rows] == ["wang2021c-1"] and [r["case_id"] for r in again.rows] == ["wang2021b-1"]


def test_renaming_a_case_renames_its_evidence_lines_and_only_theirs():
    from pipeline.run.stages import CaseIdRegistry, FileOutcome

    lines = [{"case_id": "li2020-1", "field": "sex", "quote": "a \u2028 separator, kept"},
             {"case_id": "li2020-10", "field": "age"},
             {"field": "outcome", "case_id": "li2020-1"}]
    registry = CaseIdRegistry()
    registry.unique(FileOutcome([], [{"case_id": "li2020-1", "doc_id": "doi:a"}], []))
    renamed = registry.unique(FileOutcome([], [{"case_id": "li2020-1", "doc_id": "doi:b"},
                                               {"case_id": "li2020-10", "doc_id": "doi:b"}], lines))
    assert [line["case_id"] for line in renamed.evidence] == ["li2020b-1", "li2020-10", "li2020b-1"]
    assert [list(line) for line in renamed.evidence] == [list(line) for line in lines]  # each key in its place
    assert renamed.evidence[0]["quote"] == lines[0]["quote"] and lines[0]["case_id"] == "li2020-1"  # a copy


def test_case_id_suffixes_stay_letters_past_z():
    from pipeline.run.stages import CaseIdRegistry, FileOutcome

    registry = CaseIdRegistry()
    ids = [registry.unique(FileOutcome([], [{"case_id": "zhang2021-1", "doc_id": f"doi:{n}"}], [])).rows[0]["case_id"]
           for n in range(60)]
    assert len(set(ids)) == 60 and all(re.fullmatch(r"zhang2021[a-z]*-1", i) for i in ids)
    assert ids[:2] == ["zhang2021-1", "zhang2021b-1"] and ids[25:28] == ["zhang2021z-1", "zhang2021aa-1", "zhang2021ab-1"]


def test_evidence_records_become_one_json_line_each_where_the_run_writes_them(tmp_path):
    import hashlib

    from pipeline.outputs.writer import EvidenceSpool, read_evidence

    lines = [{"case_id": "li2020-1", "quote": "a \u2028 separator, a\nnewline and caf\u00e9, kept"},
             {"case_id": "li2020-2", "field": "sex"}]
    spool = EvidenceSpool(tmp_path / "evidence.jsonl")
    spool.write(iter(lines))  # an iterable, written as it comes
    spool.commit()
    data = (tmp_path / "evidence.jsonl").read_bytes()
    assert data.count(b"\n") == len(lines)  # the newline within the quote is escaped
    assert "caf\u00e9".encode() in data and "\u2028".encode() in data  # non-ASCII characters as they are
    assert list(read_evidence(tmp_path / "evidence.jsonl")) == lines
    assert spool.sha256 == hashlib.sha256(data).hexdigest()


def test_a_table_cells_evidence_names_its_row_and_column_headers():
    from pipeline.document.model import Table, TableCell
    from pipeline.run.stages import cell_headers

    texts = [["Patient", "IL-6 before (pg/mL)", "IL-6 after (pg/mL)"], ["P1", "4,210", "380"], ["P2", "950", "120"]]
    cells = [TableCell(row=r, col=c, text=t, start=0, end=0, is_header=r == 0)
             for r, row in enumerate(texts) for c, t in enumerate(row)]
    table = Table(id="t1", section_id="s1", n_rows=3, n_cols=3, cells=cells)
    assert cell_headers(table, cells[5]) == ("P1", "IL-6 after (pg/mL)")
    assert cell_headers(table, cells[6]) == ("", "Patient")  # the row's own first cell
    assert cell_headers(table, cells[1]) == ("", "")  # a header cell
