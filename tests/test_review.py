"""The review page: one cell at a time in the queue's order of need, the document beside it with the case's spans
highlighted, decisions and undo that return to the queue's place, bulk accepts undone as one, a span picked as a
curator's evidence, and the script allowed only by the page's nonce."""

import hashlib
import json
import re
import warnings
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlparse

import pytest

from test_web import named

from pipeline.parsing import parse_bytes
from pipeline.run import stages
from pipeline.store import Store
from pipeline.web import create_app

with warnings.catch_warnings():  # starlette warns that httpx will give way to httpx2; not ours to change
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

TEXT = ("Plasma exchange for cytokine release syndrome after axi-cel\n\nAna Silva, Tom Berg\n\n"
        "DOI: 10.5555/review.1\n\nCase presentation\n\n"
        "A 61-year-old woman with diffuse large B-cell lymphoma received axicabtagene ciloleucel. "
        "She developed grade 4 CRS on day 2 and received two doses of tocilizumab. "
        "Plasma exchange was performed on days 3 and 4 with 5% albumin. "
        "IL-6 fell from 5,230 pg/mL before the first exchange to 410 pg/mL after the second. "
        "She recovered and was discharged on day 19.\n")


def record_real_run(store: Store, folder, text: str = TEXT) -> str:
    """``text`` as a document of the corpus ``folder``, extracted and recorded as a run would."""
    path = folder / "case.txt"
    path.write_text(text, encoding="utf-8")
    document = parse_bytes(text.encode(), "case.txt")[0]
    rows, evidence = stages.case_rows([stages.extract(document)])
    documents = [{"doc_id": document.doc_id, "file": "case.txt", "format": "text", "title": document.title,
                  "status": "relevant", "reason": "", "content_hash": hashlib.sha256(text.encode()).hexdigest()}]
    store.record_run("r1", datetime.now(UTC), str(folder), documents, rows, evidence, None)
    return document.doc_id


@pytest.fixture
def store(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    store = Store(f"sqlite:///{tmp_path / 'pecrs.db'}")
    record_real_run(store, corpus)
    yield store
    store.close()


@pytest.fixture
def client(store):
    with TestClient(create_app(store, secret_key="test"), base_url="http://127.0.0.1") as client:
        yield client


def shown_cell(page: str) -> tuple[str, str]:
    return (re.search(r'name="case_id" value="([^"]+)"', page).group(1),
            re.search(r'name="field" value="([^"]+)"', page).group(1))


def least_confident(store: Store) -> tuple[str, str]:
    [view] = store.cases()
    name = min((n for n, c in view.cells.items() if c.predicted), key=lambda n: view.cells[n].confidence)
    return view.case_id, name


def test_the_page_shows_the_neediest_cell_with_its_span_current_in_the_document(client, store):
    response = client.get("/review")
    page = response.text
    assert shown_cell(page) == least_confident(store)
    case_id, name = shown_cell(page)
    cell = store.case(case_id).cells[name]
    current = re.findall(r'<mark class="current" data-start="(\d+)"', page)
    assert current and int(current[0]) == cell.evidence["start"]
    # every other value of the case is highlighted too, in the document's own text
    assert len(set(re.findall(r'<span class="anchor" id="f-([a-z0-9_]+)">', page))) == sum(1 for c in store.case(case_id).cells.values()
                                                                           if c.predicted)
    # the one script is the app's own, allowed by this response's nonce; no inline handler anywhere
    nonce = re.search(r"script-src 'nonce-([^']+)'", response.headers["content-security-policy"]).group(1)
    assert re.findall(r"<script[^>]*>", page) == [f'<script nonce="{nonce}" src="/static/review.js">']
    assert not re.search(r"\son[a-z]+=", page)
    assert client.get("/static/review.js").headers["content-type"].startswith("text/javascript")
    # the first button of the form is correct: Enter in a field never accepts
    form = page.split('id="decide"')[1].split("</form>")[0]
    assert re.findall(r'<button type="submit" name="action" value="(\w+)"', form)[0] == "correct"


def test_a_decision_moves_on_and_undo_brings_the_cell_back(client, store):
    csrf = named(client)
    first = shown_cell(client.get("/review").text)
    response = client.post("/review/decide", data={"csrf": csrf, "case_id": first[0], "field": first[1],
                                                   "action": "accept", "value": store.case(first[0]).cells[first[1]].value,
                                                   "at": 0}, follow_redirects=False)
    assert response.status_code == 303 and parse_qs(urlparse(response.headers["location"]).query) == {"at": ["0"]}
    assert store.decisions()[first].action == "accept" and store.decisions()[first].by == "Ana"
    second = shown_cell(client.get("/review").text)
    assert second != first
    page = client.get("/review").text
    assert "undo: accept of {} {}".format(*first) in page
    response = client.post("/review/undo", data={"csrf": csrf}, follow_redirects=False)
    assert first not in store.decisions()
    assert shown_cell(client.get(response.headers["location"]).text) == first


def test_the_filters_ride_along_apart_from_the_cells_own_field(client, store):
    csrf = named(client)
    page = client.get("/review?field=sex").text
    assert shown_cell(page)[1] == "sex"
    case_id = shown_cell(page)[0]
    response = client.post("/review/decide", data={"csrf": csrf, "case_id": case_id, "field": "sex", "action": "reject",
                                                   "why": "not said", "filter_field": "sex", "at": 0},
                           follow_redirects=False)
    assert parse_qs(urlparse(response.headers["location"]).query) == {"field": ["sex"], "at": ["0"]}
    assert store.decisions()[(case_id, "sex")].action == "reject"


def test_a_correction_without_a_reason_stays_on_the_cell_with_what_was_typed(client, store):
    csrf = named(client)
    case_id, name = shown_cell(client.get("/review").text)
    response = client.post("/review/decide", data={"csrf": csrf, "case_id": case_id, "field": "age_years",
                                                   "action": "correct", "value": "62", "why": "", "at": 0})
    assert response.status_code == 400 and "needs a reason" in response.text and 'value="62"' in response.text
    assert not store.decisions()


def test_an_empty_cell_is_filled_from_a_span_picked_in_the_document(client, store):
    csrf = named(client)
    [view] = store.cases()
    assert not view.cells["pe_volume_ml"].predicted
    page = client.get("/review?field=pe_volume_ml").text
    assert "found no value for pe_volume_ml" in page
    text = TEXT.replace("with 5% albumin", "with 5% albumin, 3,000 mL each")
    start = text.index("3,000 mL")
    (store_folder := _corpus_of(store)).joinpath("case.txt").write_text(text, encoding="utf-8")
    response = client.post("/review/decide", data={
        "csrf": csrf, "case_id": view.case_id, "field": "pe_volume_ml", "action": "correct", "value": "3000",
        "why": "the second paragraph", "picked_start": str(start), "picked_end": str(start + 8), "at": 0})
    assert response.status_code == 200, response.text
    decision = store.decisions()[(view.case_id, "pe_volume_ml")]
    assert json.loads(decision.evidence)["quote"] == "3,000 mL"  # read from the document, not from the browser
    assert store_folder.is_dir()
    bad = client.post("/review/decide", data={
        "csrf": csrf, "case_id": view.case_id, "field": "sex", "action": "correct", "value": "F", "why": "x",
        "picked_start": "5", "picked_end": "999999", "at": 0})
    assert bad.status_code == 400 and "not inside the document" in bad.text


def _corpus_of(store: Store):
    from pathlib import Path

    [view] = store.cases()
    return Path(store.document(view.doc_id).corpus)


def test_a_bulk_accept_of_a_case_is_one_decision_to_undo(client, store):
    csrf = named(client)
    [view] = store.cases()
    predicted = {n for n, c in view.cells.items() if c.predicted}
    response = client.post("/bulk-accept", data={"csrf": csrf, "case": view.case_id, "why": "all read in the text",
                                                  "next": "/review"}, follow_redirects=False)
    assert response.status_code == 303
    decisions = store.decisions()
    assert {name for (_, name) in decisions} == predicted
    assert len({d.batch for d in decisions.values()}) == 1 and all(d.why == "all read in the text"
                                                                   for d in decisions.values())
    page = client.get("/review").text
    assert f"Accepted {len(predicted)} values of case {view.case_id}" in page
    client.post("/review/undo", data={"csrf": csrf})
    assert not store.decisions()


def test_the_document_view_highlights_the_case_and_says_when_its_file_is_gone(client, store):
    [view] = store.cases()
    page = client.get(f"/documents/{view.doc_id}?case={view.case_id}&field=crs_grade").text
    assert "grade 4" in re.search(r'id="f-crs_grade"></span>(?:<span class="anchor"[^>]*></span>)*'
                                  r'<mark class="current"[^>]*>([^<]+)</mark>', page).group(1)
    (_corpus_of(store) / "case.txt").unlink()
    gone = client.get(f"/documents/{view.doc_id}?case={view.case_id}").text
    assert "the document&#39;s file is no longer there" in gone and "case.txt" in gone
    assert client.get("/documents/doi:10.5555/none").status_code == 404


def test_an_empty_cell_says_what_was_looked_for_and_marks_where_the_document_names_it(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    text = TEXT.replace("She recovered", "IL-10 was sent to an outside laboratory and never reported. She recovered")
    with Store(f"sqlite:///{tmp_path / 'pecrs.db'}") as store:
        record_real_run(store, corpus, text)
        with TestClient(create_app(store, secret_key="test"), base_url="http://127.0.0.1") as client:
            named_page = client.get("/review?field=il10_pre").text
            assert "reading from IL-10" in named_page and "the document names it 1 time" in named_page
            cues = re.findall(r'<mark class="cue" data-start="(\d+)"[^>]*>([^<]+)</mark>', named_page)
            assert cues == [(str(text.index("IL-10")), "IL-10")]
            absent = client.get("/review?field=ifng_pre").text
            assert "not found in the document" in absent and '<mark class="cue"' not in absent
            shaped = client.get("/review?field=pe_volume_ml").text
            assert "read from a sentence's shape" in shaped


def test_a_field_is_bulk_accepted_from_the_queue_filtered_to_it(client, store):
    csrf = named(client)
    page = client.get("/queue?field=sex").text
    assert "accept the 1 unchecked value of sex" in page
    response = client.post("/bulk-accept", data={"csrf": csrf, "field": "sex", "next": "/queue?field=sex"},
                           follow_redirects=False)
    assert response.headers["location"] == "/queue?field=sex"
    assert [(name, d.action) for (_, name), d in store.decisions().items()] == [("sex", "accept")]
    assert "Accepted 1 value of sex" in client.get("/queue?field=sex").text
    assert client.post("/bulk-accept", data={"csrf": csrf, "field": "sex", "case": "x"}).status_code == 400


def test_a_mistyped_position_or_page_shows_the_first_not_an_error(client, store):
    first = shown_cell(client.get("/review").text)
    for path in ("/review?at=abc", "/review?at=-4", "/review?at=99999"):
        response = client.get(path)
        assert response.status_code == 200 and "text/html" in response.headers["content-type"]
    assert shown_cell(client.get("/review?at=abc").text) == first
    assert client.get("/queue?page=abc").status_code == 200 and "Review queue" in client.get("/queue?page=x").text
