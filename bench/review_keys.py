"""Keystrokes and seconds per reviewed cell, in Debian's Chromium, keyboard only, on the embedded corpus: the case
pages (a form per field: Tab to the cell's accept button, Enter) against the review page (one cell at a time:
a, x, c ... Enter), and screenshots of the queue, a case, the review page, the document view and the scores.

The seconds are the browser's and the server's (page loads, rendering), not a person's reading time.
Usage: python bench/review_keys.py [--cells 50] [--before-cells 20] [--shots DIR]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from browser import CHROMIUM, CHROMIUM_ARGS, serving  # noqa: E402  (tests/browser.py)
from review_flow import (record_corpus, review_on_case_pages, review_with_keys,  # noqa: E402  (tests/review_flow.py)
                         undo_and_bulk_accept)

from pipeline.outputs.writer import csv_text  # noqa: E402
from pipeline.schema import COLUMNS  # noqa: E402
from pipeline.scoring.evaluation import evaluate  # noqa: E402
from pipeline.store import Store  # noqa: E402
from pipeline.web import create_app  # noqa: E402


def scored_store(folder: Path) -> Store:
    store = Store(f"sqlite:///{folder / 'pecrs.db'}")
    documents, rows, evidence = record_corpus(store, ROOT / "corpus", folder / "run")
    predicted = folder / "predicted_cases.csv"
    predicted.write_text(csv_text(rows, COLUMNS), encoding="utf-8")
    scores = evaluate(ROOT / "gold" / "cases.csv", predicted, evidence)
    store.record_run("r2", store.latest_run().finished_at, str(ROOT / "corpus"), documents, rows, evidence, scores)
    return store


def report(name: str, session) -> None:
    cells = len(session.decisions)
    print(f"{name:28s} {cells:3d} cells, {session.keys:5d} keys ({session.keys / cells:5.1f} per cell), seconds per cell "
          f"median {statistics.median(session.seconds):.2f}, mean {statistics.fmean(session.seconds):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=50)
    parser.add_argument("--before-cells", type=int, default=20)
    parser.add_argument("--shots", type=Path, help="folder for the screenshots")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as scratch, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        for name, flow in (("before: case pages", "before"), ("after: review page", "after")):
            folder = Path(scratch) / flow
            folder.mkdir()
            store = scored_store(folder)
            with serving(create_app(store, secret_key="bench")) as base:
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                page.goto(base + "/")
                page.keyboard.type("Bench")
                with page.expect_navigation():
                    page.keyboard.press("Enter")
                if flow == "before":
                    session = review_on_case_pages(page, base, store, args.before_cells)
                else:
                    session = review_with_keys(page, base, cells=args.cells)
                    undo_and_bulk_accept(page, session)
                    if args.shots:
                        shoot(page, base, store, args.shots)
                report(name, session)
                page.close()
            store.close()
        browser.close()


def shoot(page, base: str, store: Store, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    view = next(v for v in store.cases() if v.curated)
    field = next(name for name, cell in view.cells.items() if cell.predicted)
    pages = {"queue": "/queue", "review": "/review", "case": f"/cases/{view.case_id}",
             "document": f"/documents/{view.doc_id}?case={view.case_id}&field={field}#f-{field}", "scores": "/scores"}
    for name, path in pages.items():
        page.goto(base + path)
        page.screenshot(path=str(folder / f"{name}.png"), full_page=False)
        print(f"screenshot {folder / (name + '.png')}")


if __name__ == "__main__":
    main()
