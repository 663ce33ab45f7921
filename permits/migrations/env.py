"""Alembic environment: runs migrations on a given connection or URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from permits.tables import metadata

config = context.config


def run() -> None:
    """Run the migrations online (a connection given by the caller, or one made from the URL)."""
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run()
