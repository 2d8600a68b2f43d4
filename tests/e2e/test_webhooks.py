"""Webhooks end to end: a hub subscribes, case events reach a real HTTP receiver on
127.0.0.1 signed with the hub's secret, failures are retried by Temporal, and the delivery log
tells the hub what happened."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
from sqlmodel import Session
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from activities.webhooks import sign, verify_signature
from base.engine import connect, free_port
from store.db import get_engine
from store.models import WebhookDelivery
from tests.conftest import Stack
from tests.e2e.helpers import LEAD, PARTNER, act, start_case
from tests.receiver import Receiver, receiving
from worker import sandbox_runner
from workflows import WORKFLOWS

pytestmark = pytest.mark.e2e
PARTNER_MEMBER = f"hub_member:{PARTNER}"
OUTSIDER = "hub_member:vistula-ai"  # never a party to the cases below
WAIT_SECONDS = 20.0


# -- a real receiver ----------------------------------------------------------------------
@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as r:
        yield r


# -- helpers ------------------------------------------------------------------------------
class Webhooks:
    """Registers webhooks and deletes them after the test: the stack is shared by the session,
    and a webhook left behind would receive the events of later tests' cases."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.made: list[tuple[str, str]] = []  # (who, webhook id)

    async def register(self, who: str, url: str, event_types: list[str]) -> dict[str, Any]:
        r = await self.stack.http.post(
            "/v1/webhooks",
            json={"url": url, "event_types": event_types},
            headers=self.stack.auth(who),
        )
        assert r.status_code == 201, r.text
        self.made.append((who, r.json()["id"]))
        return r.json()  # type: ignore[no-any-return]

    async def deliveries(self, who: str, webhook_id: str, case_id: str) -> list[dict[str, Any]]:
        r = await self.stack.http.get(
            f"/v1/webhooks/{webhook_id}/deliveries",
            params={"limit": 100},
            headers=self.stack.auth(who),
        )
        assert r.status_code == 200, r.text
        return [d for d in r.json()["items"] if d["case_id"] == case_id]


@pytest.fixture
async def webhooks(stack: Stack) -> AsyncIterator[Webhooks]:
    hooks = Webhooks(stack)
    yield hooks
    for who, webhook_id in hooks.made:
        await stack.http.delete(f"/v1/webhooks/{webhook_id}", headers=stack.auth(who))


async def eventually(check: Callable[[], Any | Awaitable[Any]], what: str) -> Any:
    """Poll ``check`` until it returns something truthy, for at most WAIT_SECONDS."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_SECONDS
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def timeline_hashes(stack: Stack, case_id: str) -> dict[int, str]:
    r = await stack.http.get(f"/v1/cases/{case_id}/timeline", headers=stack.auth("back_office"))
    assert r.status_code == 200, r.text
    return {e["seq"]: e["hash"] for e in r.json()["items"]}


# -- delivery -----------------------------------------------------------------------------
async def test_case_events_reach_the_subscribed_hubs_signed(
    stack: Stack, receiver: Receiver, webhooks: Webhooks
) -> None:
    partner = await webhooks.register(
        PARTNER_MEMBER, receiver.url("/partner"), ["invitation_accepted", "draft_rendered"]
    )
    lead = await webhooks.register(f"hub_member:{LEAD}", receiver.url("/lead"), ["case_requested"])
    outsider = await webhooks.register(OUTSIDER, receiver.url("/outsider"), ["*"])

    cid = (await start_case(stack))["id"]
    r = await act(stack, PARTNER_MEMBER, cid, "accept-invitation")
    assert r.status_code == 200, r.text

    got = await eventually(
        lambda: len(receiver.received("/partner", cid)) == 2 and receiver.received("/partner", cid),
        "the partner's two deliveries",
    )
    assert sorted(g.headers["x-dihflow-event"] for g in got) == [
        "draft_rendered",
        "invitation_accepted",
    ]
    hashes = await timeline_hashes(stack, cid)
    for g in got:
        ts, signature = g.headers["x-dihflow-timestamp"], g.headers["x-dihflow-signature"]
        assert g.headers["content-type"] == "application/json"
        assert verify_signature(partner["secret"], ts, g.body, signature, tolerance_seconds=300)
        assert not verify_signature(lead["secret"], ts, g.body, signature)
        assert not verify_signature(partner["secret"], ts, g.body.replace(b"}", b" }"), signature)
        body = g.json
        assert body["id"] == g.headers["x-dihflow-delivery"]
        assert body["type"] == g.headers["x-dihflow-event"]
        assert set(body) == {"id", "case_id", "seq", "type", "at", "data", "hash"}
        assert body["hash"] == hashes[body["seq"]]  # the timeline event, as recorded

    lead_got = await eventually(lambda: receiver.received("/lead", cid), "the lead's delivery")
    assert [g.json["type"] for g in lead_got] == ["case_requested"]

    partner_auth = stack.auth(PARTNER_MEMBER)
    log = await eventually(
        lambda: _all_delivered(webhooks.deliveries(PARTNER_MEMBER, partner["id"], cid), 2),
        "the partner's log to show both delivered",
    )
    assert {d["event_type"] for d in log} == {"invitation_accepted", "draft_rendered"}
    assert all(d["attempts"] == 1 and d["last_status_code"] == 204 for d in log)
    assert all(d["last_error"] == "" and d["delivered_at"] for d in log)
    assert [d["created_at"] for d in log] == sorted((d["created_at"] for d in log), reverse=True)
    assert {d["id"] for d in log} == {g.headers["x-dihflow-delivery"] for g in got}

    page = await stack.http.get(
        f"/v1/webhooks/{partner['id']}/deliveries", params={"limit": 1}, headers=partner_auth
    )
    assert [d["id"] for d in page.json()["items"]] == [log[0]["id"]]
    page = await stack.http.get(
        f"/v1/webhooks/{partner['id']}/deliveries",
        params={"limit": 1, "cursor": page.json()["next_cursor"]},
        headers=partner_auth,
    )
    assert [d["id"] for d in page.json()["items"]] == [log[1]["id"]]
    assert page.json()["next_cursor"] is None

    # a hub that is not a party to the case gets nothing, and logs nothing
    assert receiver.received("/outsider", cid) == []
    assert await webhooks.deliveries(OUTSIDER, outsider["id"], cid) == []


async def _all_delivered(log: Awaitable[list[dict[str, Any]]], count: int) -> Any:
    items = await log
    return len(items) == count and all(d["status"] == "delivered" for d in items) and items


async def test_failed_delivery_is_retried_with_the_same_delivery_id(
    stack: Stack, receiver: Receiver, webhooks: Webhooks
) -> None:
    receiver.fail_next = 1
    hook = await webhooks.register(PARTNER_MEMBER, receiver.url("/flaky"), ["invitation_accepted"])
    cid = (await start_case(stack))["id"]
    r = await act(stack, PARTNER_MEMBER, cid, "accept-invitation")
    assert r.status_code == 200, r.text

    got = await eventually(
        lambda: len(receiver.received("/flaky", cid)) >= 2 and receiver.received("/flaky", cid),
        "the delivery and its retry",
    )
    assert [g.answered for g in got] == [500, 204]
    assert got[0].headers["x-dihflow-delivery"] == got[1].headers["x-dihflow-delivery"]
    assert got[0].body == got[1].body
    for g in got:
        assert verify_signature(
            hook["secret"],
            g.headers["x-dihflow-timestamp"],
            g.body,
            g.headers["x-dihflow-signature"],
        )
    log = await eventually(
        lambda: _all_delivered(webhooks.deliveries(PARTNER_MEMBER, hook["id"], cid), 1),
        "the log to show the delivery made",
    )
    assert log[0]["attempts"] == 2 and log[0]["last_status_code"] == 204
    client = await connect(stack.settings)
    await client.get_workflow_handle(f"webhook-{log[0]['id']}").result()  # nothing more to send
    assert len(receiver.received("/flaky", cid)) == 2  # delivered once: not sent again
    await assert_histories_replay(stack, f"case-{cid}", f"webhook-{log[0]['id']}")


async def assert_histories_replay(stack: Stack, *workflow_ids: str) -> None:
    """Runs with the ``webhooks`` patch replay against today's code (the saved histories
    under tests/workflows predate it and replay without it)."""
    client = await connect(stack.settings)
    replayer = Replayer(
        workflows=WORKFLOWS,
        data_converter=pydantic_data_converter,
        workflow_runner=sandbox_runner(strict=True),
    )
    for workflow_id in workflow_ids:
        await replayer.replay_workflow(
            await client.get_workflow_handle(workflow_id).fetch_history()
        )


async def test_receiver_down_never_holds_up_the_case_and_a_deleted_webhook_gives_up(
    stack: Stack, webhooks: Webhooks
) -> None:
    down = f"http://127.0.0.1:{free_port()}/down"  # nothing listens there
    hook = await webhooks.register(PARTNER_MEMBER, down, ["case_requested"])
    cid = (await start_case(stack))["id"]

    log = await eventually(
        lambda: _attempted(webhooks.deliveries(PARTNER_MEMBER, hook["id"], cid)),
        "a failed first attempt in the log",
    )
    assert log[0]["status"] == "pending" and log[0]["last_status_code"] is None
    assert "Connect" in log[0]["last_error"]
    r = await act(stack, PARTNER_MEMBER, cid, "accept-invitation")
    assert r.status_code == 200 and r.json()["state"] == "legal_review", r.text

    r = await stack.http.delete(f"/v1/webhooks/{hook['id']}", headers=stack.auth(PARTNER_MEMBER))
    assert r.status_code == 204

    def given_up() -> WebhookDelivery | None:
        with Session(get_engine(stack.settings.database_url)) as session:
            row = session.get(WebhookDelivery, log[0]["id"])
            return row if row is not None and row.status == "failed" else None

    row = await eventually(given_up, "the next attempt to find the webhook deleted")
    assert row.last_error == "the webhook was deleted"


async def _attempted(log: Awaitable[list[dict[str, Any]]]) -> Any:
    items = await log
    return items and items[0]["attempts"] >= 1 and items


# -- the API ------------------------------------------------------------------------------
async def test_secret_is_shown_only_at_registration(stack: Stack, webhooks: Webhooks) -> None:
    hook = await webhooks.register(PARTNER_MEMBER, "https://hooks.example/dihflow", ["*"])
    assert len(hook["secret"]) >= 43 and hook["event_types"] == ["*"]
    listed = await stack.http.get("/v1/webhooks", headers=stack.auth(PARTNER_MEMBER))
    assert listed.status_code == 200
    mine = [h for h in listed.json()["items"] if h["id"] == hook["id"]]
    assert mine == [{k: v for k, v in hook.items() if k != "secret"}]
    one = await stack.http.get(f"/v1/webhooks/{hook['id']}", headers=stack.auth(PARTNER_MEMBER))
    assert one.status_code == 200 and "secret" not in one.json()


async def test_webhook_of_another_hub_is_404(stack: Stack, webhooks: Webhooks) -> None:
    hook = await webhooks.register(PARTNER_MEMBER, "https://hooks.example/a", ["signed"])
    other = stack.auth("hub_member:spree-trust")
    for method, path in (
        ("GET", f"/v1/webhooks/{hook['id']}"),
        ("GET", f"/v1/webhooks/{hook['id']}/deliveries"),
        ("DELETE", f"/v1/webhooks/{hook['id']}"),
    ):
        r = await stack.http.request(method, path, headers=other)
        assert r.status_code == 404, (method, path, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    listed = (await stack.http.get("/v1/webhooks", headers=other)).json()["items"]
    assert hook["id"] not in {h["id"] for h in listed}
    # the same hub's signatory manages it; once deleted it is gone for everyone
    own = stack.auth(f"hub_signatory:{PARTNER}")
    assert (await stack.http.get(f"/v1/webhooks/{hook['id']}", headers=own)).status_code == 200
    assert (await stack.http.delete(f"/v1/webhooks/{hook['id']}", headers=own)).status_code == 204
    assert (await stack.http.get(f"/v1/webhooks/{hook['id']}", headers=own)).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://hooks.example/x", "event_types": ["signed"]}, "url"),
        ({"url": "not a url", "event_types": ["signed"]}, "url"),
        ({"url": "https://hooks.example/" + "x" * 500, "event_types": ["signed"]}, "url"),
        (
            {"url": "https://hooks.example/x", "event_types": ["signed", "no_such_event"]},
            "event_types",
        ),
        ({"url": "https://hooks.example/x", "event_types": []}, "event_types"),
        ({"url": "https://hooks.example/x"}, "event_types"),
    ],
)
async def test_bad_registration_is_422_naming_the_field(
    stack: Stack, body: dict[str, Any], field: str
) -> None:
    r = await stack.http.post("/v1/webhooks", json=body, headers=stack.auth(PARTNER_MEMBER))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in r.json()["errors"]] == [field]


async def test_unknown_event_type_is_named_in_the_error(stack: Stack) -> None:
    body = {"url": "https://hooks.example/x", "event_types": ["no_such_event"]}
    r = await stack.http.post("/v1/webhooks", json=body, headers=stack.auth(PARTNER_MEMBER))
    assert r.status_code == 422 and "no_such_event" in r.json()["errors"][0]["message"]


@pytest.mark.parametrize("who", ["back_office", "legal"])
async def test_webhooks_are_for_hubs_only_403(stack: Stack, who: str) -> None:
    body = {"url": "https://hooks.example/x", "event_types": ["*"]}
    r = await stack.http.post("/v1/webhooks", json=body, headers=stack.auth(who))
    assert r.status_code == 403, r.text
    assert (await stack.http.get("/v1/webhooks", headers=stack.auth(who))).status_code == 403
    r = await stack.http.post("/v1/webhooks", json={"url": "x"}, headers=stack.auth(who))
    assert r.status_code == 403  # not this caller's to do: 403 before looking at the body


async def test_webhooks_without_a_key_are_401(stack: Stack) -> None:
    assert (await stack.http.get("/v1/webhooks")).status_code == 401


# -- the signature scheme -----------------------------------------------------------------
def test_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    import hashlib
    import hmac

    body, secret = b'{"seq":1}', "s3cret"
    expected = hmac.new(b"s3cret", b'1700000000.{"seq":1}', hashlib.sha256).hexdigest()
    assert sign(secret, 1700000000, body) == f"sha256={expected}"
    header = sign(secret, "1700000000", body)
    assert verify_signature(secret, "1700000000", body, header, now=1700000000)
    assert not verify_signature(  # the time is signed too
        secret, "1700000001", body, header, now=1700000000
    )
    assert not verify_signature(secret, "1700000000", body, header, tolerance_seconds=300)
    assert verify_signature(secret, "1700000000", body, header, tolerance_seconds=None)
    assert verify_signature(
        secret, "1700000000", body, header, tolerance_seconds=300, now=1700000100
    )


async def test_same_idempotency_key_registers_one_webhook(stack: Stack) -> None:
    headers = stack.auth("hub_member:spree-trust") | {"Idempotency-Key": "hook-1"}
    body = {"url": "https://spree.example/hook", "event_types": ["signed"]}
    first = await stack.http.post("/v1/webhooks", json=body, headers=headers)
    again = await stack.http.post("/v1/webhooks", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    other = await stack.http.post(
        "/v1/webhooks", json={**body, "event_types": ["*"]}, headers=headers
    )
    assert other.status_code == 422
    await stack.http.delete(f"/v1/webhooks/{first.json()['id']}", headers=headers)
