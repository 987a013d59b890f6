"""The curators' web page: CSRF, the name cookie, error messages, escaping, and a real browser correcting a value
that survives a re-run."""

import base64
import hashlib
import html
import re
import warnings
from datetime import UTC, datetime
from pathlib import Path

import pytest
from browser import CHROMIUM, CHROMIUM_ARGS, require_browser, serving

from pipeline.schema import SCORED_FIELDS
from pipeline.store import Store
from pipeline.web import create_app

with warnings.catch_warnings():  # starlette warns that httpx will give way to httpx2; not ours to change
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

DOC = "doi:10.5555/web.2024.1"
SENTENCE = "A 54-year-old man developed grade 4 CRS on day 2 after axi-cel."


def _span(text: str, offset: int = 100) -> dict:
    start = SENTENCE.index(text)
    return {"start": offset + start, "end": offset + start + len(text), "quote": text,
            "sentence": {"id": "s1", "start": offset, "end": offset + len(SENTENCE), "text": SENTENCE}}


def record(store: Store, run_id: str = "r1", grade: str = "4") -> None:
    """A small made-up run: two cases of one document, evidence in a sentence and in a table cell, and scores."""
    documents = [{"doc_id": DOC, "file": "docs/web.txt", "format": "text", "title": "Plasma exchange for <CRS> & HLH",
                  "status": "relevant", "reason": "2 patient(s) given plasma exchange after CAR-T"}]
    cases = [{"case_id": "web-1", "doc_id": DOC, "patient_label": "Patient 1", "age_years": "54", "sex": "M",
              "crs_grade": grade, "diagnosis": "DLBCL"},
             {"case_id": "web-2", "doc_id": DOC, "patient_label": "<script>alert(1)</script>", "sex": "F"}]
    evidence = [{"case_id": "web-1", "field": "age_years", "doc_id": DOC, "section": "Case", "confidence": 0.99,
                 **_span("54-year-old")},
                {"case_id": "web-1", "field": "sex", "doc_id": DOC, "section": "Case", "confidence": 0.9,
                 **_span("man")},
                {"case_id": "web-1", "field": "crs_grade", "doc_id": DOC, "section": "Case", "extractor": "crs.grade",
                 "confidence": 0.45, **_span("grade 4")},
                {"case_id": "web-1", "field": "diagnosis", "doc_id": DOC, "section": "Results", "start": 500,
                 "end": 505, "quote": "DLBCL", "confidence": 0.8,
                 "table": {"id": "t1", "label": "Table 1", "row": 2, "col": 3, "cell": "DLBCL (GCB)",
                           "row_header": "Patient 1", "column_header": "Diagnosis"}}]
    scores = {"micro": {"tp": 3, "fp": 1, "fn": 1, "precision": 0.75, "recall": 0.75, "f1": 0.75},
              "cases": {"tp": 2, "fp": 0, "fn": 1, "precision": 1.0, "recall": 0.667, "f1": 0.8},
              "fields": {"crs_grade": {"tp": 0, "fp": 1, "fn": 1, "precision": 0.0, "recall": 0.0, "f1": 0.0}},
              "confidence": {"values": 5, "errors": 1, "lowest_fifth": 1, "errors_in_lowest_fifth": 1,
                             "errors_median": 0.45, "correct_median": 0.9},
              "errors": [{"kind": "false_positive", "field": "crs_grade", "value": "4", "gold_case_id": "web-1",
                          "predicted_case_id": "web-1", "doc_id": DOC, "reason": "gold is 3",
                          "evidence": [{"quote": "grade 4", "section": "Case", "confidence": 0.45}]},
                         {"kind": "false_negative", "field": "sex", "value": "F", "gold_case_id": "gone-9",
                          "predicted_case_id": None, "doc_id": DOC, "reason": "case not found", "evidence": []}]}
    store.record_run(run_id, datetime.now(UTC), "made-up", documents, cases, evidence, scores)


@pytest.fixture
def store(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'pecrs.db'}")
    record(store)
    yield store
    store.close()


@pytest.fixture
def client(store):
    with TestClient(create_app(store, secret_key="test"), base_url="http://127.0.0.1") as client:
        yield client


def token(client: TestClient, path: str = "/") -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get(path).text).group(1)


def named(client: TestClient, name: str = "Ana") -> str:
    """Give the curator's name; returns the CSRF token of the session."""
    csrf = token(client)
    assert client.post("/name", data={"csrf": csrf, "name": name}, follow_redirects=False).status_code == 303
    return csrf


def test_pages_show_cases_evidence_and_scores(client):
    index = client.get("/").text
    assert "web-1" in index and "web-2" in index and DOC in index and "2 cases from 1 document;" in index
    case = client.get("/cases/web-1").text
    assert "<mark>54-year-old</mark> man developed" in case  # the span inside its sentence
    assert "Table 1, row “Patient 1”, column “Diagnosis”" in case and "<mark>DLBCL</mark> (GCB)" in case  # inside its table cell
    assert 'class="badge machine"' in case and "crs.grade" in case
    scores = client.get("/scores").text
    assert "0.750" in scores and 'href="/cases/web-1#crs_grade"' in scores
    assert "gone-9" in scores and 'href="/cases/gone-9' not in scores  # no page to link to
    assert client.get("/cases/nope").status_code == 404


def test_post_without_a_valid_token_is_refused(client, store):
    assert client.post("/name", data={"name": "Mallory"}).status_code == 403
    csrf = named(client)
    for data in ({}, {"csrf": "forged"}, {"csrf": csrf + "x"}):
        response = client.post("/cases/web-1/decide", data={**data, "field": "sex", "action": "accept"})
        assert response.status_code == 403 and "security token" in response.text
    assert client.post("/cases/web-1/undo", data={"field": "sex"}).status_code == 403
    assert store.history("web-1") == []
    fresh = TestClient(create_app(store, secret_key="test"), base_url="http://127.0.0.1")  # another browser: its own session, its own token
    assert fresh.post("/cases/web-1/decide", data={"csrf": csrf, "field": "sex", "action": "accept"}).status_code == 403


def test_name_is_asked_once_and_kept_in_a_cookie(client, store):
    csrf = token(client)
    asked = client.post("/cases/web-1/decide", data={"csrf": csrf, "field": "sex", "action": "accept"},
                        follow_redirects=False)
    assert asked.status_code == 303 and asked.headers["location"] == "/?next=/cases/web-1"
    assert 'id="name-form"' in client.get(asked.headers["location"]).text and store.history("web-1") == []
    response = client.post("/name", data={"csrf": csrf, "name": "  Ana   Curator ", "next": "/cases/web-1"},
                           follow_redirects=False)
    assert response.headers["location"] == "/cases/web-1" and "pecrs_session" in client.cookies
    assert "curating as <strong>Ana Curator</strong>" in client.get("/").text
    assert client.post("/name", data={"csrf": csrf, "name": "x", "next": "//evil.example"},
                       follow_redirects=False).headers["location"] == "/"
    named(client, "Ana Curator")
    decided = client.post("/cases/web-1/decide", data={"csrf": csrf, "field": "sex", "action": "accept",
                                                       "why": "stated"}, follow_redirects=False)
    assert decided.status_code == 303 and decided.headers["location"] == "/cases/web-1#sex"
    [decision] = store.history("web-1")
    assert (decision.by, decision.action, decision.value, decision.why) == ("Ana Curator", "accept", "M", "stated")


def test_a_bad_value_shows_the_message_not_a_500(client, store):
    csrf = named(client)
    response = client.post("/cases/web-1/decide",
                           data={"csrf": csrf, "field": "crs_grade", "action": "correct", "value": "9", "why": "typo?"})
    assert response.status_code == 400
    assert "crs_grade must be between 1 and 5, got '9'" in html.unescape(response.text)
    assert 'value="9"' in response.text  # what the curator typed is kept in the form
    response = client.post("/cases/web-2/decide", data={"csrf": csrf, "field": "age_years", "action": "accept"})
    assert response.status_code == 400 and "nothing predicted to accept" in response.text
    assert store.history("web-1") == store.history("web-2") == []


def test_everything_is_escaped(client, store):
    csrf = named(client, "<b>Eve</b>")
    client.post("/cases/web-2/decide", data={"csrf": csrf, "field": "other_drugs", "action": "correct",
                                             "value": "<img src=x onerror=alert(1)>", "why": "<i>why</i>"})
    pages = client.get("/").text + client.get("/cases/web-2").text
    for raw in ("<script>alert(1)</script>", "<b>Eve</b>", "<img src=x", "<i>why</i>", "<CRS>"):
        assert raw not in pages
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages and "&lt;b&gt;Eve&lt;/b&gt;" in pages
    # a script runs only when it carries the nonce of its own response: never inline code, never another host
    policies = [client.get("/").headers["content-security-policy"] for _ in range(2)]
    nonces = [re.search(r"script-src 'nonce-([A-Za-z0-9_-]{16,})';", policy).group(1) for policy in policies]
    assert nonces[0] != nonces[1] and not any("unsafe-inline" in p.split("script-src")[1].split(";")[0] for p in policies)


def test_undo_history_and_flags_after_a_rerun(client, store):
    csrf = named(client)
    client.post("/cases/web-1/decide", data={"csrf": csrf, "field": "crs_grade", "action": "correct", "value": "3",
                                             "why": "Table 2 says 3"})
    client.post("/cases/web-1/undo", data={"csrf": csrf, "field": "crs_grade"})
    client.post("/cases/web-1/decide", data={"csrf": csrf, "field": "age_years", "action": "accept"})
    page = client.get("/cases/web-1").text
    history = page.split('id="history"')[1]
    assert 'class="withdrawn"' in history and "Table 2 says 3" in history and "by Ana" in history
    record(store, "r2", grade="5")  # the machine now says something else: a cell decided before is unchanged
    assert 'class="flagged"' not in client.get("/cases/web-1").text
    client.post("/cases/web-1/decide", data={"csrf": csrf, "field": "crs_grade", "action": "accept"})
    record(store, "r3", grade="4")
    page = client.get("/cases/web-1").text
    assert '<tr id="crs_grade" class="flagged">' in page and "badge flag" in page


def _queue_rows(page: str) -> list[tuple[str, str, str]]:
    """(case, field, status) of each row of the review queue, in order."""
    body = page.split('id="queue"')[1]
    rows = re.findall(r'<tr class="(\w+)">\s*<td class="nowrap"><a href="/cases/([^"#]+)#(\w+)"', body)
    return [(case, field, status) for status, case, field in rows]


def test_the_review_queue_orders_cells_by_need_and_filters_by_the_url(client, store):
    page = client.get("/queue").text
    total = len(_queue_rows(page))
    assert "0 of {} cells reviewed".format(total) in page and total == 2 * len(SCORED_FIELDS)
    rows = _queue_rows(page)
    # the machine's values nobody has checked come before the empty cells, the least confident first (a value
    # without a confidence, as stores written before it was kept, last)
    given = [(case, field) for case, field, _ in rows[:5]]
    assert given == [("web-1", "crs_grade"), ("web-1", "diagnosis"), ("web-1", "sex"), ("web-1", "age_years"),
                     ("web-2", "sex")]
    assert re.search(r"crs_grade</td>.*?0\.45</td>", page, re.S)
    csrf = named(client)
    client.post("/cases/web-1/decide", data={"csrf": csrf, "field": "crs_grade", "action": "accept"})
    client.post("/cases/web-1/decide", data={"csrf": csrf, "field": "sex", "action": "reject", "why": "a woman"})
    record(store, "r2", grade="3")  # the machine changes its mind on an accepted cell: flagged, first in the queue
    page = client.get("/queue").text
    rows = _queue_rows(page)
    assert rows[0] == ("web-1", "crs_grade", "flagged") and rows[-1] == ("web-1", "sex", "rejected")
    assert "1 of {} cells reviewed".format(total) in page  # the flagged cell needs another look
    shared = client.get("/queue?status=unreviewed&field=sex").text  # a view a link can share
    assert _queue_rows(shared) == [("web-2", "sex", "unreviewed")]
    assert _queue_rows(client.get("/queue?extractor=crs.grade").text) == [("web-1", "crs_grade", "flagged")]


def test_the_scores_page_marks_errors_a_curator_has_decided_and_filters_them(client, store):
    def rows(page: str) -> list[str]:
        return re.findall(r"<tr(?: class=\"curated\")?>\s*<td>[^<]*</td>", page.split('id="errors"')[1])

    page = client.get("/scores").text
    assert "Errors (2)" in page and 'class="curated"' not in page
    said = " ".join(re.sub(r"<[^>]+>", "", page.split('id="confidence"')[1].split("</p>")[0]).split())
    assert "holds 1 of the 1 errors (100 %); median confidence of the errors 0.45, of the correct values 0.90" in said
    csrf = named(client)
    client.post("/cases/web-1/decide", data={"csrf": csrf, "field": "crs_grade", "action": "correct", "value": "3",
                                             "why": "Table 2 says 3"})
    page = client.get("/scores").text  # current after the decision, with no new run
    row = re.search(r'<tr class="curated">.*?</tr>', page, re.S).group()
    assert "crs_grade" in row and "corrected to 3" in row and "by Ana" in row
    assert len(rows(page)) == 2
    negatives = client.get("/scores?kind=false_negative").text
    assert "Errors (1 of 2)" in negatives and len(rows(negatives)) == 1
    assert "gone-9" in negatives.split('id="errors"')[1]
    assert len(rows(client.get("/scores?field=crs_grade").text)) == 1


def _enter_in(page: str, field: str, **typed: str) -> dict:
    """What a browser posts when Enter is pressed in a field's form: its inputs, as typed, and the name and value of
    the form's first submit button (HTML's implicit submission)."""
    row = re.search(rf'<tr id="{field}".*?</tr>', page, re.S).group()
    form = re.search(r'<form class="cell".*?</form>', row, re.S).group()
    data = {html.unescape(name): html.unescape(value)
            for name, value in re.findall(r'<input [^>]*name="([^"]+)" value="([^"]*)"', form)}
    button = re.search(r'<button type="submit" name="([^"]+)" value="([^"]+)"', form)
    return {**data, **typed, button.group(1): button.group(2)}


def test_enter_after_typing_a_correction_never_accepts_the_machines_value(client, store):
    named(client)
    typed = _enter_in(client.get("/cases/web-1").text, "crs_grade", value="3")
    refused = client.post("/cases/web-1/decide", data=typed)
    assert refused.status_code == 400 and store.history("web-1") == []
    assert "a correction needs a reason" in html.unescape(refused.text)
    assert re.search(r'name="value" value="3"', refused.text)  # what the curator typed is kept
    saved = client.post("/cases/web-1/decide", data={**_enter_in(refused.text, "crs_grade"), "why": "Table 2"},
                        follow_redirects=False)
    assert saved.status_code == 303
    [decision] = store.history("web-1")
    assert (decision.action, decision.value, decision.predicted_value, decision.why) == ("correct", "3", "4", "Table 2")


def test_accept_of_a_changed_value_is_refused(client, store):
    csrf = named(client)
    refused = client.post("/cases/web-1/decide", data={"csrf": csrf, "field": "crs_grade", "action": "accept",
                                                       "value": "3", "why": ""})
    assert refused.status_code == 400 and store.history("web-1") == []
    assert "you changed the value to '3'" in html.unescape(refused.text) and 'value="3"' in refused.text
    kept = client.post("/cases/web-1/decide", data={"csrf": csrf, "field": "crs_grade", "action": "accept",
                                                    "value": "4"}, follow_redirects=False)
    assert kept.status_code == 303 and [d.action for d in store.history("web-1")] == ["accept"]


def test_a_correction_without_a_reason_is_refused(client, store):
    csrf = named(client)
    for why in ("", "   "):
        refused = client.post("/cases/web-1/decide", data={"csrf": csrf, "field": "crs_grade", "action": "correct",
                                                           "value": "3", "why": why})
        assert refused.status_code == 400 and "a correction needs a reason" in html.unescape(refused.text)
    assert store.history("web-1") == []


def test_only_the_hosts_it_serves_are_answered(store):
    app = create_app(store, secret_key="test")
    for host in ("127.0.0.1", "localhost:8765", "[::1]:8765", "127.0.0.1:8765"):
        assert TestClient(app, base_url=f"http://{host}").get("/").status_code == 200
    # a page of another name that resolves to this machine (DNS rebinding) gets no page, no session, no decision
    rebound = TestClient(app, base_url="http://evil.example:8765")
    response = rebound.get("/")
    assert response.status_code == 400 and "set-cookie" not in response.headers and "web-1" not in response.text
    assert rebound.post("/cases/web-1/decide", data={"field": "sex", "action": "accept"}).status_code == 400
    proxied = create_app(store, secret_key="test", allowed_hosts=["curation.lab.example"])
    assert TestClient(proxied, base_url="https://curation.lab.example").get("/").status_code == 200
    assert TestClient(proxied, base_url="http://evil.example").get("/").status_code == 400
    assert store.history("web-1") == []


def test_a_case_id_with_a_slash_opens_and_is_curated(client, store):
    store.decide("smith/2021-1", "", "add-case", "Ana", why="missed", doc_id=DOC)
    index = client.get("/").text
    assert 'href="/cases/smith%2F2021-1"' in index
    page = client.get("/cases/smith%2F2021-1")
    assert page.status_code == 200 and "<h1>smith/2021-1" in page.text
    csrf = named(client)
    decided = client.post("/cases/smith%2F2021-1/decide", data={"csrf": csrf, "field": "sex", "action": "correct",
                                                                "value": "F", "why": "stated"}, follow_redirects=False)
    assert decided.status_code == 303 and decided.headers["location"] == "/cases/smith%2F2021-1#sex"
    assert client.post("/cases/smith%2F2021-1/undo", data={"csrf": csrf, "field": "sex"},
                       follow_redirects=False).status_code == 303
    assert [(d.action, d.withdrawn_by) for d in store.history("smith/2021-1")] == [("add-case", ""),
                                                                                    ("correct", "Ana")]


def _screenshot(page, path: Path) -> None:
    page.screenshot(path=str(path), full_page=True)
    data = path.read_bytes()
    assert len(data) > 1000 and data.startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.browser
def test_browser_correction_survives_a_rerun(store, tmp_path):
    sync_playwright = require_browser()
    with serving(create_app(store)) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(url)
            _screenshot(page, tmp_path / "name.png")
            page.fill("#name-form input[name=name]", "Ana Curator")
            page.click("#name-form button")
            assert page.locator("header .who").inner_text() == "curating as Ana Curator"
            _screenshot(page, tmp_path / "cases.png")

            page.click("text=web-1")
            row = page.locator("tr#crs_grade")
            assert "machine" in row.inner_text()
            row.locator("input[name=value]").fill("9")
            row.locator("button[value=correct]").click()
            assert "crs_grade must be between 1 and 5, got '9'" in page.locator("#error").inner_text()
            _screenshot(page, tmp_path / "case-error.png")
            row = page.locator("tr#crs_grade")
            row.locator("input[name=value]").fill("3")
            row.locator("input[name=why]").fill("Table 2 gives grade 3")
            row.locator("button[value=correct]").click()
            page.wait_for_url("**/cases/web-1#crs_grade")
            row = page.locator("tr#crs_grade")
            assert row.locator(".value strong").inner_text() == "3" and "curator" in row.inner_text()
            assert "corrected by Ana Curator" in row.inner_text()
            assert "Table 2 gives grade 3" in page.locator("#history").inner_text()
            _screenshot(page, tmp_path / "case.png")

            page.goto(url + "/scores")
            _screenshot(page, tmp_path / "scores.png")
            page.click("#errors a[href='/cases/web-1#crs_grade']")
            page.wait_for_url("**/cases/web-1#crs_grade")

            record(store, "r2")  # a re-run with the same predictions
            page.reload()
            assert page.locator("tr#crs_grade .value strong").inner_text() == "3"
        finally:
            browser.close()
    [row] = [r for r in store.table() if r["case_id"] == "web-1"]
    assert row["crs_grade"] == "3" and row["curated_fields"] == "crs_grade" and row["flagged_fields"] == ""
    [curation] = store.curations()
    assert (curation["by"], curation["why"], curation["curated_value"], curation["predicted_value"]) == \
        ("Ana Curator", "Table 2 gives grade 3", "3", "4")


@pytest.mark.browser
def test_browser_enter_in_a_changed_value_does_not_accept_it(store):
    sync_playwright = require_browser()
    with serving(create_app(store)) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(url)
            page.fill("#name-form input[name=name]", "Ana")
            page.click("#name-form button")
            page.goto(url + "/cases/web-1")
            page.locator("tr#crs_grade input[name=value]").fill("3")
            page.locator("tr#crs_grade input[name=value]").press("Enter")
            page.wait_for_selector("#error")
            assert "a correction needs a reason" in page.locator("#error").inner_text()
            assert page.locator("tr#crs_grade input[name=value]").input_value() == "3"
            assert store.history("web-1") == []
            page.locator("tr#crs_grade input[name=why]").fill("Table 2 gives grade 3")
            page.locator("tr#crs_grade input[name=why]").press("Enter")
            page.wait_for_url("**/cases/web-1#crs_grade")
            assert page.locator("tr#crs_grade .value strong").inner_text() == "3"
        finally:
            browser.close()
    [decision] = store.history("web-1")
    assert (decision.action, decision.value, decision.why) == ("correct", "3", "Table 2 gives grade 3")


def test_the_latest_report_is_served_with_its_own_policy(client, store, tmp_path, monkeypatch):
    from pipeline.settings import settings

    monkeypatch.setenv("PECRS_OUTPUTS", str(tmp_path / "outputs"))
    settings.cache_clear()
    try:
        missing = client.get("/report")
        assert missing.status_code == 404 and "No evidence summary yet" in missing.text
        run_dir = tmp_path / "outputs" / store.latest_run().run_id
        run_dir.mkdir(parents=True)
        script = "document.title = 'searched';"
        (run_dir / "report.html").write_text("<h1>Evidence summary</h1><img src='data:image/png;base64,AA=='>"
                                             f"<script>{script}</script>")
        served = client.get("/report")
        assert served.status_code == 200 and "<h1>Evidence summary</h1>" in served.text
        policy = served.headers["content-security-policy"]
        assert "img-src data:" in policy
        # its own inline script by its hash, and nothing else (no 'unsafe-inline', no nonce an injection could copy)
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"script-src 'sha256-{digest}';" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
        assert "img-src 'self'" in client.get("/").headers["content-security-policy"]
    finally:
        settings.cache_clear()


def test_the_report_of_a_run_into_another_outputs_folder_is_served(tmp_path, monkeypatch):
    from datetime import datetime, timezone

    from fastapi.testclient import TestClient

    from pipeline.store import Store
    from pipeline.web import create_app

    out = tmp_path / "elsewhere"
    (out / "r1").mkdir(parents=True)
    (out / "r1" / "report.html").write_text("<h1>Summary of r1</h1>", encoding="utf-8")
    with Store(f"sqlite:///{tmp_path / 'store.db'}") as store:
        store.record_run("r1", datetime.now(timezone.utc), str(tmp_path / "corpus"), [], [], [], None, digest="d",
                         out_dir=str(out))
        served = TestClient(create_app(store, secret_key="k"), base_url="http://127.0.0.1").get("/report")
    assert served.status_code == 200 and "Summary of r1" in served.text


def _listed(page: str) -> list[str]:
    return re.findall(r'<td class="nowrap"><a href="/cases/[^"]+">([^<]+)</a>', page)


def test_the_case_list_counts_searches_and_sorts(client, store):
    page = client.get("/").text
    row = re.search(r'<a href="/cases/web-1">web-1</a>.*?</tr>', page, re.S).group()
    # four values, all unchecked, none decided or flagged, the least sure at 0.45
    assert re.findall(r'<td class="num">(?:<a[^>]*>)?([^<]*)', row) == ["4", "4", "0", "0", "0.45"]
    assert _listed(client.get("/?q=patient%201").text) == ["web-1"]
    assert _listed(client.get("/?q=PLASMA").text) == ["web-1", "web-2"]  # the document's title
    csrf = named(client)
    client.post("/cases/web-1/decide", data={"csrf": csrf, "field": "crs_grade", "action": "accept"})
    record(store, "r2", grade="3")  # flagged now
    assert _listed(client.get("/?sort=flagged").text)[0] == "web-1"
    assert _listed(client.get("/?sort=unchecked").text) == ["web-1", "web-2"]  # 3 unchecked against 1
    assert _listed(client.get("/?sort=nonsense").text) == ["web-1", "web-2"]


def test_cases_are_added_removed_and_restored_on_the_page(client, store):
    csrf = named(client)
    response = client.post("/cases/add", data={"csrf": csrf, "case_id": "web/3", "doc_id": DOC,
                                               "why": "the discussion reports a third patient"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/cases/web%2F3"
    page = client.get("/cases/web%2F3").text
    assert "added by a curator" in page
    assert client.post("/cases/add", data={"csrf": csrf, "case_id": "web-9", "doc_id": "doi:none"}).status_code == 400
    client.post("/cases/web-2/remove", data={"csrf": csrf, "why": "a patient of a cited report"})
    assert store.case("web-2").removed and "removed by a curator" in client.get("/cases/web-2").text
    assert "web-2" not in [row["case_id"] for row in store.table()]
    client.post("/cases/web-2/undo", data={"csrf": csrf, "field": ""})
    assert not store.case("web-2").removed
    history = store.history("web-2")
    assert [(d.action, d.by, d.why, d.withdrawn_by) for d in history] == [
        ("remove-case", "Ana", "a patient of a cited report", "Ana")]


@pytest.mark.browser
def test_browser_runs_the_served_reports_search_under_its_policy(tmp_path):
    from pipeline.report.html import render_report_html

    sync_playwright = require_browser()
    out = tmp_path / "outputs"
    (out / "r1").mkdir(parents=True)
    rows = [{"case_id": "web-1", "doc_id": DOC, "crs_grade": "4", "il6_pre": "5230", "il6_post": "410"},
            {"case_id": "web-2", "doc_id": "doi:10.5555/other.1", "crs_grade": "3"}]
    (out / "r1" / "report.html").write_text(render_report_html(rows, [], None, "r1"), encoding="utf-8")
    errors: list[str] = []
    with Store(f"sqlite:///{tmp_path / 'store.db'}") as store:
        store.record_run("r1", datetime.now(UTC), str(tmp_path / "corpus"), [], [], [], None, digest="d",
                         out_dir=str(out))
        with serving(create_app(store, secret_key="k")) as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page()
                page.on("console", lambda message: errors.append(message.text))
                page.goto(base + "/report")
                assert page.is_visible("#search")  # shown by the script: it ran under the served policy
                page.fill("#search", "other.1")
                assert page.eval_on_selector_all("#case-table tr:not(.hidden-by-search) td.case-id a",
                                                 "links => links.map(a => a.textContent)") == ["web-2"]
            finally:
                browser.close()
    assert errors == []


def test_the_case_list_links_the_cells_the_latest_run_changed(client, store):
    assert 'id="changed-cells"' not in client.get("/").text  # the first run: nothing to compare with
    store.decide("web-1", "crs_grade", "accept", "Ana")
    record(store, "r2", grade="3")
    index = client.get("/").text
    panel = index[index.index('<details id="changes"'):index.index("</details>", index.index('<details id="changes"'))]
    assert "Since run r1:" in panel and "1 values changed; 1 curated cells flagged" in panel
    assert 'href="/cases/web-1#crs_grade"' in panel and ">4</td><td>3</td>" in panel and "flagged" in panel


def test_the_latest_runs_changes_are_worked_out_once_it_is_whole(client, store, monkeypatch):
    record(store, "r2", grade="3")
    asked = []
    compare = store.changes
    monkeypatch.setattr(store, "changes", lambda *args: asked.append(args) or compare(*args))
    client.get("/")
    client.get("/")
    assert len(asked) == 2  # r2's outputs are not written yet (no pooled answer): asked again each time
    store.set_pooled("r2", {"patients": 2, "articles": 1, "markers": {}, "alive": 0, "died": 0, "resolved": 0})
    for _ in range(3):
        assert "Since run r1:" in client.get("/").text
    assert len(asked) == 3  # once whole, kept
    record(store, "r3", grade="2")
    store.set_pooled("r3", {"patients": 2, "articles": 1, "markers": {}, "alive": 0, "died": 0, "resolved": 0})
    assert "Since run r2:" in client.get("/").text and len(asked) == 4  # a new run, worked out anew


def test_the_queue_is_built_once_for_a_state_of_the_store(client, store, monkeypatch):
    built = []
    cases = store.cases
    monkeypatch.setattr(store, "cases", lambda *args, **kwargs: built.append(1) or cases(*args, **kwargs))
    for _ in range(3):
        assert client.get("/review").status_code == 200
    assert len(built) == 1  # nothing changed between the steps
    csrf = named(client)  # the case list reads the cases itself
    client.post("/cases/web-1/decide", data={"csrf": csrf, "field": "sex", "action": "accept"})
    before = len(built)
    assert "accepted" in client.get("/queue?field=sex").text and len(built) == before + 1  # a decision: anew
    assert client.get("/review").status_code == 200 and len(built) == before + 1
    record(store, "r2", grade="3")
    assert client.get("/queue?field=crs_grade").status_code == 200 and len(built) == before + 2  # a run: anew
