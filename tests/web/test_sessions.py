"""Signing in, sessions and CSRF on the staff pages (in-process API, real SQLite store)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlmodel import select

from api.web.auth import SESSION_COOKIE, sign, unsign
from base.settings import Settings
from domain.cases import Role
from store.db import session_scope
from store.keys import create_key
from store.models import StaffSession
from store.staff import (
    MAX_FAILURES_PER_ACCOUNT,
    MAX_FAILURES_PER_ADDRESS,
    Throttled,
    authenticate_staff,
    disable_account,
    hash_password,
    password_matches,
)
from tests.web.conftest import PASSWORD, csrf_of, sign_in


async def test_signing_in_opens_the_cases_page_with_a_protected_cookie(
    web: httpx.AsyncClient,
) -> None:
    answer = await sign_in(web, "office")
    assert answer.status_code == 303 and answer.headers["location"] == "/cases"
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    listed = await web.get("/cases")
    assert listed.status_code == 200 and "Test back_office" in listed.text
    again = await web.get("/sign-in?next=/cases/c-1")  # signed in already: straight on
    assert again.status_code == 303 and again.headers["location"] == "/cases/c-1"
    assert listed.headers["content-security-policy"].startswith("default-src 'self'")


async def test_the_cookie_is_secure_over_https(web_settings: Settings) -> None:
    from api.app import create_app

    app = create_app(web_settings, run_migrations=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
        answer = await sign_in(client, "office")
    cookie = next(c for c in answer.headers.get_list("set-cookie") if SESSION_COOKIE in c)
    assert "Secure" in cookie


async def test_a_page_without_a_session_redirects_to_sign_in_and_back(
    web: httpx.AsyncClient,
) -> None:
    answer = await web.get("/cases?state=signing")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/sign-in?next=/cases%3Fstate%3Dsigning"
    form = await web.get(answer.headers["location"])
    assert 'name="next" value="/cases?state=signing"' in form.text


async def test_sign_in_never_redirects_off_the_site(web: httpx.AsyncClient) -> None:
    form = await web.get("/sign-in?next=//evil.example/x")
    assert 'name="next" value="/cases"' in form.text


async def test_a_form_post_without_its_csrf_token_is_refused_and_changes_nothing(
    web: httpx.AsyncClient,
) -> None:
    await sign_in(web, "office")
    refused = await web.post("/sign-out", data={})
    assert refused.status_code == 403 and "security token" in refused.text
    wrong = await web.post("/sign-out", data={"csrf_token": "not-it"})
    assert wrong.status_code == 403
    assert (await web.get("/cases")).status_code == 200  # still signed in
    token = csrf_of((await web.get("/cases")).text)
    out = await web.post("/sign-out", data={"csrf_token": token})
    assert out.status_code == 303 and out.headers["location"] == "/sign-in"
    assert (await web.get("/cases")).status_code == 303


async def test_an_idle_session_redirects_to_sign_in(
    web: httpx.AsyncClient, web_settings: Settings
) -> None:
    await sign_in(web, "office")
    with session_scope(web_settings.database_url) as session:
        row = session.exec(select(StaffSession)).one()
        row.last_seen_at = datetime.now(UTC) - timedelta(minutes=31)
        session.add(row)
    answer = await web.get("/cases")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/sign-in")
    with session_scope(web_settings.database_url) as session:
        assert session.exec(select(StaffSession)).all() == []  # the ended session is gone


async def test_a_session_past_its_absolute_expiry_redirects_to_sign_in(
    web: httpx.AsyncClient, web_settings: Settings
) -> None:
    await sign_in(web, "office")
    with session_scope(web_settings.database_url) as session:
        row = session.exec(select(StaffSession)).one()
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        session.add(row)
    assert (await web.get("/cases")).status_code == 303


async def test_a_disabled_account_cannot_sign_in_and_its_session_ends(
    web: httpx.AsyncClient, web_settings: Settings
) -> None:
    await sign_in(web, "office")
    with session_scope(web_settings.database_url) as session:
        disable_account(session, "office")
    assert (await web.get("/cases")).status_code == 303
    web.cookies.clear()
    refused = await sign_in(web, "office")
    assert refused.status_code == 401 and "disabled" in refused.text
    assert SESSION_COOKIE not in refused.cookies


async def test_a_hub_api_key_cannot_sign_in_nor_open_a_page(
    web: httpx.AsyncClient, web_settings: Settings
) -> None:
    key = create_key(web_settings.database_url, Role.hub_member, "tagus-ai")
    for username, password in ((key, key), ("office", key), (key, PASSWORD)):
        refused = await sign_in(web, username, password)
        assert refused.status_code == 401 and "API key cannot sign in" in refused.text
        assert SESSION_COOKIE not in refused.cookies
    office_key = create_key(web_settings.database_url, Role.back_office, None)
    page = await web.get("/cases", headers={"Authorization": f"Bearer {office_key}"})
    assert page.status_code == 303  # a key is no session


async def test_the_sign_in_form_needs_its_own_token(web: httpx.AsyncClient) -> None:
    answer = await web.post(
        "/sign-in", data={"username": "office", "password": PASSWORD, "sign_in_token": "x"}
    )
    assert answer.status_code == 403 and SESSION_COOKIE not in answer.cookies


async def test_repeated_failures_slow_down_an_account_even_with_the_right_password(
    web: httpx.AsyncClient,
) -> None:
    for _ in range(MAX_FAILURES_PER_ACCOUNT):
        assert (await sign_in(web, "office", "wrong password!!")).status_code == 401
    throttled = await sign_in(web, "office")
    assert throttled.status_code == 429 and "Too many failed sign-ins" in throttled.text
    assert 0 < int(throttled.headers["retry-after"]) <= 15 * 60
    assert (await sign_in(web, "counsel")).status_code == 303  # another account is not


def test_failures_from_one_address_are_throttled_across_usernames(
    web_settings: Settings,
) -> None:
    now = datetime.now(UTC)
    with session_scope(web_settings.database_url) as session:
        for i in range(MAX_FAILURES_PER_ADDRESS):
            assert authenticate_staff(session, f"guess{i}", "x", "10.9.9.9", now) is None
        wait = authenticate_staff(session, "office", PASSWORD, "10.9.9.9", now)
        assert isinstance(wait, Throttled)
        other = authenticate_staff(session, "office", PASSWORD, "10.1.1.1", now)
        assert other is not None and not isinstance(other, Throttled)
        later = now + timedelta(minutes=16)  # the window has passed
        assert not isinstance(
            authenticate_staff(session, "counsel", PASSWORD, "10.9.9.9", later), Throttled
        )


def test_passwords_are_hashed_with_argon2id() -> None:
    hashed = hash_password("a long test password 1")
    assert hashed.startswith("$argon2id$") and "a long test" not in hashed
    assert password_matches(hashed, "a long test password 1")
    assert not password_matches(hashed, "a long test password 2")
    assert not password_matches("not a hash", "anything")


def test_a_cookie_signature_binds_its_value_and_the_secret() -> None:
    signed = sign("k" * 64, "session-id")
    assert unsign("k" * 64, signed) == "session-id"
    assert unsign("j" * 64, signed) is None
    assert unsign("k" * 64, "other-id" + signed[len("session-id") :]) is None
    assert unsign("k" * 64, "session-id") is None
