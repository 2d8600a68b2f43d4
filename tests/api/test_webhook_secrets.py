"""Webhook signing secrets are sealed at rest with the payload key ring and rotate with an
overlap window: during it a delivery carries one signature per secret, after it only the new."""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from temporalio.testing import ActivityEnvironment

from activities.payloads import DeliveryInput
from activities.webhooks import WebhookActivities, verify_signature
from api.app import create_app
from base.settings import Settings
from store.db import session_scope
from store.models import Webhook, WebhookDelivery, utcnow
from tests.receiver import Receiver, receiving

RING = "k1:" + base64.b64encode(os.urandom(32)).decode()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as r:
        yield r


def _deliver(
    settings: Settings, hook_id: str, n: int, receiver: Receiver
) -> tuple[dict[str, str], bytes]:
    with session_scope(settings.database_url) as session:
        session.add(
            WebhookDelivery(
                id=f"dl-{n}",
                webhook_id=hook_id,
                case_id="c-none",
                seq=n,
                event_type="signed",
                payload={"n": n},
            )
        )
    asyncio.run(
        ActivityEnvironment().run(
            WebhookActivities(settings).deliver_webhook, DeliveryInput(delivery_id=f"dl-{n}")
        )
    )
    got = receiver.requests[-1]
    return got.headers, got.body


def _verifies(secret: str, delivered: tuple[dict[str, str], bytes]) -> bool:
    headers, body = delivered
    return verify_signature(
        secret, headers["x-dihflow-timestamp"], body, headers["x-dihflow-signature"]
    )


def test_sealed_at_rest_and_rotated_with_an_overlap(
    api_settings: Settings, keys: dict[str, str], receiver: Receiver
) -> None:
    settings = api_settings.replace(payload_keys=RING)
    auth = {"Authorization": f"Bearer {keys['hub_member']}", "Idempotency-Key": "hook-1"}

    async def api_calls() -> tuple[str, str, str]:
        app = create_app(settings, run_migrations=False)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://a") as c:
            body = {"url": receiver.url(), "event_types": ["*"]}
            first = (await c.post("/v1/webhooks", json=body, headers=auth)).json()
            again = (await c.post("/v1/webhooks", json=body, headers=auth)).json()
            assert again["secret"] == first["secret"]  # the retry shows the same secret
            rotated = await c.post(f"/v1/webhooks/{first['id']}/rotate-secret", headers=auth)
            assert rotated.status_code == 200, rotated.text
            return first["id"], first["secret"], rotated.json()["secret"]

    hook_id, old, new = asyncio.run(api_calls())
    assert old != new
    with session_scope(settings.database_url) as session:
        row = session.get(Webhook, hook_id)
        assert row is not None and row.secret.startswith("sealed:v1:k1:")
        assert new not in row.secret and old not in (row.previous_secret or "")

    during = _deliver(settings, hook_id, 1, receiver)
    assert during[0]["x-dihflow-signature"].count("sha256=") == 2
    assert _verifies(new, during) and _verifies(old, during)

    with session_scope(settings.database_url) as session:
        row = session.get(Webhook, hook_id)
        assert row is not None
        row.previous_until = utcnow() - timedelta(seconds=1)  # the overlap is over
        session.add(row)
    after = _deliver(settings, hook_id, 2, receiver)
    assert _verifies(new, after) and not _verifies(old, after)


def test_without_a_ring_the_secret_is_kept_as_given(
    api_settings: Settings, keys: dict[str, str], receiver: Receiver
) -> None:
    async def register() -> dict[str, str]:
        app = create_app(api_settings, run_migrations=False)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://a") as c:
            r = await c.post(
                "/v1/webhooks",
                json={"url": receiver.url(), "event_types": ["*"]},
                headers={"Authorization": f"Bearer {keys['hub_member']}"},
            )
            return r.json()  # type: ignore[no-any-return]

    made = asyncio.run(register())
    assert _verifies(made["secret"], _deliver(api_settings, made["id"], 3, receiver))
