"""Read-path latency: the API's case reads against a read model of N cases.

Builds the read model straight into the store (``bench/read_model.py``), serves the API from a
process of its own (uvicorn, one process) and drives it from this process, so client and
server do not share an interpreter. Each scenario runs with one client, then with a bounded
number of concurrent clients; p50/p95/p99 latency and requests per second. A second server with
the rate limit on (every request counted in the store, as in production, at a limit no run
reaches) measures what that adds. Last, the cost of each stage of one request, called in
process one after the other (no HTTP), shows where the time goes.

Target: list p95 <= 30 ms for the indexed filters (state, hub and scenario, a hub's own list)
at the bounded concurrency; text search is measured separately.

    .venv/bin/python bench/read_path.py                        # 100_000 cases, SQLite + PostgreSQL
    .venv/bin/python bench/read_path.py --cases 20000 --sqlite-only
    .venv/bin/python bench/read_path.py --quick --sqlite-only  # smoke test: the suite runs this

PostgreSQL: ``postgresql://postgres@127.0.0.1:5432`` (``--pg-url``); a throwaway database is
created and dropped afterwards; skipped with the reason printed when it is not reachable.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402

from base.engine import free_port  # noqa: E402
from base.settings import Settings  # noqa: E402
from bench.read_model import MEMBER_HUB, RARE_WORD, build  # noqa: E402
from domain.hubs import load_demo_network  # noqa: E402
from store.db import get_engine  # noqa: E402

TARGET_MS = 30.0
TEXT_WORD = "cork"  # in about one title in eight (RARE_WORD: one in 500)
UNREACHED_LIMIT = 1_000_000_000  # the rate limit counts every request but never refuses


@dataclass
class Scenario:
    name: str
    key: str
    listed: bool  # counts for the list target
    path: Callable[[], str]


# -- the server, in a process of its own ------------------------------------------------------
def _serve(settings: Settings, port: int) -> None:
    import uvicorn

    from api.app import create_app

    app = create_app(settings, run_migrations=False)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


@contextmanager
def api_process(settings: Settings) -> Iterator[str]:
    port = free_port()
    process = multiprocessing.get_context("spawn").Process(
        target=_serve, args=(settings, port), daemon=True
    )
    process.start()
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or not process.is_alive():
                raise RuntimeError("the API process did not start within 60 s")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.join(timeout=10)


# -- the clients ------------------------------------------------------------------------------
async def drive(
    base: str, key: str, paths: list[str], concurrency: int, max_seconds: float
) -> tuple[list[float], float, int]:
    """Latencies (s), wall time (s) and the count of non-200 answers; stops taking new
    requests after ``max_seconds``. Each client is one keep-alive connection speaking plain
    HTTP/1.1 over asyncio streams: a client library would spend about as much CPU per request
    as the server does, on the same two cores."""
    host, port = base.removeprefix("http://").split(":")
    latencies: list[float] = []
    errors = 0
    queue = iter(paths)

    async def client(todo: Iterator[str], measured: bool) -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            for path in todo:  # a shared iterator: each path is taken once
                if measured and time.perf_counter() > stop:
                    return
                begin = time.perf_counter()
                writer.write(
                    f"GET {path} HTTP/1.1\r\nHost: {host}\r\n"
                    f"Authorization: Bearer {key}\r\n\r\n".encode()
                )
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
                await reader.readexactly(length)
                if measured:
                    latencies.append(time.perf_counter() - begin)
                if not head.startswith(b"HTTP/1.1 200 "):
                    errors += 1
        finally:
            writer.close()

    await client(iter(paths[:10]), measured=False)  # warm-up (caches), not measured
    start = time.perf_counter()
    stop = start + max_seconds
    await asyncio.gather(*(client(queue, measured=True) for _ in range(concurrency)))
    wall = time.perf_counter() - start
    return latencies, wall, errors


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


def measure(base: str, scenario: Scenario, concurrency: int, args: argparse.Namespace) -> float:
    """Print one line; return its p95 (ms)."""
    paths = [scenario.path() for _ in range(args.requests)]
    lat, wall, errors = asyncio.run(drive(base, scenario.key, paths, concurrency, args.max_seconds))
    if errors:
        raise SystemExit(f"{scenario.name}: {errors} requests did not answer 200")
    p50, p95, p99 = pct(lat, 50), pct(lat, 95), pct(lat, 99)
    cut = ""
    if len(lat) < len(paths):
        cut = f"  (stopped after {len(lat)} in {args.max_seconds:.0f} s)"
    print(
        f"  {scenario.name:<46} c={concurrency:<2} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms"
        f"  p99 {p99:7.1f} ms  {len(lat) / wall:7.1f} req/s{cut}",
        flush=True,
    )
    return p95


def scenarios(ids: list[str], keys: dict[str, str], rng: random.Random) -> list[Scenario]:
    hubs = [h.id for h in load_demo_network()]
    staff = keys["back_office"]

    def own() -> str:
        return "/v1/cases"

    def common() -> str:
        return f"/v1/cases?text={TEXT_WORD}"

    def rare() -> str:
        return f"/v1/cases?text={RARE_WORD}"

    return [
        Scenario("GET /v1/cases/{id}", staff, False, lambda: f"/v1/cases/{rng.choice(ids)}"),
        Scenario("list state=signing", staff, True, lambda: "/v1/cases?state=signing"),
        Scenario(
            "list hub=<hub>&scenario=joint_service",
            staff,
            True,
            lambda: f"/v1/cases?hub={rng.choice(hubs)}&scenario=joint_service",
        ),
        Scenario(f"list own cases ({MEMBER_HUB} member)", keys["member"], True, own),
        Scenario(f"list text={TEXT_WORD} (1 title in 8)", staff, False, common),
        Scenario(f"list text={RARE_WORD} (1 title in 500)", staff, False, rare),
    ]


# -- where the time of one request goes ----------------------------------------------------------
def breakdown(settings: Settings, ids: list[str], keys: dict[str, str], rounds: int) -> None:
    """Each stage of a request in process, one after the other, ``rounds`` times (mean ms)."""
    from sqlmodel import Session

    from api.deps import authenticate
    from api.views import CaseList, case_view, summary
    from domain.actions import allowed_actions
    from store.queries import CaseFilter, case_facts, list_cases, visible_case

    engine = get_engine(settings.database_url)
    header = f"Bearer {keys['back_office']}"
    counted = settings.replace(rate_limit_per_minute=UNREACHED_LIMIT)
    caller = authenticate(settings, header)
    rng = random.Random(2)

    def read_one() -> None:
        with Session(engine) as session:
            case = visible_case(session, rng.choice(ids), caller)
            assert case is not None
            case_view(session, case, caller, settings).model_dump_json()

    with Session(engine) as session:
        sample = [visible_case(session, case_id, caller) for case_id in rng.sample(ids, 50)]
    facts = [case_facts(case) for case in sample if case is not None]

    def lifecycle() -> None:
        allowed_actions(rng.choice(facts), caller)

    def list_page() -> None:
        with Session(engine) as session:
            rows, _ = list_cases(session, caller, CaseFilter(state="signing"), 20, None)
            CaseList(items=[summary(c) for c in rows], next_cursor=None).model_dump_json()

    stages: list[tuple[str, Callable[[], object]]] = [
        ("authenticate (key lookup)", lambda: authenticate(settings, header)),
        ("authenticate + rate-limit count", lambda: authenticate(counted, header)),
        ("GET one case: read + view + JSON", read_one),
        ("  of which allowed_actions (the lifecycle)", lifecycle),
        ("list state=signing: query + JSON", list_page),
    ]
    print(f"  one request's stages, in process, mean of {rounds}:")
    for name, stage in stages:
        stage()  # warm
        begin = time.perf_counter()
        for _ in range(rounds):
            stage()
        print(f"    {name:<44} {(time.perf_counter() - begin) / rounds * 1000:7.2f} ms")


# -- one store --------------------------------------------------------------------------------
def load() -> str:
    """The machine's load average: other work on the same two cores shows in every figure."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} / {five:.1f}"


def run_store(label: str, url: str, tmp: Path, args: argparse.Namespace) -> bool:
    """Build, serve, measure and print; True when the list target is met."""
    ids, keys, built = build(url, args.cases)
    print(f"{label}: {len(ids)} cases built in {built:.1f} s ({load()})", flush=True)
    settings = Settings(
        var_dir=tmp,
        database_url=url,
        documents_dir=tmp / "documents",
        outbox_dir=tmp / "outbox",
        secret_key="bench-" + "x" * 40,
        temporal_address="127.0.0.1:1",  # never contacted by the read path
        rate_limit_per_minute=0,
    )
    get_engine(url).dispose()  # no connection of this process held open while serving
    rng = random.Random(1)
    cases = scenarios(ids, keys, rng)
    worst = {1: 0.0, args.concurrency: 0.0}
    with api_process(settings) as base:
        print(f"  {args.requests} requests per line, rate limit off", flush=True)
        for scenario in cases:
            for concurrency in worst:
                p95 = measure(base, scenario, concurrency, args)
                if scenario.listed:
                    worst[concurrency] = max(worst[concurrency], p95)
    limited = settings.replace(rate_limit_per_minute=UNREACHED_LIMIT)
    with api_process(limited) as base:
        print("  rate limit on (each request counted in the store)", flush=True)
        for scenario in (cases[0], cases[3]):
            counted = replace(scenario, name=scenario.name + " [rate limit]")
            for concurrency in worst:
                measure(base, counted, concurrency, args)
    breakdown(settings, ids, keys, args.rounds)
    met = worst[args.concurrency] <= TARGET_MS
    print(f"  {load()} at the end", flush=True)
    print(
        f"  target: list p95 <= {TARGET_MS:.0f} ms for indexed filters: "
        f"{'met' if met else 'missed'} at c={args.concurrency} "
        f"(worst p95 {worst[args.concurrency]:.1f} ms; at c=1 {worst[1]:.1f} ms)",
        flush=True,
    )
    get_engine(url).dispose()
    return met


@contextmanager
def pg_database(server_url: str) -> Iterator[str | None]:
    """A throwaway database's URL, dropped afterwards; None (reason printed) if unreachable."""
    try:
        import psycopg

        admin = psycopg.connect(f"{server_url}/postgres", autocommit=True, connect_timeout=3)
    except Exception as exc:  # noqa: BLE001 - any failure means: skip PostgreSQL
        print(f"PostgreSQL: skipped ({server_url} not reachable: {str(exc).strip()[:120]})")
        yield None
        return
    name = f"dihflow_bench_{os.getpid()}"
    try:
        admin.execute(f'CREATE DATABASE "{name}"')
        yield f"{server_url}/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=2_000, help="per line")
    parser.add_argument("--concurrency", type=int, default=8, help="the bounded concurrency")
    parser.add_argument("--max-seconds", type=float, default=60, help="time budget per line")
    parser.add_argument("--rounds", type=int, default=200, help="per stage of the breakdown")
    parser.add_argument("--quick", action="store_true", help="2_000 cases, 60 requests a line")
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432")
    args = parser.parse_args(argv)
    if args.quick:
        args.cases, args.requests, args.rounds, args.max_seconds = 2_000, 60, 20, 15
    with tempfile.TemporaryDirectory(prefix="dihflow-bench-") as tmpdir:
        tmp = Path(tmpdir)
        run_store("SQLite", f"sqlite:///{tmp / 'read.db'}", tmp, args)
        if args.sqlite_only:
            print("PostgreSQL: skipped (--sqlite-only)")
        else:
            with pg_database(args.pg_url) as url:
                if url is not None:
                    run_store("PostgreSQL", url, tmp, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
