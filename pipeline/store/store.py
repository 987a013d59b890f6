"""The evidence base: each run's predictions, made the run's in one transaction, and the curators' decisions,
only ever added to. The case table that leaves pecrs is the predictions overlaid with the decisions."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import Iterable, Iterator

from sqlalchemy import String, create_engine, delete, event, func, insert, inspect, literal, select, text, tuple_, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from pipeline.schema import COLUMNS, FIELD_BY_NAME, SCORED_FIELDS, InvalidValue, normalize_cell
from pipeline.store import history, models
from pipeline.store.flags import outdated

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# The newest migration's revision: a store already there opens without loading Alembic (0.6 s of every run)
SCHEMA_REVISION = "0006"
CONFIDENCE_COLUMN = "confidence"
CELL_ACTIONS = ("accept", "correct", "reject")
CASES_PER_WRITE = 500
CASE_ACTIONS = ("add-case", "remove-case")


class CurationError(ValueError):
    """A decision that cannot be taken: unknown case or field, a value the schema refuses, no name given."""


class StoreError(RuntimeError):
    """The store cannot be used: a damaged file, a missing database driver, a server that refuses."""


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Cell:
    field: str
    predicted: str = ""
    evidence_json: str = "{}"  # parsed on first use: most cells of a large table are never looked at
    confidence: float | None = None  # the machine's, for its value (extractors.confidence)
    extractor: str = ""  # the rule that read the machine's value
    decision: models.Curation | None = None

    @cached_property
    def evidence(self) -> dict:
        return json.loads(self.evidence_json)

    @property
    def value(self) -> str:
        return self.decision.value if self.decision is not None else self.predicted

    @property
    def source(self) -> str:
        return "curator" if self.decision is not None else ("machine" if self.predicted else "")

    @property
    def flagged(self) -> bool:
        """The machine's prediction or its evidence changed after the curator decided: worth a second look."""
        return self.decision is not None and outdated(self.decision, self.predicted, self.evidence)


@dataclass
class CaseView:
    case_id: str
    doc_id: str
    identity: dict
    cells: dict[str, Cell]
    predicted: bool  # found by the latest run
    added: bool  # added by a curator
    removed: bool  # removed by a curator

    @property
    def curated(self) -> int:
        return sum(1 for c in self.cells.values() if c.decision is not None)

    @property
    def flagged(self) -> int:
        return sum(1 for c in self.cells.values() if c.flagged) + (not self.predicted and not self.added)


class Store:
    def __init__(self, url: str):
        self.url = url
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = create_engine(url)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._migrate()
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    def _migrate(self) -> None:
        """Bring the schema to the newest revision. Processes opening a new store at once (a served run, the web
        page, workers) take turns on the database itself: PostgreSQL's advisory lock, SQLite's exclusive
        transaction. Whoever comes second finds nothing left to do."""
        if self._revision() == SCHEMA_REVISION:
            return
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.connect() as connection:
            _lock_for_migration(connection)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            connection.commit()

    def _revision(self) -> str | None:
        """The schema revision Alembic recorded in the database; None for a new one."""
        with self.engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return None
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- runs --------------------------------------------------------------------------------------
    def record_run(self, run_id: str, started_at: datetime, corpus: str, documents: list[dict], cases: list[dict],
                   evidence: Iterable[dict], scores: dict | None, digest: str | None = None,
                   out_dir: str = "", fetched: dict | None = None) -> "RunChanges":
        """Make the predictions of ``corpus`` this run's, in one transaction: a run killed before the commit
        leaves the store exactly as it was. The cases of other corpora are left as they are: a run over another
        folder does not erase them. Only what differs from the stored predictions is written, so an unchanged
        corpus costs a read of the tables. ``evidence`` may be a stream (read once, case by case): its lines come
        in the order of ``cases``, each case's together, as a run writes them. A ``digest`` equal to the latest
        run's, of the same corpus, says the predictions are the same as that run's: they are left as they are,
        unread."""
        changes = RunChanges()
        with self.sessions.begin() as session:
            latest = _latest_run(session)
            if digest is None or latest is None or latest.digest != digest or latest.corpus != corpus:
                self._replace_predictions(session, run_id, corpus, documents, cases, _Lookahead(iter(evidence)),
                                          changes)
            session.add(models.Run(run_id=run_id, started_at=started_at, finished_at=_now(), corpus=corpus,
                                   out_dir=out_dir, documents=len(documents), cases=len(cases), digest=digest,
                                   scores=json.dumps(scores) if scores is not None else None,
                                   fetched=json.dumps(fetched) if fetched is not None else None))
        return changes

    def set_pooled(self, run_id: str, pooled: dict) -> None:
        """Keep the pooled answer drawn over ``run_id``'s final table, for later runs to compare theirs with."""
        with self.sessions.begin() as session:
            session.execute(update(models.Run).where(models.Run.run_id == run_id).values(pooled=json.dumps(pooled)))

    def previous_run(self, run_id: str) -> models.Run | None:
        """The run of the same corpus recorded just before ``run_id``."""
        with self.sessions() as session:
            return history.previous_run(session, run_id)

    def changes(self, after: str, before: str | None = "previous") -> dict:
        """What changed from run ``before`` (by default the previous run of ``after``'s corpus; None: from an empty
        store) to run ``after`` (pipeline.store.history.compare), with both runs' pooled answers."""
        with self.sessions() as session:
            later = session.get(models.Run, after)
            if later is None:
                raise CurationError(f"no run {after!r} in the store")
            if before == "previous":
                earlier = history.previous_run(session, after)
            elif before is None:
                earlier = None
            else:
                earlier = session.get(models.Run, before)
                if earlier is None:
                    raise CurationError(f"no run {before!r} in the store")
            if earlier is not None and (earlier.finished_at, earlier.run_id) > (later.finished_at, later.run_id):
                earlier, later = later, earlier  # compared in the order they were recorded
            found = history.compare(session, earlier, later)
            found["pooled"] = {"before": json.loads(earlier.pooled) if earlier is not None and earlier.pooled else None,
                               "after": json.loads(later.pooled) if later.pooled else None}
            found["recorded"] = {"before": earlier.finished_at.isoformat() if earlier is not None else None,
                                 "after": later.finished_at.isoformat()}
        return found

    @staticmethod
    def _replace_predictions(session: Session, run_id: str, corpus: str, documents: list[dict], cases: list[dict],
                             lines: "_Lookahead", changes: "RunChanges") -> None:
        connection = session.connection()
        stored_documents = {row[0]: tuple(row[1:]) for row in connection.execute(select(*_DOCUMENT_COLUMNS))}
        wanted_documents = []
        for document in documents:
            values = tuple(document.get(c.key, "") or "" for c in _DOCUMENT_COLUMNS[1:-1]) + (corpus,)
            if stored_documents.get(document["doc_id"]) != values:
                wanted_documents.append({"doc_id": document["doc_id"], "run_id": run_id,
                                         **dict(zip((c.key for c in _DOCUMENT_COLUMNS[1:]), values))})
        _replace(connection, models.Document, models.Document.doc_id, wanted_documents, run_id)
        changes.documents = len(wanted_documents)

        # every stored case, each with its corpus last: a case this run finds may have been another corpus's
        stored_cases = {row[0]: tuple(row[1:]) for row in connection.execute(select(*_CASE_COLUMNS, models.Case.corpus))}
        found: set[str] = set()
        # case by case in chunks, so that memory holds one chunk of predictions, not the whole store
        for chunk in _chunks(cases, CASES_PER_WRITE):
            ids = [row["case_id"] for row in chunk]
            found.update(ids)
            stored_cells = {(case_id, name): _digest(value, evidence_json, confidence)
                            for case_id, name, value, evidence_json, confidence
                            in connection.execute(select(models.Prediction.case_id, models.Prediction.field,
                                                         models.Prediction.value, models.Prediction.evidence,
                                                         models.Prediction.confidence)
                                                  .where(models.Prediction.case_id.in_(ids)))}
            wanted_cases, wanted_cells, seen_cells = [], [], set()
            for row in chunk:
                case_id = row["case_id"]
                values = tuple(row.get(c.key, "") or "" for c in _CASE_COLUMNS[1:-1]) + (True, corpus)
                if stored_cases.get(case_id) != values:
                    wanted_cases.append({"case_id": case_id, "run_id": run_id, "corpus": corpus,
                                         **dict(zip((c.key for c in _CASE_COLUMNS[1:]), values))})
                    was = stored_cases.get(case_id)
                    changes.cases_new += was is None or not was[-2] or was[-1] != corpus
                by_field, least_sure = {}, {}
                for line in lines.take_while(lambda line: line["case_id"] == case_id):
                    by_field.setdefault(line["field"], line)
                    if "confidence" in line:  # a list's cell is as sure as its least sure item
                        least_sure[line["field"]] = min(line["confidence"], least_sure.get(line["field"], 1.0))
                for name in SCORED_FIELDS:
                    value = row.get(name, "") or ""
                    if not value:
                        continue
                    seen_cells.add((case_id, name))
                    evidence = _evidence_of(by_field.get(name, {}))
                    evidence_json = json.dumps(evidence)
                    confidence = least_sure.get(name)
                    if stored_cells.get((case_id, name)) != _digest(value, evidence_json, confidence):
                        wanted_cells.append({"case_id": case_id, "field": name, "value": value,
                                             "evidence": evidence_json, "confidence": confidence,
                                             "extractor": str(evidence.get("extractor", ""))[:80], "run_id": run_id})
            gone_cells = [key for key in stored_cells if key not in seen_cells]
            stale = gone_cells + [(c["case_id"], c["field"]) for c in wanted_cells if (c["case_id"], c["field"]) in stored_cells]
            for keys in _chunks(stale):
                cells = tuple_(models.Prediction.case_id, models.Prediction.field).in_(keys)
                _archive(connection, models.Prediction, cells, run_id)
                connection.execute(delete(models.Prediction).where(cells))
            if wanted_cells:
                connection.execute(insert(models.Prediction), wanted_cells)
            _replace(connection, models.Case, models.Case.case_id, wanted_cases, run_id)
            changes.cells_written += len(wanted_cells)
            changes.cells_removed += len(gone_cells)

        dropped = [case_id for case_id, values in stored_cases.items()
                   if values[-2] and values[-1] == corpus and case_id not in found]
        for ids in _chunks(dropped):
            _archive(connection, models.Case, models.Case.case_id.in_(ids), run_id)
            connection.execute(update(models.Case).where(models.Case.case_id.in_(ids))
                               .values(in_latest_run=False, run_id=run_id))
            _archive(connection, models.Prediction, models.Prediction.case_id.in_(ids), run_id)
            gone = connection.execute(delete(models.Prediction).where(models.Prediction.case_id.in_(ids)))
            changes.cells_removed += gone.rowcount
        changes.cases_dropped = len(dropped)

    def runs(self, limit: int = 20) -> list[models.Run]:
        with self.sessions() as session:
            return list(session.scalars(select(models.Run).order_by(models.Run.finished_at.desc()).limit(limit)))

    def latest_run(self, out_dir: str | None = None) -> models.Run | None:
        """The latest run, or the latest that wrote into the outputs folder ``out_dir``."""
        with self.sessions() as session:
            return _latest_run(session, out_dir)

    def table_version(self, corpus: str | None = None) -> str | None:
        """A value that changes whenever table(corpus) may: the predictions are the latest run's of the corpus (a
        run writes its own or finds them equal to the stored ones), named by its digest, and the curation log only
        grows (an undo stamps the decision it withdraws). None when that run recorded no digest."""
        with self.sessions() as session:
            latest = _latest_run(session, corpus=corpus)
            if latest is None or not latest.digest:
                return None
            return f"{SCHEMA_REVISION}/{latest.corpus}/{latest.digest}/{_curation_log_state(session)}"

    def state(self) -> str:
        """A value that changes whenever what cases() gives may: a run recorded (the latest run, by its id) or a
        decision taken or withdrawn."""
        with self.sessions() as session:
            latest = _latest_run(session)
            return f"{latest.run_id if latest else ''}/{_curation_log_state(session)}"

    def run(self, run_id: str) -> models.Run | None:
        with self.sessions() as session:
            return session.get(models.Run, run_id)

    # -- reading -----------------------------------------------------------------------------------
    def cases(self, evidence: bool = True) -> list[CaseView]:
        """Every case; without ``evidence``, only decided cells carry theirs (enough to know which are flagged)."""
        with self.sessions() as session:
            return self._views(session, evidence=evidence)

    def case(self, case_id: str) -> CaseView:
        with self.sessions() as session:
            views = self._views(session, case_id)  # this case's rows only: a page per case stays fast
        if not views:
            raise CurationError(f"no case {case_id!r}")
        return views[0]

    def documents(self) -> list[models.Document]:
        """Every stored document, by id."""
        with self.sessions() as session:
            return list(session.scalars(select(models.Document).order_by(models.Document.doc_id)))

    def document(self, doc_id: str) -> models.Document | None:
        with self.sessions() as session:
            return session.get(models.Document, doc_id)

    def _views(self, session: Session, only: str | None = None, evidence: bool = True) -> list[CaseView]:
        """Every case, or the case ``only`` (none if there is no such case)."""
        return list(self._iter_views(session, only, evidence))

    def _iter_views(self, session: Session, only: str | None = None, evidence: bool = True,
                    corpus: str | None = None) -> Iterator[CaseView]:
        """The cases one by one, their predictions read a chunk of cases at a time (memory holds one chunk, not
        the store). Without ``evidence``, only decided cells carry theirs (a flag compares it). With ``corpus``,
        the cases of that corpus and those a curator added from its documents."""
        cases_query = select(*_CASE_COLUMNS)
        if only is not None:
            cases_query = cases_query.where(models.Case.case_id == only)
        if corpus is not None:
            cases_query = cases_query.where(models.Case.corpus == corpus)
        cases = {row[0]: row for row in session.execute(cases_query)}
        decisions = _current_decisions(session, only)
        added = {d.case_id: d for (case_id, name), d in decisions.items() if name == "" and d.action == "add-case"}
        if corpus is not None:
            own = set(session.scalars(select(models.Document.doc_id).where(models.Document.corpus == corpus)))
            added = {case_id: d for case_id, d in added.items() if case_id in cases or d.doc_id in own}
        removed = {case_id for (case_id, name), d in decisions.items() if name == "" and d.action == "remove-case"}
        columns = (models.Prediction.case_id, models.Prediction.field, models.Prediction.value,
                   models.Prediction.evidence if evidence else literal("{}"), models.Prediction.confidence,
                   models.Prediction.extractor)
        for ids in _chunks(sorted(set(cases) | set(added)), CASES_PER_WRITE):
            predictions: dict[tuple[str, str], tuple] = {
                (case_id, name): rest for case_id, name, *rest
                in session.execute(select(*columns).where(models.Prediction.case_id.in_(ids)))}
            if not evidence:
                decided = [key for key in predictions if key in decisions]
                for keys in _chunks(decided):
                    for case_id, name, *rest in session.execute(
                            select(*columns[:3], models.Prediction.evidence, *columns[4:])
                            .where(tuple_(models.Prediction.case_id, models.Prediction.field).in_(keys))):
                        predictions[(case_id, name)] = rest
            for case_id in ids:
                case = cases.get(case_id)
                cells = {name: Cell(name, *predictions.get((case_id, name), ("", "{}", None, "")),
                                    decision=decisions.get((case_id, name)))
                         for name in SCORED_FIELDS}
                identity = dict(zip((c.key for c in _CASE_COLUMNS[1:-1]), case[1:-1])) if case else \
                    {c.key: "" for c in _CASE_COLUMNS[1:-1]}
                if case is None:
                    identity["doc_id"] = added[case_id].doc_id
                yield CaseView(case_id, identity["doc_id"], identity, cells, predicted=bool(case and case[-1]),
                               added=case_id in added, removed=case_id in removed)

    def table(self, corpus: str | None = None, confidence: bool = False) -> list[dict]:
        """The final case table (of every corpus, or of ``corpus``): SCHEMA.md's columns, then which cells a curator
        decided and which are flagged; with ``confidence``, the confidence of each value nobody decided
        ("crs_grade=0.93;il6_pre=0.47")."""
        rows = []
        with self.sessions() as session:
            for view in self._iter_views(session, evidence=False, corpus=corpus):
                if view.removed or not (view.predicted or view.added or view.curated):
                    continue
                row = {"case_id": view.case_id, **view.identity}
                row.update({name: cell.value for name, cell in view.cells.items()})
                row["curated_fields"] = ";".join(n for n, c in view.cells.items() if c.source == "curator")
                row["flagged_fields"] = ";".join(n for n, c in view.cells.items() if c.flagged)
                if confidence:
                    row[CONFIDENCE_COLUMN] = ";".join(f"{n}={c.confidence:g}" for n, c in view.cells.items()
                                                      if c.source == "machine" and c.confidence is not None)
                rows.append(row)
        return rows

    def history(self, case_id: str) -> list[models.Curation]:
        with self.sessions() as session:
            return list(session.scalars(select(models.Curation).where(models.Curation.case_id == case_id)
                                        .order_by(models.Curation.id)))

    def decisions(self) -> dict[tuple[str, str], models.Curation]:
        """The standing decision of every cell, by (case_id, field); field "" for a case-level one."""
        with self.sessions() as session:
            return _current_decisions(session)

    def curations(self) -> list[dict]:
        """Every curated cell's current decision, for export."""
        with self.sessions() as session:
            return [{"case_id": d.case_id, "field": d.field, "predicted_value": d.predicted_value or "",
                     "curated_value": d.value, "action": d.action, "by": d.by, "at": d.at.isoformat(), "why": d.why}
                    for _, d in sorted(_current_decisions(session).items())]

    # -- deciding ----------------------------------------------------------------------------------
    def decide(self, case_id: str, field: str, action: str, by: str, value: str = "", why: str = "",
               doc_id: str = "", evidence: dict | None = None) -> models.Curation:
        """One decision on a cell (or, for add-case and remove-case, on a case). ``evidence``: for a correction,
        the span of the document the curator read their value from (doc_id, start, end, quote)."""
        by, why = (by or "").strip(), (why or "").strip()
        if not by:
            raise CurationError("a decision needs the curator's name (--by)")
        if action in CASE_ACTIONS:
            return self._decide_case(case_id, action, by, why, doc_id)
        if action not in CELL_ACTIONS:
            raise CurationError(f"unknown action {action!r}; one of {', '.join(CELL_ACTIONS + CASE_ACTIONS)}")
        if field not in FIELD_BY_NAME:
            raise CurationError(f"unknown field {field!r}; fields: {', '.join(SCORED_FIELDS)}")
        view = self.case(case_id)
        cell = view.cells[field]
        if action == "correct":
            try:
                value = normalize_cell(field, value)
            except InvalidValue as exc:
                raise CurationError(str(exc)) from None
            if not value:
                raise CurationError(f"{field}: a correction needs a value (reject says the cell is blank)")
            if not why:
                raise CurationError(f"{field}: a correction needs a reason (why the machine's value is wrong)")
        elif action == "accept":
            if not cell.predicted:
                raise CurationError(f"{case_id} {field}: nothing predicted to accept")
            value = cell.predicted
        else:
            value = ""
        if evidence and action != "correct":
            raise CurationError(f"{field}: only a correction cites the curator's own evidence")
        decision = models.Curation(case_id=case_id, field=field, action=action, value=value, by=by, at=_now(), why=why,
                                   predicted_value=cell.predicted, predicted_evidence=json.dumps(cell.evidence),
                                   evidence=json.dumps(_picked(evidence, view.doc_id)) if evidence else "{}")
        with self.sessions.begin() as session:
            session.add(decision)
        return decision

    def accept_all(self, cells: list[tuple[str, str]], by: str, why: str = "") -> tuple[str, int]:
        """Accept, as one batch, the machine's value of each of ``cells`` ((case_id, field)) that has one and that
        nobody has decided; the others are left as they are. Returns (the batch id, the cells accepted); undo_batch
        withdraws them together."""
        by, why = (by or "").strip(), (why or "").strip()
        if not by:
            raise CurationError("a decision needs the curator's name (--by)")
        batch, wanted, accepted = "b" + secrets.token_hex(8), set(cells), []
        with self.sessions.begin() as session:
            for view in self._views(session):
                for name, cell in view.cells.items():
                    if (view.case_id, name) in wanted and cell.predicted and cell.decision is None and not view.removed:
                        accepted.append(models.Curation(
                            case_id=view.case_id, field=name, action="accept", value=cell.predicted, by=by, at=_now(),
                            why=why, predicted_value=cell.predicted, predicted_evidence=json.dumps(cell.evidence),
                            batch=batch))
            session.add_all(accepted)
        return batch, len(accepted)

    def undo_batch(self, batch: str, by: str) -> int:
        """Withdraw the decisions of ``batch`` that still stand; returns how many."""
        if not (by or "").strip():
            raise CurationError("an undo needs the curator's name (--by)")
        with self.sessions.begin() as session:
            standing = [d for d in _current_decisions(session).values() if batch and d.batch == batch]
            if not standing:
                raise CurationError(f"no decision of batch {batch!r} stands")
            at = _now()
            for decision in standing:
                decision = session.get(models.Curation, decision.id)
                decision.withdrawn_at, decision.withdrawn_by = at, by.strip()
        return len(standing)

    def _decide_case(self, case_id: str, action: str, by: str, why: str, doc_id: str) -> models.Curation:
        with self.sessions() as session:
            known = self._views(session, case_id)
        if action == "add-case":
            if known and not known[0].removed:
                raise CurationError(f"case {case_id!r} already exists")
            if not doc_id:
                raise CurationError("add-case needs the document the case comes from (--doc)")
        elif not known:
            raise CurationError(f"no case {case_id!r}")
        decision = models.Curation(case_id=case_id, field="", action=action, value="", by=by, at=_now(), why=why,
                                   doc_id=doc_id, predicted_evidence="{}")
        with self.sessions.begin() as session:
            session.add(decision)
        return decision

    def undo(self, case_id: str, field: str, by: str) -> models.Curation:
        """Withdraw the latest standing decision on a cell (field "" for the case itself)."""
        if not (by or "").strip():
            raise CurationError("an undo needs the curator's name (--by)")
        with self.sessions.begin() as session:
            decision = _current_decisions(session).get((case_id, field))
            if decision is None:
                raise CurationError(f"{case_id} {field or '(case)'}: no decision to undo")
            decision = session.get(models.Curation, decision.id)
            decision.withdrawn_at, decision.withdrawn_by = _now(), by.strip()
        return decision


@dataclass
class RunChanges:
    """What a run changed in the stored predictions."""
    documents: int = 0  # documents new or changed
    cases_new: int = 0  # cases found that the previous run did not find
    cases_dropped: int = 0  # cases the previous run found and this one does not
    cells_written: int = 0  # predicted cells new or changed (value or evidence)
    cells_removed: int = 0  # cells predicted before and blank now

    def __str__(self) -> str:
        if not (self.documents or self.cases_new or self.cases_dropped or self.cells_written or self.cells_removed):
            return "predictions unchanged"
        return (f"{self.cells_written} predicted cells written, {self.cells_removed} removed; {self.cases_new} cases "
                f"new, {self.cases_dropped} no longer found; {self.documents} documents new or changed")


_DOCUMENT_COLUMNS = (models.Document.doc_id, models.Document.file, models.Document.format, models.Document.title,
                     models.Document.content_hash, models.Document.status, models.Document.reason,
                     models.Document.retracted, models.Document.corpus)
_CASE_COLUMNS = (models.Case.case_id, models.Case.doc_id, models.Case.pmid, models.Case.pmcid, models.Case.doi,
                 models.Case.patient_label, models.Case.in_latest_run)


def _digest(value: str, evidence_json: str, confidence: float | None) -> bytes:
    # the stored cells are compared by digest, so a large store is not held in memory as text
    return hashlib.blake2b(f"{value}\0{evidence_json}\0{confidence}".encode(), digest_size=16).digest()


def _chunks(items: list, size: int = 500):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _replace(connection, model, key, rows: list[dict], run_id: str) -> None:
    """Write ``rows`` whole over any stored rows with the same key (plain SQL, so any database does it); the rows
    replaced move to the model's history, ended by ``run_id``."""
    for chunk in _chunks([row[key.key] for row in rows]):
        _archive(connection, model, key.in_(chunk), run_id)
        connection.execute(delete(model).where(key.in_(chunk)))
    if rows:
        connection.execute(insert(model), rows)


def _archive(connection, model, where, run_id: str) -> None:
    """Copy the rows of ``model`` that ``where`` selects into its history table, as ended by ``run_id``."""
    history = models.HISTORY_OF[model]
    kept = [column.key for column in model.__table__.columns]
    connection.execute(insert(history).from_select(
        kept + ["ended_run_id"], select(*(model.__table__.c[name] for name in kept), literal(run_id, String(40)))
        .where(where)))


class _Lookahead:
    """An iterator whose next item can be looked at before it is taken."""

    _END = object()

    def __init__(self, items):
        self._items = items
        self._next = next(items, self._END)

    def take_while(self, wanted) -> list:
        taken = []
        while self._next is not self._END and wanted(self._next):
            taken.append(self._next)
            self._next = next(self._items, self._END)
        return taken


def _latest_run(session: Session, out_dir: str | None = None, corpus: str | None = None) -> models.Run | None:
    query = select(models.Run).order_by(models.Run.finished_at.desc()).limit(1)
    if out_dir is not None:
        query = query.where(models.Run.out_dir == out_dir)
    if corpus is not None:
        query = query.where(models.Run.corpus == corpus)
    return session.scalars(query).first()


def _curation_log_state(session: Session) -> str:
    """The curation log only grows, and an undo stamps the decision it withdraws: its counts name its state."""
    decisions, last, withdrawn = session.execute(select(
        func.count(), func.max(models.Curation.id), func.count(models.Curation.withdrawn_at))).one()
    return f"{decisions}/{last}/{withdrawn}"


def _current_decisions(session: Session, case_id: str | None = None) -> dict[tuple[str, str], models.Curation]:
    """The standing decision of each cell (of every case, or of ``case_id``): the latest one not withdrawn."""
    current: dict[tuple[str, str], models.Curation] = {}
    query = select(models.Curation).where(models.Curation.withdrawn_at.is_(None)).order_by(models.Curation.id)
    if case_id is not None:
        query = query.where(models.Curation.case_id == case_id)
    for decision in session.scalars(query):
        current[(decision.case_id, decision.field)] = decision
    return current


def _picked(evidence: dict, doc_id: str) -> dict:
    """A curator's span as stored: in the case's document, its characters and what they read."""
    try:
        start, end = int(evidence["start"]), int(evidence["end"])
    except (KeyError, TypeError, ValueError):
        raise CurationError("the picked evidence needs its start and end characters") from None
    if not 0 <= start < end:
        raise CurationError(f"the picked evidence ({start}-{end}) is not a span of the document")
    return {"doc_id": doc_id, "start": start, "end": end, "quote": str(evidence.get("quote", "")), "source": "curator"}


# the advisory lock pecrs's migrations take on PostgreSQL ("pecr" in ASCII)
MIGRATION_LOCK = 0x70656372


def _lock_for_migration(connection) -> None:
    """Hold the database for this connection's transaction, which the migration then runs in: on PostgreSQL an
    advisory lock released at commit; on SQLite an exclusive transaction (others wait out the busy timeout)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    elif connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN EXCLUSIVE")


def _evidence_of(line: dict) -> dict:
    keys = ("doc_id", "section", "section_kind", "sentence", "table", "start", "end", "quote", "extractor")
    return {k: line[k] for k in keys if k in line}


def _sqlite_pragmas(connection, _record) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA busy_timeout=10000")  # first: WAL mode waits on a store another process migrates
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def export_columns(confidence: bool = False) -> list[str]:
    """The final table's columns; ``pecrs export`` adds each machine value's confidence."""
    return COLUMNS + ["curated_fields", "flagged_fields"] + ([CONFIDENCE_COLUMN] if confidence else [])
