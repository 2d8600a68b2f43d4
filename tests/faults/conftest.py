"""Fixtures of the fault tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from tests.conftest import PG_ADMIN


@pytest.fixture
def own_postgres(postgres_url: str) -> Iterator[str]:
    """A database of this test's own on the test server: terminating every backend of it
    touches nothing another test holds."""
    name = f"{postgres_url.rsplit('/', 1)[1]}_f{uuid.uuid4().hex[:6]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    yield url
    from store.db import get_engine

    get_engine(url).dispose()
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
