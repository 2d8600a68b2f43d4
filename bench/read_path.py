"""Read-path latency: the API's case reads against a read model of N cases.

Builds the read model directly in the store (bulk inserts of cases and their parties over the
30 demo hubs), serves the API in-process (uvicorn on a free local port, no rate limit) and
drives it with a bounded number of concurrent clients. Per scenario: p50/p95/p99 latency and
requests per second. Target: list p95 <= 30 ms for the indexed filters (text search, an
unindexed ILIKE today, is measured separately).

    .venv/bin/python bench/read_path.py                        # 100_000 cases, SQLite + PostgreSQL
    .venv/bin/python bench/read_path.py --cases 20000 --sqlite-only
    .venv/bin/python bench/read_path.py --quick --sqlite-only  # smoke test: the suite runs this

PostgreSQL: ``postgresql://postgres@127.0.0.1:5432`` (``--pg-url``); a throwaway database is
created and dropped afterwards; skipped with the reason printed when it is not reachable.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
import uvicorn  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from api.app import create_app  # noqa: E402
from dihflow.seed import create_key, seed_demo_network  # noqa: E402
from dihflow.settings import Settings  # noqa: E402
from domain.cases import CaseFacts, ClientInfo, Role  # noqa: E402
from domain.hubs import load_demo_network  # noqa: E402
from domain.lifecycle import LIFECYCLES  # noqa: E402
from domain.timeline import chain_event  # noqa: E402
from store.db import get_engine  # noqa: E402
from store.models import Case, CaseParty  # noqa: E402

TARGET_MS = 30.0
MEMBER_HUB = "tagus-ai"
TEXT_WORD = "cork"  # in about one title in eight
BATCH = 5_000
BASE = datetime(2026, 1, 1, tzinfo=UTC)
EARLY = {"requested", "partnering", "matching", "introducing"}  # invitations not yet answered

TOPICS = ("quality inspection", "demand forecasting", "predictive maintenance", "route planning")
SECTORS = ("cork", "textile", "dairy", "ceramics", "shipping", "wine", "timber", "glass")
METHODS = ("computer vision", "time series", "language models", "optimisation")

SCENARIO_FIELDS: dict[str, dict[str, Any]] = {
    "joint_service": {
        "client": ClientInfo(name="Cortica Exemplo Lda", country="PT", email="ops@cortica.example"),
    },
    "co_development": {
        "service_name": "Edge AI quality inspection",
        "service_description": "A shared visual-inspection service for SMEs",
        "ipr_model": "joint_ownership",
    },
    "matchmaking": {
        "local_player": ClientInfo(name="Vision Start-up", country="ES", email="cto@vs.example"),
        "wanted_services": ["ai-prototyping"],
    },
}


# -- the read model ---------------------------------------------------------------------------
def templates() -> dict[tuple[str, str], dict[str, Any]]:
    """Facts JSON per (scenario, state), each validated once as CaseFacts; rows copy it and
    change the ids, title and parties."""
    first = chain_event(0, "0" * 64, "case_requested", "bench", BASE.isoformat(), {})
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for scenario, chart in LIFECYCLES.items():
        for state in chart.states:
            facts = CaseFacts(
                case_id="case-template",
                scenario=scenario,
                state=state.value,
                title="template",
                need="Detect defects on a production line",
                scope="Data collection, model, pilot",
                lead_hub_id=MEMBER_HUB,
                start_date="2026-03-01",
                end_date="2026-09-30",
                partnering_days=14,
                review_days=30,
                created_at=BASE.isoformat(),
                seq=first.seq,
                head_hash=first.hash,
                **SCENARIO_FIELDS[str(scenario)],
            )
            out[(str(scenario), state.value)] = facts.model_dump(mode="json")
    return out


def case_rows(
    n: int, hubs: list[str], rng: random.Random
) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    """Batches of (case rows, party rows)."""
    tpl = templates()
    variants = list(tpl)
    cases: list[dict[str, Any]] = []
    parties: list[dict[str, Any]] = []
    for i in range(n):
        scenario, state = variants[rng.randrange(len(variants))]
        lead, *others = rng.sample(hubs, 1 + rng.randint(1, 2))
        case_id = f"case-{i:07d}"
        title = (
            f"{rng.choice(TOPICS).capitalize()} with {rng.choice(METHODS)} "
            f"for {rng.choice(SECTORS)} producers"
        )
        created = BASE + timedelta(seconds=37 * i)
        facts = dict(tpl[(scenario, state)])
        facts.update(case_id=case_id, title=title, lead_hub_id=lead, created_at=created.isoformat())
        early = state in EARLY
        if scenario == "matchmaking":
            facts["introductions"] = [{"hub_id": h} for h in others]
            role = "candidate"
        else:
            status = "pending" if early else "accepted"
            facts["invitations"] = [{"hub_id": h, "status": status} for h in others]
            role = "invited" if early else "partner"
        cases.append(
            {
                "id": case_id,
                "scenario": scenario,
                "state": state,
                "outcome": None,
                "title": title,
                "lead_hub_id": lead,
                "facts": facts,
                "seq": facts["seq"],
                "head_hash": facts["head_hash"],
                "next_deadline": None,
                "overdue": rng.random() < 0.05,
                "created_at": created,
                "updated_at": created + timedelta(hours=rng.randint(0, 500)),
            }
        )
        parties.append({"case_id": case_id, "hub_id": lead, "role": "lead"})
        parties += [{"case_id": case_id, "hub_id": h, "role": role} for h in others]
        if len(cases) >= BATCH:
            yield cases, parties
            cases, parties = [], []
    if cases:
        yield cases, parties


def build(url: str, n: int) -> tuple[list[str], dict[str, str], float]:
    """Case ids, API keys and the build time in seconds."""
    start = time.perf_counter()
    seed_demo_network(url)  # migrations and the 30 demo hubs
    hubs = [h.id for h in load_demo_network()]
    ids: list[str] = []
    engine = get_engine(url)
    for cases, parties in case_rows(n, hubs, random.Random(1)):
        with engine.begin() as conn:
            conn.execute(insert(Case.__table__), cases)  # type: ignore[attr-defined]
            conn.execute(insert(CaseParty.__table__), parties)  # type: ignore[attr-defined]
        ids += [c["id"] for c in cases]
    if url.startswith("postgresql"):
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    keys = {
        "back_office": create_key(url, Role.back_office, None, "bench"),
        "member": create_key(url, Role.hub_member, MEMBER_HUB, "bench"),
    }
    return ids, keys, time.perf_counter() - start


# -- the server and the clients ---------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(settings: Settings) -> Iterator[str]:
    port = free_port()
    config = uvicorn.Config(
        create_app(settings, run_migrations=False),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(200):  # up to 10 s
            if server.started:
                break
            time.sleep(0.05)
        else:
            raise RuntimeError("the API did not start within 10 s")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


async def drive(
    base: str, key: str, paths: list[str], concurrency: int
) -> tuple[list[float], float, int]:
    """Latencies (s), wall time (s) and the count of non-200 answers."""
    latencies: list[float] = []
    errors = 0
    queue = iter(paths)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(
        base_url=base, headers=headers, limits=limits, timeout=60
    ) as client:

        async def worker() -> None:
            nonlocal errors
            for path in queue:  # a shared iterator: each path is taken once
                start = time.perf_counter()
                response = await client.get(path)
                latencies.append(time.perf_counter() - start)
                if response.status_code != 200:
                    errors += 1

        for path in paths[: min(20, len(paths))]:  # warm-up, not measured
            await client.get(path)
        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - start
    return latencies, wall, errors


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


def scenarios(
    ids: list[str], keys: dict[str, str], requests: int, rng: random.Random
) -> list[tuple[str, str, bool, Callable[[], str]]]:
    """(name, key, counts for the list target, path maker)."""
    hubs = [h.id for h in load_demo_network()]
    return [
        ("GET /v1/cases/{id}", keys["back_office"], False, lambda: f"/v1/cases/{rng.choice(ids)}"),
        ("list state=signing", keys["back_office"], True, lambda: "/v1/cases?state=signing"),
        (
            "list hub=<hub>&scenario=joint_service",
            keys["back_office"],
            True,
            lambda: f"/v1/cases?hub={rng.choice(hubs)}&scenario=joint_service",
        ),
        (f"list own cases ({MEMBER_HUB} member)", keys["member"], True, lambda: "/v1/cases"),
        (
            f"list text={TEXT_WORD} (ILIKE)",
            keys["back_office"],
            False,
            lambda: f"/v1/cases?text={TEXT_WORD}",
        ),
    ]


def run_store(label: str, url: str, tmp: Path, args: argparse.Namespace) -> bool:
    """Build, serve, measure and print; True when the list target is met."""
    ids, keys, built = build(url, args.cases)
    print(f"{label}: {len(ids)} cases built in {built:.1f} s")
    settings = Settings(
        var_dir=tmp,
        database_url=url,
        documents_dir=tmp / "documents",
        outbox_dir=tmp / "outbox",
        secret_key="bench-" + "x" * 40,
        temporal_address="127.0.0.1:1",  # never contacted by the read path
        rate_limit_per_minute=0,
    )
    rng = random.Random(1)
    worst = 0.0
    with serve(settings) as base:
        print(f"  {args.concurrency} concurrent clients, {args.requests} requests per scenario")
        for name, key, listed, make in scenarios(ids, keys, args.requests, rng):
            paths = [make() for _ in range(args.requests)]
            lat, wall, errors = asyncio.run(drive(base, key, paths, args.concurrency))
            p50, p95, p99 = pct(lat, 50), pct(lat, 95), pct(lat, 99)
            note = f"  ({errors} errors)" if errors else ""
            print(
                f"  {name:<44} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  p99 {p99:7.1f} ms"
                f"  {len(lat) / wall:7.1f} req/s{note}"
            )
            if listed:
                worst = max(worst, p95)
            if errors:
                raise SystemExit(f"{name}: {errors} requests did not answer 200")
    met = worst <= TARGET_MS
    print(
        f"  target: list p95 <= {TARGET_MS:.0f} ms for indexed filters: "
        f"{'met' if met else 'missed'} (worst p95 {worst:.1f} ms)"
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
    parser.add_argument("--requests", type=int, default=2_000, help="per scenario")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--quick", action="store_true", help="2_000 cases, 100 requests")
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432")
    args = parser.parse_args(argv)
    if args.quick:
        args.cases, args.requests = 2_000, 100
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
