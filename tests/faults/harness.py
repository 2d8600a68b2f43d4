"""What the fault tests share: a stack whose processes a test may kill, a driver that takes
joint-service cases through every step and retries what a fault interrupted, and the checks
that nothing was lost or doubled.

The API runs in the test's process (uvicorn on a free port) or as its own ``dihflow api``
process; workers are ``python -m worker`` subprocesses. Each test gets a fresh store (a SQLite
file under ``tmp_path`` unless it passes a PostgreSQL URL), task queue and directories.
Activities time out after 3 s (the workflow takes the timeout from the API's settings at start,
the worker's environment carries it too), so a task lost to a fault is retried within seconds.

``produce_executed_agreement`` (made by the run loop after the last signature has returned)
heartbeats every second while LibreOffice works and times out after 10 s without one, so a
worker killed during it delays the case by seconds, like any other activity.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import col, select
from temporalio.api.enums.v1 import PendingActivityState
from temporalio.client import Client

from api.app import create_app
from base.engine import DevServer, connect, free_port
from base.settings import Settings
from dihflow.seed import seed_demo_network
from domain.cases import Role
from domain.timeline import TimelineEvent, verify_chain
from store.db import session_scope
from store.keys import create_key
from store.models import Document, Signature, TimelineEntry
from tests.conftest import KEY_HUBS, Stack, _Server
from tests.e2e.helpers import CLIENT, LEAD, PARTNER, act, link_token, post_form, read

ROOT = Path(__file__).resolve().parents[2]
ACTIVITY_TIMEOUT = 3
# a mail taken by a killed worker's dispatcher is sent again this soon (a send here takes
# well under a second; a duplicate is harmless: it carries the same message id)
OUTBOX_LEASE = 5
LEAD_MEMBER, LEAD_SIGNATORY = f"hub_member:{LEAD}", f"hub_signatory:{LEAD}"
PARTNER_MEMBER, PARTNER_SIGNATORY = f"hub_member:{PARTNER}", f"hub_signatory:{PARTNER}"
EXPECTED_EVENTS = [
    "case_requested",
    "partners_invited",
    "invitation_accepted",
    "partnering_closed",
    "draft_rendered",
    "draft_approved",
    "signed",
    "signed",
    "signed",
    "agreement_executed",
    "executed_copy_produced",
    "deliverable_submitted",
    "deliverable_accepted",
    "delivery_completed",
    "reviewed",
    "peer_reviewed",
    "peer_reviewed",
    "closed",
]


_clients: dict[str, Client] = {}


async def engine(settings: Settings) -> Client:
    """One client per engine address for the checks (it reconnects by itself after a restart)."""
    address = str(settings.temporal_address)
    if address not in _clients:
        _clients[address] = await connect(settings)
    return _clients[address]


# -- processes ----------------------------------------------------------------------------
def processes_with_env(marker: bytes) -> list[int]:
    """Pids whose environment holds ``marker`` (the test's children and anything they started)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@dataclass
class Workers:
    """The test's child processes: workers, and the API when it runs on its own."""

    env: dict[str, str]
    logs: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def spawn(self, module: str = "worker", *args: str) -> subprocess.Popen[bytes]:
        log = open(self.logs / f"{module}-{len(self.procs)}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.procs.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def print_logs(self, lines: int = 40) -> None:
        for log in sorted(self.logs.glob("*.log")):
            said = [x for x in log.read_text(errors="replace").splitlines() if " WARN " not in x]
            print(f"--- {log.name} (last {lines} lines, SDK retry warnings left out)")
            print("\n".join(said[-lines:]))

    def kill_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


@dataclass
class ApiProcess:
    """``dihflow api`` as a child process on a fixed port, so a restart answers at the same
    address."""

    children: Workers
    base_url: str
    proc: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        self.proc = self.children.spawn("dihflow.cli", "api")
        async with httpx.AsyncClient(base_url=self.base_url, timeout=5) as http:
            deadline = time.monotonic() + 60
            while True:
                assert self.proc.poll() is None, "the API process exited on start"
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get("/healthz")).status_code == 200:
                        return
                assert time.monotonic() < deadline, "the API process did not come up"
                await asyncio.sleep(0.1)

    def kill(self) -> None:
        assert self.proc is not None and self.proc.poll() is None
        self.children.kill(self.proc)


@dataclass
class FaultStack:
    stack: Stack
    workers: Workers
    api: ApiProcess | None  # None: the API runs in the test's process


def fault_settings(
    dev: DevServer, var_dir: Path, database_url: str | None, rate_limit: int
) -> Settings:
    port = free_port()
    return Settings().replace(
        var_dir=var_dir,
        temporal_address=dev.address,
        task_queue=f"faults-{uuid.uuid4().hex[:8]}",
        database_url=database_url or f"sqlite:///{var_dir / 'dihflow.db'}",
        documents_dir=var_dir / "documents",
        outbox_dir=var_dir / "outbox",
        api_port=port,
        public_url=f"http://127.0.0.1:{port}",
        secret_key=uuid.uuid4().hex * 2,
        activity_timeout_seconds=ACTIVITY_TIMEOUT,
        outbox_lease_seconds=OUTBOX_LEASE,
        rate_limit_per_minute=rate_limit,
        open_cases_per_hub=0,  # the faults open cases by the hundred
        webhook_targets="any",  # test receivers listen on 127.0.0.1
    )


def child_env(settings: Settings) -> dict[str, str]:
    """The environment of a worker or API process for ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIHFLOW_")}
    env.update(
        DIHFLOW_TEMPORAL_ADDRESS=str(settings.temporal_address),
        DIHFLOW_VAR_DIR=str(settings.var_dir),
        DIHFLOW_DATABASE_URL=settings.database_url,
        DIHFLOW_DOCUMENTS_DIR=str(settings.documents_dir),
        DIHFLOW_OUTBOX_DIR=str(settings.outbox_dir),
        DIHFLOW_TASK_QUEUE=settings.task_queue,
        DIHFLOW_SECRET_KEY=settings.secret_key,
        DIHFLOW_ACTIVITY_TIMEOUT_SECONDS=str(ACTIVITY_TIMEOUT),
        DIHFLOW_OUTBOX_LEASE_SECONDS=str(OUTBOX_LEASE),
        DIHFLOW_PUBLIC_URL=settings.public_url,
        DIHFLOW_API_PORT=str(settings.api_port),
        DIHFLOW_RATE_LIMIT_PER_MINUTE=str(settings.rate_limit_per_minute),
        DIHFLOW_WEBHOOK_TARGETS="any",
        DIHFLOW_OPEN_CASES_PER_HUB=str(settings.open_cases_per_hub),
    )
    return env


def api_keys(database_url: str) -> dict[str, str]:
    keys = {
        "back_office": create_key(database_url, Role.back_office, None),
        "legal": create_key(database_url, Role.legal, None),
    }
    for hub in KEY_HUBS:
        for role in (Role.hub_member, Role.hub_signatory):
            keys[f"{role.value}:{hub}"] = create_key(database_url, role, hub)
    return keys


@contextlib.asynccontextmanager
async def fault_stack(
    dev: DevServer,
    tmp_path: Path,
    *,
    database_url: str | None = None,
    api_process: bool = False,
    rate_limit: int = 100_000,
) -> AsyncIterator[FaultStack]:
    """The API (in this process, or started as its own process) and no worker yet; every child
    is SIGKILLed on the way out and no process carrying this test's environment may outlive it.

    ``rate_limit`` is counted (one store write per request) but never reached; 0 counts nothing.
    """
    var_dir = tmp_path / "var"
    var_dir.mkdir(parents=True)
    settings = fault_settings(dev, var_dir, database_url, rate_limit)
    seed_demo_network(settings.database_url)
    keys = api_keys(settings.database_url)
    workers = Workers(child_env(settings), tmp_path)
    marker = f"DIHFLOW_VAR_DIR={var_dir}\0".encode()
    server, task, api = None, None, None
    try:
        if api_process:
            api = ApiProcess(workers, settings.public_url)
            await api.start()
        else:
            server = _Server(uvicorn_config(create_app(settings), settings.api_port))
            task = asyncio.create_task(server.serve())
            while not server.started:
                assert not task.done(), "the API did not start"
                await asyncio.sleep(0.05)
        async with httpx.AsyncClient(base_url=settings.public_url, timeout=90) as http:
            yield FaultStack(Stack(settings.public_url, settings, keys, http), workers, api)
    except BaseException:
        workers.print_logs()  # shown with the failure: what each child said
        raise
    finally:
        workers.kill_all()
        if server is not None and task is not None:
            server.should_exit = True
            await task
        deadline = time.monotonic() + 10
        while processes_with_env(marker) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        left = processes_with_env(marker)
        for pid in left:  # started by our children (e.g. soffice): end them, then fail
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        assert left == [], f"processes outlived the test's children: {left}"


@contextlib.asynccontextmanager
async def api_and_workers(dev: DevServer, tmp_path: Path) -> AsyncIterator[tuple[Stack, Workers]]:
    """The API in this process and no worker yet (see ``fault_stack``)."""
    async with fault_stack(dev, tmp_path) as faults:
        yield faults.stack, faults.workers


def uvicorn_config(app: Any, port: int) -> Any:
    import uvicorn

    return uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")


@contextlib.contextmanager
def store_writes_held(database_url: str) -> Iterator[None]:
    """Hold the SQLite store's write lock: every write waits (busy timeout) until released."""
    conn = sqlite3.connect(database_url.split(":///", 1)[1], isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield
    finally:
        conn.execute("ROLLBACK")
        conn.close()


async def activities_started(
    stack: Stack, case_ids: list[str], attempt: int = 1, activity_type: str | None = None
) -> None:
    """Wait until every case has an activity (of ``activity_type``, when given) running on a
    worker (at least its ``attempt``)."""
    client = await engine(stack.settings)
    deadline = time.monotonic() + 30
    waiting = set(case_ids)
    seen: dict[str, Any] = {}
    while waiting:
        assert time.monotonic() < deadline, f"no activity started for {sorted(waiting)}: {seen}"
        for cid in list(waiting):
            desc = await client.get_workflow_handle(f"case-{cid}").describe()
            seen[cid] = [
                (a.activity_type.name, a.state, a.attempt)
                for a in desc.raw_description.pending_activities
            ]
            if any(
                a.state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
                and a.attempt >= attempt
                and activity_type in (None, a.activity_type.name)
                for a in desc.raw_description.pending_activities
            ):
                waiting.discard(cid)
        await asyncio.sleep(0.05)


def post_case(stack: Stack, key: str, title: str | None = None) -> Awaitable[httpx.Response]:
    """``POST /v1/cases`` (a joint service, by the lead hub) with an ``Idempotency-Key``."""
    body = {
        "scenario": "joint_service",
        "title": title or f"Cork stoppers ({key})",
        "need": "Detect surface defects on cork stoppers before shipping.",
        "client": CLIENT,
        "invited_hub_ids": [PARTNER],
    }
    headers = {**stack.auth(LEAD_MEMBER), "Idempotency-Key": key}
    return stack.http.post("/v1/cases", json=body, headers=headers)


# -- driving cases through faults ---------------------------------------------------------
async def event_types(stack: Stack, case_id: str) -> list[str]:
    r = await stack.http.get(f"/v1/cases/{case_id}/timeline", headers=stack.auth("back_office"))
    assert r.status_code == 200, r.text
    return [e["type"] for e in r.json()["items"]]


async def signed_parties(stack: Stack, case_id: str) -> set[str]:
    return {s["party"] for s in (await read(stack, "back_office", case_id))["signatures"]}


async def eventually_token(stack: Stack, case_id: str, action: str) -> str:
    """The link mail goes out after the step is recorded: wait for it after a fault."""
    deadline = time.monotonic() + 30
    while True:
        try:
            return await link_token(stack, case_id, action)
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


Send = Callable[[], Awaitable[httpx.Response]]
Done = Callable[[], Awaitable[bool]]


@dataclass
class Step:
    name: str
    send: Send
    done: Done


def lifecycle(stack: Stack, cid: str) -> list[Callable[[], Awaitable[Step]]]:
    """The joint-service steps after the start, each built when its turn comes (the client's
    links only exist once the step before them is recorded)."""
    sha: dict[str, str] = {}

    async def draft_sha() -> str:  # known from approve-draft, or read when driving starts later
        if "draft" not in sha:
            sha["draft"] = (await read(stack, "back_office", cid))["draft"]["sha256"]
        return sha["draft"]

    async def has_event(type_: str) -> bool:
        return type_ in await event_types(stack, cid)

    async def count_events(type_: str, at_least: int) -> bool:
        return (await event_types(stack, cid)).count(type_) >= at_least

    async def accept() -> Step:
        return Step(
            "accept-invitation",
            lambda: act(stack, PARTNER_MEMBER, cid, "accept-invitation"),
            lambda: has_event("draft_rendered"),
        )

    async def approve() -> Step:
        await draft_sha()
        return Step(
            "approve-draft",
            lambda: act(stack, "legal", cid, "approve-draft"),
            lambda: has_event("draft_approved"),
        )

    def hub_sign(who: str, party: str) -> Callable[[], Awaitable[Step]]:
        async def build() -> Step:
            async def signed() -> bool:
                return party in await signed_parties(stack, cid)

            body = {"document_sha256": await draft_sha()}
            return Step(f"sign:{party}", lambda: act(stack, who, cid, "sign", body), signed)

        return build

    async def client_sign() -> Step:
        token = await eventually_token(stack, cid, "sign")
        body = {"document_sha256": await draft_sha(), "signer_name": "Ana Ribeiro"}

        async def done() -> bool:
            """Signed, and the executed copy made (it follows once the step has returned):
            the next step then never queues behind it."""
            if "client" not in await signed_parties(stack, cid):
                return False
            deadline = time.monotonic() + 60
            while not await has_event("executed_copy_produced"):
                assert time.monotonic() < deadline, f"no executed copy for {cid}"
                await asyncio.sleep(0.2)
            return True

        return Step("sign:client", lambda: stack.http.post(f"/v1/links/{token}", json=body), done)

    async def submit() -> Step:
        body = {"summary": "PoC model and report"}
        return Step(
            "submit-deliverable",
            lambda: act(stack, PARTNER_MEMBER, cid, "submit-deliverable", body),
            lambda: has_event("deliverable_submitted"),
        )

    async def accept_deliverable() -> Step:
        return Step(
            "accept-deliverable",
            lambda: act(stack, LEAD_MEMBER, cid, "accept-deliverable", {"hub_id": PARTNER}),
            lambda: has_event("deliverable_accepted"),
        )

    async def review() -> Step:
        token = await eventually_token(stack, cid, "review")
        return Step(
            "review",
            lambda: post_form(stack, token, choice="review", comment="Clear results", **SURVEY),
            lambda: has_event("reviewed"),
        )

    async def partner_review() -> Step:
        return Step(
            "peer-review (partner)",
            lambda: act(stack, PARTNER_MEMBER, cid, "peer-review", PEER),
            lambda: count_events("peer_reviewed", 1),
        )

    async def lead_review() -> Step:
        return Step(
            "peer-review (lead)",
            lambda: act(stack, LEAD_MEMBER, cid, "peer-review", {**PEER, "hub_id": PARTNER}),
            lambda: has_event("closed"),
        )

    return [
        accept,
        approve,
        hub_sign(LEAD_SIGNATORY, LEAD),
        hub_sign(PARTNER_SIGNATORY, PARTNER),
        client_sign,
        submit,
        accept_deliverable,
        review,
        partner_review,
        lead_review,
    ]


STEPS_PER_CASE = 10
SURVEY = {
    "quality": "5",
    "timeliness": "4",
    "communication": "5",
    "value": "4",
    "would_recommend": "yes",
}
PEER = {"reliability": 5, "contribution": 4, "would_collaborate_again": True}
LAST_SIGNATURE = 4  # the step index of ``client_sign``


async def settle(step: Step, first: httpx.Response, answers: list[tuple[str, int]]) -> None:
    """Retry a step until it shows in the store; a fault may have answered it with a 5xx (or,
    when the step was carried out all the same, the retry with a 409)."""
    deadline = time.monotonic() + 50
    r = first
    while r.status_code != 200:
        answers.append((step.name, r.status_code))
        assert r.status_code >= 500 or r.status_code == 409, (step.name, r.text)
        # the step may have been carried out all the same: wait for it to show
        until = time.monotonic() + 2 * ACTIVITY_TIMEOUT + 5
        while time.monotonic() < until and not await step.done():
            await asyncio.sleep(0.25)
        if await step.done():
            return
        assert time.monotonic() < deadline, f"{step.name} never took effect: {r.text}"
        r = await step.send()
    assert await step.done(), f"{step.name} answered 200 but is not recorded"


@dataclass
class Driver:
    """Takes cases through their steps; ``kill_at`` names the (case, step) pairs during which
    the newest worker is killed -9 and another started."""

    stack: Stack
    workers: Workers
    kill_at: set[tuple[int, int]]  # (case index, step index)
    rng: random.Random
    kills: list[str] = field(default_factory=list)
    answers: list[tuple[str, int]] = field(default_factory=list)

    async def crash_and_restart(self, label: str) -> None:
        """kill -9 the newest live worker, then start another."""
        await asyncio.sleep(self.rng.uniform(0.05, 0.3))
        live = [p for p in self.workers.procs if p.poll() is None]
        assert live, "no worker to kill"
        self.workers.kill(live[-1])
        self.kills.append(label)
        self.workers.spawn()

    async def run_step(self, step: Step, kill: str | None) -> None:
        started = time.monotonic()
        sent = asyncio.ensure_future(step.send())
        if kill:
            await self.crash_and_restart(kill)
        r = await sent
        if kill:
            self.kills[-1] += f" ({time.monotonic() - started:.1f} s)"
        await settle(step, r, self.answers)

    async def drive(self, index: int, cid: str, steps: range = range(STEPS_PER_CASE)) -> None:
        builders = lifecycle(self.stack, cid)
        for number in steps:
            step = await builders[number]()
            kill = f"case {index} {step.name}" if (index, number) in self.kill_at else None
            await self.run_step(step, kill)


# -- what the store must hold afterwards --------------------------------------------------
def stored_events(database_url: str, case_id: str) -> list[TimelineEvent]:
    with session_scope(database_url) as session:
        entries = session.exec(
            select(TimelineEntry)
            .where(TimelineEntry.case_id == case_id)
            .order_by(col(TimelineEntry.seq))
        ).all()
        return [TimelineEvent(**e.model_dump(exclude={"case_id"})) for e in entries]


def assert_store_consistent(settings: Settings, case_ids: list[str]) -> None:
    """Each case's full timeline once, a valid chain, one draft, three signatures over it."""
    for cid in case_ids:
        events = stored_events(settings.database_url, cid)
        assert [e.seq for e in events] == list(range(1, len(events) + 1)), cid
        assert verify_chain(events, cid) == [], cid
        assert [e.type for e in events] == EXPECTED_EVENTS, cid
        drafts = [e.data["version"] for e in events if e.type == "draft_rendered"]
        assert len(drafts) == len(set(drafts)) == 1, cid
        with session_scope(settings.database_url) as session:
            docs = session.exec(select(Document).where(Document.case_id == cid)).all()
            per_key = Counter((d.case_id, d.version, d.template) for d in docs)
            assert all(n == 1 for n in per_key.values()), per_key
            rendered = [d for d in docs if d.sha256 == events[4].data["sha256"]]
            assert len(rendered) == 1, cid  # the draft, stored once

            sigs = session.exec(select(Signature).where(Signature.case_id == cid)).all()
            per_party = Counter((s.case_id, s.document_sha256, s.party) for s in sigs)
            assert all(n == 1 for n in per_party.values()), per_party
            assert len(sigs) == 3 and {s.party for s in sigs} == {LEAD, PARTNER, "client"}
            assert {s.document_sha256 for s in sigs} == {events[4].data["sha256"]}


async def assert_closed(stack: Stack, case_ids: list[str]) -> None:
    for cid in case_ids:
        case = await read(stack, "back_office", cid)
        assert (case["state"], case["outcome"]) == ("closed", "completed"), cid


async def assert_store_matches_workflow(settings: Settings, case_ids: list[str]) -> None:
    """The read model holds what each workflow holds (its ``facts`` diagnostics query): the
    snapshot, a timeline ending at the workflow's head, and the parties."""
    from domain.cases import CaseFacts
    from store.models import Case, CaseParty

    client = await engine(settings)
    for cid in case_ids:
        facts = await client.get_workflow_handle(f"case-{cid}").query(
            "facts", result_type=CaseFacts
        )
        events = stored_events(settings.database_url, cid)
        assert [e.seq for e in events] == list(range(1, facts.seq + 1)), cid
        assert events[-1].hash == facts.head_hash and verify_chain(events, facts.chain_key) == [], (
            cid
        )
        with session_scope(settings.database_url) as session:
            case = session.get(Case, cid)
            assert case is not None, cid
            assert (case.state, case.outcome, case.seq, case.head_hash) == (
                facts.state,
                facts.outcome,
                facts.seq,
                facts.head_hash,
            )
            assert case.facts == facts.model_dump(mode="json"), cid
            parties = session.exec(select(CaseParty).where(CaseParty.case_id == cid)).all()
        roles = {facts.lead_hub_id: "lead"}
        for inv in facts.invitations:
            names = {"accepted": "partner", "pending": "invited"}  # declined, lapsed: as they are
            roles.setdefault(inv.hub_id, names.get(inv.status, inv.status))
        assert sorted((p.hub_id, p.role) for p in parties) == sorted(roles.items()), cid
