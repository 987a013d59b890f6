"""The evidence base: runs, documents, cases, predictions and curations.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("run_id", sa.String(40), primary_key=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("corpus", sa.Text(), nullable=False),
        sa.Column("documents", sa.Integer(), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("scores", sa.Text(), nullable=True),
    )
    op.create_table(
        "documents",
        sa.Column("doc_id", sa.String(200), primary_key=True),
        sa.Column("file", sa.Text(), nullable=False),
        sa.Column("format", sa.String(20), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("run_id", sa.String(40), nullable=False),
    )
    op.create_table(
        "cases",
        sa.Column("case_id", sa.String(200), primary_key=True),
        sa.Column("doc_id", sa.String(200), nullable=False, index=True),
        sa.Column("pmid", sa.String(20), nullable=False),
        sa.Column("pmcid", sa.String(20), nullable=False),
        sa.Column("doi", sa.String(200), nullable=False),
        sa.Column("patient_label", sa.String(100), nullable=False),
        sa.Column("in_latest_run", sa.Boolean(), nullable=False),
        sa.Column("run_id", sa.String(40), nullable=False),
    )
    op.create_table(
        "predictions",
        sa.Column("case_id", sa.String(200), primary_key=True),
        sa.Column("field", sa.String(40), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("run_id", sa.String(40), nullable=False),
    )
    op.create_table(
        "curations",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(200), nullable=False),
        sa.Column("field", sa.String(40), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("by", sa.String(100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("why", sa.Text(), nullable=False),
        sa.Column("predicted_value", sa.Text(), nullable=True),
        sa.Column("predicted_evidence", sa.Text(), nullable=False),
        sa.Column("doc_id", sa.String(200), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_by", sa.String(100), nullable=False),
    )
    op.create_index("ix_curations_cell", "curations", ["case_id", "field"])


def downgrade() -> None:
    op.drop_index("ix_curations_cell", "curations")
    for table in ("curations", "predictions", "cases", "documents", "runs"):
        op.drop_table(table)
