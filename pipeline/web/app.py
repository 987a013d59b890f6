"""The curators' web page: server-rendered forms over the store. Every POST carries the session's CSRF token;
the curator's name is asked once and kept in the (signed) session cookie. Only requests addressed to a host the
page serves are answered (a page of another name resolving here, DNS rebinding, gets nothing)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from pathlib import Path
from urllib.parse import quote, urlencode

from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader
from starlette.exceptions import HTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.templating import Jinja2Templates

from pipeline.settings import settings
from pipeline.outputs.evidence_view import evidence_context
from pipeline.schema import FIELD_BY_NAME, SCORED_FIELDS
from pipeline.report.changes import with_counts
from pipeline.store import CurationError, Store
from pipeline.web.case_list import CASE_ORDERS, case_counts
from pipeline.web.document_view import case_document, looked_for, picked_span
from pipeline.web.queue import STATUSES, QueueItem, progress, queue_items, review_queue, unchecked

TEMPLATES = Path(__file__).resolve().parent / "templates"
QUEUE_PAGE = 200  # cells a page of the review queue lists
LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")  # as a browser on this machine writes them in the Host header
# no scripts but those the page names with its one-time nonce, no frames, forms only back to this server: an
# escaping slip still cannot run code
PAGE_POLICY = ("default-src 'none'; script-src 'nonce-{nonce}'; style-src 'unsafe-inline'; img-src 'self'; "
               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": PAGE_POLICY.replace("script-src 'nonce-{nonce}'", "script-src 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
STATIC = Path(__file__).resolve().parent / "static"
UNDO_KEPT = 20  # the decisions a curator can undo one after another on the review page


# report.html has no forms, its figures are data: images (which the policy above refuses) and its one script (the
# search box) is inline: allowed by its hash, worked out from the page served, so an injected script is not
REPORT_POLICY = ("default-src 'none'; script-src {scripts}; style-src 'unsafe-inline'; img-src data:; "
                 "form-action 'none'; frame-ancestors 'none'; base-uri 'none'")
INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


def report_policy(page: str) -> str:
    """The report's policy, allowing exactly the inline scripts ``page`` holds (by their SHA-256)."""
    hashes = [base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode()
              for body in INLINE_SCRIPT.findall(page)]
    return REPORT_POLICY.format(scripts=" ".join(f"'sha256-{h}'" for h in hashes) or "'none'")


def case_url(case_id: str) -> str:
    return "/cases/" + quote(case_id, safe="")


def _field_input(name: str) -> dict:
    """How the form asks for a field's value: a <select> for categories, text with a hint otherwise."""
    spec = FIELD_BY_NAME[name]
    if spec.kind == "category":
        return {"choices": spec.vocabulary, "hint": ""}
    if spec.kind == "list":
        return {"choices": (), "hint": ("; ".join(spec.vocabulary) + " (separate with ;)") if spec.vocabulary
                else "separate with ;"}
    kind = "whole number" if spec.kind == "integer" else "number"
    if spec.minimum is not None and spec.maximum is not None:
        return {"choices": (), "hint": f"{kind} {spec.minimum:g}–{spec.maximum:g}"}
    return {"choices": (), "hint": f"{kind} ≥ {spec.minimum:g}" if spec.minimum is not None else kind}


def _safe_next(target: str) -> str:
    """Only a path on this server: never an open redirect."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


def _decide_cell(store: Store, case_id: str, field: str, action: str, curator: str, value: str | None, why: str,
                 evidence: dict | None = None) -> None:
    """A decision posted from a page. An accept confirms the value the page showed: one the curator typed over is
    refused, never dropped."""
    if action == "accept" and value is not None:
        cell = store.case(case_id).cells.get(field)
        if cell is not None and value.strip() != cell.value:
            raise CurationError(f"you changed the value to {value.strip()!r}: correct it, with a reason, to keep it "
                                f"(accept keeps the machine's {cell.predicted!r})")
    store.decide(case_id, field, action, curator, value=value or "", why=why, evidence=evidence)


def _filters(filter_field: str = Form(""), filter_doc: str = Form(""), filter_case: str = Form(""),
             filter_status: str = Form(""), filter_extractor: str = Form("")) -> dict:
    """The review queue's filters, as a form on the review page carries them (named apart from the cell's own
    case and field)."""
    return {"field": filter_field, "doc": filter_doc, "case": filter_case, "status": filter_status,
            "extractor": filter_extractor}


def _whole(text: str, default: int) -> int:
    """A page number or position from a URL as typed: anything but a whole number is the default, not an error."""
    try:
        return int(text)
    except ValueError:
        return default


def _name_first(target: str) -> RedirectResponse:
    """The page asking the curator's name, which goes on to ``target`` once given."""
    return RedirectResponse("/?next=" + quote(target), status_code=303)


def _remember(request: Request, done: dict) -> None:
    """A decision the curator may undo from the review page, the latest last."""
    request.session["undo"] = (list(request.session.get("undo", [])) + [done])[-UNDO_KEPT:]


def _undo_label(stack: list) -> str:
    if not stack:
        return ""
    last = stack[-1]
    if "batch" in last:
        return f"the bulk accept of {last['count']} values of {last['scope']}"
    return f"{last['action']} of {last['case']} {last['field']}"


def create_app(store: Store, secret_key: str | None = None, allowed_hosts: list[str] | None = None) -> FastAPI:
    """The web page over ``store``. The session cookie is signed with ``secret_key`` (default $PECRS_UI_SECRET,
    else a fresh key per process: the curator then gives their name again after a restart). Requests must be
    addressed to one of ``allowed_hosts`` (default: this machine's loopback names)."""
    app = FastAPI(title="pecrs curation", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(SessionMiddleware, secret_key=secret_key or settings().ui_secret
                       or secrets.token_urlsafe(32), session_cookie="pecrs_session", same_site="lax")
    templates = Jinja2Templates(env=Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True))
    templates.env.filters["case_url"] = case_url
    inputs = {name: _field_input(name) for name in SCORED_FIELDS}

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():  # a route's own policy (the report's) is kept
            response.headers.setdefault(name, value)
        return response

    def render(request: Request, name: str, status_code: int = 200, **context) -> HTMLResponse:
        token = request.session.setdefault("csrf", secrets.token_urlsafe(32))
        nonce = secrets.token_urlsafe(16)
        response = templates.TemplateResponse(request, name, {"csrf": token, "nonce": nonce,
                                                              "curator": request.session.get("curator", ""),
                                                              **context}, status_code=status_code)
        response.headers["Content-Security-Policy"] = PAGE_POLICY.format(nonce=nonce)
        return response

    def checked(request: Request, csrf: str = Form("")) -> None:
        expected = request.session.get("csrf", "")
        if not expected or not secrets.compare_digest(csrf.encode(), expected.encode()):
            raise HTTPException(403, "The form's security token is missing or stale: reload the page and try again.")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        return render(request, "message.html", status_code=exc.status_code, title=f"Error {exc.status_code}",
                      message=exc.detail)

    def case_page(request: Request, case_id: str, status_code: int = 200, **context) -> HTMLResponse:
        try:
            view = store.case(case_id)
        except CurationError:
            raise HTTPException(404, f"No case {case_id!r}.") from None
        contexts = {name: evidence_context(cell.evidence) for name, cell in view.cells.items()}
        return render(request, "case.html", status_code, view=view, document=store.document(view.doc_id),
                      contexts=contexts, inputs=inputs, history=store.history(case_id), **context)

    compared: dict[str, dict] = {}  # the latest run's changes, kept once whole (see changes_of)
    queued: dict[str, list[QueueItem]] = {}  # every cell as the queue lists it, for one state of the store

    def queue_now() -> list[QueueItem]:
        """queue_items of the store, kept while the store is as it was (Store.state: the same latest run, the same
        curation log). The review page asks for it at every step; rebuilt, it cost most of a step's second on 1,245
        cases."""
        key = store.state()
        if key not in queued:
            queued.clear()
            queued[key] = queue_items(store.cases(evidence=False))
        return queued[key]

    def changes_of(run) -> dict | None:
        """What ``run`` changed since the run before it. Once the run has its pooled answer (set as its outputs are
        written) this never changes: decisions taken later are after the run, and history is only added to."""
        if run is None:
            return None
        if run.run_id not in compared:
            changes = with_counts(store.changes(run.run_id))
            if changes["pooled"]["after"] is None:
                return changes
            compared.clear()
            compared[run.run_id] = changes
        return compared[run.run_id]

    @app.get("/", response_class=HTMLResponse)
    def index(request: Request, next: str = "/", q: str = "", sort: str = "case") -> HTMLResponse:
        """The cases with their review counts, searched (``q``: in the case id, label, document id or title) and
        sorted (``sort``: one of CASE_ORDERS)."""
        views = store.cases(evidence=False)
        documents = {d.doc_id: d for d in store.documents()}
        counts = {v.case_id: case_counts(v) for v in views}
        wanted = " ".join(q.split()).lower()
        shown = [v for v in views if not wanted or wanted in " ".join(
            (v.case_id, v.identity.get("patient_label", ""), v.doc_id,
             getattr(documents.get(v.doc_id), "title", "") or "")).lower()]
        if sort not in CASE_ORDERS:
            sort = "case"
        shown.sort(key=lambda v: CASE_ORDERS[sort](v, counts[v.case_id]))
        run = store.latest_run()
        return render(request, "index.html", views=shown, all_cases=len(views), documents=documents, counts=counts,
                      run=run, changes=changes_of(run),
                      next=_safe_next(next), q=q, sort=sort, orders=list(CASE_ORDERS),
                      message=request.session.pop("message", ""))

    @app.post("/cases/add", dependencies=[Depends(checked)])
    def add_case(request: Request, case_id: str = Form(""), doc_id: str = Form(""), why: str = Form("")) -> Response:
        """A patient the machine missed, as `pecrs curate add-case` adds one."""
        curator = request.session.get("curator", "")
        if not curator:
            return RedirectResponse("/", status_code=303)
        case_id = case_id.strip()
        if not case_id:
            raise HTTPException(400, "A new case needs an id (e.g. xiao2019-2).")
        if store.document(doc_id) is None:
            raise HTTPException(400, f"No document {doc_id!r}: choose the document the patient is reported in.")
        try:
            store.decide(case_id, "", "add-case", curator, why=why, doc_id=doc_id)
        except CurationError as exc:
            raise HTTPException(400, str(exc)) from None
        return RedirectResponse(case_url(case_id), status_code=303)

    @app.post("/cases/{case_id:path}/remove", dependencies=[Depends(checked)])
    def remove_case(request: Request, case_id: str, why: str = Form("")) -> Response:
        """A case that is no patient of the article (a cited one, a duplicate), as `pecrs curate remove-case`."""
        curator = request.session.get("curator", "")
        if not curator:
            return _name_first(case_url(case_id))
        try:
            store.decide(case_id, "", "remove-case", curator, why=why)
        except CurationError as exc:
            return case_page(request, case_id, 400, error=str(exc), error_field="case")
        return RedirectResponse(case_url(case_id), status_code=303)

    @app.get("/queue", response_class=HTMLResponse)
    def queue(request: Request, field: str = "", doc: str = "", case: str = "", status: str = "",
              extractor: str = "", page: str = "1") -> HTMLResponse:
        every = queue_now()
        wanted = {"field": field, "doc": doc, "case": case, "status": status, "extractor": extractor}
        items = review_queue(every, **wanted)
        pages = max(1, -(-len(items) // QUEUE_PAGE))
        page = min(max(1, _whole(page, 1)), pages)
        reviewed, total = progress(every)
        return render(request, "queue.html", items=items[(page - 1) * QUEUE_PAGE: page * QUEUE_PAGE],
                      unchecked=len(unchecked(every, case, field)), message=request.session.pop("message", ""),
                      matching=len(items), reviewed=reviewed, total=total, page=page, pages=pages, wanted=wanted,
                      fields=SCORED_FIELDS, statuses=STATUSES, documents=sorted({i.doc_id for i in every}),
                      extractors=sorted({i.extractor for i in every if i.extractor}),
                      query={name: value for name, value in wanted.items() if value})

    def review_page(request: Request, wanted: dict, at: int, status_code: int = 200, **context) -> HTMLResponse:
        every = queue_now()
        items = review_queue(every, **wanted)
        at = min(max(0, at), max(0, len(items) - 1))
        reviewed, total = progress(every)
        query = {name: value for name, value in wanted.items() if value}
        undo = _undo_label(request.session.get("undo", []))
        message = request.session.pop("message", "")
        if not items:
            return render(request, "review.html", status_code, item=None, reviewed=reviewed, total=total,
                          query=query, undo=undo, message=message, **context)
        item = items[at]
        view = store.case(item.case_id)
        cell = view.cells[item.field]
        document = store.document(item.doc_id)
        blocks, unavailable, stale, mentions = case_document(document, item.doc_id, view, item.field)
        bulk = [("case", f"of case {item.case_id}", len(unchecked(every, case=item.case_id))),
                ("field", f"of {item.field}, in every case", len(unchecked(every, field=item.field)))]
        return render(request, "review.html", status_code, item=item, at=at, matching=len(items), reviewed=reviewed,
                      total=total, query=query, undo=undo, message=message, view=view, cell=cell, document=document,
                      spec=FIELD_BY_NAME[item.field], input=inputs[item.field], context=evidence_context(cell.evidence),
                      blocks=blocks, unavailable=unavailable, stale=stale, mentions=mentions,
                      looked_for=[phrase for phrase, _ in looked_for(item.field)], bulk=bulk, **context)

    @app.get("/review", response_class=HTMLResponse)
    def review(request: Request, field: str = "", doc: str = "", case: str = "", status: str = "",
               extractor: str = "", at: str = "0") -> HTMLResponse:
        """One cell at a time, in the queue's order of need, with the document beside it."""
        wanted = {"field": field, "doc": doc, "case": case, "status": status, "extractor": extractor}
        return review_page(request, wanted, _whole(at, 0))

    @app.post("/review/decide", dependencies=[Depends(checked)])
    def review_decide(request: Request, case_id: str = Form(""), field: str = Form(""), action: str = Form(""),
                      value: str | None = Form(None), why: str = Form(""), at: str = Form("0"),
                      picked_start: str = Form(""), picked_end: str = Form(""), filters: dict = Depends(_filters)) \
            -> Response:
        curator = request.session.get("curator", "")
        at = _whole(at, 0)
        target = "/review?" + urlencode({**{k: v for k, v in filters.items() if v}, "at": at})
        if not curator:
            return _name_first(target)
        try:
            evidence = picked_span(store, case_id, picked_start, picked_end) if action == "correct" else None
            _decide_cell(store, case_id, field, action, curator, value, why, evidence)
        except CurationError as exc:
            return review_page(request, filters, at, 400, error=f"{field}: {exc}",
                               attempt={"value": value or "", "why": why})
        _remember(request, {"case": case_id, "field": field, "action": action})
        return RedirectResponse(target, status_code=303)

    @app.post("/review/undo", dependencies=[Depends(checked)])
    def review_undo(request: Request, filters: dict = Depends(_filters)) -> Response:
        """Withdraw the curator's last decision taken on the review page (a bulk accept as a whole), and show
        its cell again."""
        curator = request.session.get("curator", "")
        query = {k: v for k, v in filters.items() if v}
        if not curator:
            return _name_first("/review?" + urlencode(query))
        stack = list(request.session.get("undo", []))
        if not stack:
            return review_page(request, filters, 0, 400, error="nothing to undo")
        last = stack.pop()
        try:
            if "batch" in last:
                store.undo_batch(last["batch"], curator)
            else:
                store.undo(last["case"], last["field"], curator)
        except CurationError as exc:
            request.session["undo"] = stack
            return review_page(request, filters, 0, 400, error=str(exc))
        request.session["undo"] = stack
        at = 0
        if "batch" not in last:  # back to the cell undone, where the queue now puts it
            items = review_queue(queue_now(), **filters)
            at = next((n for n, i in enumerate(items) if (i.case_id, i.field) == (last["case"], last["field"])), 0)
        return RedirectResponse("/review?" + urlencode({**query, "at": at}), status_code=303)

    @app.post("/bulk-accept", dependencies=[Depends(checked)])
    def bulk_accept(request: Request, case: str = Form(""), field: str = Form(""), why: str = Form(""),
                    next: str = Form("/review")) -> Response:
        """Accept every value nobody has checked of one case, or of one field across cases, as one undoable batch."""
        curator = request.session.get("curator", "")
        if not curator:
            return _name_first(_safe_next(next))
        if bool(case) == bool(field):
            raise HTTPException(400, "A bulk accept takes one case or one field.")
        cells = [(i.case_id, i.field) for i in unchecked(queue_now(), case, field)]
        try:
            batch, accepted = store.accept_all(cells, curator, why=why)
        except CurationError as exc:
            raise HTTPException(400, str(exc)) from None
        if accepted:
            _remember(request, {"batch": batch, "count": accepted, "scope": case or field})
        request.session["message"] = (f"Accepted {accepted} value{'' if accepted == 1 else 's'} of "
                                      f"{'case ' + case if case else field} as one decision (undo withdraws them all).")
        return RedirectResponse(_safe_next(next), status_code=303)

    @app.get("/static/review.js")
    def review_script() -> Response:
        return Response((STATIC / "review.js").read_text(encoding="utf-8"), media_type="text/javascript",
                        headers={"Cache-Control": "no-cache"})

    @app.get("/documents/{doc_id:path}", response_class=HTMLResponse)
    def show_document(request: Request, doc_id: str, case: str = "", field: str = "") -> HTMLResponse:
        """The document's text with every span of ``case``'s evidence highlighted (``field``'s as current)."""
        document = store.document(doc_id)
        if document is None:
            raise HTTPException(404, f"No document {doc_id!r}.")
        view = None
        if case:
            try:
                view = store.case(case)
            except CurationError:
                raise HTTPException(404, f"No case {case!r}.") from None
        blocks, unavailable, stale, _ = case_document(document, doc_id, view, field)
        return render(request, "document.html", document=document, doc_id=doc_id, view=view, field=field,
                      blocks=blocks, unavailable=unavailable, stale=stale)

    @app.post("/name", dependencies=[Depends(checked)])
    def set_name(request: Request, name: str = Form(""), next: str = Form("/")) -> Response:
        name = " ".join(name.split())[:100]
        if not name:
            return _name_first(_safe_next(next))
        request.session["curator"] = name
        return RedirectResponse(_safe_next(next), status_code=303)

    @app.get("/cases/{case_id:path}", response_class=HTMLResponse)
    def show_case(request: Request, case_id: str) -> HTMLResponse:
        return case_page(request, case_id)

    @app.post("/cases/{case_id:path}/decide", dependencies=[Depends(checked)])
    def decide(request: Request, case_id: str, field: str = Form(""), action: str = Form(""),
               value: str | None = Form(None), why: str = Form("")) -> Response:
        curator = request.session.get("curator", "")
        if not curator:
            return _name_first(case_url(case_id))
        try:
            _decide_cell(store, case_id, field, action, curator, value, why)
        except CurationError as exc:
            return case_page(request, case_id, 400, error=str(exc), error_field=field,
                             attempt={"value": value or "", "why": why})
        return RedirectResponse(f"{case_url(case_id)}#{quote(field)}", status_code=303)

    @app.post("/cases/{case_id:path}/undo", dependencies=[Depends(checked)])
    def undo(request: Request, case_id: str, field: str = Form("")) -> Response:
        curator = request.session.get("curator", "")
        if not curator:
            return _name_first(case_url(case_id))
        try:
            store.undo(case_id, field, curator)
        except CurationError as exc:
            return case_page(request, case_id, 400, error=str(exc), error_field=field)
        return RedirectResponse(f"{case_url(case_id)}#{quote(field)}", status_code=303)

    @app.get("/scores", response_class=HTMLResponse)
    def scores(request: Request, field: str = "", kind: str = "") -> HTMLResponse:
        """The latest run's scores and errors; each error marked with the decision a curator has taken on its cell
        since (read from the store at each request, so the page is current after every decision), filtered by
        ``field`` and ``kind`` from the URL."""
        run = store.latest_run()
        report = json.loads(run.scores) if run is not None and run.scores else None
        known = {v.case_id for v in store.cases()}
        decisions = store.decisions()
        errors = []
        for error in (report or {}).get("errors", []):
            case_id = error.get("case_id") or error.get("predicted_case_id") or error.get("gold_case_id") or ""
            errors.append({**error, "case_id": case_id, "linked": case_id in known,
                           "decision": decisions.get((case_id, error.get("field", "")))})
        shown = [e for e in errors if (not field or e.get("field") == field) and (not kind or e.get("kind") == kind)]
        return render(request, "scores.html", run=run, report=report, errors=shown, all_errors=len(errors),
                      wanted={"field": field, "kind": kind}, error_fields=sorted({e.get("field", "") for e in errors}),
                      error_kinds=sorted({e.get("kind", "") for e in errors}))

    @app.get("/report", response_class=HTMLResponse)
    def report() -> HTMLResponse:
        """The latest run's evidence summary, as pecrs run wrote it to <its outputs folder>/<run_id>/report.html
        (runs recorded before the store kept their outputs folder wrote to the default one)."""
        run = store.latest_run()
        out = Path(run.out_dir) if run is not None and run.out_dir else settings().outputs_dir
        path = out / run.run_id / "report.html" if run is not None else None
        if path is None or not path.is_file():
            raise HTTPException(404, "No evidence summary yet: the latest run has no report.html (run `pecrs run`).")
        page = path.read_text(encoding="utf-8")
        return HTMLResponse(page, headers={"Content-Security-Policy": report_policy(page)})

    # added last, so outermost: a request to another host is refused before it gets a session
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts or LOCAL_HOSTS), www_redirect=False)
    return app

