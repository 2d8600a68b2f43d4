"""Body limits hold for chunked bodies (no Content-Length) on every route, and the link page
checks its token before it reads a form."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from api.app import create_app
from base.settings import Settings
from store.db import session_scope
from store.records import derive_link_token, ensure_link
from tests.api.conftest import store_signing_case

CHUNK = b"x" * 1024


class Chunks:
    """A chunked request body of ``count`` chunks that counts how many were read."""

    def __init__(self, count: int, head: bytes = b"", tail: bytes = b""):
        self.count, self.head, self.tail, self.read = count, head, tail, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self.head:
            yield self.head
        for _ in range(self.count):
            self.read += 1
            yield CHUNK
        if self.tail:
            yield self.tail


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_chunked_json_body_over_the_limit_is_413_and_not_read_whole(
    api_settings: Settings, keys: dict[str, str], client_for
) -> None:  # type: ignore[no-untyped-def]
    body = Chunks(3_000, head=b'{"title": "', tail=b'"}')
    app = create_app(api_settings.replace(body_max_bytes=64 * 1024), run_migrations=False)
    async with client_for(app) as api:
        r = await api.post(
            "/v1/cases",
            content=body,
            headers=bearer(keys["back_office"]) | {"Content-Type": "application/json"},
        )
    assert r.status_code == 413, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert "65536 bytes" in r.json()["detail"]
    assert body.read < 3_000  # stopped at the limit, not read to the end


async def test_chunked_form_body_over_the_upload_limit_is_413(
    api_settings: Settings, keys: dict[str, str], client_for
) -> None:  # type: ignore[no-untyped-def]
    boundary = "b0undary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
        "Content-Type: text/plain\r\n\r\n"
    ).encode()
    body = Chunks(400, head=head, tail=f"\r\n--{boundary}--\r\n".encode())
    app = create_app(api_settings.replace(upload_max_bytes=100 * 1024), run_migrations=False)
    async with client_for(app) as api:
        r = await api.post(
            "/v1/hubs",
            content=body,
            headers=bearer(keys["back_office"])
            | {"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
    assert r.status_code == 413, r.text
    assert body.read < 400


def _form(count: int) -> Chunks:
    return Chunks(count, head=b"choice=sign&confirm=yes&signer_name=", tail=b"")


async def test_link_page_refuses_an_unknown_token_before_reading_the_form(
    api_settings: Settings, client_for
) -> None:  # type: ignore[no-untyped-def]
    body = _form(2_000)
    async with client_for(create_app(api_settings, run_migrations=False)) as client:
        r = await client.post(
            "/l/not-a-token",
            content=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert r.status_code == 404 and "not known" in r.text
    assert body.read == 0


async def test_link_page_form_over_the_limit_is_413(api_settings: Settings, client_for) -> None:  # type: ignore[no-untyped-def]
    store_signing_case(api_settings.database_url, "c-big", "Big form")
    token = derive_link_token(api_settings.secret_key, "c-big", "sign")
    with session_scope(api_settings.database_url) as session:
        expires = datetime.now(UTC) + timedelta(days=3)
        ensure_link(session, token, "c-big", "sign", "client", "sign", expires)
    body = _form(3_000)
    app = create_app(api_settings.replace(body_max_bytes=64 * 1024), run_migrations=False)
    async with client_for(app) as client:
        r = await client.post(
            f"/l/{token}",
            content=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert r.status_code == 413
    assert body.read < 3_000
