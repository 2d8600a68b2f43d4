"""Ranking candidate hubs for a matchmaking case: an explainable overlap score.

Score = 3 per wanted service the hub offers + 1 per word of the need found in the hub's
profile (technologies, AI subfields, sectors and description), so every point has a reason.
A richer ranking (TF-IDF, sentence embeddings) can replace this behind the same signature.
"""

from __future__ import annotations

import re
from typing import Any

from domain.cases import Candidate, CaseFacts
from domain.taxonomy import vocabulary

WORD = re.compile(r"[a-zà-ÿ0-9]{4,}")
STOPWORDS = frozenset(
    "with that this from have their they will would into about which for and the "
    "services service company companies small medium using based need needs".split()
)
LIMIT = 10


def _words(text: str) -> set[str]:
    return {w for w in WORD.findall(text.lower()) if w not in STOPWORDS}


def _profile_text(profile: dict[str, Any]) -> str:
    vocab = vocabulary()
    labels = []
    for kind in ("technologies", "ai_subfields", "sectors"):
        for code in profile.get(kind, []):
            try:
                labels.append(vocab.label(kind, code))
            except KeyError:
                continue
    return " ".join([*labels, profile.get("description", "")])


def rank(facts: CaseFacts, hubs: list[dict[str, Any]], limit: int = LIMIT) -> list[Candidate]:
    """The best ``limit`` hubs (never the lead) for the case's need, best first, with reasons."""
    vocab = vocabulary()
    need = _words(f"{facts.title} {facts.need}")
    ranked = []
    for profile in hubs:
        if profile["id"] == facts.lead_hub_id:
            continue
        reasons = []
        offered = [s for s in facts.wanted_services if s in profile.get("services", [])]
        reasons += [f"offers {vocab.label('services', s)}" for s in offered]
        shared = sorted(need & _words(_profile_text(profile)))
        if shared:
            reasons.append("profile mentions " + ", ".join(shared[:6]))
        score = 3 * len(offered) + len(shared)
        if score:
            ranked.append(Candidate(hub_id=profile["id"], score=float(score), reasons=reasons))
    ranked.sort(key=lambda c: (-c.score, c.hub_id))
    return ranked[:limit]
