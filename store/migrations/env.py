"""Alembic environment: runs on the connection ``store.db.migrate`` hands over."""

from alembic import context
from sqlmodel import SQLModel

import store.framework  # noqa: F401  (the framework agreement's tables)
import store.models  # noqa: F401  (registers the tables on the metadata)
import store.summary  # noqa: F401  (the per-case summaries)

config = context.config
target_metadata = SQLModel.metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        from store.db import get_engine

        with get_engine(config.attributes["connection_url"]).begin() as conn:
            _configure(conn)
        return
    _configure(connection)


def _configure(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


run()
