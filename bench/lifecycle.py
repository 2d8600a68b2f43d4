"""Whole lifecycles: K concurrent joint-service cases through the HTTP API, against an engine
floor driven the same way through the Temporal client, on the same dev server.

The stack is the embedded default's parts, one process each so that CPU can be told apart: the
Temporal dev server (its flags, headless, state in a SQLite file), ``dihflow api`` (uvicorn),
and a worker that is the product's ``build_worker`` with an interceptor that adds up, per
activity type, the CPU of the thread running it. The store is a SQLite file seeded with the demo
network; the PDF of the executed copy comes from the worker's resident LibreOffice (the
product's default; ``--pdf`` chooses another converter).

Each case is opened with ``POST /v1/cases`` (an Idempotency-Key, one invited partner), then
taken through its ten human steps: accept-invitation, approve-draft, three signatures (the
client's through its mailed link), submit-deliverable, accept-deliverable, the client's review
with its quality survey through its link page, and the two peer reviews (partner and lead):
with the opening, 11 updates. A step's latency is the call until its answer, which carries the
new state as read back from the store (the workflow records each step before it answers).
Each step follows the answer of the one before: no think time. The executed copy is made once
the last signature has returned, so the deliverable submitted right after waits for it (the
case's lock), as it would in the floor.

The floor (``bench/floor_case.py``) is opened and stepped by updates with the same names, in
the same order; each runs the activities a real case ran in that step (read from the history
of a warm-up case), the executed copy's in the run loop; the two document activities render
the same agreement (the warm-up draft's own variables) with raw docxtpl; every other body does
nothing. Its worker has the same runner (the product's sandbox), executor and cache; a step
that arrives while the run loop works waits for it, as a case's steps wait for its lock.

The minimal floor (``floor_case.minimal_segments``) is the same workflow on a queue and worker
of its own, given the same human steps as updates (all 11, read from the same warm-up
history, and checked to match), one local activity per step that does nothing and the one
draft render by raw docxtpl: the least any engine-backed product of this shape can do.

For each K, the minimal floor runs, then the floor, then ours; throughput is K over the time
from the first start to the last closed case. CPU per case comes from /proc (dev server, API,
worker and the LibreOffice processes it started, this driver) and from the worker's
per-activity figures (and the outbox dispatcher's, its own line). Targets (reported, not
asserted): against the floor of the same shape, throughput >= 0.75 x at K=200 and step p95
<= 2 x; against the minimal floor, CPU per case <= 3 x, throughput >= 0.5 x at K=200 and step
p95 <= 3 x at K=50.

    .venv/bin/python bench/lifecycle.py                 # K = 1, 50, 200, 1000
    .venv/bin/python bench/lifecycle.py --k 200 --k 50  # chosen K
    .venv/bin/python bench/lifecycle.py --pdf off       # the executed copy without its PDF
    .venv/bin/python bench/lifecycle.py --keep          # keep logs and stores (path on stderr)
    .venv/bin/python bench/lifecycle.py --quick         # smoke test (K = 1, 2): the suite runs it
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import inspect
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from temporalio.client import (  # noqa: E402
    Client,
    WithStartWorkflowOperation,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy  # noqa: E402
from temporalio.worker import (  # noqa: E402
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from base.engine import DevServer, connect, free_port  # noqa: E402
from base.settings import Settings  # noqa: E402

LEAD, PARTNER = "tagus-ai", "po-valley-ai"
CLIENT = {
    "name": "Cortiça Exemplo Lda",
    "country": "PT",
    "contact_name": "Ana Ribeiro",
    "email": "ana@cortica.example",
}
OUR_QUEUE, FLOOR_QUEUE, MINIMAL_QUEUE = "lifecycle", "lifecycle-floor", "lifecycle-minimal"
DOCUMENT_ACTIVITIES = ("render_agreement", "produce_executed_agreement")
STORE_ACTIVITIES = ("record_case", "project_step")
DISPATCH = "outbox_dispatch"  # the dispatcher's sending, counted with the activities
POLL = 0.1  # seconds between looks for a mailed link
MAX_CONNECTIONS = 256  # the HTTP driver's connection pool
TARGET_THROUGHPUT, TARGET_LATENCY, TARGET_K = 0.75, 2.0, 200
# against the minimal floor: CPU per case <= 3 x, throughput >= 0.5 x at K=200, p95 <= 3 x at 50
MINIMAL_CPU, MINIMAL_THROUGHPUT, MINIMAL_LATENCY, MINIMAL_LATENCY_K = 3.0, 0.5, 3.0, 50
DEFAULT_K = (1, 50, 200, 1000)


# -- the worker side: CPU per activity type ---------------------------------------------------
class ActivityCpu(Interceptor):
    """Adds up the thread CPU of every (synchronous) activity by type; ``dump`` writes the
    totals to ``path`` every half second, for the benchmark to read between runs."""

    def __init__(self, path: Path):
        self.path = path
        self.cpu: dict[str, float] = defaultdict(float)
        self.count: dict[str, int] = defaultdict(int)
        self.lock = threading.Lock()

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _TimedActivity(next, self)

    def add(self, name: str, seconds: float) -> None:
        with self.lock:
            self.cpu[name] += seconds
            self.count[name] += 1

    def dump(self, stop: threading.Event) -> None:
        while not stop.wait(0.5):
            with self.lock:
                data = {n: [self.cpu[n], self.count[n]] for n in self.cpu}
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(data))
            tmp.replace(self.path)


class _TimedActivity(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, owner: ActivityCpu):
        super().__init__(next)
        self.owner = owner

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        from temporalio import activity

        name, fn = activity.info().activity_type, input.fn
        if inspect.iscoroutinefunction(fn):
            return await self.next.execute_activity(input)

        def timed(*args: Any) -> Any:  # runs in the executor's thread
            began = time.thread_time()
            try:
                return fn(*args)
            finally:
                self.owner.add(name, time.thread_time() - began)

        return await self.next.execute_activity(dataclasses.replace(input, fn=timed))


def floor_activities(names: Sequence[str], context_file: Path) -> list[Any]:
    """The floor's activities: the two document ones render the agreement with raw docxtpl
    (the template and variables of the warm-up case's draft), every other one does nothing."""
    from temporalio import activity

    spec = json.loads(context_file.read_text())

    def render(case_id: str) -> None:
        import io

        from docxtpl import DocxTemplate

        tpl = DocxTemplate(spec["template"])
        tpl.render(spec["context"], autoescape=True)
        tpl.save(io.BytesIO())

    def nothing(case_id: str) -> None:
        return None

    made = []
    for name in dict.fromkeys(names):
        body = render if name in DOCUMENT_ACTIVITIES else nothing  # MINIMAL_STEP: nothing

        def one(case_id: str, body: Callable[[str], None] = body) -> None:
            body(case_id)

        made.append(activity.defn(name=name)(one))
    return made


def serve_worker(kind: str) -> None:
    """A worker process: ours (``build_worker``), the floor's or the minimal floor's (the
    same workflow and activity bodies on their own queue), with ``ActivityCpu``."""
    import atexit
    import gc
    from concurrent.futures import ThreadPoolExecutor
    from datetime import timedelta

    from temporalio.worker import Worker

    import worker

    settings = Settings.from_env()
    cpu = ActivityCpu(Path(os.environ["BENCH_STATS"]))

    async def serve() -> None:
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        if kind == "ours":
            from store.db import migrate

            migrate(settings.database_url)
        client = await connect(settings)
        with ThreadPoolExecutor(max_workers=16) as executor:  # as worker.run_worker
            if kind == "ours":
                running = worker.build_worker(client, settings, executor, interceptors=[cpu])
                dispatcher = worker.start_dispatcher(
                    client, settings, on_cpu=lambda seconds: cpu.add(DISPATCH, seconds)
                )
            else:
                from floor_case import FloorCase  # bench/ is first on sys.path

                running = Worker(
                    client,
                    task_queue=settings.task_queue,
                    workflows=[FloorCase],
                    activities=floor_activities(
                        os.environ["BENCH_FLOOR_ACTIVITIES"].split(","),
                        Path(os.environ["BENCH_FLOOR_CONTEXT"]),
                    ),
                    activity_executor=executor,
                    workflow_runner=worker.sandbox_runner(),
                    graceful_shutdown_timeout=timedelta(seconds=10),
                    max_cached_workflows=settings.max_cached_workflows,
                    interceptors=[cpu],
                )
            try:
                async with running:
                    await stop.wait()
            finally:
                if kind == "ours":
                    await dispatcher.stop()

    dumping = threading.Event()
    threading.Thread(target=cpu.dump, args=(dumping,), daemon=True).start()
    atexit.register(gc.collect)  # see TEMPORAL.md: avoids an abort at interpreter exit
    try:
        asyncio.run(serve())
    finally:
        dumping.set()


# -- processes and their CPU ------------------------------------------------------------------
def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()
    except OSError:
        return None


def _all_stats() -> dict[int, list[str]]:
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            found[int(entry.name)] = stat
    return found


def cpu_of(pids: Sequence[int], stats: dict[int, list[str]]) -> float:
    ticks = sum(int(stats[p][11]) + int(stats[p][12]) for p in pids if p in stats)
    return ticks / os.sysconf("SC_CLK_TCK")


def descendants(pid: int, stats: dict[int, list[str]]) -> list[int]:
    children: dict[int, list[int]] = defaultdict(list)
    for p, stat in stats.items():
        children[int(stat[1])].append(p)
    found, todo = [], list(children[pid])
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(children[p])
    return found


def group(pgid: int, stats: dict[int, list[str]]) -> list[int]:
    return [p for p, stat in stats.items() if int(stat[2]) == pgid]


@dataclass
class Stack:
    tmp: Path
    settings: Settings
    server: DevServer
    api: subprocess.Popen[bytes] | None = None
    ours: subprocess.Popen[bytes] | None = None
    floor: subprocess.Popen[bytes] | None = None
    minimal: subprocess.Popen[bytes] | None = None
    keys: dict[str, str] = field(default_factory=dict)

    def env(self, **more: str) -> dict[str, str]:
        s = self.settings
        env = {k: v for k, v in os.environ.items() if not k.startswith("DIHFLOW_")}
        env.update(
            DIHFLOW_TEMPORAL_ADDRESS=str(s.temporal_address),
            DIHFLOW_VAR_DIR=str(s.var_dir),
            DIHFLOW_DATABASE_URL=s.database_url,
            DIHFLOW_DOCUMENTS_DIR=str(s.documents_dir),
            DIHFLOW_OUTBOX_DIR=str(s.outbox_dir),
            DIHFLOW_TASK_QUEUE=s.task_queue,
            DIHFLOW_SECRET_KEY=s.secret_key,
            DIHFLOW_PUBLIC_URL=s.public_url,
            DIHFLOW_API_PORT=str(s.api_port),
            DIHFLOW_RATE_LIMIT_PER_MINUTE=str(s.rate_limit_per_minute),
            DIHFLOW_OPEN_CASES_PER_HUB=str(s.open_cases_per_hub),
            DIHFLOW_PDF_CONVERTER=s.pdf_converter,
        )
        env.update(more)
        return env

    def spawn(self, name: str, args: list[str], **env: str) -> subprocess.Popen[bytes]:
        with (self.tmp / f"{name}.log").open("wb") as log:
            return subprocess.Popen(
                [sys.executable, *args],
                cwd=ROOT,
                env=self.env(**env),
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def spawn_worker(self, kind: str, **env: str) -> subprocess.Popen[bytes]:
        me = str(Path(__file__).resolve())
        return self.spawn(f"worker-{kind}", [me, "--serve-worker", kind], **env)

    def stats_file(self, kind: str) -> Path:
        return self.tmp / f"activities-{kind}.json"

    def cpu(self) -> dict[str, float]:
        """CPU seconds so far of each part."""
        assert self.server.process and self.api and self.ours and self.floor and self.minimal
        stats = _all_stats()
        own = resource.getrusage(resource.RUSAGE_SELF)
        return {
            "engine": cpu_of(group(self.server.process.pid, stats), stats),
            "api": cpu_of([self.api.pid], stats),
            "ours": cpu_of([self.ours.pid], stats),
            "office": cpu_of(descendants(self.ours.pid, stats), stats),
            "floor": cpu_of([self.floor.pid], stats),
            "minimal": cpu_of([self.minimal.pid], stats),
            "driver": own.ru_utime + own.ru_stime,
        }

    async def activity_cpu(self, kind: str) -> dict[str, tuple[float, int]]:
        """The worker's per-activity CPU seconds and counts, once its file is fresh."""
        path = self.stats_file(kind)
        asked = time.time()
        deadline = time.monotonic() + 10
        while not path.exists() or path.stat().st_mtime < asked:
            assert time.monotonic() < deadline, f"the {kind} worker writes no figures"
            await asyncio.sleep(0.1)
        return {n: (v[0], v[1]) for n, v in json.loads(path.read_text()).items()}

    async def settle(self, quick: bool) -> dict[str, float]:
        """Until the stack uses under 3% of a core for a second (20 s at most); what each part
        used per second in that last second (its idle rate: timers, polls)."""
        deadline = time.monotonic() + (2 if quick else 20)
        while True:
            before = self.cpu()
            await asyncio.sleep(1.0)
            after = self.cpu()
            rate = {k: after[k] - before[k] for k in after}
            if sum(v for k, v in rate.items() if k != "driver") < 0.03:
                return rate
            if time.monotonic() > deadline:
                return rate

    def stop(self) -> None:
        for proc in (self.ours, self.floor, self.minimal, self.api):
            if proc is not None and proc.poll() is None:
                proc.terminate()
        for proc in (self.ours, self.floor, self.minimal, self.api):
            if proc is not None:
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self.server.stop()

    def logs(self) -> str:
        return "\n".join(
            f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}"
            for log in sorted(self.tmp.glob("*.log"))
        )


async def start_stack(tmp: Path, pdf: str | None) -> Stack:
    from dihflow.seed import seed_demo_network
    from domain.cases import Role
    from store.db import migrate
    from store.keys import create_key

    server = DevServer(tmp / "temporal.db", free_port(), None)
    await server.start()
    port = free_port()
    settings = Settings(
        var_dir=tmp,
        temporal_address=server.address,
        task_queue=OUR_QUEUE,
        database_url=f"sqlite:///{tmp / 'dihflow.db'}",
        documents_dir=tmp / "documents",
        outbox_dir=tmp / "outbox",
        api_port=port,
        public_url=f"http://127.0.0.1:{port}",
        secret_key=uuid.uuid4().hex * 2,
        rate_limit_per_minute=1_000_000,  # counted (a store write per request), never reached
        open_cases_per_hub=0,  # the runs open many cases for one lead hub
    )
    if pdf:
        settings = settings.replace(pdf_converter=pdf)
    stack = Stack(tmp, settings, server)
    migrate(settings.database_url)
    seed_demo_network(settings.database_url)
    for name, role, hub in (
        ("lead", Role.hub_member, LEAD),
        ("lead-signatory", Role.hub_signatory, LEAD),
        ("partner", Role.hub_member, PARTNER),
        ("partner-signatory", Role.hub_signatory, PARTNER),
        ("legal", Role.legal, None),
        ("back-office", Role.back_office, None),
    ):
        stack.keys[name] = create_key(settings.database_url, role, hub)
    stack.api = stack.spawn("api", ["-m", "dihflow.cli", "api"])
    stack.ours = stack.spawn_worker("ours", BENCH_STATS=str(stack.stats_file("ours")))
    async with httpx.AsyncClient(base_url=settings.public_url) as http:
        deadline = time.monotonic() + 60
        while True:
            assert stack.api.poll() is None, "the API exited on start:\n" + stack.logs()
            try:
                if (await http.get("/healthz")).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the API did not come up"
            await asyncio.sleep(0.1)
    return stack


# -- driving cases ----------------------------------------------------------------------------
@dataclass
class CaseRun:
    case_id: str = ""
    start_ms: float = 0.0
    steps: list[tuple[str, float]] = field(default_factory=list)  # (step, ms)
    executed_ms: float = 0.0  # the last signature until its executed copy (workflow time)
    polls: int = 0  # looks for a mailed link that was not there yet
    retried: int = 0  # answers 503 (Retry-After) that the driver waited out
    unconfirmed: int = 0  # steps sent again after the engine did not confirm them in time


class OurDriver:
    """Takes cases through every step over HTTP, as a hub, the legal helpdesk and the
    client (through their mailed links) would."""

    def __init__(self, stack: Stack, http: httpx.AsyncClient):
        self.stack, self.http = stack, http
        from activities.notify import OutboxNotifier

        self.outbox = OutboxNotifier(stack.settings.outbox_dir)

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.stack.keys[who]}"}

    async def send(
        self, run: CaseRun, call: Callable[[], Awaitable[httpx.Response]], ok: int = 200
    ) -> httpx.Response:
        unconfirmed = False
        while True:
            r = await call()
            if r.status_code == 503 and "Retry-After" in r.headers:
                run.retried += 1
                await asyncio.sleep(float(r.headers["Retry-After"]))
                continue
            if r.status_code == 504:
                # sent, not confirmed in time (the engine is behind): send it again, as a
                # client told to read the case and retry would
                run.unconfirmed += 1
                unconfirmed = True
                await asyncio.sleep(1)
                continue
            if r.status_code in (409, 410) and unconfirmed:
                # refused because the state moved on (a link: spent): the unconfirmed attempt
                # was taken (every step of a benchmark case is valid, and only its own driver
                # acts on it)
                return await self.http.get(f"/v1/cases/{run.case_id}", headers=self.auth("lead"))
            assert r.status_code == ok, f"{r.request.method} {r.request.url}: {r.text}"
            return r

    async def timed(
        self, run: CaseRun, name: str, call: Callable[[], Awaitable[httpx.Response]]
    ) -> httpx.Response:
        began = time.perf_counter()
        r = await self.send(run, call)
        run.steps.append((name, (time.perf_counter() - began) * 1000))
        return r

    def link_token(self, case_id: str, purpose: str) -> str | None:
        path = self.outbox.path_for(f"{case_id}:link:{purpose}")
        if not path.exists():
            return None
        link = message_from_bytes(path.read_bytes(), policy=policy.default)["X-Dihflow-Link"]
        return str(link).rsplit("/", 1)[-1]

    async def eventually_token(self, run: CaseRun, case_id: str, purpose: str) -> str:
        """The mail goes out as part of the step before; a look or two at most."""
        deadline = time.monotonic() + 60
        while (token := self.link_token(case_id, purpose)) is None:
            assert time.monotonic() < deadline, f"no {purpose} link for {case_id}"
            run.polls += 1
            await asyncio.sleep(POLL)
        return token

    async def case(self, index: int, tag: str) -> CaseRun:
        run, http = CaseRun(), self.http
        body = {
            "scenario": "joint_service",
            "title": f"Cork stopper inspection {tag}-{index}",
            "need": "Detect surface defects on cork stoppers before shipping.",
            "scope": "Data audit, a proof-of-concept classifier and a test-before-invest run.",
            "client": CLIENT,
            "invited_hub_ids": [PARTNER],
        }
        headers = {**self.auth("lead"), "Idempotency-Key": f"{tag}-{index}"}
        began = time.perf_counter()
        r = await self.send(run, lambda: http.post("/v1/cases", json=body, headers=headers), 201)
        run.start_ms = (time.perf_counter() - began) * 1000
        cid = run.case_id = r.json()["id"]

        def act(who: str, action: str, payload: Any = None) -> Any:
            url = f"/v1/cases/{cid}/actions/{action}"
            return lambda: http.post(url, json=payload, headers=self.auth(who))

        view = await self.timed(run, "accept-invitation", act("partner", "accept-invitation"))
        sha = view.json()["draft"]["sha256"]
        await self.timed(run, "approve-draft", act("legal", "approve-draft"))
        sign = {"document_sha256": sha}
        await self.timed(run, "sign (lead)", act("lead-signatory", "sign", sign))
        await self.timed(run, "sign (partner)", act("partner-signatory", "sign", sign))
        token = await self.eventually_token(run, cid, "sign:v1:client")
        client_sign = {**sign, "signer_name": CLIENT["contact_name"]}
        await self.timed(
            run, "sign (client)", lambda: http.post(f"/v1/links/{token}", json=client_sign)
        )
        deliverable = {"summary": "PoC model and report"}
        submit = act("partner", "submit-deliverable", deliverable)
        await self.timed(run, "submit-deliverable", submit)
        accepted = {"hub_id": PARTNER}
        await self.timed(run, "accept-deliverable", act("lead", "accept-deliverable", accepted))
        token = await self.eventually_token(run, cid, "review:v1:client")
        form = {
            "choice": "review",
            "comment": "Clear results",
            "quality": "5",
            "timeliness": "4",
            "communication": "5",
            "value": "4",
            "would_recommend": "yes",
        }
        await self.timed(run, "review", lambda: http.post(f"/l/{token}", data=form))
        peer = {"reliability": 5, "contribution": 4, "would_collaborate_again": True}
        await self.timed(run, "peer-review", act("partner", "peer-review", peer))
        lead_peer = {**peer, "hub_id": PARTNER}
        await self.timed(run, "peer-review", act("lead", "peer-review", lead_peer))
        return run

    def check_closed(self, runs: Sequence[CaseRun]) -> None:
        """Every case of the run closed and completed, in the store; how long after the last
        signature each executed copy was recorded (the events' workflow times)."""
        from sqlmodel import col, select

        from store.db import session_scope
        from store.models import Case, TimelineEntry

        with session_scope(self.stack.settings.database_url) as session:
            for run in runs:
                case = session.get(Case, run.case_id)
                assert case is not None, run.case_id
                assert (case.state, case.outcome) == ("closed", "completed"), run.case_id
                at = dict(
                    session.exec(
                        select(TimelineEntry.type, TimelineEntry.at).where(
                            TimelineEntry.case_id == run.case_id,
                            col(TimelineEntry.type).in_(
                                ["agreement_executed", "executed_copy_produced"]
                            ),
                        )
                    ).all()
                )
                run.executed_ms = elapsed_ms(at["agreement_executed"], at["executed_copy_produced"])


def elapsed_ms(since: str, until: str) -> float:
    return (datetime.fromisoformat(until) - datetime.fromisoformat(since)).total_seconds() * 1000


class FloorDriver:
    def __init__(self, client: Client, segments: list[Any], queue: str = FLOOR_QUEUE):
        self.client, self.segments, self.queue = client, segments, queue

    @staticmethod
    async def unconfirmed_again(run: CaseRun, call: Callable[[], Awaitable[Any]]) -> Any:
        """An update the engine did not confirm in time is sent again under its id: the
        engine answers a repeat with the first one's outcome (as our API's client retries)."""
        while True:
            try:
                return await call()
            except WorkflowUpdateRPCTimeoutOrCancelledError:
                run.unconfirmed += 1
                await asyncio.sleep(1)

    async def case(self, index: int, tag: str) -> CaseRun:
        from floor_case import FloorCase, FloorResult, FloorStart

        case_id = f"{self.queue}-{tag}-{index}"
        run = CaseRun(case_id)
        operation = WithStartWorkflowOperation(
            FloorCase.run,
            FloorStart(case_id=case_id, segments=self.segments),
            id=case_id,
            task_queue=self.queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        began = time.perf_counter()
        await self.unconfirmed_again(
            run,
            lambda: self.client.execute_update_with_start_workflow(
                self.segments[0].update,
                start_workflow_operation=operation,
                id=f"{case_id}-0",
                result_type=int,
            ),
        )
        run.start_ms = (time.perf_counter() - began) * 1000
        handle = self.client.get_workflow_handle_for(FloorCase.run, case_id)
        for n, segment in enumerate(self.segments[1:], 1):
            if segment.update:  # the run loop's segments run by themselves
                began = time.perf_counter()
                await self.unconfirmed_again(
                    run,
                    lambda name=segment.update, n=n: handle.execute_update(
                        name, case_id, id=f"{case_id}-{n}", result_type=int
                    ),
                )
                run.steps.append((segment.update, (time.perf_counter() - began) * 1000))
        result: FloorResult = await handle.result()
        assert result.steps == len([s for s in self.segments if s.update]), result
        if any(not s.update for s in self.segments):
            run.executed_ms = result.loop_ms
        return run


# -- the shape of a case ----------------------------------------------------------------------
def shape(history: Any) -> list[Any]:
    """The segments of a finished case: each update's activities, and the run loop's between
    them, in order (every step of a benchmark case runs alone, so none overlap)."""
    from floor_case import Segment
    from temporalio.api.enums.v1 import EventType

    segments: list[Segment] = []
    current: Segment | None = None  # the update running, if any
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            attrs = event.workflow_execution_update_accepted_event_attributes
            current = Segment(update=attrs.accepted_request.input.name, activities=[])
            segments.append(current)
        elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
            current = None
        elif event.event_type in (
            EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
            EventType.EVENT_TYPE_MARKER_RECORDED,
        ):
            name, local = _activity_of(event)
            if not name:
                continue
            if current is None:  # the run loop's, after the last update
                if not segments or segments[-1].update:
                    segments.append(Segment(update="", activities=[]))
                segments[-1].activities.append(name)
            else:
                current.activities.append(name)
            if local:
                (current or segments[-1]).local.append(name)
    return segments


def _activity_of(event: Any) -> tuple[str, bool]:
    """(activity type, run as a local activity) of a scheduled activity or a local
    activity's marker; ("", False) for any other marker."""
    if event.HasField("activity_task_scheduled_event_attributes"):
        return event.activity_task_scheduled_event_attributes.activity_type.name, False
    attrs = event.marker_recorded_event_attributes
    if attrs.marker_name != "core_local_activity" or "data" not in attrs.details:
        return "", False
    data = json.loads(attrs.details["data"].payloads[0].data)
    return str(data.get("activity_type", "")), True


def tally(history: Any) -> dict[str, int]:
    """The engine's work in one case's history: events, workflow tasks, those a worker got
    from the task queue's normal (not its sticky) queue after the first (each one replays the
    case from its start), those that timed out or failed, and activities."""
    from temporalio.api.enums.v1 import EventType, TaskQueueKind

    counts = dict.fromkeys(("events", "tasks", "unsticky", "lost", "activities"), 0)
    for event in history.events:
        counts["events"] += 1
        kind = event.event_type
        if kind == EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
            counts["tasks"] += 1
            queue = event.workflow_task_scheduled_event_attributes.task_queue
            if counts["tasks"] > 1 and queue.kind == TaskQueueKind.TASK_QUEUE_KIND_NORMAL:
                counts["unsticky"] += 1
        elif kind in (
            EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
            EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
        ):
            counts["lost"] += 1
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            counts["activities"] += 1
    return counts


async def tally_cases(client: Client, workflow_ids: Sequence[str]) -> dict[str, float]:
    """``tally`` averaged over the cases' histories."""
    total: dict[str, int] = defaultdict(int)
    for workflow_id in workflow_ids:
        for name, n in tally(await client.get_workflow_handle(workflow_id).fetch_history()).items():
            total[name] += n
    return {name: n / max(1, len(workflow_ids)) for name, n in total.items()}


def count_updates_and_activities(segments: Sequence[Any]) -> tuple[int, int]:
    return len([s for s in segments if s.update]), sum(len(s.activities) for s in segments)


# -- one run of K cases -----------------------------------------------------------------------
@dataclass
class Figures:
    kind: str  # "ours" | "floor"
    k: int
    wall_s: float
    runs: list[CaseRun]
    cpu_ms: dict[str, float]  # per case, by component
    tasks: dict[str, float] = field(default_factory=dict)  # ``tally`` per case

    @property
    def per_second(self) -> float:
        return self.k / self.wall_s

    def step_ms(self) -> list[float]:
        return [ms for run in self.runs for _, ms in run.steps]

    def pct(self, q: float, values: list[float] | None = None) -> float:
        values = sorted(self.step_ms() if values is None else values)
        return values[min(len(values) - 1, int(q * len(values)))]

    @property
    def p50(self) -> float:
        return statistics.median(self.step_ms())

    @property
    def p95(self) -> float:
        return self.pct(0.95)


async def run_k(
    stack: Stack,
    kind: str,
    k: int,
    drive: Callable[[int, str], Awaitable[CaseRun]],
    quick: bool,
    check: Callable[[Sequence[CaseRun]], None] | None = None,
) -> Figures:
    idle = await stack.settle(quick)
    tag = f"{kind}{k}x{uuid.uuid4().hex[:6]}"
    before, acts_before = stack.cpu(), await stack.activity_cpu(kind)
    began = window = time.perf_counter()
    runs = await asyncio.gather(*(drive(i, tag) for i in range(k)))
    wall = time.perf_counter() - began
    await stack.settle(quick)  # what the cases left running (notices, webhooks) is counted too
    after, acts_after = stack.cpu(), await stack.activity_cpu(kind)
    window = time.perf_counter() - window
    if check:
        check(runs)
    # less what the stack uses when idle, over the same window (it matters at small K)
    used = {
        part: max(0.0, after[part] - before[part] - idle[part] * window) * 1000 / k
        for part in after
        if part != "driver"
    }
    used["driver"] = (after["driver"] - before["driver"]) * 1000 / k
    acts = {n: (acts_after[n][0] - acts_before.get(n, (0.0, 0))[0]) * 1000 / k for n in acts_after}
    documents = sum(ms for n, ms in acts.items() if n in DOCUMENT_ACTIVITIES)
    store = sum(ms for n, ms in acts.items() if n in STORE_ACTIVITIES)
    dispatch = acts.get(DISPATCH, 0.0)
    activities = sum(acts.values())
    worker = used[kind]
    cpu = {
        "engine": used["engine"],
        "http": used["api"] if kind == "ours" else 0.0,
        "workflow": worker - activities,
        "documents": documents,
        "pdf": used["office"] if kind == "ours" else 0.0,
        "store": store,
        "dispatch": dispatch,
        "other": activities - documents - store - dispatch,
        "driver": used["driver"],
    }
    from api.steps import workflow_id

    client = await connect(stack.settings)
    ids = [workflow_id(r.case_id) if kind == "ours" else r.case_id for r in runs]
    return Figures(kind, k, wall, list(runs), cpu, await tally_cases(client, ids))


PARTS = (
    ("engine", "engine (dev server)"),
    ("http", "HTTP layer (API process)"),
    ("workflow", "workflow tasks + SDK (worker)"),
    ("documents", "document rendering"),
    ("pdf", "PDF (LibreOffice)"),
    ("store", "store writes (record_case, project_step)"),
    ("dispatch", "outbox dispatcher"),
    ("other", "other activities"),
    ("driver", "driver (this process)"),
)


def report(f: Figures) -> None:
    starts = [r.start_ms for r in f.runs]
    waits = [r.executed_ms for r in f.runs]
    retried = sum(r.retried for r in f.runs)
    unconfirmed = sum(r.unconfirmed for r in f.runs)
    print(
        f"K={f.k} {f.kind}: {f.per_second:.2f} cases/s ({f.wall_s:.1f} s); step p50 "
        f"{f.p50:.1f} ms, p95 {f.p95:.1f} ms, p99 {f.pct(0.99):.1f} ms "
        f"({len(f.step_ms())} steps); start p50 {statistics.median(starts):.1f} ms; executed "
        f"copy after the last signature p50 {statistics.median(waits):.0f} ms"
        + (f"; {retried} answers 503 waited out" if retried else "")
        + (f"; {unconfirmed} steps sent again (not confirmed in time)" if unconfirmed else "")
    )
    total = sum(v for k, v in f.cpu_ms.items() if k != "driver")
    parts = ", ".join(f"{label} {f.cpu_ms[key]:.1f}" for key, label in PARTS if f.cpu_ms[key])
    print(f"  CPU per case {total:.1f} ms without the driver: {parts}")
    if f.tasks:
        t = f.tasks
        print(
            f"  history per case: {t['events']:.1f} events, {t['tasks']:.1f} workflow tasks "
            f"({t['unsticky']:.2f} from the normal queue after the first, {t['lost']:.2f} timed "
            f"out or failed), {t['activities']:.1f} activities"
        )
    by_step: dict[str, list[float]] = defaultdict(list)
    for run in f.runs:
        for name, ms in run.steps:
            by_step[name].append(ms)
    cells = ", ".join(f"{n} {statistics.median(v):.0f}" for n, v in by_step.items())
    print(f"  step p50 (ms): {cells}")


def compare(ours: Figures, floor: Figures) -> tuple[float, float]:
    throughput = ours.per_second / floor.per_second
    latency = ours.p95 / floor.p95
    t_met = "met" if throughput >= TARGET_THROUGHPUT else "missed"
    l_met = "met" if latency <= TARGET_LATENCY else "missed"
    print(
        f"K={ours.k} ours/floor: throughput {throughput:.2f} (target >= {TARGET_THROUGHPUT}: "
        f"{t_met}), step p50 {ours.p50 / floor.p50:.2f}, step p95 {latency:.2f} (target <= "
        f"{TARGET_LATENCY:.0f}: {l_met}), CPU per case "
        f"{sum(ours.cpu_ms.values()) / max(sum(floor.cpu_ms.values()), 1e-9):.2f}"
    )
    return throughput, latency


def compare_minimal(ours: Figures, minimal: Figures) -> tuple[float, float, float]:
    """Ours against the minimal floor: (CPU per case, throughput, step p95) ratios."""
    cpu = _cpu(ours) / max(_cpu(minimal), 1e-9)
    throughput = ours.per_second / minimal.per_second
    latency = ours.p95 / minimal.p95

    def met(ok: bool) -> str:
        return "met" if ok else "missed"

    print(
        f"K={ours.k} ours/minimal: CPU per case {cpu:.2f} (target <= {MINIMAL_CPU:.0f}: "
        f"{met(cpu <= MINIMAL_CPU)}), throughput {throughput:.2f} (target >= "
        f"{MINIMAL_THROUGHPUT} at K={TARGET_K}"
        + (f": {met(throughput >= MINIMAL_THROUGHPUT)}" if ours.k == TARGET_K else "")
        + f"), step p95 {latency:.2f} (target <= {MINIMAL_LATENCY:.0f} at K={MINIMAL_LATENCY_K}"
        + (f": {met(latency <= MINIMAL_LATENCY)}" if ours.k == MINIMAL_LATENCY_K else "")
        + ")"
    )
    return cpu, throughput, latency


def _cpu(f: Figures) -> float:
    """CPU per case without the driver."""
    return sum(v for k, v in f.cpu_ms.items() if k != "driver")


async def warm_up(stack: Stack, http: httpx.AsyncClient) -> tuple[list[Any], dict[str, Any]]:
    """One case of ours end to end (code loaded, LibreOffice started); its history gives the
    floor's shape, its draft the floor's agreement."""
    from sqlmodel import select

    from activities.documents import TEMPLATES
    from api.steps import workflow_id
    from documents.rendering import TEMPLATES_DIR
    from domain.cases import Scenario
    from store.db import session_scope
    from store.models import Document

    run = await OurDriver(stack, http).case(0, "warmup")
    client = await connect(stack.settings)
    name = TEMPLATES[Scenario.joint_service]
    with session_scope(stack.settings.database_url) as session:
        draft = session.exec(
            select(Document).where(Document.case_id == run.case_id, Document.template == name)
        ).first()
        assert draft is not None and draft.variables, "the warm-up case has no draft"
        context = draft.variables["context"]
    history = await client.get_workflow_handle(workflow_id(run.case_id)).fetch_history()
    template = TEMPLATES_DIR / f"{name}.docx"
    return shape(history), {"template": str(template), "context": context}


async def run_all(ks: Sequence[int], pdf: str | None, tmp: Path, quick: bool) -> None:
    stack = await start_stack(tmp, pdf)
    try:
        # uvicorn closes a connection idle for 5 s; reusing one just as it does fails the
        # request (a POST is not resent), so the driver lets its idle connections go sooner
        limits = httpx.Limits(max_connections=MAX_CONNECTIONS, keepalive_expiry=2.0)
        async with httpx.AsyncClient(
            base_url=stack.settings.public_url, timeout=300, limits=limits
        ) as http:
            segments, agreement = await warm_up(stack, http)
            updates, activities = count_updates_and_activities(segments)
            steps = "; ".join(
                f"{s.update or '(run loop)'}: {', '.join(s.activities)}" for s in segments
            )
            print(f"shape of a case: {updates} updates, {activities} activities: {steps}")
            context_file = tmp / "floor-agreement.json"
            context_file.write_text(json.dumps(agreement))
            names = sorted({a for s in segments for a in s.activities})
            stack.floor = stack.spawn_worker(
                "floor",
                DIHFLOW_TASK_QUEUE=FLOOR_QUEUE,
                BENCH_STATS=str(stack.stats_file("floor")),
                BENCH_FLOOR_ACTIVITIES=",".join(names),
                BENCH_FLOOR_CONTEXT=str(context_file),
            )
            from floor_case import MINIMAL_STEP, minimal_segments

            least = minimal_segments(segments)
            assert [s.update for s in least] == [s.update for s in segments if s.update], least
            stack.minimal = stack.spawn_worker(
                "minimal",
                DIHFLOW_TASK_QUEUE=MINIMAL_QUEUE,
                BENCH_STATS=str(stack.stats_file("minimal")),
                BENCH_FLOOR_ACTIVITIES=",".join(sorted({MINIMAL_STEP, *DOCUMENT_ACTIVITIES})),
                BENCH_FLOOR_CONTEXT=str(context_file),
            )
            steps = "; ".join(f"{s.update}: {', '.join(s.activities)}" for s in least)
            print(f"shape of the minimal floor: {steps} (local activities)")
            client = await connect(stack.settings)
            floor = FloorDriver(client, segments)
            minimal = FloorDriver(client, least, MINIMAL_QUEUE)
            ours = OurDriver(stack, http)
            await floor.case(0, "warmup")
            await minimal.case(0, "warmup")
            results = []
            for k in ks:
                m = await run_k(stack, "minimal", k, minimal.case, quick)
                report(m)
                f = await run_k(stack, "floor", k, floor.case, quick)
                report(f)
                o = await run_k(stack, "ours", k, ours.case, quick, ours.check_closed)
                report(o)
                results.append((o, f, m, *compare(o, f), *compare_minimal(o, m)))
        print("summary (cases/s; step latency in ms; CPU per case in ms, without the drivers):")
        head = ("K", "ours/s", "floor/s", "min/s", "p95", "floor95", "min95", "CPU", "floorCPU")
        print("  " + "".join(f"{h:>9}" for h in head) + f"{'minCPU':>9}")
        for o, f, m, *_ in results:
            print(
                f"  {o.k:>9}{o.per_second:9.2f}{f.per_second:9.2f}{m.per_second:9.2f}"
                f"{o.p95:9.1f}{f.p95:9.1f}{m.p95:9.1f}{_cpu(o):9.1f}{_cpu(f):9.1f}{_cpu(m):9.1f}"
            )
        print("  ratios, ours against the floor / the minimal floor:")
        for o, f, _m, throughput, latency, m_cpu, m_throughput, m_latency in results:
            print(
                f"  K={o.k}: throughput {throughput:.2f} / {m_throughput:.2f}, step p95 "
                f"{latency:.2f} / {m_latency:.2f}, CPU per case {_cpu(o) / _cpu(f):.2f} / "
                f"{m_cpu:.2f}"
            )
    except BaseException:
        print(stack.logs(), file=sys.stderr)
        raise
    finally:
        stack.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--k", type=int, action="append", help="cases at once (repeatable)")
    parser.add_argument("--pdf", choices=("resident", "process", "off"), help="PDF converter")
    parser.add_argument("--quick", action="store_true", help="K = 1 and 2: a smoke test")
    parser.add_argument("--keep", action="store_true", help="keep the logs and stores")
    parser.add_argument(
        "--serve-worker",
        choices=("ours", "floor", "minimal"),
        help=argparse.SUPPRESS,
    )
    args = parser.parse_args(argv)
    if args.serve_worker:
        serve_worker(args.serve_worker)
        return 0
    ks = args.k or ([1, 2] if args.quick else list(DEFAULT_K))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # the stack is stopped on the way out
    if args.keep:
        tmp = Path(tempfile.mkdtemp(prefix="dihflow-bench-"))
        print(f"logs and stores kept in {tmp}", file=sys.stderr)
        asyncio.run(run_all(ks, args.pdf, tmp, args.quick))
        return 0
    with tempfile.TemporaryDirectory(prefix="dihflow-bench-") as tmpdir:
        asyncio.run(run_all(ks, args.pdf, Path(tmpdir), args.quick))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
