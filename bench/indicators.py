"""Indicators and the network report over N ended cases, beside the time to read the same rows
raw.

Builds N cases that ended in 2025 straight into the store (bulk inserts, no workflow): the
three scenarios with every ending, each with its parties (a lead and one to three invited hubs
of the 30 demo hubs), timeline events of partnering and of its ending, its phases, reviews
(a survey and two peer reviews on most completed cases) and milestones; then their summaries
(``store.summary.rebuild_summaries``, what migration 0014 runs; the projection writes the same
rows one case at a time). Then measures, on SQLite and on PostgreSQL:

- the network's indicators for the year (``store.indicators``), and a hub's, p50/p95 over runs;
- the whole report (data, four charts, HTML and .docx; the PDF's LibreOffice conversion is left
  out: it is measured in ``bench/documents.py``) and the KPI export's rows;
- beside them, reading the same rows raw: every row of the tables the indicators read, for the
  cases of the year, fetched into Python (the floor any per-case computation would start from).

Targets: indicators p95 <= 500 ms, the whole report <= 30 s at 100_000 cases.

    .venv/bin/python bench/indicators.py                        # 100_000 cases, both stores
    .venv/bin/python bench/indicators.py --quick --sqlite-only  # smoke test: the suite runs this
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from bench.read_path import pg_database  # noqa: E402
from dihflow.seed import seed_demo_network  # noqa: E402
from domain.hubs import load_demo_network  # noqa: E402
from store.db import get_engine, migrate, session_scope  # noqa: E402
from store.indicators import Scope, indicators  # noqa: E402
from store.kpis import kpi_rows  # noqa: E402
from store.models import (  # noqa: E402
    Case,
    CaseMilestone,
    CaseParty,
    CasePhase,
    CaseReview,
    TimelineEntry,
)
from store.summary import rebuild_summaries  # noqa: E402

YEAR = (datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))
BATCH = 5_000
TARGET_INDICATORS_MS = 500.0
TARGET_REPORT_S = 30.0
PHASES = {
    "joint_service": ["requested", "partnering", "legal_review", "signing", "delivery", "review"],
    "co_development": [
        "requested",
        "partnering",
        "legal_review",
        "signing",
        "development",
        "pilot",
        "review",
    ],
    "matchmaking": ["requested", "matching", "introducing", "meeting", "follow_up", "review"],
}
ENDINGS = [  # (state, outcome, weight)
    ("closed", "completed", 60),
    ("closed", "no_review", 10),
    ("cancelled", None, 12),
    ("expired", None, 12),
    ("rejected", None, 6),
]
REASONS = ["budget cut", "client withdrew", "no capacity this year", "scope changed", ""]
HASH = "0" * 64


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


# -- building the store -------------------------------------------------------------------------
def build(url: str, n: int, seed: int = 7) -> tuple[float, float]:
    """N ended cases in the store, then their summaries; the seconds each took."""
    began = time.perf_counter()
    migrate(url)
    seed_demo_network(url)
    hubs = [h.id for h in load_demo_network()]
    rng = random.Random(seed)
    endings, weights = ENDINGS, [w for *_, w in ENDINGS]
    rows: dict[str, list[dict[str, Any]]] = {t: [] for t in TABLES}
    engine = get_engine(url)
    for i in range(n):
        _case(rows, i, rng, hubs, rng.choices(endings, weights)[0])
        if (i + 1) % BATCH == 0:
            _flush(engine, rows)
    _flush(engine, rows)
    built = time.perf_counter() - began
    began = time.perf_counter()
    with engine.begin() as conn:
        rebuild_summaries(conn)
    return built, time.perf_counter() - began


TABLES: dict[str, Any] = {
    "case": Case.__table__,  # type: ignore[attr-defined]
    "party": CaseParty.__table__,  # type: ignore[attr-defined]
    "event": TimelineEntry.__table__,  # type: ignore[attr-defined]
    "phase": CasePhase.__table__,  # type: ignore[attr-defined]
    "review": CaseReview.__table__,  # type: ignore[attr-defined]
    "milestone": CaseMilestone.__table__,  # type: ignore[attr-defined]
}


def _flush(engine: Any, rows: dict[str, list[dict[str, Any]]]) -> None:
    with engine.begin() as conn:
        for name, table in TABLES.items():  # cases first: the others refer to them
            if rows[name]:
                conn.execute(sa.insert(table), rows[name])
                rows[name].clear()


def _case(
    rows: dict[str, list[dict[str, Any]]],
    i: int,
    rng: random.Random,
    hubs: list[str],
    ending: tuple[str, str | None, int],
) -> None:
    state, outcome, _ = ending
    scenario = rng.choice(list(PHASES))
    case_id = f"b{i:07d}"
    lead, *others = rng.sample(hubs, 4)
    invited = others[: rng.randint(1, 3)]
    start = YEAR[0] + timedelta(minutes=rng.randrange(300 * 24 * 60))
    at = start
    seq = 0

    def event(type_: str, when: datetime, **data: Any) -> None:
        nonlocal seq
        seq += 1
        rows["event"].append(
            {
                "case_id": case_id,
                "seq": seq,
                "type": type_,
                "actor": "system",
                "at": when.isoformat(),
                "data": data,
                "prev": HASH,
                "hash": HASH,
            }
        )

    event("case_requested", at)
    phases = PHASES[scenario]
    reached = len(phases) if state == "closed" else rng.randint(1, len(phases) - 1)
    if state == "rejected":
        reached = 1
    partners: list[str] = []
    for k, phase in enumerate(phases[:reached]):
        days = rng.uniform(0.2, 25.0 if phase in ("delivery", "development") else 8.0)
        left = at + timedelta(days=days)
        rows["phase"].append(
            {
                "case_id": case_id,
                "entered_seq": k + 1,
                "state": phase,
                "entered_at": at,
                "left_at": left,
            }
        )
        if phase == "partnering":
            event("partners_invited", at, hub_ids=invited)
            for h in invited:
                answer = rng.choices(["accepted", "declined", "lapsed"], [65, 20, 15])[0]
                event(f"invitation_{answer}", at + timedelta(days=rng.uniform(0.1, days)), hub_id=h)
                rows["party"].append(
                    {
                        "case_id": case_id,
                        "hub_id": h,
                        "created_at": start,
                        "role": "partner" if answer == "accepted" else answer,
                    }
                )
                if answer == "accepted":
                    partners.append(h)
        if phase in ("delivery", "development"):
            for h in partners or [lead]:
                due = (at + timedelta(days=days * 0.8)).date()
                submitted = at + timedelta(days=rng.uniform(0.3, 1.1) * days)
                rows["milestone"].append(
                    {
                        "case_id": case_id,
                        "deliverable_id": f"d-{h}",
                        "hub_id": h,
                        "due": due.isoformat(),
                        "submitted_at": submitted,
                        "accepted_at": left,
                        "on_time": submitted.date() <= due,
                    }
                )
        at = left
    if scenario == "matchmaking" and reached > 3:
        partners = invited[:1]
        rows["party"].append(
            {"case_id": case_id, "hub_id": partners[0], "created_at": start, "role": "matched"}
        )
    rows["party"].append({"case_id": case_id, "hub_id": lead, "created_at": start, "role": "lead"})
    reason = ""
    if state == "expired":
        event(
            "expired", at, reason=rng.choice(["no partner confirmed", "the signing round ran out"])
        )
    elif state in ("cancelled", "rejected"):
        reason = rng.choice(REASONS)
        event("cancelled" if state == "cancelled" else "request_rejected", at)
    else:
        event("closed", at, outcome=outcome)
    if outcome == "completed":
        _reviews(rows, case_id, scenario, lead, partners, rng, at)
    customer = {
        "name": "Bench customer",
        "country": rng.choice(["PT", "ES", "DE", "IT"]),
        "email": "x@bench.example",
        "size": rng.choice(["micro", "small", "medium"]),
    }
    facts = {
        "case_id": case_id,
        "created_at": start.isoformat(),
        "end_reason": reason,
        "client": customer if scenario == "joint_service" else None,
        "local_player": customer if scenario == "matchmaking" else None,
        "wanted_services": ["digital_maturity_assessment"],
    }
    rows["case"].append(
        {
            "id": case_id,
            "scenario": scenario,
            "state": state,
            "outcome": outcome,
            "title": f"Bench case {i}",
            "lead_hub_id": lead,
            "facts": facts,
            "seq": seq,
            "head_hash": HASH,
            "next_deadline": None,
            "overdue": False,
            "created_at": start,
            "updated_at": at,
            "state_since": at,
        }
    )


def _reviews(
    rows: dict[str, list[dict[str, Any]]],
    case_id: str,
    scenario: str,
    lead: str,
    partners: list[str],
    rng: random.Random,
    at: datetime,
) -> None:
    base = {"case_id": case_id, "scenario": scenario, "comment": "", "submitted_at": at}
    blank = dict.fromkeys(
        (
            "quality",
            "timeliness",
            "communication",
            "value",
            "would_recommend",
            "reliability",
            "contribution",
            "would_collaborate_again",
            "rating",
        )
    )
    if scenario != "co_development" and rng.random() < 0.8:
        scores = [rng.randint(2, 5) for _ in range(4)]
        rows["review"].append(
            base
            | blank
            | {
                "reviewer": "client",
                "subject": "",
                "kind": "survey",
                "quality": scores[0],
                "timeliness": scores[1],
                "communication": scores[2],
                "value": scores[3],
                "would_recommend": rng.random() < 0.8,
                "rating": int(sum(scores) / 4 + 0.5),
            }
        )
    for p in partners:
        for reviewer, subject in ((p, lead), (lead, p)):
            if rng.random() < 0.7:
                rows["review"].append(
                    base
                    | blank
                    | {
                        "reviewer": reviewer,
                        "subject": subject,
                        "kind": "peer",
                        "reliability": rng.randint(2, 5),
                        "contribution": rng.randint(2, 5),
                        "would_collaborate_again": rng.random() < 0.85,
                    }
                )


# -- measuring ------------------------------------------------------------------------------------
def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def timed(fn: Callable[[], Any], runs: int) -> list[float]:
    fn()  # warm: plans, caches
    out = []
    for _ in range(runs):
        began = time.perf_counter()
        fn()
        out.append((time.perf_counter() - began) * 1000)
    return out


def read_raw(url: str, scope: Scope) -> int:
    """Every row the indicators read for the period, fetched: the cases ended in it and their
    parties, events, phases, reviews and milestones."""
    ended = (
        sa.select(Case.id)
        .where(Case.state_since >= scope.start, Case.state_since < scope.end)  # type: ignore[operator]
        .scalar_subquery()
    )
    fetched = 0
    with session_scope(url) as session:
        for name, table in TABLES.items():
            key = table.c.id if name == "case" else table.c.case_id
            result = session.execute(sa.select(table).where(key.in_(ended)))
            for _ in result.yield_per(BATCH):
                fetched += 1
    return fetched


def run_store(label: str, url: str, args: argparse.Namespace) -> None:
    built, summarised = build(url, args.cases)
    say(
        f"{label}: {args.cases} ended cases built in {built:.1f} s,"
        f" their summaries in {summarised:.1f} s"
    )
    scope = Scope(*YEAR)
    hub = "tagus-ai"
    with session_scope(url) as session:
        network = timed(lambda: indicators(session, scope), args.runs)
        one_hub = timed(lambda: indicators(session, Scope(*YEAR, hub_id=hub)), args.runs)
        sample = indicators(session, scope)
    raw_rows = 0

    def raw() -> None:
        nonlocal raw_rows
        raw_rows = read_raw(url, scope)

    raw_ms = timed(raw, max(3, args.runs // 5))
    say(
        f"{label}: network indicators p50 {pct(network, 50):.0f} ms, p95 {pct(network, 95):.0f} ms"
        f" (target p95 <= {TARGET_INDICATORS_MS:.0f} ms) over {args.runs} runs;"
        f" {sample['cases']['total']} cases in the year"
    )
    say(
        f"{label}: hub indicators ({hub}) p50 {pct(one_hub, 50):.0f} ms,"
        f" p95 {pct(one_hub, 95):.0f} ms"
    )
    say(
        f"{label}: reading the same rows raw ({raw_rows} rows) p50 {pct(raw_ms, 50):.0f} ms;"
        f" indicators / raw = {pct(network, 50) / pct(raw_ms, 50):.2f}"
    )
    from documents.report import build_report, report_docx, report_html

    began = time.perf_counter()
    with session_scope(url) as session:
        report = build_report(session, *YEAR)
    data_s = time.perf_counter() - began
    html, docx = report_html(report), report_docx(report)
    whole = time.perf_counter() - began
    say(
        f"{label}: whole report {whole:.1f} s (target <= {TARGET_REPORT_S:.0f} s): data and charts"
        f" {data_s:.1f} s, HTML {len(html) // 1024} KB, .docx {len(docx) // 1024} KB"
    )
    began = time.perf_counter()
    with session_scope(url) as session:
        exported = sum(1 for _ in kpi_rows(session, scope))
    say(f"{label}: KPI export {exported} rows in {time.perf_counter() - began:.1f} s")
    get_engine(url).dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20, help="timed runs per indicator line")
    parser.add_argument("--quick", action="store_true", help="2_000 cases, 5 runs")
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--postgres-only", action="store_true")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432")
    args = parser.parse_args(argv)
    if args.quick:
        args.cases, args.runs = 2_000, 5
    with tempfile.TemporaryDirectory(prefix="dihflow-bench-") as tmpdir:
        if not args.postgres_only:
            run_store("SQLite", f"sqlite:///{Path(tmpdir) / 'indicators.db'}", args)
        if args.sqlite_only:
            say("PostgreSQL: skipped (--sqlite-only)")
        else:
            with pg_database(args.pg_url) as url:
                if url is not None:
                    run_store("PostgreSQL", url, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
