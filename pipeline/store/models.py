"""The tables of the evidence base. Predictions (made each run's own; a row's ``run_id`` is the run that last wrote
it, as a re-run writes only what changed) and curations (a curator's decisions,
only ever added to) are kept apart, so a re-run can never overwrite what a person decided.

A document, case or prediction row that a run replaces or removes is not lost: it moves to its ``*_history`` table
with ``ended_run_id``, the run that replaced it. A row held from its ``run_id`` (the run that wrote it) until its
``ended_run_id``, so the evidence base as it stood after any run can be read back (pipeline.store.history)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Float, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Run(Base):
    __tablename__ = "runs"
    run_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    corpus: Mapped[str] = mapped_column(Text, default="")  # the corpus folder, resolved
    out_dir: Mapped[str] = mapped_column(Text, default="")  # where the run wrote its outputs
    documents: Mapped[int] = mapped_column(Integer, default=0)
    cases: Mapped[int] = mapped_column(Integer, default=0)
    scores: Mapped[str | None] = mapped_column(Text, nullable=True)  # scores.json of the run, if scored
    # JSON: the pooled answer over the run's final table (pipeline.report.changes.pooled_figures), set as it is drawn
    pooled: Mapped[str | None] = mapped_column(Text, nullable=True)
    # JSON: what the fetch before the run brought (new, updated, revised, retracted), if it fetched
    fetched: Mapped[str | None] = mapped_column(Text, nullable=True)
    # SHA-256 of the run's documents, cases and evidence as written (outputs.run_digest): equal digests, equal predictions
    digest: Mapped[str | None] = mapped_column(String(64), nullable=True)


class Document(Base):
    __tablename__ = "documents"
    doc_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    file: Mapped[str] = mapped_column(Text, default="")
    format: Mapped[str] = mapped_column(String(20), default="")
    title: Mapped[str] = mapped_column(Text, default="")
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(20), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    retracted: Mapped[str] = mapped_column(Text, default="")  # what says it is retracted; "" when it is not
    corpus: Mapped[str] = mapped_column(Text, default="")
    run_id: Mapped[str] = mapped_column(String(40))


class Case(Base):
    """A patient the machine found; ``in_latest_run`` is false once a run no longer finds it (its
    curations are kept all the same)."""
    __tablename__ = "cases"
    case_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    doc_id: Mapped[str] = mapped_column(String(200), index=True)
    pmid: Mapped[str] = mapped_column(String(20), default="")
    pmcid: Mapped[str] = mapped_column(String(20), default="")
    doi: Mapped[str] = mapped_column(String(200), default="")
    patient_label: Mapped[str] = mapped_column(String(100), default="")
    in_latest_run: Mapped[bool] = mapped_column(Boolean, default=True)
    # the corpus whose run found it last: a run over another corpus leaves it as it is
    corpus: Mapped[str] = mapped_column(Text, default="", index=True)
    run_id: Mapped[str] = mapped_column(String(40))


class Prediction(Base):
    __tablename__ = "predictions"
    case_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    field: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text, default="{}")  # JSON: doc_id, section, sentence/cell, span, quote
    confidence: Mapped[float | None] = mapped_column(Float, nullable=True)  # extractors.confidence; a list's least
    extractor: Mapped[str] = mapped_column(String(80), default="")  # the rule that read it, as its evidence says
    run_id: Mapped[str] = mapped_column(String(40))


class Curation(Base):
    """One decision. ``field`` is empty for a case-level action (add-case, remove-case). An undo does not
    delete: it stamps ``withdrawn_at``/``withdrawn_by`` on the decision it withdraws."""
    __tablename__ = "curations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(200))
    field: Mapped[str] = mapped_column(String(40), default="")
    action: Mapped[str] = mapped_column(String(20))  # accept | correct | reject | add-case | remove-case
    value: Mapped[str] = mapped_column(Text, default="")
    by: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    why: Mapped[str] = mapped_column(Text, default="")
    predicted_value: Mapped[str | None] = mapped_column(Text, nullable=True)
    predicted_evidence: Mapped[str] = mapped_column(Text, default="{}")
    doc_id: Mapped[str] = mapped_column(String(200), default="")  # for add-case
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    withdrawn_by: Mapped[str] = mapped_column(String(100), default="")
    batch: Mapped[str] = mapped_column(String(40), default="")  # decisions taken together, undone together
    evidence: Mapped[str] = mapped_column(Text, default="{}")  # JSON: the span a curator picked for their value

    __table_args__ = (Index("ix_curations_cell", "case_id", "field"),)


def _history_of(model: type[Base], key: tuple[str, ...]) -> type[Base]:
    """The table ``model``'s replaced rows move to: its columns (no key of their own), an id, and the run that ended
    each row; indexed by ``key`` (what names a row of ``model``) and by that run."""
    name = f"{model.__tablename__.removesuffix('s')}_history"
    columns = {column.key: mapped_column(column.type, nullable=column.nullable)
               for column in model.__table__.columns}
    return type(f"{model.__name__}History", (Base,), {
        "__tablename__": name,
        "id": mapped_column(Integer, primary_key=True, autoincrement=True),
        **columns,
        "ended_run_id": mapped_column(String(40), nullable=False, index=True),
        "__table_args__": (Index(f"ix_{name}_{'cell' if len(key) > 1 else key[0]}", *key),),
    })


DocumentHistory = _history_of(Document, ("doc_id",))
CaseHistory = _history_of(Case, ("case_id",))
PredictionHistory = _history_of(Prediction, ("case_id", "field"))
# each current table and the table its replaced rows move to
HISTORY_OF = {Document: DocumentHistory, Case: CaseHistory, Prediction: PredictionHistory}
