"""Authentication and the rate-limit count share one transaction, on SQLite and PostgreSQL
(on PostgreSQL the count's commit does not wait for the WAL flush)."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

import api.limits
from api.deps import authenticate
from api.limits import WINDOW_SECONDS, count_request
from api.problems import ApiError
from base.settings import Settings
from dihflow.seed import seed_demo_network
from domain.cases import Role
from store.db import get_engine
from store.keys import create_key
from store.models import RateWindow

MID_WINDOW = 29_000_000 * WINDOW_SECONDS + 30.0  # half a minute into a window


def test_authenticate_counts_each_request_and_refuses_past_limit_when_store_is_either(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api.limits, "clock", lambda: MID_WINDOW)
    seed_demo_network(store_url)
    key = create_key(store_url, Role.hub_member, "tagus-ai")
    settings = Settings().replace(database_url=store_url, rate_limit_per_minute=3)

    callers = [authenticate(settings, f"Bearer {key}") for _ in range(3)]
    with pytest.raises(ApiError) as refused:
        authenticate(settings, f"Bearer {key}")

    assert {c.hub_id for c in callers} == {"tagus-ai"} and callers[0].role == Role.hub_member
    assert refused.value.status == 429 and "Retry-After" in refused.value.extra["headers"]
    with Session(get_engine(store_url)) as session:
        counts = session.exec(select(RateWindow.count)).all()
    assert counts == [4]
    assert refused.value.extra["headers"]["Retry-After"] == "31"


def test_a_keys_spent_windows_are_deleted_as_its_next_one_opens(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [MID_WINDOW]
    monkeypatch.setattr(api.limits, "clock", lambda: now[0])
    window = int(MID_WINDOW // WINDOW_SECONDS)

    def count(principal: str) -> None:
        with Session(get_engine(store_url)) as session:
            count_request(session, 100, principal)

    def rows() -> list[tuple[str, int, int]]:
        with Session(get_engine(store_url)) as session:
            found = session.exec(select(RateWindow)).all()
            return sorted((r.principal_id, r.window, r.count) for r in found)

    count("p-a")
    count("p-a")
    count("p-b")
    now[0] += WINDOW_SECONDS  # the next minute
    count("p-a")
    assert rows() == [("p-a", window + 1, 1), ("p-b", window, 1)]  # p-b's is not spent yet
    count("p-a")
    now[0] += 3 * WINDOW_SECONDS
    count("p-b")
    assert rows() == [("p-a", window + 1, 2), ("p-b", window + 4, 1)]


def test_authenticate_writes_no_count_when_key_is_unknown_or_limit_is_off(store_url: str) -> None:
    seed_demo_network(store_url)
    key = create_key(store_url, Role.legal, None)
    limited = Settings().replace(database_url=store_url, rate_limit_per_minute=3)

    with pytest.raises(ApiError) as unknown:
        authenticate(limited, "Bearer dfk_nobody_x")
    authenticate(limited.replace(rate_limit_per_minute=0), f"Bearer {key}")

    assert unknown.value.status == 401
    with Session(get_engine(store_url)) as session:
        assert session.exec(select(RateWindow)).all() == []
