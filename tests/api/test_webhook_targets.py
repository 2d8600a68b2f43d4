"""Webhooks point only at public https addresses in production settings: loopback, private,
link-local (metadata) and names resolving to them are refused at registration and again at
delivery; a redirect is never followed. The embedded stack may point at 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import httpx
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.payloads import DeliveryInput
from activities.webhooks import WebhookActivities, target_problem
from api.app import create_app
from base.settings import Settings
from store.db import session_scope
from store.models import Webhook, WebhookDelivery
from tests.receiver import Receiver, receiving

REAL_GETADDRINFO = socket.getaddrinfo
FAKE_DNS = {"hub.example": "93.184.216.34", "internal.example": "10.1.2.3"}


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Names resolve as FAKE_DNS says (no network here); the test may repoint them."""
    table = dict(FAKE_DNS)

    def resolve(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
        if host in table:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (table[host], port))]
        return REAL_GETADDRINFO(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    return table


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://hub.example/hook", "must be https"),
        ("https://127.0.0.1/hook", "loopback"),
        ("https://[::1]/hook", "loopback"),
        ("https://localhost:8443/hook", "this machine"),
        ("https://10.0.0.5/hook", "private"),
        ("https://192.168.1.20/hook", "private"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://[::ffff:10.0.0.1]/hook", "private"),
        ("https://internal.example/hook", "resolves to 10.1.2.3"),
    ],
)
@pytest.mark.asyncio
async def test_registration_refuses_what_is_not_public(
    api_settings: Settings, keys: dict[str, str], dns: dict[str, str], url: str, why: str
) -> None:
    app = create_app(api_settings.replace(webhook_targets="public"), run_migrations=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://a") as c:
        r = await c.post(
            "/v1/webhooks",
            json={"url": url, "event_types": ["*"]},
            headers={"Authorization": f"Bearer {keys['hub_member']}"},
        )
    assert r.status_code == 422, r.text
    assert why in r.text and r.json()["errors"][0]["field"] == "url"
    with session_scope(api_settings.database_url) as session:
        assert session.get(Webhook, "x") is None


@pytest.mark.asyncio
async def test_a_public_https_name_is_accepted(
    api_settings: Settings, keys: dict[str, str], dns: dict[str, str]
) -> None:
    app = create_app(api_settings.replace(webhook_targets="public"), run_migrations=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://a") as c:
        r = await c.post(
            "/v1/webhooks",
            json={"url": "https://hub.example/hook", "event_types": ["*"]},
            headers={"Authorization": f"Bearer {keys['hub_member']}"},
        )
    assert r.status_code == 201, r.text


def test_production_settings_are_public_only_and_the_embedded_stack_is_not() -> None:
    assert Settings(temporal_address="t:7233").webhooks_public_only
    assert not Settings(temporal_address=None).webhooks_public_only
    assert not Settings(temporal_address="t:7233", dev_pages=True).webhooks_public_only
    assert not Settings(temporal_address="t:7233", webhook_targets="any").webhooks_public_only


def _pending_delivery(settings: Settings, url: str) -> str:
    with session_scope(settings.database_url) as session:
        session.add(Webhook(id="wh-t", hub_id="tagus-ai", url=url, event_types=["*"], secret="s"))
        session.add(
            WebhookDelivery(
                id="dl-t",
                webhook_id="wh-t",
                case_id="c-none",
                seq=1,
                event_type="signed",
                payload={"id": "dl-t"},
            )
        )
    return "dl-t"


def test_a_name_repointed_at_a_private_address_is_refused_at_delivery(
    api_settings: Settings, dns: dict[str, str]
) -> None:
    settings = api_settings.replace(webhook_targets="public")
    delivery = _pending_delivery(settings, "https://hub.example/hook")
    dns["hub.example"] = "169.254.169.254"  # after registration, the name moves
    with pytest.raises(ApplicationError) as refused:
        asyncio.run(
            ActivityEnvironment().run(
                WebhookActivities(settings).deliver_webhook, DeliveryInput(delivery_id=delivery)
            )
        )
    assert refused.value.non_retryable and "link-local" in str(refused.value)
    with session_scope(settings.database_url) as session:
        row = session.get(WebhookDelivery, delivery)
        assert row is not None and "refused" in row.last_error


@pytest.fixture
def redirecting() -> Iterator[Receiver]:
    with receiving(307, {"Location": "/elsewhere"}) as r:
        yield r


def test_a_redirect_is_never_followed(api_settings: Settings, redirecting: Receiver) -> None:
    delivery = _pending_delivery(api_settings, redirecting.url())  # "any": loopback allowed here
    with pytest.raises(ApplicationError, match="HTTP 307"):
        asyncio.run(
            ActivityEnvironment().run(
                WebhookActivities(api_settings).deliver_webhook, DeliveryInput(delivery_id=delivery)
            )
        )
    assert [r.path for r in redirecting.requests] == ["/hook"]  # never /elsewhere


def test_target_problem_allows_anything_http_when_not_public_only() -> None:
    assert target_problem("http://127.0.0.1:9/x", public_only=False) is None
    assert target_problem("ftp://127.0.0.1/x", public_only=False) is not None
