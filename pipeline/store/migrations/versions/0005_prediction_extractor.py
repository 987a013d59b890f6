"""Each predicted cell's extractor as a column beside its confidence: the review queue orders and filters every cell
by them, and reading each cell's evidence for its extractor cost most of a queue page on a large store. The cells
stored before are filled in from their evidence.

Revision ID: 0005
Revises: 0004
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("predictions") as batch:  # batch mode: SQLite cannot alter a table in place
        batch.add_column(sa.Column("extractor", sa.String(80), nullable=False, server_default=""))
    connection = op.get_bind()
    predictions = sa.table("predictions", sa.column("case_id"), sa.column("field"), sa.column("evidence"),
                           sa.column("extractor"))
    filled = []
    for case_id, field, evidence in connection.execute(sa.select(predictions.c.case_id, predictions.c.field,
                                                                 predictions.c.evidence)):
        extractor = json.loads(evidence or "{}").get("extractor", "")
        if extractor:
            filled.append({"key_case": case_id, "key_field": field, "extractor": extractor[:80]})
    if filled:
        connection.execute(predictions.update()
                           .where(predictions.c.case_id == sa.bindparam("key_case"))
                           .where(predictions.c.field == sa.bindparam("key_field"))
                           .values(extractor=sa.bindparam("extractor")), filled)


def downgrade() -> None:
    with op.batch_alter_table("predictions") as batch:
        batch.drop_column("extractor")
