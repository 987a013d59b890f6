"""The evidence summary: pairing, medians, quartiles, denominators and the Wilcoxon test on a small made-up table;
report.html self-contained, every case linked to its evidence, and drawn by a real browser."""

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
from browser import CHROMIUM, CHROMIUM_ARGS, require_browser
from scipy.stats import wilcoxon

from pipeline.report.html import anchor, render_report_html, write_summary
from pipeline.report.summary import (
    delay_bin,
    paired_values,
    percent_change,
    summarize,
    wilcoxon_p,
)


def _row(case_id: str, doc: str = "doi:10.5555/sum.2022.1", **cells) -> dict:
    return {"case_id": case_id, "doc_id": doc, **cells}


# IL-6: p1-p5 are pairs (changes -90, -75, +100, -90, -80 %); p6 has only a value before, p7 only one after.
ROWS = [
    _row("p1", il6_pre="1000", il6_post="100", ifng_pre="500", ifng_post="50", sex="F", crs_grade="3",
         crs_grading="ASTCT", crs_onset_day="1", pe_start_day="3", outcome="alive", crs_resolved="yes",
         corticosteroids="dexamethasone;methylprednisolone", age_years="40"),
    _row("p2", il6_pre="2000", il6_post="500", ifng_pre="100", ifng_post="80", sex="F", crs_grade="4",
         crs_onset_day="2", pe_start_day="7", outcome="died", crs_resolved="no", corticosteroids="dexamethasone",
         age_years="60"),
    _row("p3", il6_pre="400", il6_post="800", sex="M", crs_grade="3", crs_grading="Lee 2014", outcome="alive"),
    _row("p4", "doi:10.5555/sum.2023.2", il6_pre="3000", il6_post="300", sex="F", crs_grade="4", crs_onset_day="1",
         pe_start_day="2", outcome="alive", crs_resolved="yes"),
    _row("p5", "doi:10.5555/sum.2023.2", il6_pre="5000", il6_post="1000", sex="M", crs_grade="4",
         crs_grading="ASTCT", outcome="died"),
    _row("p6", "doi:10.5555/sum.2023.2", il6_pre="7000", ferritin_pre="9000", sex="F"),
    _row("p7", "file:notes.txt", il6_post="50", ferritin_post="4000"),
]
SENTENCE = "IL-6 fell from 1,000 to 100 pg/mL after two exchanges."
EVIDENCE = [
    {"case_id": "p1", "field": "il6_pre", "value": "1000", "doc_id": "doi:10.5555/sum.2022.1", "section": "Case",
     "start": 15, "end": 20, "quote": "1,000", "extractor": "labs.value",
     "sentence": {"id": "s1", "start": 0, "end": len(SENTENCE), "text": SENTENCE}},
    {"case_id": "p2", "field": "crs_grade", "value": "4", "doc_id": "doi:10.5555/sum.2022.1", "section": "Results",
     "start": 400, "end": 401, "quote": "4", "extractor": "tables.crs",
     "table": {"id": "t1", "label": "Table 1", "row": 2, "col": 4, "cell": "4"}},
    {"case_id": "elsewhere-1", "field": "sex", "value": "M", "quote": "man", "section": "Case"},
]
SCORES = {"micro": {"tp": 9, "fp": 1, "fn": 2, "precision": 0.9, "recall": 0.818, "f1": 0.857},
          "cases": {"tp": 7, "fp": 0, "fn": 0, "precision": 1.0, "recall": 1.0, "f1": 1.0},
          "fields": {"il6_pre": {"tp": 5, "fp": 1, "fn": 0, "precision": 0.833, "recall": 1.0, "f1": 0.909},
                     "sex": {"tp": 4, "fp": 0, "fn": 2, "precision": 1.0, "recall": 0.667, "f1": 0.8}},
          "errors": [{"kind": "false_negative", "field": "sex", "value": "M", "gold_case_id": "p7",
                      "predicted_case_id": "p7", "doc_id": "file:notes.txt", "reason": "not predicted",
                      "evidence": []}]}


@pytest.fixture(scope="module")
def summary() -> dict:
    return summarize(ROWS)


@pytest.fixture(scope="module")
def page() -> str:
    return render_report_html(ROWS, EVIDENCE, SCORES, "run-test")


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> Path:
    """A run folder with the summary written into it (once: drawing the figures takes a few seconds)."""
    run_dir = tmp_path_factory.mktemp("run")
    write_summary(run_dir, ROWS, iter(EVIDENCE), SCORES, "run-test")
    return run_dir


def test_only_patients_with_both_values_are_pairs():
    pairs = paired_values(ROWS, "il6")
    assert [p[0] for p in pairs] == ["p1", "p2", "p3", "p4", "p5"]
    assert paired_values(ROWS, "ferritin") == []  # p6 has it before only, p7 after only
    assert percent_change(1000, 100) == -90


def test_marker_medians_quartiles_and_denominators(summary):
    il6 = summary["markers"]["il6"]
    assert (il6["n_pairs"], il6["denominator"], il6["n_pre"], il6["n_post"]) == (5, 7, 6, 6)
    assert il6["case_ids"] == ["p1", "p2", "p3", "p4", "p5"]
    assert (il6["median_pre"], il6["median_post"]) == (2000, 500)
    assert il6["median_change_pct"] == -80  # changes -90, -90, -80, -75, +100
    assert il6["iqr_change_pct"] == [-90, -75]
    assert il6["n_decreased"] == 4
    ferritin = summary["markers"]["ferritin"]
    assert ferritin["n_pairs"] == 0 and ferritin["median_change_pct"] is None and ferritin["p_value"] is None


def test_p_value_is_scipys_and_needs_five_pairs(summary):
    pairs = paired_values(ROWS, "il6")
    expected = wilcoxon([p[1] for p in pairs], [p[2] for p in pairs]).pvalue
    assert summary["markers"]["il6"]["p_value"] == pytest.approx(expected, rel=1e-12)
    assert summary["markers"]["il6"]["test"].startswith("Wilcoxon")
    assert summary["markers"]["ifng"]["n_pairs"] == 2 and summary["markers"]["ifng"]["p_value"] is None
    assert "fewer than 5" in summary["markers"]["ifng"]["test"]
    assert wilcoxon_p(pairs[:4]) is None


def test_cohort_counts_keep_their_denominators_and_cases(summary):
    assert summary["patients"] == 7
    assert summary["articles"]["count"] == 3
    assert summary["articles"]["years"]["counts"] == {"2022": 1, "2023": 1, "not stated": 1}
    sex = summary["cohort"]["sex"]
    assert (sex["reported"], sex["of"], sex["counts"]) == (6, 7, {"F": 4, "M": 2})
    assert sex["case_ids"]["M"] == ["p3", "p5"]
    steroids = summary["cohort"]["corticosteroids"]  # a list field: a patient counts under each item
    assert steroids["reported"] == 2 and steroids["counts"] == {"dexamethasone": 2, "methylprednisolone": 1}
    age = summary["cohort"]["age_years"]
    assert (age["reported"], age["median"], age["min"], age["max"]) == (2, 50, 40, 60)
    assert summary["cohort"]["crs_grade_by_grading"]["not stated"] == {"4": ["p2", "p4"]}
    assert summary["curation"]["present"] is False
    assert summary["co_treated"] == {"count": 2, "of": 7, "case_ids": ["p1", "p2"]}


def test_outcomes_by_grade_and_by_time_to_first_exchange(summary):
    grade4 = summary["by_crs_grade"]["4"]
    assert grade4["case_ids"] == ["p2", "p4", "p5"]
    assert (grade4["alive"], grade4["died"], grade4["outcome_reported"]) == (["p4"], ["p2", "p5"], 3)
    assert (grade4["resolved"], grade4["resolution_reported"]) == (["p4"], 2)
    delays = summary["by_time_to_pe"]  # p1: 2 days, p2: 5, p4: 1; the rest lack a day
    assert delays["0–1 d"]["case_ids"] == ["p4"] and delays["2–3 d"]["case_ids"] == ["p1"]
    assert delays["4–5 d"]["case_ids"] == ["p2"] and len(delays["not stated"]["case_ids"]) == 4
    assert [delay_bin(d) for d in (-2, 0, 3, 6, 30)] == ["before onset", "0–1 d", "2–3 d", "≥ 6 d", "≥ 6 d"]


def test_curated_and_flagged_cells_are_counted():
    rows = [{**ROWS[0], "curated_fields": "sex;il6_pre", "flagged_fields": ""},
            {**ROWS[1], "curated_fields": "", "flagged_fields": "crs_grade"}]
    curation = summarize(rows)["curation"]
    assert curation["present"] and curation["curated_cells"] == 2 and curation["curated"] == {"p1": ["sex", "il6_pre"]}
    assert curation["flagged"] == {"p2": ["crs_grade"]}


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.images: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.links += [attrs[a] for a in ("href", "src") if a in attrs]
        if tag == "img":
            self.images.append(attrs.get("src", ""))
        if "id" in attrs:
            self.ids.add(attrs["id"])


def test_report_is_self_contained_and_links_each_case_to_its_evidence(page):
    parsed = _Links()
    parsed.feed(page)
    assert parsed.images and all(src.startswith("data:image/png;base64,") for src in parsed.images)
    assert all(link.startswith(("#", "data:")) for link in parsed.links), [l for l in parsed.links if l[:1] != "#"][:3]
    assert "http://" not in page.replace("http://www.w3.org", "") and "https://" not in page
    assert {"cohort", "effect", "outcomes", "quality", "cases", "evidence", "caveat", "markers"} <= parsed.ids
    for row in ROWS:
        assert anchor(row["case_id"]) in parsed.ids
        assert f'href="#{anchor(row["case_id"])}"' in page
    assert "IL-6 fell from <mark>1,000</mark> to 100 pg/mL" in page  # the quote in its sentence
    assert "Table 1, row 2, column 4" in page
    assert "elsewhere-1" not in page  # evidence of a case outside the table is left out
    assert "publication bias" in page and "no control group" in page


def test_anchors_stay_distinct():
    assert anchor("a b") != anchor("a_20_b") and anchor("x-1") == "case-x-1"


def test_empty_table_and_no_scores(tmp_path):
    page = render_report_html([], [], None, "run-empty")
    assert "No patients" in page and "Not scored" in page
    write_summary(tmp_path, [], iter([]), None, "run-empty")
    assert json.loads((tmp_path / "summary.json").read_text())["patients"] == 0


def test_write_summary_writes_both_files(written, summary):
    assert json.loads((written / "summary.json").read_text()) == json.loads(json.dumps(summary))
    assert (written / "report.html").read_text().startswith("<!doctype html>")
    assert sorted(p.name for p in written.iterdir()) == ["report.html", "summary.json"]  # no temporary left


@pytest.mark.browser
def test_browser_draws_the_report(written, tmp_path):
    sync_playwright = require_browser()
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto((written / "report.html").as_uri())
            assert page.get_by_role("heading", name="Markers before and after plasma exchange").is_visible()
            widths = page.eval_on_selector_all("img", "images => images.map(i => i.complete ? i.naturalWidth : 0)")
            assert widths and all(w > 0 for w in widths), widths
            # each case's evidence is folded; its link in the case table opens it
            assert page.evaluate("document.querySelectorAll('details.case[open]').length") == 0
            page.click(f"#case-table a[href='#{anchor('p2')}']")
            assert page.evaluate("location.hash") == f"#{anchor('p2')}"
            page.locator(f"#{anchor('p2')} table").wait_for(state="visible")  # opened on the hashchange event
            # the search box keeps the case table's rows and the cases' evidence that hold the words
            page.fill("#search", "NOTES.txt")
            assert page.eval_on_selector_all("#case-table tr:not(.hidden-by-search) td.case-id a",
                                             "links => links.map(a => a.textContent)") == ["p7"]
            page.locator(f"#{anchor('p7')} table").wait_for(state="visible")
            assert not page.locator(f"#{anchor('p1')}").is_visible()
            page.fill("#search", "")
            assert page.eval_on_selector_all("#case-table tr.hidden-by-search", "rows => rows.length") == 0
            # the page fits its width, the case table included
            assert page.evaluate("document.documentElement.scrollWidth") <= 1400
            shot = tmp_path / "report.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
        finally:
            browser.close()
    assert errors == []


def test_report_md_carries_the_clinical_summary(summary):
    from pipeline.report.markdown import clinical_summary

    text = "\n".join(clinical_summary(summary))
    assert "7 patients from 3 articles." in text
    assert "Outcome reported for 5 of 7: alive 3 of 5 (60 %), died 2 of 5 (40 %)." in text
    # IL-6: five pairs of seven patients, medians 2,000 and 500, change -80 % (IQR -90 to -75), four fell
    assert "| IL-6 (pg/mL) | 5 of 7 | 2,000 | 500 | -80.0 % | -90.0 to -75.0 % | 4 of 5 |" in text
    assert "| IFN-γ (pg/mL) | 2 of 7 |" in text and "not tested (under 5 pairs)" in text
    assert "| 4 | 3 | 1 of 3 (33 %) | 1 of 2 (50 %) |" in text  # grade 4: p4 alive; p4 resolved of two told
    assert summary["caveat"] in text
