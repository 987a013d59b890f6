"""The curators' web page: server-rendered forms over the store. Every POST carries the session's CSRF token;
the curator's name is asked once and kept in the (signed) session cookie. Only requests addressed to a host the
page serves are answered (a page of another name resolving here, DNS rebinding, gets nothing)."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from urllib.parse import quote

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
from pipeline.store import CurationError, Store
from pipeline.web.queue import STATUSES, progress, queue_items, review_queue

TEMPLATES = Path(__file__).resolve().parent / "templates"
QUEUE_PAGE = 200  # cells a page of the review queue lists
LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")  # as a browser on this machine writes them in the Host header
# no scripts, no frames, forms only back to this server: an escaping slip still cannot run code
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


# report.html has no scripts or forms, but its figures are data: images, which the policy above refuses
REPORT_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; "
                 "frame-ancestors 'none'; base-uri 'none'")


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


def _check_unchanged(store: Store, case_id: str, field: str, value: str) -> None:
    """An accept confirms the value the page showed: one the curator typed over is refused, never dropped."""
    cell = store.case(case_id).cells.get(field)
    if cell is not None and value.strip() != cell.value:
        raise CurationError(f"you changed the value to {value.strip()!r}: correct it, with a reason, to keep it "
                            f"(accept keeps the machine's {cell.predicted!r})")


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
        return templates.TemplateResponse(request, name, {"csrf": token, "curator": request.session.get("curator", ""),
                                                          **context}, status_code=status_code)

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

    @app.get("/", response_class=HTMLResponse)
    def index(request: Request, next: str = "/") -> HTMLResponse:
        views = store.cases()
        documents = {doc_id: store.document(doc_id) for doc_id in {v.doc_id for v in views}}
        return render(request, "index.html", views=views, documents=documents, run=store.latest_run(),
                      next=_safe_next(next))

    @app.get("/queue", response_class=HTMLResponse)
    def queue(request: Request, field: str = "", doc: str = "", case: str = "", status: str = "",
              extractor: str = "", page: int = 1) -> HTMLResponse:
        every = queue_items(store.cases())
        wanted = {"field": field, "doc": doc, "case": case, "status": status, "extractor": extractor}
        items = review_queue(every, **wanted)
        pages = max(1, -(-len(items) // QUEUE_PAGE))
        page = min(max(1, page), pages)
        reviewed, total = progress(every)
        return render(request, "queue.html", items=items[(page - 1) * QUEUE_PAGE: page * QUEUE_PAGE],
                      matching=len(items), reviewed=reviewed, total=total, page=page, pages=pages, wanted=wanted,
                      fields=SCORED_FIELDS, statuses=STATUSES, documents=sorted({i.doc_id for i in every}),
                      extractors=sorted({i.extractor for i in every if i.extractor}),
                      query={name: value for name, value in wanted.items() if value})

    @app.post("/name", dependencies=[Depends(checked)])
    def set_name(request: Request, name: str = Form(""), next: str = Form("/")) -> Response:
        name = " ".join(name.split())[:100]
        if not name:
            return RedirectResponse("/?next=" + quote(_safe_next(next)), status_code=303)
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
            return RedirectResponse("/?next=" + quote(case_url(case_id)), status_code=303)
        try:
            if action == "accept" and value is not None:
                _check_unchanged(store, case_id, field, value)
            store.decide(case_id, field, action, curator, value=value or "", why=why)
        except CurationError as exc:
            return case_page(request, case_id, 400, error=str(exc), error_field=field,
                             attempt={"value": value or "", "why": why})
        return RedirectResponse(f"{case_url(case_id)}#{quote(field)}", status_code=303)

    @app.post("/cases/{case_id:path}/undo", dependencies=[Depends(checked)])
    def undo(request: Request, case_id: str, field: str = Form("")) -> Response:
        curator = request.session.get("curator", "")
        if not curator:
            return RedirectResponse("/?next=" + quote(case_url(case_id)), status_code=303)
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
        return HTMLResponse(path.read_text(encoding="utf-8"), headers={"Content-Security-Policy": REPORT_POLICY})

    # added last, so outermost: a request to another host is refused before it gets a session
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts or LOCAL_HOSTS), www_redirect=False)
    return app

