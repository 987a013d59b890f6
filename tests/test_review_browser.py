"""In Debian's Chromium: 50 cells of the corpus reviewed with the keyboard only (three corrected, one rejected), one
undone, one case bulk-accepted; the store holds exactly those decisions, with who, when and why, and a re-run keeps
them."""

from pathlib import Path

import pytest
from browser import CHROMIUM, CHROMIUM_ARGS, require_browser, serving
from review_flow import record_corpus, review_with_keys, undo_and_bulk_accept

from pipeline.store import Store
from pipeline.web import create_app

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.browser
def test_fifty_cells_reviewed_with_the_keyboard_are_kept_exactly_across_a_rerun(tmp_path):
    sync_playwright = require_browser()
    store = Store(f"sqlite:///{tmp_path / 'pecrs.db'}")
    try:
        documents, rows, evidence = record_corpus(store, ROOT / "corpus", tmp_path / "run")
        with serving(create_app(store, secret_key="test")) as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                page.goto(base + "/")
                # the name field takes the focus as the page loads (autofocus): keys typed before are lost
                page.wait_for_function("document.activeElement && document.activeElement.name === 'name'")
                page.keyboard.type("Kim")
                with page.expect_navigation():
                    page.keyboard.press("Enter")
                session = review_with_keys(page, base, cells=50, corrections=3, rejects=1)
                undo_and_bulk_accept(page, session)
                assert "Accepted" in page.inner_text("#message")
            finally:
                browser.close()
        decisions = store.decisions()
        reviewed = {(c, f): (a, v) for c, f, a, v in session.decisions if (c, f) not in session.undone}
        assert len(session.decisions) == 50 and len(reviewed) == 49
        assert sorted(a for a, _ in reviewed.values()).count("correct") == 3
        assert sorted(a for a, _ in reviewed.values()).count("reject") == 1
        for cell, (action, value) in reviewed.items():
            decision = decisions[cell]
            assert (decision.action, decision.by, decision.batch) == (action, "Kim", "")
            assert decision.value == (value if action != "reject" else "")
            assert decision.why == ("checked in the text" if action == "correct" else "")
        batch = {cell: d for cell, d in decisions.items() if d.batch}
        assert len({d.batch for d in batch.values()}) == 1
        assert {case for case, _ in batch} == {session.bulk_case}
        view = store.case(session.bulk_case)
        # the bulk accept took every value of the case that was still unchecked, the undone cell among them
        assert set(batch) == {(session.bulk_case, name) for name, cell in view.cells.items()
                              if cell.predicted and (session.bulk_case, name) not in reviewed}
        assert set(decisions) == set(reviewed) | set(batch)
        assert all(d.by == "Kim" and d.at is not None for d in decisions.values())
        store.record_run("r2", store.latest_run().finished_at, str(ROOT / "corpus"), documents, rows, evidence, None)
        after = store.decisions()
        assert {cell: (d.id, d.action, d.value) for cell, d in after.items()} == \
            {cell: (d.id, d.action, d.value) for cell, d in decisions.items()}
    finally:
        store.close()
