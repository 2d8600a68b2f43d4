"""The store side of a case: CPU per case of its projections (``activities.projection.project``),
in process, without the engine.

The inputs are the real ones: every ``project_step`` input of a saved history (by default a
joint-service case from its opening to its last peer review, 13 projections), decoded as the
worker decodes them, then projected for N cases (the case id made unique per case) into a fresh
store with the demo network. Each case's projections are also run a second time (a retried
projection: it must add nothing), and timed apart.

    .venv/bin/python bench/projection.py                      # SQLite, 200 cases
    .venv/bin/python bench/projection.py --database-url postgresql+psycopg://...
    .venv/bin/python bench/projection.py --quick              # 3 cases: the suite runs this

Prints CPU per case (process time: this is single-threaded, so it is the projection's own CPU,
the database's included on SQLite), per projection, and for the retries.
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from activities.payloads import ProjectInput  # noqa: E402
from activities.projection import project  # noqa: E402
from dihflow.seed import seed_demo_network  # noqa: E402
from store.db import session_scope  # noqa: E402
from store.models import Document  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
HISTORY = ROOT / "tests/workflows/histories/joint_service_completed_suggestions.json"
SECRET = "bench-secret-key-bench-secret-key"


def inputs(history: Path) -> list[ProjectInput]:
    """The history's ``project_step`` inputs, in order."""
    found = []
    for event in json.loads(history.read_text())["events"]:
        attrs = event.get("activityTaskScheduledEventAttributes")
        if attrs is None or attrs["activityType"]["name"] != "project_step":
            continue
        payload = attrs["input"]["payloads"][0]
        found.append(ProjectInput.model_validate_json(base64.b64decode(payload["data"])))
    if not found:
        raise SystemExit(f"{history} has no project_step activity")
    return found


def for_case(steps: list[ProjectInput], case_id: str) -> list[ProjectInput]:
    """The same projections for another case id (its signatures over its own draft)."""
    out = []
    for step in steps:
        update: dict[str, object] = {"facts": step.facts.model_copy(update={"case_id": case_id})}
        if step.signature is not None:
            update["signature"] = step.signature.model_copy(update={"document_id": f"{case_id}-v1"})
        out.append(step.model_copy(update=update))
    return out


def add_draft(url: str, case_id: str, sha256: str) -> None:
    """The draft the signatures are over (written by ``render_agreement`` in a real case)."""
    with session_scope(url) as session:
        session.add(
            Document(
                id=f"{case_id}-v1",
                case_id=case_id,
                version=1,
                template="specific_collaboration_agreement",
                template_version="1",
                template_sha256=sha256,
                variables_sha256=sha256,
                sha256=sha256,
                path="bench.docx",
                size=1,
            )
        )


def run(url: str, cases: int, history: Path) -> dict[str, list[float]]:
    seed_demo_network(url)
    steps = inputs(history)
    print(f"{len(steps)} projections per case ({history.name}); {cases} cases; {url.split(':')[0]}")
    times: dict[str, list[float]] = {"case": [], "retry": [], "step": []}
    added = 0
    for n in range(cases):
        mine = for_case(steps, f"bench-{n:06d}-{time.time_ns() % 10**9}")
        spent = 0.0
        for step in mine:
            if step.signature is not None and step.signature.party == step.facts.lead_hub_id:
                add_draft(url, step.facts.case_id, step.signature.document_sha256)  # not timed
            t = time.process_time()
            with session_scope(url) as session:
                added += project(session, step, SECRET)
            times["step"].append(time.process_time() - t)
            spent += times["step"][-1]
        times["case"].append(spent)
        started = time.process_time()
        again = 0
        for step in mine:  # a retried projection adds nothing
            with session_scope(url) as session:
                again += project(session, step, SECRET)
        times["retry"].append(time.process_time() - started)
        if again:
            raise SystemExit(f"a retried projection added {again} outbox rows")
    print(f"outbox rows per case: {added / cases:.1f}")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: a new SQLite file")
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--history", type=Path, default=HISTORY)
    parser.add_argument("--quick", action="store_true", help="3 cases: a smoke test")
    args = parser.parse_args()
    cases = 3 if args.quick else args.cases
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        times = run(url, cases, args.history)
    ms = {k: [v * 1000 for v in vs] for k, vs in times.items()}
    warm = ms["case"][min(5, len(ms["case"]) - 1) :]  # the first cases warm the caches
    print(
        f"CPU per case: p50 {statistics.median(warm):.1f} ms, mean {statistics.mean(warm):.1f} "
        f"ms; per projection p50 {statistics.median(ms['step']):.2f} ms; a retried case's "
        f"projections p50 {statistics.median(ms['retry']):.1f} ms"
    )


if __name__ == "__main__":
    main()
