"""Memory of open cases: worker and server RSS with N joint-service cases waiting on timers.

A case is opened as the API opens it (update-with-start of ``open_case``, use-existing
conflict policy, the facts of ``api.case_start.first_facts``) with one invited partner hub, so
it sits in ``partnering`` waiting on its invitation and partnering deadlines. Each variant
(workflow runner x worker cache size) gets a fresh dev server (the embedded default's flags),
a fresh SQLite store with the demo network and its own worker process (``python -m worker``
for the worker's own runner). RSS comes from ``/proc/<pid>/status`` (VmRSS; the server's whole
process group), sampled once the processes are idle: a baseline after one case, then again
with N more cases open. Then ``accept-invitation`` steps are timed on cases still in the
worker's cache and, when the cache is smaller than N, on evicted ones (whose history the worker
replays first). The ``floor-*`` variants open ``bench/idle_case.py``'s workflow instead, which
holds nothing of ours: what the SDK itself costs per cached workflow.
Target: <= 50 KB of worker memory per idle open case.

    .venv/bin/python bench/open_cases.py          # 2_000 cases: each runner all cached, cache 1_000
    .venv/bin/python bench/open_cases.py --large --runner sandbox      # 10_000 cases
    .venv/bin/python bench/open_cases.py --runner sandbox --cache 100  # choose the variants
    .venv/bin/python bench/open_cases.py --quick  # smoke test (10 cases): the suite runs this
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from temporalio.client import Client, WithStartWorkflowOperation  # noqa: E402
from temporalio.common import (  # noqa: E402
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
)
from temporalio.worker import UnsandboxedWorkflowRunner, WorkflowRunner  # noqa: E402
from temporalio.worker.workflow_sandbox import (  # noqa: E402
    SandboxedWorkflowRunner,
    SandboxRestrictions,
)

from api.case_start import CaseCreate, first_facts  # noqa: E402
from api.steps import workflow_id  # noqa: E402
from base.engine import DevServer, connect, free_port  # noqa: E402
from base.search import SA_LEAD_HUB, SA_SCENARIO, SA_STATE  # noqa: E402
from base.settings import Settings  # noqa: E402
from dihflow.seed import seed_demo_network  # noqa: E402
from domain.cases import (  # noqa: E402
    ActionRequest,
    ActionResult,
    Caller,
    CaseStart,
    ClientInfo,
    Role,
    Scenario,
)
from workflows.case import CollaborationCaseWorkflow  # noqa: E402

TARGET_KB = 50.0
LEAD, PARTNER = "tagus-ai", "po-valley-ai"
CONCURRENCY = 16
STEPS = 20  # timed steps per kind (on cached cases, on evicted ones); 2 in quick mode
DEFAULT_CACHE = Settings().max_cached_workflows


def _sandbox() -> WorkflowRunner:
    import worker

    return worker.sandbox_runner()


def _sandbox_recompiling() -> WorkflowRunner:
    """The same sandbox, each workflow compiling its own copy of the workflow code (the
    worker's runner before ``worker.compile_workflows_once``)."""
    import worker

    return SandboxedWorkflowRunner(restrictions=worker.sandbox_restrictions())


def _passthrough_all() -> WorkflowRunner:
    """The sandbox with every module (the workflow's own too) passed through: nothing is
    re-imported per workflow, and nothing is restricted either."""
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_all_modules()
    )


RUNNERS: dict[str, Callable[[], WorkflowRunner]] = {
    "sandbox": _sandbox,  # the worker's own runner
    "sandbox-recompiling": _sandbox_recompiling,
    "passthrough-all": _passthrough_all,
    "unsandboxed": UnsandboxedWorkflowRunner,  # no sandbox at all
}
# The floor: bench/idle_case.py's workflow, which holds nothing of ours, under each runner.
FLOORS = ("floor-sandbox", "floor-unsandboxed")
DEFAULT_RUNNERS = ["sandbox", "sandbox-recompiling", "unsandboxed", *FLOORS]


# -- processes and their memory ---------------------------------------------------------------
def rss_kb(pids: Sequence[int]) -> int:
    total = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        line = next((x for x in status.splitlines() if x.startswith("VmRSS:")), "VmRSS: 0 kB")
        total += int(line.split()[1])
    return total


def group_pids(pgid: int) -> list[int]:
    """Every process of a process group (the dev server may start children)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # fields after the command (which may hold spaces), from ") ": state ppid pgrp ...
        if int(stat.rsplit(") ", 1)[1].split()[2]) == pgid:
            pids.append(int(entry.name))
    return pids


def cpu_seconds(pids: Sequence[int]) -> float:
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


@dataclass
class Processes:
    server: DevServer
    worker: subprocess.Popen[bytes]
    quick: bool  # a short settle and one sample: the figures only show the script works

    def pids(self) -> tuple[list[int], list[int]]:
        assert self.server.process is not None
        return [self.worker.pid], group_pids(self.server.process.pid)

    def cpu(self) -> tuple[float, float]:
        """CPU seconds used so far by (worker, server)."""
        worker, server = self.pids()
        return cpu_seconds(worker), cpu_seconds(server)

    async def settle(self, quiet: float = 0.03) -> None:
        """Wait until worker and server together use under ``quiet`` of a core for a second
        (a minute at most)."""
        deadline = time.monotonic() + (3 if self.quick else 60)
        while time.monotonic() < deadline:
            worker, server = self.pids()
            before = cpu_seconds(worker + server)
            await asyncio.sleep(1.0)
            if cpu_seconds(worker + server) - before < quiet:
                return

    async def sample(self) -> tuple[float, float]:
        """Median RSS in KB of (worker, server) over a few idle samples."""
        await self.settle()
        worker_kb, server_kb = [], []
        for _ in range(1 if self.quick else 5):
            worker, server = self.pids()
            worker_kb.append(rss_kb(worker))
            server_kb.append(rss_kb(server))
            await asyncio.sleep(0.5)
        return statistics.median(worker_kb), statistics.median(server_kb)


def spawn_worker(runner: str, settings: Settings, cache: int, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIHFLOW_")}
    env.update(
        DIHFLOW_TEMPORAL_ADDRESS=str(settings.temporal_address),
        DIHFLOW_VAR_DIR=str(settings.var_dir),
        DIHFLOW_DATABASE_URL=settings.database_url,
        DIHFLOW_TASK_QUEUE=settings.task_queue,
        DIHFLOW_SECRET_KEY=settings.secret_key,
        DIHFLOW_MAX_CACHED_WORKFLOWS=str(cache),
    )
    if runner == "sandbox":  # the product's worker, untouched
        cmd = [sys.executable, "-m", "worker"]
    elif runner in FLOORS:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--serve-idle", runner]
    else:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--serve-worker", runner]
    with log.open("wb") as out:
        return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def serve_worker(runner: str) -> None:
    """A variant's worker process: ``python -m worker`` with another workflow runner."""
    import worker

    def variant(strict: bool = False) -> Any:
        return RUNNERS[runner]()

    # build_worker asks this factory for its runner; everything else is the product's worker
    worker.sandbox_runner = variant
    worker.main()


def serve_idle(floor: str) -> None:
    """A floor's worker process: the idle workflow only, under the runner the name says."""
    import atexit
    import gc
    import signal

    from idle_case import IdleCase  # bench/ is this script's directory, first on sys.path
    from temporalio.worker import Worker

    runner = RUNNERS[floor.removeprefix("floor-")]()

    async def serve() -> None:
        settings = Settings.from_env()
        client = await connect(settings)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        async with Worker(
            client,
            task_queue=settings.task_queue,
            workflows=[IdleCase],
            workflow_runner=runner,
            max_cached_workflows=settings.max_cached_workflows,
        ):
            await stop.wait()

    atexit.register(gc.collect)  # see TEMPORAL.md: avoids an abort at interpreter exit
    asyncio.run(serve())


# -- cases ------------------------------------------------------------------------------------
LEAD_CALLER = Caller(principal_id="bench-lead", role=Role.hub_member, hub_id=LEAD)
PARTNER_CALLER = Caller(principal_id="bench-partner", role=Role.hub_member, hub_id=PARTNER)
BODY = CaseCreate(
    scenario=Scenario.joint_service,
    title="Computer-vision quality control for cork stoppers",
    need="Detect surface defects on cork stoppers before shipping.",
    scope="Data audit, a proof-of-concept classifier and a test-before-invest run.",
    client=ClientInfo(name="Cortica Exemplo Lda", country="PT", email="ana@cortica.example"),
    invited_hub_ids=[PARTNER],
)


async def open_case(client: Client, settings: Settings, case_id: str) -> None:
    """What ``POST /v1/cases`` does once the request is checked: update-with-start."""
    facts = first_facts(case_id, LEAD, BODY, settings, datetime.now(UTC))
    start = CaseStart(
        facts=facts,
        invited_hub_ids=BODY.invited_hub_ids,
        requested_by=LEAD_CALLER,
        activity_timeout_seconds=settings.activity_timeout_seconds,
    )
    operation = WithStartWorkflowOperation(
        CollaborationCaseWorkflow.run,
        start,
        id=workflow_id(case_id),
        task_queue=settings.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(SA_SCENARIO, facts.scenario.value),
                SearchAttributePair(SA_STATE, facts.state),
                SearchAttributePair(SA_LEAD_HUB, facts.lead_hub_id),
            ]
        ),
    )
    result = await client.execute_update_with_start_workflow(
        "open_case", start_workflow_operation=operation, result_type=ActionResult
    )
    assert result.state == "partnering", f"{case_id} is {result.state}, not partnering"


async def open_idle_case(client: Client, settings: Settings, case_id: str) -> None:
    operation: WithStartWorkflowOperation[Any, Any] = WithStartWorkflowOperation(
        "IdleCase",
        case_id,
        id=workflow_id(case_id),
        task_queue=settings.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    await client.execute_update_with_start_workflow(
        "open_case", start_workflow_operation=operation, result_type=str
    )


async def open_cases(
    client: Client, settings: Settings, ids: Sequence[str], floor: bool = False
) -> float:
    """Open ``ids`` with bounded concurrency; the seconds it took."""
    gate = asyncio.Semaphore(CONCURRENCY)
    opener = open_idle_case if floor else open_case

    async def one(case_id: str) -> None:
        async with gate:
            await asyncio.wait_for(opener(client, settings, case_id), 120)

    began = time.perf_counter()
    await asyncio.gather(*(one(c) for c in ids))
    return time.perf_counter() - began


async def step_ms(client: Client, case_id: str) -> float:
    """One accept-invitation, as the API sends it: the update and its recorded result."""
    handle = client.get_workflow_handle(workflow_id(case_id))
    began = time.perf_counter()
    result = await handle.execute_update(
        "accept_invitation", ActionRequest(caller=PARTNER_CALLER), result_type=ActionResult
    )
    elapsed = (time.perf_counter() - began) * 1000
    assert result.changed, f"accept-invitation on {case_id} changed nothing"
    return elapsed


@dataclass
class Steps:
    """Timed accept-invitation steps of one kind (on cached cases, or on evicted ones)."""

    wall_ms: list[float]
    worker_cpu_ms: float  # per step

    @property
    def p50(self) -> float:
        return statistics.median(self.wall_ms)


async def time_steps(client: Client, procs: Processes, ids: Sequence[str]) -> Steps:
    before = procs.cpu()[0]
    wall = [await step_ms(client, case_id) for case_id in ids]
    return Steps(wall, (procs.cpu()[0] - before) * 1000 / len(ids))


# -- one variant ------------------------------------------------------------------------------
@dataclass
class Figures:
    runner: str
    cache: int
    cases: int
    opened_per_s: float
    cpu_ms: tuple[float, float]  # (worker, server) CPU per opened case
    worker_kb: tuple[float, float]  # baseline, open
    server_kb: tuple[float, float]
    cached: Steps | None = None
    evicted: Steps | None = None

    @property
    def worker_per_case(self) -> float:
        return (self.worker_kb[1] - self.worker_kb[0]) / self.cases

    @property
    def server_per_case(self) -> float:
        return (self.server_kb[1] - self.server_kb[0]) / self.cases

    @property
    def worker_per_cached(self) -> float:
        """Per workflow the cache took on (it held the baseline's case already)."""
        return (self.worker_kb[1] - self.worker_kb[0]) / (min(self.cache, self.cases + 1) - 1)

    @property
    def all_cached(self) -> bool:
        return self.cache >= self.cases + 1  # the baseline case is open too


async def run_variant(runner: str, cache: int, cases: int, tmp: Path, quick: bool) -> Figures:
    tmp.mkdir(parents=True)
    server = DevServer(tmp / "temporal.db", free_port(), None)
    await server.start()
    settings = Settings(
        var_dir=tmp,
        temporal_address=server.address,
        task_queue="open-cases",
        database_url=f"sqlite:///{tmp / 'dihflow.db'}",
        documents_dir=tmp / "documents",
        outbox_dir=tmp / "outbox",
        secret_key="bench-" + "x" * 40,
    )
    floor = runner in FLOORS
    if not floor:
        seed_demo_network(settings.database_url)
    worker = spawn_worker(runner, settings, cache, tmp / "worker.log")
    procs = Processes(server, worker, quick)
    try:
        client = await connect(settings)
        await open_cases(client, settings, ["c-warm000000"], floor)  # the code is loaded
        base = await procs.sample()
        ids = [f"c-open{i:06d}" for i in range(cases)]
        cpu_before = procs.cpu()
        took = await open_cases(client, settings, ids, floor)
        after = await procs.sample()  # once idle: the opening's stragglers are counted too
        cpu_ms = tuple((b - a) * 1000 / cases for a, b in zip(cpu_before, procs.cpu(), strict=True))
        figures = Figures(
            runner,
            cache,
            cases,
            cases / took,
            (cpu_ms[0], cpu_ms[1]),
            (base[0], after[0]),
            (base[1], after[1]),
        )
        # Least recently used go first: the earliest cases are the evicted ones.
        steps = 2 if quick else STEPS
        if not figures.all_cached and not floor:
            figures.evicted = await time_steps(client, procs, ids[:steps])
        if not floor:
            figures.cached = await time_steps(client, procs, ids[-steps:])
        return figures
    except BaseException:
        print((tmp / "worker.log").read_text()[-3000:], file=sys.stderr)
        raise
    finally:
        worker.terminate()
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        server.stop()


def report(f: Figures) -> None:
    mb = 1024
    print(f"runner {f.runner}, worker cache {f.cache}, {f.cases} open cases:")
    print(
        f"  opened {f.cases} cases at {f.opened_per_s:.1f} cases/s (concurrency {CONCURRENCY}); "
        f"CPU per case: worker {f.cpu_ms[0]:.1f} ms, server {f.cpu_ms[1]:.1f} ms"
    )
    print(
        f"  worker RSS {f.worker_kb[0] / mb:.1f} MB idle -> {f.worker_kb[1] / mb:.1f} MB open: "
        f"{f.worker_per_case:.1f} KB per open case"
        + ("" if f.all_cached else f", {f.worker_per_cached:.1f} KB per cached case")
    )
    print(
        f"  server RSS {f.server_kb[0] / mb:.1f} MB idle -> {f.server_kb[1] / mb:.1f} MB open: "
        f"{f.server_per_case:.1f} KB per open case"
    )
    if f.cached is None:
        return
    line = (
        f"  step accept-invitation ({len(f.cached.wall_ms)} each): on a cached case p50 "
        f"{f.cached.p50:.1f} ms, worker CPU {f.cached.worker_cpu_ms:.1f} ms"
    )
    if f.evicted:
        line += (
            f"; on an evicted case p50 {f.evicted.p50:.1f} ms, worker CPU "
            f"{f.evicted.worker_cpu_ms:.1f} ms (replay: "
            f"{f.evicted.worker_cpu_ms - f.cached.worker_cpu_ms:+.1f} ms CPU)"
        )
    print(line)


def summary(all_figures: list[Figures]) -> None:
    print("summary (memory: KB per open case; CPU: worker ms per opened case; step p50 in ms):")
    head = ("cache", "worker", "server", "CPU", "cases/s", "step", "evicted")
    print(f"  {'runner':<20}" + "".join(f"{h:>9}" for h in head))
    for f in all_figures:
        cached = f"{f.cached.p50:9.1f}" if f.cached else f"{'-':>9}"
        evicted = f"{f.evicted.p50:9.1f}" if f.evicted else f"{'-':>9}"
        print(
            f"  {f.runner:<20}{f.cache:>9}{f.worker_per_case:9.1f}{f.server_per_case:9.1f}"
            f"{f.cpu_ms[0]:9.1f}{f.opened_per_s:9.1f}{cached}{evicted}"
        )
    for f in all_figures:
        if f.all_cached:
            met = "met" if f.worker_per_case <= TARGET_KB else "missed"
            print(
                f"target <= {TARGET_KB:.0f} KB worker memory per idle open case ({f.runner}, "
                f"all cached): {met} ({f.worker_per_case:.1f} KB)"
            )


def plan(args: argparse.Namespace) -> tuple[int, list[tuple[str, int]]]:
    """How many cases, and the (runner, worker cache) of each variant: every runner with a
    cache that holds every open case, then the worker's runner with each smaller cache."""
    if args.quick:
        # the bench's own worker processes (the product's is ``python -m worker``, as always)
        return 10, [("unsandboxed", 5), ("floor-sandbox", 11)]
    cases = 10_000 if args.large else args.cases
    everything = cases + 1  # the baseline's case is open too
    variants = [(runner, everything) for runner in args.runner or DEFAULT_RUNNERS]
    variants += [("sandbox", c) for c in args.cache or [DEFAULT_CACHE] if c < everything]
    return cases, variants


async def run_all(
    cases: int, variants: list[tuple[str, int]], tmp: Path, quick: bool
) -> list[Figures]:
    """Each variant in turn (alone on the machine), reported as it ends."""
    figures = []
    for runner, cache in variants:
        figures.append(await run_variant(runner, cache, cases, tmp / f"{runner}-{cache}", quick))
        report(figures[-1])
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=2_000)
    parser.add_argument("--large", action="store_true", help="10_000 open cases")
    parser.add_argument("--quick", action="store_true", help="10 cases, two variants")
    parser.add_argument(
        "--runner",
        choices=[*sorted(RUNNERS), *FLOORS],
        action="append",
        help="runners measured with every case cached (default: " + ", ".join(DEFAULT_RUNNERS),
    )
    parser.add_argument(
        "--cache",
        type=int,
        action="append",
        help=f"smaller worker caches, measured with the worker's runner (default {DEFAULT_CACHE})",
    )
    parser.add_argument("--serve-worker", choices=sorted(RUNNERS), help=argparse.SUPPRESS)
    parser.add_argument("--serve-idle", choices=FLOORS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_worker:
        serve_worker(args.serve_worker)
        return 0
    if args.serve_idle:
        serve_idle(args.serve_idle)
        return 0
    cases, variants = plan(args)
    with tempfile.TemporaryDirectory(prefix="dihflow-bench-") as tmpdir:
        figures = asyncio.run(run_all(cases, variants, Path(tmpdir), args.quick))
    summary(figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
