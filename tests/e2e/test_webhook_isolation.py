"""Webhook deliveries run apart from case work: receivers that trickle their answer hold no
thread of the worker, each attempt has an overall deadline, and a hub's webhooks are bounded."""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections.abc import Iterator

import pytest
from sqlmodel import Session

from store.db import get_engine, session_scope
from store.models import Webhook
from tests.conftest import Stack
from tests.e2e.helpers import PARTNER, act, read, start_case

pytestmark = pytest.mark.e2e
PARTNER_MEMBER = f"hub_member:{PARTNER}"
SLOW_HOOKS = 16  # twice the threads of the test stack's worker


class Trickler:
    """A receiver that reads the request, then answers one byte of header every 0.2 s and never
    finishes, until stopped: no per-read timeout ever fires."""

    def __init__(self) -> None:
        self.open = 0
        self.changed = threading.Condition()
        self.stop = threading.Event()
        trickler = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                conn: socket.socket = self.request
                conn.recv(65536)
                with trickler.changed:
                    trickler.open += 1
                    trickler.changed.notify_all()
                try:
                    conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                    while not trickler.stop.wait(0.2):
                        conn.sendall(b"a")
                except OSError:
                    pass  # the client gave up: what a deadline does
                finally:
                    with trickler.changed:
                        trickler.open -= 1
                        trickler.changed.notify_all()

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/slow"

    def wait_open(self, count: int, seconds: float = 60) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: self.open >= count, seconds), self.open


@pytest.fixture
def trickler() -> Iterator[Trickler]:
    t = Trickler()
    t.thread.start()
    yield t
    t.stop.set()
    t.server.shutdown()
    t.server.server_close()


@pytest.fixture
def slow_hooks(stack: Stack, trickler: Trickler) -> Iterator[list[str]]:
    """SLOW_HOOKS webhooks of the partner hub to the trickler, written to the store directly (the
    API bounds them to DIHFLOW_WEBHOOKS_PER_HUB); switched off after the test."""
    ids = [f"wh-slow-{i}-{time.monotonic_ns() % 10**9}" for i in range(SLOW_HOOKS)]
    with session_scope(stack.settings.database_url) as session:
        for hook_id in ids:
            session.add(
                Webhook(id=hook_id, hub_id=PARTNER, url=trickler.url, event_types=["*"], secret="s")
            )
    yield ids
    with session_scope(stack.settings.database_url) as session:
        for hook_id in ids:
            hook = session.get(Webhook, hook_id)
            assert hook is not None
            hook.active = False
            session.add(hook)


async def test_trickling_receivers_do_not_stall_case_steps(
    stack: Stack, trickler: Trickler, slow_hooks: list[str]
) -> None:
    import asyncio

    cid = (await start_case(stack))["id"]
    # every delivery of case_requested is connected and held by a receiver that trickles
    await asyncio.to_thread(trickler.wait_open, SLOW_HOOKS)
    r = await act(stack, PARTNER_MEMBER, cid, "accept-invitation")
    assert r.status_code == 200 and r.json()["state"] == "legal_review", r.text
    assert (await read(stack, "back_office", cid))["state"] == "legal_review"


async def test_a_trickling_receiver_is_cut_at_the_deadline(
    stack: Stack, trickler: Trickler, slow_hooks: list[str]
) -> None:
    import asyncio

    from sqlmodel import select

    from store.models import WebhookDelivery

    cid = (await start_case(stack))["id"]
    await asyncio.to_thread(trickler.wait_open, SLOW_HOOKS)
    # the deliveries' attempts end by themselves, and say why
    deadline = asyncio.get_running_loop().time() + 60
    while True:
        with Session(get_engine(stack.settings.database_url)) as session:
            rows = session.exec(
                select(WebhookDelivery).where(
                    WebhookDelivery.case_id == cid, WebhookDelivery.webhook_id == slow_hooks[0]
                )
            ).all()
        if rows and rows[0].attempts >= 1:
            break
        assert asyncio.get_running_loop().time() < deadline, "no attempt ended"
        await asyncio.sleep(0.2)
    assert rows[0].status == "pending" and "did not answer within" in rows[0].last_error


async def test_a_hub_has_a_bounded_number_of_webhooks(stack: Stack) -> None:
    who = stack.auth("hub_member:vistula-ai")
    made = []
    listed = await stack.http.get("/v1/webhooks", headers=who)
    already = len(listed.json()["items"])  # left by no one, but the stack is shared
    try:
        for i in range(stack.settings.webhooks_per_hub - already):
            r = await stack.http.post(
                "/v1/webhooks",
                json={"url": f"https://vistula.example/{i}", "event_types": ["signed"]},
                headers=who,
            )
            assert r.status_code == 201, r.text
            made.append(r.json()["id"])
        r = await stack.http.post(
            "/v1/webhooks",
            json={"url": "https://vistula.example/one-more", "event_types": ["signed"]},
            headers=who,
        )
        assert r.status_code == 422
        assert str(stack.settings.webhooks_per_hub) in r.json()["detail"]
        assert r.json()["limit"] == stack.settings.webhooks_per_hub
    finally:
        for hook_id in made:
            await stack.http.delete(f"/v1/webhooks/{hook_id}", headers=who)


async def test_a_repeated_idempotency_key_never_shows_a_deleted_webhooks_secret(
    stack: Stack,
) -> None:
    headers = stack.auth("hub_member:spree-trust") | {"Idempotency-Key": "hook-deleted"}
    body = {"url": "https://spree.example/deleted", "event_types": ["signed"]}
    first = await stack.http.post("/v1/webhooks", json=body, headers=headers)
    assert first.status_code == 201
    deleted = await stack.http.delete(f"/v1/webhooks/{first.json()['id']}", headers=headers)
    assert deleted.status_code == 204
    again = await stack.http.post("/v1/webhooks", json=body, headers=headers)
    assert again.status_code == 409 and "secret" not in again.text
    assert "deleted" in again.json()["detail"]


def test_a_replayed_delivery_is_refused_by_default() -> None:
    from activities.webhooks import sign, verify_signature

    body, secret = b'{"seq":1}', "s3cret"
    captured = sign(secret, "1700000000", body)  # a delivery captured long ago
    assert not verify_signature(secret, "1700000000", body, captured)
    now = str(int(time.time()))
    assert verify_signature(secret, now, body, sign(secret, now, body))
