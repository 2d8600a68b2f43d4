"""API and worker processes that start together on a new PostgreSQL database all run the
migrations: one migrates, the others wait on its lock and find the schema at head."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
from sqlalchemy import text

from store.db import get_engine
from tests.conftest import PG_ADMIN, _postgres_or_skip

DIHFLOW = str(Path(sys.executable).with_name("dihflow"))


def test_processes_starting_together_migrate_once(tmp_path: Path) -> None:
    _postgres_or_skip()
    name = f"dihflow_migrate_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    try:
        env = os.environ | {"DIHFLOW_DATABASE_URL": url, "DIHFLOW_VAR_DIR": str(tmp_path)}
        processes = [
            subprocess.Popen(
                [DIHFLOW, "migrate"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
            )
            for _ in range(4)
        ]
        outputs = [p.communicate(timeout=300)[0].decode() for p in processes]
        assert [p.returncode for p in processes] == [0, 0, 0, 0], "\n".join(outputs)
        with get_engine(url).connect() as conn:
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).all()
        assert len(versions) == 1
    finally:
        get_engine(url).dispose()
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
