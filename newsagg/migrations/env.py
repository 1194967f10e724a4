"""Alembic environment: run with the connection the Store hands over (see newsagg.engine.migrate)."""

from alembic import context
from newsagg.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:  # `alembic` CLI use: take the URL from the settings.
        from newsagg.config import get_settings
        from newsagg.engine import make_engine

        with make_engine(get_settings().database_url).begin() as conn:
            _run(conn)
    else:
        _run(connection)


def _run(connection) -> None:
    # render_as_batch: SQLite can only alter tables by copying them; batch mode does that for us.
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
