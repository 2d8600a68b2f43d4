"""Registry import: N synthetic hubs from a JSON and a CSV file into SQLite and PostgreSQL.

For each store: the first import (every hub new, with its matching vectors), the same file
again (every hub unchanged: one SELECT per batch, nothing written), and the same file with one
hub in ten changed. Beside it, in the same run, the baseline: the one-hub-at-a-time path the
API's ``PUT /v1/hubs/{id}`` takes (``upsert_hub`` per hub, one commit at the end), on a tenth
of the hubs and scaled up. Target: 10,000 hubs in well under 60 s.

    .venv/bin/python bench/registry.py                   # 10_000 hubs, SQLite + PostgreSQL
    .venv/bin/python bench/registry.py --hubs 50000 --sqlite-only
    .venv/bin/python bench/registry.py --quick --sqlite-only   # smoke test: the suite runs this

PostgreSQL: ``postgresql://postgres@127.0.0.1:5432`` (``--pg-url``); a throwaway database is
created and dropped; skipped with the reason printed when it is not reachable.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.synthetic import network  # noqa: E402
from domain.hubs import HubProfile  # noqa: E402
from domain.registry import to_csv  # noqa: E402
from store.db import get_engine, migrate, session_scope  # noqa: E402
from store.records import upsert_hub  # noqa: E402
from store.registry import import_text  # noqa: E402

TARGET_S = 60.0


@contextmanager
def postgres(base: str) -> Iterator[str | None]:
    try:
        import psycopg

        admin = f"{base}/postgres"
        psycopg.connect(admin, connect_timeout=3).close()
    except Exception as exc:  # noqa: BLE001 - any failure means: skip PostgreSQL
        print(f"PostgreSQL: skipped ({exc.__class__.__name__}: not reachable at {base})")
        yield None
        return
    name = f"dihflow_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{base}/{name}"
    try:
        yield url
    finally:
        get_engine(url).dispose()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def timed(run: Callable[[], str]) -> tuple[float, str]:
    start = time.perf_counter()
    summary = run()
    return time.perf_counter() - start, summary


def import_file(url: str, text: str, kind: str) -> Callable[[], str]:
    def run() -> str:
        with session_scope(url) as session:
            report = import_text(session, text, kind)
            session.commit()
        return report.summary()

    return run


def one_by_one(url: str, hubs: list[dict[str, object]]) -> Callable[[], str]:
    def run() -> str:
        with session_scope(url) as session:
            for data in hubs:
                upsert_hub(session, HubProfile.model_validate(data))
            session.commit()
        return f"{len(hubs)} hubs upserted one at a time"

    return run


def bench_store(label: str, url: str, n: int, json_text: str, csv_text: str) -> None:
    migrate(url)
    first, summary = timed(import_file(url, json_text, "json"))
    print(f"{label}: JSON, {n} new hubs: {first:.2f} s ({n / first:,.0f} hubs/s)  [{summary}]")
    again, summary = timed(import_file(url, csv_text, "csv"))
    print(f"{label}: CSV, the same {n} hubs again: {again:.2f} s  [{summary}]")
    hubs = json.loads(json_text)
    for hub in hubs[::10]:
        hub["description"] += " Now also offering drone inspections."
    changed_text = json.dumps(hubs)
    changed, summary = timed(import_file(url, changed_text, "json"))
    print(f"{label}: JSON, one hub in ten changed: {changed:.2f} s  [{summary}]")
    sample = [dict(h, id=f"single-{h['id']}") for h in hubs[: max(n // 10, 1)]]
    single, summary = timed(one_by_one(url, sample))
    scaled = single * n / len(sample)
    print(
        f"{label}: baseline, upsert_hub one at a time: {single:.2f} s for {len(sample)} "
        f"-> {scaled:.1f} s for {n} (scaled); bulk import is {scaled / first:.1f}x faster"
    )
    verdict = "within" if first <= TARGET_S else "OVER"
    print(f"{label}: {n} hubs in {first:.2f} s: {verdict} the {TARGET_S:.0f} s target")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hubs", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="500 hubs (smoke test)")
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    n = 500 if args.quick else args.hubs
    hubs = list(network(n))
    json_text = json.dumps(hubs)
    csv_text = "".join(to_csv(HubProfile.model_validate(h) for h in hubs))
    print(
        f"{n} synthetic hubs: JSON {len(json_text) / 1e6:.1f} MB, CSV {len(csv_text) / 1e6:.1f} MB"
    )
    with tempfile.TemporaryDirectory() as tmp:
        bench_store("SQLite", f"sqlite:///{Path(tmp) / 'registry.db'}", n, json_text, csv_text)
    if not args.sqlite_only:
        with postgres(args.pg_url) as url:
            if url:
                bench_store("PostgreSQL", url, n, json_text, csv_text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
