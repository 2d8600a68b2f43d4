"""Worker crashes: `kill -9` the worker subprocess mid-lifecycle; nothing is lost or doubled.

The API runs in this process (uvicorn on a free port, no in-process worker); workers are
`python -m worker` subprocesses against the session dev server, with a fresh SQLite store, task
queue and directories under ``tmp_path``. Activities time out after 3 s (the workflow takes the
timeout from the API's settings at start, the worker's environment carries it too), so a task
lost with a killed worker is retried within seconds.

``produce_executed_agreement`` (after the last signature) is bounded by max(timeout, 120 s) and
does not heartbeat: a worker killed while it runs delays that case by 120 s, more than these
tests may take. Kills therefore never overlap a case's last signature (``Driver.execute_guard``);
every other step, of every case, is exposed to them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import select

from api.app import create_app
from dihflow.engine import DevServer, free_port
from dihflow.seed import create_key, seed_demo_network
from dihflow.settings import Settings
from domain.cases import Role
from domain.timeline import TimelineEvent, verify_chain
from store.db import session_scope
from store.models import Document, Signature, TimelineEntry
from tests.conftest import KEY_HUBS, Stack, _Server
from tests.e2e.helpers import LEAD, PARTNER, act, link_token, post_form, read, start_case

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
ACTIVITY_TIMEOUT = 3
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
    "closed",
]


# -- processes ----------------------------------------------------------------------------
def _processes_with_env(marker: bytes) -> list[int]:
    """Pids whose environment holds ``marker`` (the workers and anything they started)."""
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
    env: dict[str, str]
    logs: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def spawn(self) -> subprocess.Popen[bytes]:
        log = open(self.logs / f"worker-{len(self.procs)}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, "-m", "worker"],
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

    def kill_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


@contextlib.asynccontextmanager
async def api_and_workers(dev: DevServer, tmp_path: Path) -> AsyncIterator[tuple[Stack, Workers]]:
    """The API in this process and no worker yet; every worker is SIGKILLed on the way out and
    no process carrying this test's environment may outlive it."""
    var_dir = tmp_path / "var"
    port = free_port()
    settings = replace(
        Settings(),
        var_dir=var_dir,
        temporal_address=dev.address,
        task_queue=f"faults-{uuid.uuid4().hex[:8]}",
        database_url=f"sqlite:///{var_dir / 'dihflow.db'}",
        documents_dir=var_dir / "documents",
        outbox_dir=var_dir / "outbox",
        api_port=port,
        public_url=f"http://127.0.0.1:{port}",
        secret_key=uuid.uuid4().hex * 2,
        activity_timeout_seconds=ACTIVITY_TIMEOUT,
        rate_limit_per_minute=100_000,
    )
    var_dir.mkdir(parents=True)
    seed_demo_network(settings.database_url)
    keys = {
        "back_office": create_key(settings.database_url, Role.back_office, None),
        "legal": create_key(settings.database_url, Role.legal, None),
    }
    for hub in KEY_HUBS:
        for role in (Role.hub_member, Role.hub_signatory):
            keys[f"{role.value}:{hub}"] = create_key(settings.database_url, role, hub)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIHFLOW_")}
    env.update(
        DIHFLOW_TEMPORAL_ADDRESS=dev.address,
        DIHFLOW_VAR_DIR=str(var_dir),
        DIHFLOW_DATABASE_URL=settings.database_url,
        DIHFLOW_DOCUMENTS_DIR=str(settings.documents_dir),
        DIHFLOW_OUTBOX_DIR=str(settings.outbox_dir),
        DIHFLOW_TASK_QUEUE=settings.task_queue,
        DIHFLOW_SECRET_KEY=settings.secret_key,
        DIHFLOW_ACTIVITY_TIMEOUT_SECONDS=str(ACTIVITY_TIMEOUT),
        DIHFLOW_PUBLIC_URL=settings.public_url,
    )
    workers = Workers(env, tmp_path)
    marker = f"DIHFLOW_VAR_DIR={var_dir}\0".encode()
    api = _Server(
        uvicorn_config(create_app(settings), port),
    )
    task = asyncio.create_task(api.serve())
    try:
        while not api.started:
            assert not task.done(), "the API did not start"
            await asyncio.sleep(0.05)
        async with httpx.AsyncClient(base_url=settings.public_url, timeout=90) as http:
            yield Stack(settings.public_url, settings, keys, http), workers
    finally:
        workers.kill_all()
        api.should_exit = True
        await task
        deadline = time.monotonic() + 10
        while _processes_with_env(marker) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        left = _processes_with_env(marker)
        for pid in left:  # started by our workers (e.g. soffice): end them, then fail
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        assert left == [], f"processes outlived the test's workers: {left}"


def uvicorn_config(app: Any, port: int) -> Any:
    import uvicorn

    return uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")


# -- driving cases through crashes --------------------------------------------------------
async def event_types(stack: Stack, case_id: str) -> list[str]:
    r = await stack.http.get(f"/v1/cases/{case_id}/timeline", headers=stack.auth("back_office"))
    assert r.status_code == 200, r.text
    return [e["type"] for e in r.json()["items"]]


async def signed_parties(stack: Stack, case_id: str) -> set[str]:
    return {s["party"] for s in (await read(stack, "back_office", case_id))["signatures"]}


async def eventually_token(stack: Stack, case_id: str, action: str) -> str:
    """The link mail goes out after the step is recorded: wait for it after a crash."""
    deadline = time.monotonic() + 30
    while True:
        try:
            return link_token(stack, case_id, action)
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
    last_signature: bool = False


def lifecycle(stack: Stack, cid: str) -> list[Callable[[], Awaitable[Step]]]:
    """The joint-service steps after the start, each built when its turn comes (the client's
    links only exist once the step before them is recorded)."""
    sha: dict[str, str] = {}

    async def has_event(type_: str) -> bool:
        return type_ in await event_types(stack, cid)

    async def accept() -> Step:
        return Step(
            "accept-invitation",
            lambda: act(stack, PARTNER_MEMBER, cid, "accept-invitation"),
            lambda: has_event("draft_rendered"),
        )

    async def approve() -> Step:
        sha["draft"] = (await read(stack, "back_office", cid))["draft"]["sha256"]
        return Step(
            "approve-draft",
            lambda: act(stack, "legal", cid, "approve-draft"),
            lambda: has_event("draft_approved"),
        )

    def hub_sign(who: str, party: str) -> Callable[[], Awaitable[Step]]:
        async def build() -> Step:
            async def signed() -> bool:
                return party in await signed_parties(stack, cid)

            body = {"document_sha256": sha["draft"]}
            return Step(f"sign:{party}", lambda: act(stack, who, cid, "sign", body), signed)

        return build

    async def client_sign() -> Step:
        token = await eventually_token(stack, cid, "sign")
        body = {"document_sha256": sha["draft"], "signer_name": "Ana Ribeiro"}

        async def done() -> bool:  # the executed copy follows once the step has returned
            return "client" in await signed_parties(stack, cid)

        return Step(
            "sign:client",
            lambda: stack.http.post(f"/v1/links/{token}", json=body),
            done,
            last_signature=True,
        )

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
            lambda: post_form(stack, token, choice="review", rating="5", comment="Clear results"),
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
    ]


STEPS_PER_CASE = 8


@dataclass
class Driver:
    stack: Stack
    workers: Workers
    kill_at: set[tuple[int, int]]  # (case index, step index)
    rng: random.Random
    execute_guard: asyncio.Lock = field(default_factory=asyncio.Lock)
    kills: list[str] = field(default_factory=list)
    answers: list[tuple[str, int]] = field(default_factory=list)

    async def crash_and_restart(self, label: str) -> None:
        """kill -9 the newest live worker, then start another (holds ``execute_guard``)."""
        await asyncio.sleep(self.rng.uniform(0.05, 0.3))
        live = [p for p in self.workers.procs if p.poll() is None]
        assert live, "no worker to kill"
        self.workers.kill(live[-1])
        self.kills.append(label)
        self.workers.spawn()

    async def run_step(self, step: Step, kill: str | None) -> None:
        deadline = time.monotonic() + 50
        guard = self.execute_guard if (kill or step.last_signature) else contextlib.nullcontext()
        async with guard:  # type: ignore[attr-defined]
            started = time.monotonic()
            sent = asyncio.create_task(step.send())
            if kill:
                await self.crash_and_restart(kill)
            r = await sent
            if kill:
                self.kills[-1] += f" ({time.monotonic() - started:.1f} s)"
            while r.status_code != 200:
                self.answers.append((step.name, r.status_code))
                assert r.status_code >= 500 or r.status_code == 409, (step.name, r.text)
                # the step may have been carried out all the same: wait for it to show
                settle = time.monotonic() + 2 * ACTIVITY_TIMEOUT + 5
                while time.monotonic() < settle and not await step.done():
                    await asyncio.sleep(0.25)
                if await step.done():
                    return
                assert time.monotonic() < deadline, f"{step.name} never took effect: {r.text}"
                r = await step.send()
            assert await step.done(), f"{step.name} answered 200 but is not recorded"

    async def drive(self, index: int, cid: str) -> None:
        for number, build in enumerate(lifecycle(self.stack, cid)):
            step = await build()
            kill = f"case {index} {step.name}" if (index, number) in self.kill_at else None
            await self.run_step(step, kill)


# -- what the store must hold afterwards --------------------------------------------------
def assert_store_consistent(settings: Settings, case_ids: list[str]) -> None:
    with session_scope(settings.database_url) as session:
        for cid in case_ids:
            entries = session.exec(
                select(TimelineEntry)
                .where(TimelineEntry.case_id == cid)
                .order_by(TimelineEntry.seq)  # type: ignore[arg-type]
            ).all()
            events = [TimelineEvent(**e.model_dump(exclude={"case_id"})) for e in entries]
            assert [e.seq for e in events] == list(range(1, len(events) + 1)), cid
            assert verify_chain(events) == [], cid
            assert [e.type for e in events] == EXPECTED_EVENTS, cid
            drafts = [e.data["version"] for e in events if e.type == "draft_rendered"]
            assert len(drafts) == len(set(drafts)) == 1, cid

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


# -- the tests ----------------------------------------------------------------------------
async def test_worker_killed_mid_lifecycle_loses_nothing(
    dev_server: DevServer, tmp_path: Path
) -> None:
    rng = random.Random(7)
    candidates = [
        (case, number)
        for case in range(3)
        for number in range(STEPS_PER_CASE)
        if number != 4  # the last signature: see the module docstring
    ]
    kill_at = set(rng.sample(candidates, 3))
    async with api_and_workers(dev_server, tmp_path) as (stack, workers):
        workers.spawn()
        cases = await asyncio.gather(*(start_case(stack) for _ in range(3)))
        ids = [c["id"] for c in cases]
        driver = Driver(stack, workers, kill_at, rng)
        await asyncio.gather(*(driver.drive(i, cid) for i, cid in enumerate(ids)))
        print("kills:", driver.kills, "non-200 answers:", driver.answers)
        assert len(driver.kills) == 3, driver.kills
        assert len(workers.procs) == 4
        assert all(p.returncode == -signal.SIGKILL for p in workers.procs[:3])
        await assert_closed(stack, ids)
        assert_store_consistent(stack.settings, ids)


async def test_two_workers_one_killed_the_other_finishes_every_case(
    dev_server: DevServer, tmp_path: Path
) -> None:
    async with api_and_workers(dev_server, tmp_path) as (stack, workers):
        first, second = workers.spawn(), workers.spawn()
        cases = await asyncio.gather(*(start_case(stack) for _ in range(4)))
        ids = [c["id"] for c in cases]
        driver = Driver(stack, workers, set(), random.Random(7))

        async def kill_early() -> None:
            await asyncio.sleep(0.2)  # the first steps of the cases are in flight
            async with driver.execute_guard:
                workers.kill(first)

        await asyncio.gather(kill_early(), *(driver.drive(i, cid) for i, cid in enumerate(ids)))
        print("non-200 answers:", driver.answers)
        assert first.returncode == -signal.SIGKILL
        assert second.poll() is None and len(workers.procs) == 2  # no new worker was started
        await assert_closed(stack, ids)
        assert_store_consistent(stack.settings, ids)
