"""Engine, sessions and migrations for the store (SQLite by default, PostgreSQL in production)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from domain.clock import as_utc as as_utc  # the one UTC helper, importable here too

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def normalise_url(url: str) -> str:
    """Use the psycopg 3 driver for plain ``postgresql://`` URLs."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


ENGINES_KEPT = 8
_engines: OrderedDict[str, Engine] = OrderedDict()
_engines_lock = threading.Lock()


POOL = {"pool_size": 10, "max_overflow": 20}  # PostgreSQL, per process (``size_pool``)


def size_pool(pool_size: int, max_overflow: int) -> None:
    """The PostgreSQL pool of the engines this process makes from now on
    (``DIHFLOW_DB_POOL_SIZE``, ``DIHFLOW_DB_MAX_OVERFLOW``; set by the API and the worker at
    start). Size it so that processes × (size + overflow) stays under the server's
    ``max_connections``."""
    POOL.update(pool_size=pool_size, max_overflow=max_overflow)


def get_engine(url: str) -> Engine:
    """The process's engine (and connection pool) for ``url``. A process uses one URL, tests
    many: past ENGINES_KEPT the least recently used engine is disposed, so its connections
    are closed rather than left to the garbage collector."""
    with _engines_lock:
        engine = _engines.get(url)
        if engine is not None:
            _engines.move_to_end(url)
            return engine
        engine = _engines[url] = _create_engine(url)
        if len(_engines) > ENGINES_KEPT:
            _engines.popitem(last=False)[1].dispose()
        return engine


def _create_engine(url: str) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # More connections than the API's thread pool has threads (40): a request never waits
        # for a connection that a thread waiting for one of its own holds.
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=20,
            max_overflow=40,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # WAL lets the API read while the worker writes; several processes share the file.
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, **POOL)


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(get_engine(url), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


MIGRATION_LOCK = 0x6469_6866  # "dihf": the advisory lock key of schema migrations


def migrate(url: str) -> None:
    """Bring the database schema to the newest migration (safe to call on every start)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection_url"] = normalise_url(url)
    with get_engine(url).begin() as conn:
        if conn.dialect.name == "postgresql":
            # several processes starting at once: one migrates, the others wait, then find
            # the schema at head (the lock is released when this transaction ends)
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
