"""Alembic environment: the connection comes from pipeline.store (config.attributes["connection"])."""

from alembic import context

from pipeline.store.models import Base

config = context.config
connection = config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
