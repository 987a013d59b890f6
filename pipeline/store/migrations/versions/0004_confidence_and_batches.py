"""Each predicted cell's confidence (extractors.confidence); decisions taken together (a bulk accept) marked
with one batch id, so that one undo withdraws them all; and the span a curator picked as a value's evidence.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("predictions") as batch:  # batch mode: SQLite cannot alter a table in place
        batch.add_column(sa.Column("confidence", sa.Float(), nullable=True))
    with op.batch_alter_table("curations") as batch:
        batch.add_column(sa.Column("batch", sa.String(40), nullable=False, server_default=""))
        batch.add_column(sa.Column("evidence", sa.Text(), nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("curations") as batch:
        batch.drop_column("evidence")
        batch.drop_column("batch")
    with op.batch_alter_table("predictions") as batch:
        batch.drop_column("confidence")
