"""Staff pages against the JSON API: server time of the Cases page and of a Case page beside
``GET /v1/cases`` and ``GET /v1/cases/{id}`` for the same filter and the same cases, in one run.

The store is bulk-built with N cases (``bench/read_model.py``; no workflow runs), and a sample
of them get a timeline of a realistic length (a chained event per step), so a Case page has
something to show. The app is called in process through httpx's ASGI transport: what is timed
is the server's work for one request (routing, authentication, the store, rendering), with no
network and no client parsing. The JSON call and the page are asked in turn, so both see the
same moments of a shared machine's load. Each line: p50 / p95 over the requests, the page
lines with their ratio to the JSON line of the same reads. Target: a page within 2 x its JSON
call.

    .venv/bin/python bench/pages.py                          # 100_000 cases, SQLite + PostgreSQL
    .venv/bin/python bench/pages.py --quick --sqlite-only    # smoke test: the suite runs this
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
from sqlalchemy import insert, update  # noqa: E402

from base.settings import Settings  # noqa: E402
from bench.read_model import build  # noqa: E402
from bench.read_path import load, pct, pg_database  # noqa: E402
from domain.timeline import GENESIS, chain_event  # noqa: E402
from store.db import get_engine  # noqa: E402
from store.models import Case, TimelineEntry  # noqa: E402

TARGET_RATIO = 2.0
TIMELINE_STEPS = (
    "case_requested",
    "partners_invited",
    "invitation_accepted",
    "partnering_closed",
    "draft_rendered",
    "changes_requested",
    "draft_revised",
    "draft_rendered",
    "draft_approved",
    "signed",
    "signed",
    "reminder_sent",
    "signed",
    "agreement_executed",
)
# The same filter in both spellings (the API's overdue=true, the page's overdue=yes), and the
# JSON list asked for as many rows as the page shows.
FILTERS = (
    ("state=signing", "state=signing"),
    ("scenario=joint_service&overdue=true", "scenario=joint_service&overdue=yes"),
    ("", ""),
)


@dataclass
class Line:
    name: str
    p50: float
    p95: float


def add_timelines(url: str, case_ids: list[str]) -> None:
    """A chained timeline for each of ``case_ids`` (their snapshots' seq and head follow)."""
    rows, heads = [], {}
    for case_id in case_ids:
        seq, prev = 0, GENESIS
        for n, type_ in enumerate(TIMELINE_STEPS):
            at = f"2026-02-{1 + n:02d}T10:00:00+00:00"
            event = chain_event(seq, prev, type_, "system", at, {"step": n})
            rows.append({"case_id": case_id, **event.model_dump()})
            seq, prev = event.seq, event.hash
        heads[case_id] = (seq, prev)
    with get_engine(url).begin() as conn:
        conn.execute(insert(TimelineEntry.__table__), rows)  # type: ignore[attr-defined]
        for case_id, (seq, head) in heads.items():
            conn.execute(
                update(Case.__table__)  # type: ignore[attr-defined]
                .where(Case.__table__.c.id == case_id)  # type: ignore[attr-defined]
                .values(seq=seq, head_hash=head)
            )


Call = Callable[[], Awaitable[httpx.Response]]


async def timed(json_call: Call, page_call: Call, n: int) -> tuple[list[float], list[float]]:
    """Seconds per call of each, ``n`` pairs one after the other (the JSON call, then the
    page), after 5 unmeasured pairs: both see the same moments of a shared machine's load."""
    out: tuple[list[float], list[float]] = ([], [])
    for i in range(n + 5):
        for call, times in ((json_call, out[0]), (page_call, out[1])):
            begin = time.perf_counter()
            answer = await call()
            if i >= 5:
                times.append(time.perf_counter() - begin)
            if answer.status_code != 200:
                raise SystemExit(f"{answer.request.url}: {answer.status_code} {answer.text[:200]}")
    return out


def line(name: str, latencies: list[float]) -> Line:
    result = Line(name, pct(latencies, 50), pct(latencies, 95))
    print(f"  {name:<52} p50 {result.p50:7.2f} ms  p95 {result.p95:7.2f} ms", flush=True)
    return result


def ratio(page: Line, json_line: Line) -> float:
    r = page.p50 / json_line.p50
    print(
        f"    ratio page/JSON: p50 {r:.2f}  p95 {page.p95 / json_line.p95:.2f}  "
        f"(target <= {TARGET_RATIO:.0f})",
        flush=True,
    )
    return r


async def measure(settings: Settings, ids: list[str], keys: dict[str, str], n: int) -> float:
    """Print every line; return the worst page/JSON ratio of the p50s."""
    from api.app import create_app
    from api.web.cases import PAGE_SIZE

    app = create_app(settings, run_migrations=False)
    transport = httpx.ASGITransport(app=app)
    worst = 0.0
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as api:
        staff = {"Authorization": f"Bearer {keys['back_office']}"}
        pages = await staff_pages(transport, settings)
        rng = random.Random(3)
        for flt, page_flt in FILTERS:
            json_times, page_times = await timed(
                partial(api.get, f"/v1/cases?limit={PAGE_SIZE}&{flt}", headers=staff),
                partial(pages.get, f"/cases?{page_flt}"),
                n,
            )
            json_line = line(f"GET /v1/cases?{flt or 'no filter'}", json_times)
            page_line = line(f"GET /cases?{page_flt or 'no filter'} (page)", page_times)
            worst = max(worst, ratio(page_line, json_line))
        if (await pages.get(f"/cases/{ids[0]}")).status_code == 404:
            print("  GET /cases/{id} (page): no Case page in this build", flush=True)
        else:
            picked = [rng.choice(ids) for _ in range(n + 5)]
            json_ids, page_ids = iter(picked), iter(picked)  # the same cases on both sides
            json_times, page_times = await timed(
                lambda: api.get(f"/v1/cases/{next(json_ids)}", headers=staff),
                lambda: pages.get(f"/cases/{next(page_ids)}"),
                n,
            )
            json_line = line("GET /v1/cases/{id} (14 timeline events)", json_times)
            page_line = line("GET /cases/{id} (page)", page_times)
            worst = max(worst, ratio(page_line, json_line))
        await pages.aclose()
    return worst


BENCH_PASSWORD = "bench password for the staff pages"


async def staff_pages(transport: httpx.ASGITransport, settings: Settings) -> httpx.AsyncClient:
    """A client of the same app signed in to the staff pages as a back-office account, as a
    browser signs in (the form's token, then the post)."""
    from store.db import session_scope
    from store.staff import create_account, find_account

    with session_scope(settings.database_url) as session:
        if find_account(session, "bench-office") is None:
            create_account(session, "bench-office", "back_office", "Bench", BENCH_PASSWORD)
    pages = httpx.AsyncClient(transport=transport, base_url="http://bench")
    form = await pages.get("/sign-in")
    token = re.search(r'name="sign_in_token" value="([^"]+)"', form.text)
    assert token, "the sign-in page has no token"
    answer = await pages.post(
        "/sign-in",
        data={"username": "bench-office", "password": BENCH_PASSWORD, "sign_in_token": token[1]},
    )
    if answer.status_code != 303:
        raise SystemExit(f"signing in to the pages failed: {answer.status_code}")
    return pages


def run_store(label: str, url: str, tmp: Path, args: argparse.Namespace) -> None:
    ids, keys, built = build(url, args.cases)
    sample = random.Random(2).sample(ids, min(len(ids), args.sample))
    add_timelines(url, sample)
    print(f"{label}: {len(ids)} cases built in {built:.1f} s ({load()})", flush=True)
    settings = Settings(
        var_dir=tmp,
        database_url=url,
        documents_dir=tmp / "documents",
        outbox_dir=tmp / "outbox",
        secret_key="bench-" + "x" * 40,
        temporal_address="127.0.0.1:1",  # never contacted: reads only
        rate_limit_per_minute=0,
    )
    print(f"  {args.requests} requests per line, in process, one at a time", flush=True)
    worst = asyncio.run(measure(settings, sample, keys, args.requests))
    if worst:
        met = "met" if worst <= TARGET_RATIO else "missed"
        print(
            f"  target: page within {TARGET_RATIO:.0f} x its JSON call: {met} (worst {worst:.2f})"
        )
    else:
        print("  pages: not measured (no staff pages in this build)")
    get_engine(url).dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300, help="per line")
    parser.add_argument("--sample", type=int, default=200, help="cases given a timeline")
    parser.add_argument("--quick", action="store_true", help="2_000 cases, 30 requests a line")
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432")
    args = parser.parse_args(argv)
    if args.quick:
        args.cases, args.requests, args.sample = 2_000, 30, 50
    with tempfile.TemporaryDirectory(prefix="dihflow-bench-") as tmpdir:
        tmp = Path(tmpdir)
        run_store("SQLite", f"sqlite:///{tmp / 'pages.db'}", tmp, args)
        if args.sqlite_only:
            print("PostgreSQL: skipped (--sqlite-only)")
        else:
            with pg_database(args.pg_url) as url:
                if url is not None:
                    run_store("PostgreSQL", url, tmp, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
