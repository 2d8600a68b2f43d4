"""The engine's CPU for activities, with the dev server's settings (``base.engine.DYNAMIC_CONFIG``)
and with eager activities turned off, side by side.

A workflow of ten sequential activities that do nothing (a case runs one activity per step) is
run N times at once on a fresh dev server of each kind, the two kinds alternating for several
rounds; the dev server's CPU per workflow comes from /proc. The worker's runner does not matter
to the engine's CPU, so the workflow runs outside the sandbox (it is defined in this script).

    .venv/bin/python bench/engine_settings.py               # 100 workflows, 3 rounds
    .venv/bin/python bench/engine_settings.py --quick       # smoke test: the suite runs it
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from open_cases import cpu_seconds  # noqa: E402  (bench/, this script's directory)
from temporalio import activity, workflow  # noqa: E402
from temporalio.client import Client  # noqa: E402
from temporalio.worker import UnsandboxedWorkflowRunner, Worker  # noqa: E402

from base import engine  # noqa: E402

EAGER = "system.enableActivityEagerExecution"
QUEUE = "engine-settings"
STEPS = 10


@activity.defn
def step(n: int) -> int:
    return n


@workflow.defn
class TenSteps:
    @workflow.run
    async def run(self) -> int:
        for n in range(STEPS):
            await workflow.execute_activity(step, n, start_to_close_timeout=timedelta(seconds=60))
        return STEPS


async def one_run(tmp: Path, eager: bool, n: int) -> tuple[float, float]:
    """(engine CPU ms per workflow, workflows per second) on a fresh dev server."""
    settings = {**engine.DYNAMIC_CONFIG, EAGER: eager}
    db = tmp / f"temporal-{eager}-{time.monotonic_ns()}.db"
    server = engine.DevServer(db, engine.free_port(), None, dynamic_config=settings)
    await server.start()
    try:
        client = await Client.connect(server.address)
        with ThreadPoolExecutor(16) as executor:
            async with Worker(
                client,
                task_queue=QUEUE,
                workflows=[TenSteps],
                activities=[step],
                activity_executor=executor,
                workflow_runner=UnsandboxedWorkflowRunner(),
            ):
                await client.execute_workflow(TenSteps.run, id="warm-up", task_queue=QUEUE)
                assert server.process is not None
                before, began = cpu_seconds([server.process.pid]), time.perf_counter()
                await asyncio.gather(
                    *(
                        client.execute_workflow(TenSteps.run, id=f"w{i}", task_queue=QUEUE)
                        for i in range(n)
                    )
                )
                wall = time.perf_counter() - began
                used = cpu_seconds([server.process.pid]) - before
        return used * 1000 / n, n / wall
    finally:
        server.stop()


async def run(n: int, rounds: int) -> None:
    figures: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    with tempfile.TemporaryDirectory(prefix="dihflow-engine-") as tmp:
        for r in range(rounds):
            for eager in (r % 2 == 0, r % 2 != 0):  # alternate which goes first
                ms, rate = await one_run(Path(tmp), eager, n)
                figures[eager].append((ms, rate))
                print(
                    f"round {r + 1}, eager activities {'on ' if eager else 'off'}: engine "
                    f"{ms:.1f} ms of CPU per workflow of {STEPS} activities, {rate:.1f} workflows/s"
                )
    on = statistics.median(ms for ms, _ in figures[True])
    off = statistics.median(ms for ms, _ in figures[False])
    print(
        f"median engine CPU per workflow: eager on {on:.1f} ms, off {off:.1f} ms; "
        f"on/off {on / off:.2f} ({(off - on) / STEPS:.2f} ms less per activity)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workflows", type=int, default=100, help="workflows at once per run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a few workflows, one round")
    args = parser.parse_args(argv)
    if args.quick:
        args.workflows, args.rounds = 5, 1
    asyncio.run(run(args.workflows, args.rounds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
