"""The evidence base's history: the document, case and prediction rows a run replaces or removes are kept in
``*_history`` tables with the run that ended them, so any two runs can be compared (what changed). Documents say
whether they are retracted; runs keep the pooled answer drawn over their final table and what their fetch brought.
History starts with this revision: the rows earlier runs replaced are gone.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch:  # batch mode: SQLite cannot alter a table in place
        batch.add_column(sa.Column("retracted", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("pooled", sa.Text(), nullable=True))
        batch.add_column(sa.Column("fetched", sa.Text(), nullable=True))
    op.create_table(
        "document_history", sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("doc_id", sa.String(200), nullable=False), sa.Column("file", sa.Text(), nullable=False),
        sa.Column("format", sa.String(20), nullable=False), sa.Column("title", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False), sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False), sa.Column("retracted", sa.Text(), nullable=False),
        sa.Column("corpus", sa.Text(), nullable=False), *_held())
    op.create_index("ix_document_history_doc_id", "document_history", ["doc_id"])
    op.create_index("ix_document_history_ended_run_id", "document_history", ["ended_run_id"])
    op.create_table(
        "case_history", sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(200), nullable=False), sa.Column("doc_id", sa.String(200), nullable=False),
        sa.Column("pmid", sa.String(20), nullable=False), sa.Column("pmcid", sa.String(20), nullable=False),
        sa.Column("doi", sa.String(200), nullable=False), sa.Column("patient_label", sa.String(100), nullable=False),
        sa.Column("in_latest_run", sa.Boolean(), nullable=False), sa.Column("corpus", sa.Text(), nullable=False),
        *_held())
    op.create_index("ix_case_history_case_id", "case_history", ["case_id"])
    op.create_index("ix_case_history_ended_run_id", "case_history", ["ended_run_id"])
    op.create_table(
        "prediction_history", sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(200), nullable=False), sa.Column("field", sa.String(40), nullable=False),
        sa.Column("value", sa.Text(), nullable=False), sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True), sa.Column("extractor", sa.String(80), nullable=False),
        *_held())
    op.create_index("ix_prediction_history_cell", "prediction_history", ["case_id", "field"])
    op.create_index("ix_prediction_history_ended_run_id", "prediction_history", ["ended_run_id"])


def _held() -> list[sa.Column]:
    """The run that wrote a row and the run that replaced it."""
    return [sa.Column("run_id", sa.String(40), nullable=False), sa.Column("ended_run_id", sa.String(40), nullable=False)]


def downgrade() -> None:
    for table in ("prediction_history", "case_history", "document_history"):
        op.drop_table(table)
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("fetched")
        batch.drop_column("pooled")
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("retracted")
