"""Reviewing the corpus's cells in Chromium with the keyboard only, as a curator would: on the review page (one cell
at a time, keys a/x/c/u/b) and, for comparison, on the case pages (a form per field, Tab to the button, Enter).
Used by tests/test_review_browser.py (which checks what the store holds) and bench/review_keys.py (which prints
keystrokes and seconds per cell)."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pipeline.outputs.writer import EvidenceSpool
from pipeline.run import stages
from pipeline.run.collect import RunCollector
from pipeline.run.corpus import corpus_entries
from pipeline.schema import FIELD_BY_NAME
from pipeline.store import Store


def record_corpus(store: Store, corpus: Path, scratch: Path, run_id: str = "r1") \
        -> tuple[list[dict], list[dict], list[dict]]:
    """Extract every document of ``corpus`` and record the run in ``store`` as `pecrs run` does (one document per
    article, unique case ids); returns what was recorded (documents, cases, evidence), for a re-run to record the
    same again. ``scratch``: a folder for the run's evidence file."""
    with RunCollector(scratch) as collector:
        for entry in corpus_entries(corpus):
            collector.add(stages.process_file(entry, corpus))
        spool = EvidenceSpool(scratch / "evidence.jsonl")
        results, rows, _ = collector.finish(spool)
        spool.commit()
    evidence = [json.loads(line) for line in (scratch / "evidence.jsonl").read_text(encoding="utf-8").splitlines()]
    documents = [asdict(r) for r in results if r.doc_id and r.status != "duplicate"]
    store.record_run(run_id, datetime.now(UTC), str(corpus), documents, rows, evidence, None)
    return documents, rows, evidence


@dataclass
class Session:
    """What a keyboard session did: each decision as (case_id, field, action, value), and the cost."""
    decisions: list[tuple[str, str, str, str]] = field(default_factory=list)
    undone: list[tuple[str, str]] = field(default_factory=list)
    bulk_case: str = ""
    keys: int = 0
    seconds: list[float] = field(default_factory=list)

    def press(self, page, key: str) -> None:
        self.keys += 1
        page.keyboard.press(key)

    def type(self, page, text: str) -> None:
        self.keys += len(text)
        page.keyboard.type(text)


def a_correction(name: str, value: str) -> str | None:
    """Another value the field allows, typed as a curator would; None for a field chosen from a list."""
    spec = FIELD_BY_NAME[name]
    if spec.kind not in ("number", "integer") or not value:
        return None
    number = float(value) + 1
    if spec.maximum is not None and number > spec.maximum:
        number = float(value) - 1
    return f"{number:g}" if spec.minimum is None or number >= spec.minimum else None


def shown_cell(page) -> tuple[str, str, str]:
    return (page.input_value("#decide input[name=case_id]"), page.input_value("#decide input[name=field]"),
            page.input_value("#value"))


def review_with_keys(page, base: str, cells: int = 50, corrections: int = 3, rejects: int = 1) -> Session:
    """Decide ``cells`` cells on the review page by keys alone: ``corrections`` corrections (the first cells with a
    number after the fifth), ``rejects`` rejections (from the twentieth on), accepts otherwise."""
    session = Session()
    page.goto(base + "/review")
    for number in range(cells):
        case_id, name, value = shown_cell(page)
        started = time.perf_counter()
        typed = a_correction(name, value) if number >= 5 and corrections else None
        with page.expect_navigation():
            if typed is not None:
                corrections -= 1
                session.press(page, "c")
                session.type(page, typed)
                session.press(page, "Tab")
                session.type(page, "checked in the text")
                session.press(page, "Enter")
                session.decisions.append((case_id, name, "correct", typed))
            elif number >= 20 and rejects:
                rejects -= 1
                session.press(page, "x")
                session.decisions.append((case_id, name, "reject", ""))
            else:
                session.press(page, "a")
                session.decisions.append((case_id, name, "accept", value))
        session.seconds.append(time.perf_counter() - started)
    return session


def undo_and_bulk_accept(page, session: Session) -> None:
    """Undo the last decision (the page shows its cell again), then accept every unchecked value of that cell's
    case in one go: b, Enter."""
    with page.expect_navigation():
        session.press(page, "u")
    session.undone.append(session.decisions[-1][:2])
    session.bulk_case = shown_cell(page)[0]
    session.press(page, "b")
    with page.expect_navigation():
        session.press(page, "Enter")


def review_on_case_pages(page, base: str, store: Store, cells: int) -> Session:
    """Accept ``cells`` values on the case pages (today's page before the review page) with the keyboard: from the
    top of the page after each reload, Tab to the accept button of the next unchecked value, then Enter."""
    session = Session()
    views = [v for v in store.cases() if any(c.predicted and c.decision is None for c in v.cells.values())]
    for view in views:
        for name, cell in view.cells.items():
            if len(session.decisions) == cells:
                return session
            if not cell.predicted or cell.decision is not None:
                continue
            if not page.url.endswith(view.case_id) and "/cases/" + view.case_id + "#" not in page.url:
                page.goto(base + "/cases/" + view.case_id)
            started = time.perf_counter()
            page.evaluate("document.activeElement && document.activeElement.blur()")
            wanted = f'#{name} button[value="accept"]'
            for _ in range(2000):
                session.press(page, "Tab")
                if page.evaluate("(s) => document.activeElement === document.querySelector(s)", wanted):
                    break
            else:
                raise AssertionError(f"{wanted}: never reached with Tab")
            with page.expect_navigation():
                session.press(page, "Enter")
            session.decisions.append((view.case_id, name, "accept", cell.predicted))
            session.seconds.append(time.perf_counter() - started)
    return session
