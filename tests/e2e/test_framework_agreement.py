"""The framework agreement through the API, on the time-skipping test server with the real
worker, activities, store and outbox: the 30-hub simulation of the network's consultation,
and every refusal the issue lists.

The API and the worker run against the test server; ``env.sleep`` moves the engine's clock
past the consultation deadline and the notice period (days pass in well under a second).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlmodel import select
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from base.engine import find_binary, free_port
from dihflow.seed import seed_demo_network
from documents.rendering import docx_text
from domain.cases import Role
from domain.hubs import HubProfile, Representative, load_demo_network
from store.db import session_scope
from store.keys import create_key
from store.models import OutboxMessage, Principal
from store.records import upsert_hub
from tests.factories import settings_for
from worker import build_worker, start_dispatcher

HUBS = [h.id for h in load_demo_network()]
NEWCOMER = "danube-newcomer-ai"
BASE = "/v1/framework-agreements"


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self):  # type: ignore[no-untyped-def]
        yield


@dataclass
class Net:
    env: WorkflowEnvironment
    http: httpx.AsyncClient
    keys: dict[str, str]
    url: str
    base_url: str

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}

    async def post(self, who: str, path: str, **kw: Any) -> httpx.Response:
        return await self.http.post(f"{BASE}{path}", headers=self.auth(who), **kw)

    async def get(self, who: str, path: str, **kw: Any) -> httpx.Response:
        return await self.http.get(f"{BASE}{path}", headers=self.auth(who), **kw)


def _newcomer() -> HubProfile:
    base = load_demo_network()[0]
    return base.model_copy(
        update={
            "id": NEWCOMER,
            "name": "Danube Newcomer AI Hub",
            "short_name": "Danube AI",
            "email": "office@danube-newcomer.example",
            "representatives": [
                Representative(
                    id="eva-novak", name="Eva Novak", email="eva@danube.example", title="Director"
                ),
                Representative(
                    id="limited",
                    name="Lim Ited",
                    email="lim@danube.example",
                    title="Deputy",
                    scope="mutual_nda",
                ),
            ],
        }
    )


@pytest.fixture(scope="module")
async def net(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Net]:
    var = tmp_path_factory.mktemp("framework")
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=find_binary("temporal-test-server"),
    )
    port = free_port()
    target = env.client.service_client.config.target_host
    settings = settings_for(
        Path(var),
        temporal_address=target,
        task_queue=f"tq-{uuid.uuid4().hex[:8]}",
        api_port=port,
        public_url=f"http://127.0.0.1:{port}",
        activity_timeout_seconds=5,
        rate_limit_per_minute=1_000_000,
    ).with_secret()
    seed_demo_network(settings.database_url)
    with session_scope(settings.database_url) as session:
        upsert_hub(session, _newcomer())
    keys = {"back_office": create_key(settings.database_url, Role.back_office, None)}
    keys["legal"] = create_key(settings.database_url, Role.legal, None)
    for hub in [*HUBS, NEWCOMER]:
        keys[f"m:{hub}"] = create_key(settings.database_url, Role.hub_member, hub)
        keys[f"s:{hub}"] = create_key(settings.database_url, Role.hub_signatory, hub)
    keys["s:limited"] = create_key(
        settings.database_url, Role.hub_signatory, NEWCOMER, representative="limited"
    )
    api = _Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    with ThreadPoolExecutor(max_workers=8) as executor:
        async with build_worker(env.client, settings, executor):
            dispatcher = start_dispatcher(env.client, settings)
            task = asyncio.create_task(api.serve())
            while not api.started:
                await asyncio.sleep(0.05)
            async with httpx.AsyncClient(base_url=settings.public_url, timeout=60) as http:
                yield Net(env, http, keys, settings.database_url, settings.public_url)
            api.should_exit = True
            await task
            await dispatcher.stop()
    await env.shutdown()


async def _open(net: Net, label: str, quorum: int = 10) -> dict[str, Any]:
    r = await net.post("back_office", "", json={"label": label, "quorum": quorum})
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def _gather(*calls: Any) -> list[httpx.Response]:
    return list(await asyncio.gather(*calls))


@pytest.mark.e2e
async def test_thirty_hub_consultation_signature_accession_and_withdrawal(net: Net) -> None:
    edition = await _open(net, "2026")
    eid = edition["id"]
    assert edition["state"] == "consultation" and edition["members"] == 31  # the registry
    clauses = (await net.get("m:tagus-ai", f"/{eid}/clauses")).json()["items"]
    assert len(clauses) >= 30 and all(len(c["sha256"]) == 64 for c in clauses)

    # 150 comments from the 30 hubs: 100 on clauses, then 50 replies to them
    for batch in range(10):
        calls = []
        for i in range(10):
            n = batch * 10 + i
            clause = clauses[n % len(clauses)]["number"]
            body = {"clause": clause, "text": f"Comment {n} on {clause}"}
            calls.append(net.post(f"m:{HUBS[n % 30]}", f"/{eid}/comments", json=body))
        for r in await _gather(*calls):
            assert r.status_code == 201, r.text
    first = (await net.get("back_office", f"/{eid}/comments", params={"limit": 100})).json()
    for batch in range(5):
        calls = []
        for parent in first["items"][batch * 10 : batch * 10 + 10]:
            body = {"clause": parent["clause"], "text": "Reply", "parent_id": parent["id"]}
            hub = HUBS[(parent["id"] + 7) % 30]
            calls.append(net.post(f"m:{hub}", f"/{eid}/comments", json=body))
        for r in await _gather(*calls):
            assert r.status_code == 201, r.text
    comments = await net.get("back_office", f"/{eid}/comments", params={"limit": 100})
    page2 = await net.get(
        "back_office",
        f"/{eid}/comments",
        params={"limit": 100, "cursor": comments.json()["next_cursor"]},
    )
    assert len(comments.json()["items"]) + len(page2.json()["items"]) == 150

    # 12 amendments, each voted on by every hub (a pattern that decides some for, some against)
    amended = [clauses[i * 3]["number"] for i in range(12)]
    for i, clause in enumerate(amended):
        r = await net.post(
            f"m:{HUBS[i]}",
            f"/{eid}/amendments",
            json={"clause": clause, "text": f"Amended text {i}.", "rationale": f"Reason {i}"},
        )
        assert r.status_code == 201, r.text
    for a in range(1, 13):
        calls = []
        for h, hub in enumerate(HUBS):
            choice = ("for", "against", "abstain")[(h + a) % 3] if a % 2 else "for"
            calls.append(
                net.post(f"m:{hub}", f"/{eid}/amendments/{a}/votes", json={"choice": choice})
            )
        for r in await _gather(*calls):
            assert r.status_code == 200, r.text
    tallies = {
        t["amendment_id"]: t
        for t in (await net.get("m:po-valley-ai", f"/{eid}/tallies")).json()["items"]
    }
    assert (
        tallies[2]["for"] == 30 and sum(tallies[1][k] for k in ("for", "against", "abstain")) == 30
    )

    # the deadline passes; consolidation
    await net.env.sleep(timedelta(days=31))
    assert (await net.get("back_office", f"/{eid}")).json()["state"] == "consolidation"
    for a in range(1, 13):
        decision = "accept" if tallies[a]["for"] > tallies[a]["against"] else "reject"
        r = await net.post(
            "back_office",
            f"/{eid}/amendments/{a}/decision",
            json={"decision": decision, "reason": f"{tallies[a]['for']} for"},
        )
        assert r.status_code == 200, r.text
    r = await net.post("back_office", f"/{eid}/final-version")
    assert r.status_code == 200, r.text
    sha = r.json()["data"]["sha256"]
    doc = await net.get("m:tagus-ai", f"/{eid}/versions/final")
    assert doc.status_code == 200
    text = docx_text(doc.content)
    assert "Change log" in text and "Amended text 1." in text and "Reason 11" in text

    # 25 signatures: in force exactly at the 10th
    for i, hub in enumerate(HUBS[:25]):
        r = await net.post(f"s:{hub}", f"/{eid}/signatures", json={"document_sha256": sha})
        assert r.status_code == 201, r.text
        state = (await net.get("back_office", f"/{eid}")).json()["state"]
        assert state == ("in_force" if i >= 9 else "signature"), (i, state)
        assert r.json()["data"]["entered_into_force"] is (i == 9)
    with session_scope(net.url) as session:
        notices = session.exec(
            select(OutboxMessage).where(OutboxMessage.case_id == eid, OutboxMessage.kind == "mail")
        ).all()
    assert len(notices) == 31  # every hub of the network is told

    # accession of a 31st hub
    r = await net.post(f"s:{NEWCOMER}", f"/{eid}/signatures", json={"document_sha256": sha})
    assert r.status_code == 201, r.text
    register = {
        p["hub_id"]: p for p in (await net.get("m:vistula-ai", f"/{eid}/register")).json()["items"]
    }
    assert len(register) == 26 and register[NEWCOMER]["kind"] == "accession"
    assert register[NEWCOMER]["accession_date"] and register[HUBS[0]]["kind"] == "signatory"

    # one withdrawal, effective after its notice period
    r = await net.post(f"s:{HUBS[3]}", f"/{eid}/withdrawals")
    assert r.status_code == 201, r.text
    register = {
        p["hub_id"]: p for p in (await net.get("back_office", f"/{eid}/register")).json()["items"]
    }
    assert register[HUBS[3]]["bound"] and register[HUBS[3]]["bound_until"]
    await net.env.sleep(timedelta(days=91))
    for _ in range(100):  # the timer's projection lands just after the engine's clock moved
        register = {
            p["hub_id"]: p
            for p in (await net.get("back_office", f"/{eid}/register")).json()["items"]
        }
        if not register[HUBS[3]]["bound"]:
            break
        await asyncio.sleep(0.05)
    assert not register[HUBS[3]]["bound"] and register[HUBS[3]]["notice_at"]
    assert sum(p["bound"] for p in register.values()) == 25


@pytest.mark.e2e
async def test_every_refusal(net: Net) -> None:
    eid = (await _open(net, "refusals", quorum=2))["id"]
    clause = (await net.get("m:tagus-ai", f"/{eid}/clauses")).json()["items"][0]["number"]
    r = await net.post(
        "m:tagus-ai", f"/{eid}/amendments", json={"clause": clause, "text": "T", "rationale": "R"}
    )
    assert r.status_code == 201
    # a second vote counted once
    for _ in range(2):
        r = await net.post("m:tagus-ai", f"/{eid}/amendments/1/votes", json={"choice": "for"})
        assert r.status_code == 200
    assert r.json()["changed"] is False and r.json()["data"]["tally"]["for"] == 1
    # a vote by a non-member: the back office, and a hub that joined after the opening
    with session_scope(net.url) as session:
        profile = _newcomer().model_copy(update={"id": "late-joiner-ai", "name": "Late Joiner"})
        upsert_hub(session, profile)
    net.keys["m:late"] = create_key(net.url, Role.hub_member, "late-joiner-ai")
    r = await net.post("m:late", f"/{eid}/amendments/1/votes", json={"choice": "for"})
    assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")
    assert (
        await net.post("back_office", f"/{eid}/amendments/1/votes", json={"choice": "for"})
    ).status_code == 403
    # a bad choice
    assert (
        await net.post("m:tagus-ai", f"/{eid}/amendments/1/votes", json={"choice": "maybe"})
    ).status_code == 422
    # a vote and a comment after the deadline: 409 naming it
    await net.env.sleep(timedelta(days=31))
    deadline = (await net.get("back_office", f"/{eid}")).json()["deadline"]
    for path, body in (
        (f"/{eid}/amendments/1/votes", {"choice": "against"}),
        (f"/{eid}/comments", {"clause": clause, "text": "late"}),
    ):
        r = await net.post("m:po-valley-ai", path, json=body)
        assert (
            r.status_code == 409
            and r.json()["deadline"] == deadline
            and deadline in r.json()["detail"]
        )
    await net.post(
        "back_office", f"/{eid}/amendments/1/decision", json={"decision": "reject", "reason": "no"}
    )
    sha = (await net.post("back_office", f"/{eid}/final-version")).json()["data"]["sha256"]
    # a signature over a non-final hash: 409 naming the final one
    draft = (await net.get("back_office", f"/{eid}")).json()["draft_sha256"]
    r = await net.post("s:tagus-ai", f"/{eid}/signatures", json={"document_sha256": draft})
    assert r.status_code == 409 and sha in r.json()["detail"]
    # a signature outside the representative's mandate (scope: mutual_nda only)
    r = await net.post("s:limited", f"/{eid}/signatures", json={"document_sha256": sha})
    assert r.status_code == 403 and "mutual_nda" in r.json()["detail"]
    # a member (not a signatory) cannot sign
    assert (
        await net.post("m:tagus-ai", f"/{eid}/signatures", json={"document_sha256": sha})
    ).status_code == 403
    # the same signature twice: recorded once
    assert (
        await net.post("s:tagus-ai", f"/{eid}/signatures", json={"document_sha256": sha})
    ).status_code == 201
    again = await net.post("s:tagus-ai", f"/{eid}/signatures", json={"document_sha256": sha})
    assert again.json()["changed"] is False
    await net.post("s:po-valley-ai", f"/{eid}/signatures", json={"document_sha256": sha})
    # a withdrawal by a hub that is not bound
    r = await net.post("s:vistula-ai", f"/{eid}/withdrawals")
    assert r.status_code == 403 and "not bound" in r.json()["detail"]
    # an unknown edition
    assert (await net.get("m:tagus-ai", "/fca-nope")).status_code == 404
    with session_scope(net.url) as session:
        assert session.get(Principal, "x") is None


@pytest.mark.e2e
async def test_back_office_pages_consultation_consolidation_and_register(net: Net) -> None:
    """In a real browser: the consultation shows clauses with comments and tallies; the back
    office decides each amendment and publishes the final version from the consolidation
    screen; the register lists the signatories. axe-core on each page; screenshots."""
    from tests.browser import chromium
    from tests.web.conftest import (
        OUTPUT,
        add_staff,
        assert_accessible,
        open_signed_in,
        screenshots,
    )

    eid = (await _open(net, "2028", quorum=2))["id"]
    clauses = (await net.get("m:tagus-ai", f"/{eid}/clauses")).json()["items"]
    first, second = clauses[2]["number"], clauses[7]["number"]
    await net.post(
        "m:tagus-ai", f"/{eid}/comments", json={"clause": first, "text": "Too broad <b>?</b>"}
    )
    await net.post(
        "m:spree-trust",
        f"/{eid}/comments",
        json={"clause": first, "text": "Agreed.", "parent_id": 1},
    )
    for hub, clause in (("po-valley-ai", first), ("vistula-ai", second)):
        body = {"clause": clause, "text": f"New wording from {hub}.", "rationale": "Clearer scope."}
        assert (await net.post(f"m:{hub}", f"/{eid}/amendments", json=body)).status_code == 201
    for hub, choice in (("tagus-ai", "for"), ("spree-trust", "for"), ("vistula-ai", "against")):
        await net.post(f"m:{hub}", f"/{eid}/amendments/1/votes", json={"choice": choice})
    staff = add_staff(net.url)
    async with chromium() as browser:
        page = await open_signed_in(browser, net, staff, "back_office")
        await page.goto(f"/framework/{eid}")
        await page.get_by_role("heading", name=f"Clause {first}").wait_for()
        await page.get_by_text("1 comment thread").click()
        assert await page.get_by_text("Too broad <b>?</b>").is_visible()  # shown as text
        row = page.get_by_role("row").filter(has_text="New wording from po-valley-ai.")
        assert "2" in await row.inner_text()
        await assert_accessible(page)
        await screenshots(page, "framework-consultation")
        await page.get_by_role("heading", name=f"Clause {first}").scroll_into_view_if_needed()
        await page.screenshot(path=str(OUTPUT / "framework-consultation-clause-1280.png"))

        await net.env.sleep(timedelta(days=31))
        await page.goto(f"/framework/{eid}/consolidation")
        for number, choice in ((1, "Accept"), (2, "Reject")):
            form = page.locator(f"form[action$='/amendments/{number}/decision']")
            await form.get_by_label(choice).check()
            await form.get_by_label("Reason").fill(f"{choice}ed after the tally.")
            await form.get_by_role("button", name="Record the decision").click()
            await page.get_by_role("status").filter(has_text="decision is recorded").wait_for()
        await assert_accessible(page)
        await screenshots(page, "framework-consolidation")
        await page.get_by_role("button", name="Publish the final version").click()
        await page.get_by_role("status").filter(has_text="final version is published").wait_for()
        edition = (await net.get("back_office", f"/{eid}")).json()
        assert edition["state"] == "signature" and edition["final_sha256"]

        for hub in ("tagus-ai", "po-valley-ai"):
            body = {"document_sha256": edition["final_sha256"]}
            assert (await net.post(f"s:{hub}", f"/{eid}/signatures", json=body)).status_code == 201
        await page.goto(f"/framework/{eid}/register")
        await page.get_by_role("status").filter(has_text="In force since").wait_for()
        assert await page.get_by_role("cell", name="Tagus AI Hub").count() == 1
        await assert_accessible(page)
        await screenshots(page, "framework-register")
        await page.goto("/framework")
        await assert_accessible(page)
        await page.context.close()
