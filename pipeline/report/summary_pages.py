"""The evidence summary's two pages as rendered, ready to be written into a run's folder. Apart from the
renderer (pipeline.report.html) so that a run which finds them in the cache loads no template engine."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from pathlib import Path

from pipeline.outputs.atomic import atomic_write_text

# the pages are rendered with this in place of the run id, which is set in when they are written: pages that show
# the same cases, evidence and scores are the same whichever run wrote them, so they can be rendered once
RUN_ID_SLOT = "@@pecrs-run-id@@"
# and the "What changed" section, which differs from run to run even when the rest of the page does not
CHANGES_SLOT = "<!--@@pecrs-changes@@-->"


@dataclass(frozen=True)
class SummaryPages:
    summary_json: str
    report_html: str  # with RUN_ID_SLOT for the run id

    def write(self, run_dir: Path, run_id: str, changes_html: str = "") -> None:
        """summary.json and report.html in ``run_dir``, each written whole or not at all; ``changes_html`` is the
        page's "What changed" section, rendered apart (pipeline.report.html.render_changes)."""
        atomic_write_text(Path(run_dir) / "summary.json", self.summary_json)
        page = self.report_html.replace(RUN_ID_SLOT, escape(run_id)).replace(CHANGES_SLOT, changes_html)
        atomic_write_text(Path(run_dir) / "report.html", page)
