"""`pecrs curate ...`, `pecrs export` and `pecrs gold import`: the curators' and evaluators' commands."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table
from rich.text import Text

from pipeline.cli import terminal
from pipeline.schema import SCORED_FIELDS
from pipeline.store import CurationError, export_columns, open_store
from pipeline.cli.terminal import errors, fail, say, say_error, text

curate_app = typer.Typer(add_completion=False, no_args_is_help=True, help="Correct, accept or reject extracted values.")
gold_app = typer.Typer(add_completion=False, no_args_is_help=True, help="The gold case table.")
console = terminal.console()

CURATION_COLUMNS = ["case_id", "field", "predicted_value", "curated_value", "action", "by", "at", "why"]


def _decide(case_id: str, field: str, action: str, by: str, value: str = "", why: str = "", doc: str = "") -> None:
    try:
        with open_store() as store:
            decision = store.decide(case_id, field, action, by, value=value, why=why, doc_id=doc)
    except CurationError as exc:
        fail(str(exc))
    shown = f" = {decision.value!r}" if decision.field else ""
    say(console, f"{decision.action}: {case_id} {field}{shown} by {decision.by} at {decision.at:%Y-%m-%d %H:%M} UTC")


@curate_app.command("set")
def set_value(case_id: str, field: str, value: str, by: str = typer.Option(..., "--by", help="Your name."),
              why: str = typer.Option(..., "--why", help="Why the machine's value is wrong.")) -> None:
    """Correct a cell: the value replaces the prediction in every later export, whatever the runs say."""
    _decide(case_id, field, "correct", by, value=value, why=why)


@curate_app.command()
def accept(case_id: str, field: str, by: str = typer.Option(..., "--by"), why: str = typer.Option("", "--why")) -> None:
    """Confirm the machine's value of a cell."""
    _decide(case_id, field, "accept", by, why=why)


@curate_app.command()
def reject(case_id: str, field: str, by: str = typer.Option(..., "--by"), why: str = typer.Option("", "--why")) -> None:
    """Say the machine's value is wrong and the cell is blank."""
    _decide(case_id, field, "reject", by, why=why)


@curate_app.command("add-case")
def add_case(case_id: str, doc: str = typer.Option(..., "--doc", help="doc_id of the article."),
             by: str = typer.Option(..., "--by"), why: str = typer.Option(..., "--why")) -> None:
    """Add a patient the machine missed; fill its cells with `curate set`."""
    _decide(case_id, "", "add-case", by, why=why, doc=doc)


@curate_app.command("remove-case")
def remove_case(case_id: str, by: str = typer.Option(..., "--by"), why: str = typer.Option(..., "--why")) -> None:
    """Leave a case out of the export (e.g. not in scope)."""
    _decide(case_id, "", "remove-case", by, why=why)


@curate_app.command()
def undo(case_id: str, field: str = typer.Argument("", help="The field; leave out for the case itself."),
         by: str = typer.Option(..., "--by")) -> None:
    """Withdraw the last standing decision on a cell: the one before it, or the prediction, shows again."""
    try:
        with open_store() as store:
            decision = store.undo(case_id, field, by)
    except CurationError as exc:
        fail(str(exc))
    say(console, f"withdrawn: {decision.action} of {case_id} {field} by {decision.by}")


@curate_app.command("list")
def list_cases(field: Optional[str] = typer.Option(None, "--field", help="Show this field's value and source."),
               flagged: bool = typer.Option(False, "--flagged", help="Only cases with cells to review.")) -> None:
    """The cases, with how many cells are curated and flagged."""
    if field is not None and field not in SCORED_FIELDS:
        fail(f"--field {field!r}: unknown field; fields: {', '.join(SCORED_FIELDS)}")
    with open_store() as store:
        views = store.cases()
    table = Table("case", "document", "label", "curated", "flagged", *([field, "source"] if field else []))
    for view in views:
        if flagged and not view.flagged:
            continue
        status = " (removed)" if view.removed else " (added)" if view.added else "" if view.predicted else " (not in latest run)"
        extra = [view.cells[field].value, view.cells[field].source] if field else []
        cells = (view.case_id + status, view.doc_id, view.identity.get("patient_label", ""), view.curated, view.flagged,
                 *extra)
        table.add_row(*map(text, cells))
    console.print(table)


@curate_app.command()
def show(case_id: str) -> None:
    """Every field of a case: value, source, flag, and the evidence quote."""
    try:
        with open_store() as store:
            view = store.case(case_id)
    except CurationError as exc:
        fail(str(exc))
    console.print(Text.assemble(text(view.case_id, "bold"), " ", text(view.doc_id), " ",
                                text(view.identity.get("patient_label", ""))), highlight=False, soft_wrap=True)
    table = Table("field", "value", "source", "flag", "evidence")
    for name, cell in view.cells.items():
        if cell.value or cell.predicted or cell.decision:
            columns = (name, cell.value, cell.source, "review" if cell.flagged else "", cell.evidence.get("quote", ""))
            table.add_row(*map(text, columns))
    console.print(table)


@curate_app.command()
def history(case_id: str) -> None:
    """Every decision taken on a case, withdrawn ones included."""
    try:
        with open_store() as store:
            decisions = store.history(case_id)
            if not decisions:
                store.case(case_id)  # an unknown case is an error, not an empty history
    except CurationError as exc:
        fail(str(exc))
    for d in decisions:
        withdrawn = f" (withdrawn by {d.withdrawn_by} {d.withdrawn_at:%Y-%m-%d %H:%M})" if d.withdrawn_at else ""
        say(console, f"{d.at:%Y-%m-%d %H:%M} {d.by}: {d.action} {d.field} {d.value!r} (was {d.predicted_value!r}) "
                     f"- {d.why}{withdrawn}")


EXPORT_HELP = "The format its suffix names: .csv, .json, .parquet or .xlsx."


@curate_app.command("export")
def export_curations(file: Path = typer.Argument(..., help=EXPORT_HELP)) -> None:
    """The curations, one row per curated cell."""
    from pipeline.outputs.exports import write_table

    _check_folder(file)
    _export_format(file)
    with open_store() as store:
        rows = store.curations()
    write_table(file, rows, CURATION_COLUMNS)
    say(console, f"{len(rows)} curated cells written to {file}")


def export_table(file: Path) -> None:
    """`pecrs export FILE`: the final case table, predictions overlaid with curations."""
    from pipeline.outputs.exports import write_table
    from pipeline.schema import COLUMNS

    _check_folder(file)
    _export_format(file)
    with open_store() as store:
        rows = store.table(confidence=True)
    columns = export_columns(confidence=True)
    # the columns after SCHEMA.md's (curated_fields, flagged_fields) list field names
    write_table(file, rows, columns, lists=tuple(c for c in columns if c not in COLUMNS))
    say(console, f"{len(rows)} cases written to {file}")


def _check_folder(file: Path) -> None:
    """The file is written into a folder that exists: a mistyped path is refused, not made."""
    if not file.parent.is_dir():
        fail(f"{file.parent}: folder not found")
    if file.is_dir():
        fail(f"{file}: is a folder, not a file to write")


def _export_format(file: Path) -> None:
    from pipeline.outputs.exports import ExportFormatError, export_format

    try:
        export_format(file)
    except ExportFormatError as exc:
        fail(str(exc))


@gold_app.command("import")
def gold_import(file: Path = typer.Argument(..., help="A table typed from a review (CSV)."),
                mapping: Path = typer.Option(..., "--mapping", help="The mapping file (YAML or JSON)."),
                out: Optional[Path] = typer.Option(None, "--out", help="Gold table to write (default: print to stdout).")) -> None:
    """Turn a review's table into gold rows in SCHEMA.md's columns, every value validated."""
    from pipeline.scoring.gold_import import GoldImportError, import_table
    from pipeline.outputs.writer import csv_text
    from pipeline.schema import COLUMNS

    for path, what in ((file, "review table"), (mapping, "mapping file")):
        if not path.is_file():
            fail(f"{path}: {what} not found")
    if out is not None:
        _check_folder(out)
    try:
        rows = import_table(file, mapping)
    except GoldImportError as exc:
        for problem in exc.problems[:-1]:
            say_error(problem)
        fail(exc.problems[-1])
    text = csv_text(rows, COLUMNS)
    if out is None:
        sys.stdout.write(text)
    else:
        from pipeline.outputs.atomic import atomic_write_text

        atomic_write_text(out, text)
        say(errors, f"{len(rows)} gold rows written to {out}")
