"""A read model of N cases for the read-path benchmark, written straight into the store.

Cases over the three scenarios and every state of their lifecycles, each with a lead hub and
one or two other hubs of the 30 demo hubs; titles drawn from a few topics, methods and sectors
(one in eight names cork, one in 500 the Alentejo). Facts JSON is validated once per
(scenario, state) and copied.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from dihflow.seed import seed_demo_network
from domain.cases import CaseFacts, ClientInfo, Role
from domain.hubs import load_demo_network
from domain.lifecycle import LIFECYCLES
from domain.timeline import chain_event
from store.db import get_engine
from store.keys import create_key
from store.models import Case, CaseParty

MEMBER_HUB = "tagus-ai"
# Party rows carry the case's creation time since migration 0007; the same script also
# measures a store from before it.
PARTY_CREATED_AT = "created_at" in CaseParty.__table__.c  # type: ignore[attr-defined]
BATCH = 5_000
BASE = datetime(2026, 1, 1, tzinfo=UTC)
EARLY = {"requested", "partnering", "matching", "introducing"}  # invitations not yet answered

TOPICS = ("quality inspection", "demand forecasting", "predictive maintenance", "route planning")
SECTORS = ("cork", "textile", "dairy", "ceramics", "shipping", "wine", "timber", "glass")
METHODS = ("computer vision", "time series", "language models", "optimisation")
RARE_WORD, RARE_SHARE = "alentejo", 0.002  # about 200 titles in 100_000

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
        if rng.random() < RARE_SHARE:
            title += f" in the {RARE_WORD.capitalize()}"
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
        stamp = {"created_at": created} if PARTY_CREATED_AT else {}
        parties.append({"case_id": case_id, "hub_id": lead, "role": "lead", **stamp})
        parties += [{"case_id": case_id, "hub_id": h, "role": role, **stamp} for h in others]
        if len(cases) >= BATCH:
            yield cases, parties
            cases, parties = [], []
    if cases:
        yield cases, parties


def build(url: str, n: int) -> tuple[list[str], dict[str, str], float]:
    """Case ids, API keys (back office; a member of ``MEMBER_HUB``) and the build time in s."""
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
    with engine.begin() as conn:  # planner statistics, as a maintained database has them
        conn.exec_driver_sql("ANALYZE")
    keys = {
        "back_office": create_key(url, Role.back_office, None, "bench"),
        "member": create_key(url, Role.hub_member, MEMBER_HUB, "bench"),
    }
    return ids, keys, time.perf_counter() - start
