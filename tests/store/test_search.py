"""Title search in case lists (``text=``): words as prefixes, case and accents ignored, no
input ever read as query syntax; the same on SQLite (FTS5) and PostgreSQL (tsvector), kept in
step with the titles, and existing cases found after migration 0007."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import insert, text, update

import store.search
from domain.cases import Caller, Invitation, Role
from store.db import MIGRATIONS, get_engine, migrate, normalise_url, session_scope
from store.models import Case
from store.queries import CaseFilter, list_cases
from store.search import MAX_WORDS, SearchError, search_words
from tests.conftest import PG_ADMIN, _postgres_or_skip, _reset_postgres
from tests.store.test_store import (
    LEAD,
    OUTSIDER,
    PARTNER,
    hub_caller,
    make_events,
    make_facts,
    project,
    seed_hubs,
    staff_caller,
)

TITLES = {
    "s1": "Cork stoppers: computer-vision inspection",
    "s2": "Ação digital para a cortiça",
    "s3": "Industry 4.0 readiness check",
    "s4": "Café-bar demand forecasting (Müller & Söhne)",
    "s5": "Predictive maintenance for wine presses",
    "s6": "Smart Straße lighting in Łódź",
}
STAFF = staff_caller(Role.back_office)


def found(url: str, search: str, caller: Caller = STAFF) -> list[str]:
    with session_scope(url) as session:
        rows, _ = list_cases(session, caller, CaseFilter(text=search), 20, None)
    return sorted(row.id for row in rows)


def add_titled_cases(url: str) -> None:
    """The cases of TITLES, led by LEAD; s1 has PARTNER as a partner."""
    seed_hubs(url)
    events = make_events(1)
    for case_id, title in TITLES.items():
        partner = [Invitation(hub_id=PARTNER, status="accepted")] if case_id == "s1" else []
        facts = make_facts(case_id, events=events, title=title, invitations=partner)
        project(url, facts, events)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def titled(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A store holding the cases of TITLES, shared by the tests that only read it (a database
    of its own on PostgreSQL: other tests reset the shared one)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('search') / 'search.db'}"
        migrate(url)
        add_titled_cases(url)
        yield url
        get_engine(url).dispose()
        return
    _postgres_or_skip()
    name = f"dihflow_search_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    try:
        migrate(url)
        add_titled_cases(url)
        yield url
    finally:
        get_engine(url).dispose()
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- what a search means ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("cork", ["s1"]),
        ("stop cork", ["s1"]),  # any order, each word a prefix
        ("CORK Insp", ["s1"]),
        ("computer vision", ["s1"]),
        ("computer-vision", ["s1"]),
        ("ork", []),  # inside a word is not the start of one
        ("cork wine", []),  # every word must be there
        ("for", ["s4", "s5"]),  # "forecasting" and "for"
    ],
)
def test_text_finds_cases_when_every_word_begins_a_title_word(
    titled: str, search: str, expected: list[str]
) -> None:
    assert found(titled, search) == expected


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("acao", ["s2"]),
        ("AÇÃO", ["s2"]),
        ("cortica", ["s2"]),
        ("cafe muller", ["s4"]),
        ("café söhne", ["s4"]),
        ("SOHNE", ["s4"]),
        ("Cafe\u0301", ["s4"]),  # an accent typed as a combining mark
    ],
)
def test_text_ignores_case_and_accents_when_matching(
    titled: str, search: str, expected: list[str]
) -> None:
    assert found(titled, search) == expected


@pytest.mark.parametrize(("search", "on_sqlite"), [("straße łódź", True), ("strasse lodz", False)])
def test_text_folds_letters_like_ss_and_l_only_on_postgres_when_matching(
    titled: str, search: str, on_sqlite: bool
) -> None:
    expected = ["s6"] if on_sqlite or titled.startswith("postgresql") else []

    assert found(titled, search) == expected


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("4.0", ["s3"]),
        ("industry 4", ["s3"]),
        ("0 readiness", ["s3"]),
        ("café-bar", ["s4"]),
        ("bar", ["s4"]),
        ("stoppers:", ["s1"]),
    ],
)
def test_text_treats_punctuation_as_a_word_break_when_matching(
    titled: str, search: str, expected: list[str]
) -> None:
    assert found(titled, search) == expected


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ('cork"', ["s1"]),
        ('"cork', ["s1"]),
        ("cork*", ["s1"]),
        ("cork -stoppers", ["s1"]),  # no negation: "-" only separates
        ("cork OR wine", []),  # "or" is a word to find, not an operator
        ("AND", []),
        ("-x", []),
        ("NEAR(cork", []),
        ("title:cork", []),
        ("^cork", ["s1"]),
        ('cork\'); DROP TABLE "case"; --', []),
        ("l'industry", []),
        ("'industry'", ["s3"]),
        ("100%", []),
    ],
)
def test_text_never_reads_input_as_query_syntax_when_it_holds_operators(
    titled: str, search: str, expected: list[str]
) -> None:
    assert found(titled, search) == expected
    assert found(titled, "cork") == ["s1"]  # and the table is still there


@pytest.mark.parametrize("search", ['"', "*", "'", "-", "(", "%", "_", "\\", "  ", "--", "…", "?!"])
def test_search_words_raises_search_error_when_text_has_no_letter_or_digit(search: str) -> None:
    with pytest.raises(SearchError):
        search_words(search)


def test_search_words_raises_search_error_when_text_has_too_many_words() -> None:
    assert len(search_words(" ".join(f"w{i}" for i in range(MAX_WORDS)))) == MAX_WORDS

    with pytest.raises(SearchError):
        search_words(" ".join(f"w{i}" for i in range(MAX_WORDS + 1)))


def test_search_words_returns_each_word_once_when_repeated() -> None:
    assert search_words("Cork cork CORK, stoppers_2026") == ["cork", "stoppers", "2026"]


# --- in step with the cases ---------------------------------------------------------------


def test_text_finds_new_title_only_when_title_changed(store_url: str) -> None:
    seed_hubs(store_url)
    first = make_events(1)
    later = first + make_events(1, after=first[-1])
    project(store_url, make_facts("t1", events=first, title="Cork stoppers"), first)

    project(store_url, make_facts("t1", events=later, title="Olive grading with drones"), later)

    assert found(store_url, "cork") == []
    assert found(store_url, "olive drones") == ["t1"]


def test_text_finds_title_when_row_written_outside_the_projection(store_url: str) -> None:
    seed_hubs(store_url)
    events = make_events(1)
    project(store_url, make_facts("t1", events=events, title="Wine presses"), events)

    with session_scope(store_url) as session:
        session.exec(update(Case).where(Case.id == "t1").values(title="Glass furnace twin"))  # type: ignore[call-overload]

    assert found(store_url, "furnace") == ["t1"]
    assert found(store_url, "wine") == []


def test_text_finds_only_visible_cases_when_caller_is_a_hub(titled: str) -> None:
    assert found(titled, "cork", hub_caller(PARTNER)) == ["s1"]
    assert found(titled, "cork", hub_caller(OUTSIDER)) == []
    assert found(titled, "readiness", hub_caller(PARTNER)) == []
    assert found(titled, "readiness", hub_caller(LEAD)) == ["s3"]


def walk(url: str, search: str, limit: int) -> list[str]:
    seen: list[str] = []
    cursor: str | None = None
    with session_scope(url) as session:
        while True:
            rows, cursor = list_cases(session, STAFF, CaseFilter(text=search), limit, cursor)
            seen += [row.id for row in rows]
            if cursor is None:
                return seen
            assert len(seen) < 100, "pagination does not end"


@pytest.mark.parametrize("few_matches", [1000, 3], ids=["matches-read-and-sorted", "list-walked"])
def test_text_pages_newest_first_once_each_when_matches_are_few_or_many(
    store_url: str, monkeypatch: pytest.MonkeyPatch, few_matches: int
) -> None:
    seed_hubs(store_url)
    events = make_events(1)
    for n in range(12):
        title = f"Cork batch {n}" if n % 3 else f"Wine batch {n}"
        project(store_url, make_facts(f"m{n:02d}", events=events, title=title), events)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    with session_scope(store_url) as session:
        for n in range(12):  # m00 oldest; m04 and m05 at the same moment
            moment = start + timedelta(minutes=min(n, 4) if n in (4, 5) else n)
            session.exec(update(Case).where(Case.id == f"m{n:02d}").values(created_at=moment))  # type: ignore[call-overload]
    monkeypatch.setattr(store.search, "FEW_MATCHES", few_matches)

    pages = walk(store_url, "cork bat", limit=3)

    assert pages == ["m11", "m10", "m08", "m07", "m05", "m04", "m02", "m01"]


# --- cases stored before the search existed -----------------------------------------------


def seed_old_hubs(url: str) -> None:
    """The demo hubs as a store of that revision holds them (no matching vectors yet: the
    first match indexes them)."""
    from domain.hubs import load_demo_network
    from store.models import Hub, utcnow

    now = utcnow()
    rows = [
        {
            "id": h.id,
            "name": h.name,
            "country": h.country,
            "profile": h.model_dump(mode="json"),
            "created_at": now,
            "updated_at": now,
        }
        for h in load_demo_network()
    ]
    with get_engine(url).begin() as conn:
        conn.execute(insert(Hub.__table__), rows)  # type: ignore[attr-defined]


def migrate_to(url: str, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection_url"] = normalise_url(url)
    with get_engine(url).begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def test_existing_cases_are_found_and_listed_by_hub_when_migrated(
    store_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    if store_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path_factory.mktemp('old') / 'old.db'}"
    else:
        url = store_url
        _reset_postgres(url)
    migrate_to(url, "0006")
    seed_old_hubs(url)
    created = datetime(2026, 2, 1, 9, 30, tzinfo=UTC)
    facts = make_facts("old1", events=make_events(1), title="Ceramics kiln monitoring")
    with get_engine(url).begin() as conn:
        conn.execute(
            insert(Case.__table__),  # type: ignore[attr-defined]
            [
                {
                    "id": "old1",
                    "scenario": "joint_service",
                    "state": "requested",
                    "title": facts.title,
                    "lead_hub_id": LEAD,
                    "facts": facts.model_dump(mode="json"),
                    "seq": 1,
                    "head_hash": facts.head_hash,
                    "overdue": False,
                    "created_at": created,
                    "updated_at": created,
                }
            ],
        )
        conn.execute(
            text("INSERT INTO caseparty (case_id, hub_id, role) VALUES (:c, :h, :r)"),
            [{"c": "old1", "h": LEAD, "r": "lead"}, {"c": "old1", "h": PARTNER, "r": "partner"}],
        )

    migrate_to(url, "head")

    assert found(url, "kiln ceramics") == ["old1"]
    with session_scope(url) as session:
        mine, _ = list_cases(session, hub_caller(PARTNER), CaseFilter(), 20, None)
        stamps = session.exec(text("SELECT created_at FROM caseparty")).scalars().all()  # type: ignore[call-overload]
    assert [row.id for row in mine] == ["old1"]
    assert len(stamps) == 2 and len(set(map(str, stamps))) == 1
