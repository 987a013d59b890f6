"""What changed in the evidence base between two runs: documents new, revised or retracted; patients added or
dropped; predicted values changed (old and new, each with its evidence); curated cells the change flagged; and the
decisions curators took in between. Read from the store alone: the current rows and their ``*_history`` (see
pipeline.store.models), each row held from the run that wrote it until the run that replaced it.

Runs are ordered as they were recorded (finish time, then id). Only the rows some run between the two wrote or
ended are read, so comparing two runs costs what changed between them, not the size of the store.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

from sqlalchemy import or_, select, true
from sqlalchemy.orm import Session

from pipeline.store import models
from pipeline.store.flags import evidence_key, outdated

_NEVER = float("inf")
MAX_LISTED = 5000


def _utc(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes for what was stored in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def ordered_runs(session: Session) -> list[models.Run]:
    return list(session.scalars(select(models.Run).order_by(models.Run.finished_at, models.Run.run_id)))


def previous_run(session: Session, run_id: str) -> models.Run | None:
    """The run of the same corpus recorded last before ``run_id``; None for its corpus's first."""
    runs = ordered_runs(session)
    at = next((i for i, run in enumerate(runs) if run.run_id == run_id), None)
    if at is None:
        return None
    return next((run for run in reversed(runs[:at]) if run.corpus == runs[at].corpus), None)


class _Timeline:
    """Where each run stands in the order of recording, and which rows were held after a given run."""

    def __init__(self, runs: list[models.Run], before: models.Run | None, after: models.Run):
        self.rank = {run.run_id: i for i, run in enumerate(runs)}
        self.a = self.rank[before.run_id] if before is not None else -1
        self.b = self.rank[after.run_id]
        self.between = [run.run_id for run in runs[self.a + 1:self.b + 1]]

    def held(self, row, at: int) -> bool:
        ended = getattr(row, "ended_run_id", None)
        return self.rank.get(row.run_id, _NEVER) <= at < (self.rank.get(ended, _NEVER) if ended else _NEVER)

    def state(self, versions: list, at: int) -> dict:
        """{key: the version held after the run of rank ``at``} from ``versions`` given as (key, row)."""
        return {key: row for key, row in versions if self.held(row, at)}


def _among(column: str, values: set[str]):
    """A condition on a table: its ``column`` is one of ``values`` (a long list is filtered by the caller instead:
    a database takes only so many parameters to a statement)."""
    values = sorted(values)
    return lambda table: getattr(table, column).in_(values) if len(values) <= MAX_LISTED else true()


def _versions(session: Session, model, key_columns: tuple[str, ...], where) -> list[tuple]:
    """(key, row) of every row of ``model`` and of its history that ``where`` (a function of the table) selects."""
    rows = [row for table in (model, models.HISTORY_OF[model])
            for row in session.scalars(select(table).where(where(table)))]
    return [(tuple(getattr(row, c) for c in key_columns) if len(key_columns) > 1 else getattr(row, key_columns[0]), row)
            for row in rows]


def compare(session: Session, before: models.Run | None, after: models.Run) -> dict:
    """The changes from the evidence base as ``before`` left it (nothing, for None) to as ``after`` left it,
    limited to ``after``'s corpus. JSON-ready."""
    timeline = _Timeline(ordered_runs(session), before, after)
    between = timeline.between
    corpus = after.corpus

    def touched(table):  # rows a run between wrote, or ended
        if hasattr(table, "ended_run_id"):
            return or_(table.run_id.in_(between), table.ended_run_id.in_(between))
        return table.run_id.in_(between)

    # documents: the versions some run between wrote or ended, then all versions of those documents
    doc_ids = {key for key, _ in _versions(session, models.Document, ("doc_id",), touched)}
    documents = _versions(session, models.Document, ("doc_id",), _among("doc_id", doc_ids)) if doc_ids else []
    docs_a, docs_b = timeline.state(documents, timeline.a), timeline.state(documents, timeline.b)
    new_docs, revised, retracted = [], [], []
    for doc_id, now in sorted(docs_b.items()):
        if now.corpus != corpus:
            continue
        was = docs_a.get(doc_id)
        brief = {"doc_id": doc_id, "title": now.title, "file": now.file}
        if was is None or was.corpus != corpus:
            new_docs.append(brief)
        elif was.content_hash != now.content_hash:
            revised.append({**brief, "file_before": was.file, "content_hash_before": was.content_hash,
                            "content_hash": now.content_hash})
        if now.retracted and (was is None or not was.retracted):
            retracted.append({**brief, "retracted": now.retracted})

    # patients
    case_ids = {key for key, _ in _versions(session, models.Case, ("case_id",), touched)}
    prediction_keys = _versions(session, models.Prediction, ("case_id", "field"), touched)
    case_ids |= {key[0] for key, _ in prediction_keys}
    cases = _versions(session, models.Case, ("case_id",), _among("case_id", case_ids)) if case_ids else []
    cases_a, cases_b = timeline.state(cases, timeline.a), timeline.state(cases, timeline.b)

    def present(state: dict, case_id: str) -> bool:
        row = state.get(case_id)
        return row is not None and row.in_latest_run and row.corpus == corpus

    decisions_a = _decisions_at(session, case_ids, before.finished_at if before is not None else None)
    decisions_b = _decisions_at(session, case_ids, after.finished_at)
    added = [_case_brief(cases_b[c]) for c in sorted(case_ids) if present(cases_b, c) and not present(cases_a, c)]
    dropped = [{**_case_brief(cases_a[c]), "curated_cells": sum(1 for (case, name) in decisions_b
                                                                 if case == c and name)}
               for c in sorted(case_ids) if present(cases_a, c) and not present(cases_b, c)]

    # values of the patients found by both runs
    changed_cells = {key for key, _ in prediction_keys if present(cases_a, key[0]) and present(cases_b, key[0])}
    predictions = _versions(session, models.Prediction, ("case_id", "field"),
                            _among("case_id", {c for c, _ in changed_cells})) if changed_cells else []
    predictions = [(key, row) for key, row in predictions if key in changed_cells]
    cells_a, cells_b = timeline.state(predictions, timeline.a), timeline.state(predictions, timeline.b)
    values, moved, flagged = [], 0, []
    for key in sorted(changed_cells):
        was, now = cells_a.get(key), cells_b.get(key)
        old, new = (was.value if was else ""), (now.value if now else "")
        old_evidence = json.loads(was.evidence) if was else {}
        new_evidence = json.loads(now.evidence) if now else {}
        if old == new and evidence_key(old_evidence) == evidence_key(new_evidence):
            continue
        decision = decisions_b.get(key)
        newly_flagged = outdated(decision, new, new_evidence) and not outdated(decisions_a.get(key), old, old_evidence)
        if old != new:
            values.append({"case_id": key[0], "field": key[1], "before": old, "after": new,
                           "evidence_before": _evidence_brief(old_evidence), "evidence": _evidence_brief(new_evidence),
                           "curated": decision is not None, "flagged": newly_flagged})
        else:
            moved += 1
        if newly_flagged:
            flagged.append({"case_id": key[0], "field": key[1], "curated_value": decision.value,
                            "action": decision.action, "by": decision.by, "predicted_when_decided":
                            decision.predicted_value or "", "predicted": new})
    return {
        "run": after.run_id, "previous": before.run_id if before is not None else None, "corpus": corpus,
        "documents": {"new": new_docs, "revised": revised, "retracted": retracted},
        "patients": {"added": added, "dropped": dropped},
        "values": values, "evidence_moved": moved, "flagged": flagged,
        "curations": _decided_between(session, before.finished_at if before is not None else None, after.finished_at),
        "fetched": _fetched(session, between),
    }


def _case_brief(row) -> dict:
    return {"case_id": row.case_id, "doc_id": row.doc_id, "patient_label": row.patient_label}


def _evidence_brief(evidence: dict) -> dict:
    keys = ("doc_id", "section", "start", "end", "quote")
    brief = {k: evidence[k] for k in keys if k in evidence}
    if isinstance(evidence.get("table"), dict):
        brief["table"] = {k: evidence["table"].get(k) for k in ("label", "row", "col", "row_header", "column_header")}
    return brief


def _decisions_at(session: Session, case_ids: set[str], moment: datetime | None) -> dict[tuple[str, str], models.Curation]:
    """The decisions standing at ``moment`` on the cells of ``case_ids`` (none before the first run)."""
    if moment is None or not case_ids:
        return {}
    moment = _utc(moment)
    standing: dict[tuple[str, str], models.Curation] = {}
    query = select(models.Curation).where(_among("case_id", case_ids)(models.Curation)).order_by(models.Curation.id)
    for decision in session.scalars(query):
        if decision.case_id not in case_ids or _utc(decision.at) > moment:
            continue
        if decision.withdrawn_at is not None and _utc(decision.withdrawn_at) <= moment:
            continue
        standing[(decision.case_id, decision.field)] = decision
    return standing


def _decided_between(session: Session, start: datetime | None, end: datetime) -> list[dict]:
    """The decisions taken, and the ones withdrawn, after ``start`` and by ``end``, in order."""
    start = _utc(start) if start is not None else None
    end = _utc(end)

    def within(moment: datetime | None) -> bool:
        return moment is not None and (start is None or _utc(moment) > start) and _utc(moment) <= end

    events = []
    query = select(models.Curation).order_by(models.Curation.id)
    if start is not None:
        query = query.where(or_(models.Curation.at > start, models.Curation.withdrawn_at > start))
    for decision in session.scalars(query):
        base = {"case_id": decision.case_id, "field": decision.field, "value": decision.value, "by": decision.by,
                "why": decision.why}
        if within(decision.at):
            events.append({**base, "action": decision.action, "at": _utc(decision.at).isoformat()})
        if within(decision.withdrawn_at):
            events.append({**base, "action": f"undo {decision.action}", "by": decision.withdrawn_by,
                           "at": _utc(decision.withdrawn_at).isoformat()})
    return sorted(events, key=lambda e: e["at"])


def _fetched(session: Session, run_ids: list[str]) -> dict | None:
    """What the fetches of these runs brought, summed; None when none of them fetched."""
    fetched = [json.loads(run.fetched) for run in session.scalars(select(models.Run).where(
        models.Run.run_id.in_(run_ids))) if run.fetched]
    if not fetched:
        return None
    total = {name: sum(f.get(name, 0) for f in fetched) for name in ("found", "new", "updated", "failed")}
    for name in ("revised", "retracted"):
        total[name] = sorted({pmid for f in fetched for pmid in f.get(name, [])})
    return total
