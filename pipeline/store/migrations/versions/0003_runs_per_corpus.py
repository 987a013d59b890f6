"""Runs recorded per corpus: a run replaces the predictions of its own corpus only, and says where it wrote its
outputs.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

LATEST_CORPUS = "(SELECT corpus FROM runs ORDER BY finished_at DESC LIMIT 1)"


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:  # batch mode: SQLite cannot alter a table in place
        batch.add_column(sa.Column("out_dir", sa.Text(), nullable=False, server_default=""))
    for table in ("cases", "documents"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("corpus", sa.Text(), nullable=False, server_default=""))
        # what a store held before came from the corpus of its latest run
        op.execute(f"UPDATE {table} SET corpus = COALESCE({LATEST_CORPUS}, '')")
    op.create_index("ix_cases_corpus", "cases", ["corpus"])


def downgrade() -> None:
    op.drop_index("ix_cases_corpus", "cases")
    for table in ("cases", "documents"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("corpus")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("out_dir")
