"""The matching model on hand-made hubs: each component moves the ranking the way its reason
says, the requester is never ranked, ties break by hub id, stems and stop words."""

from __future__ import annotations

from typing import Any

import pytest

from domain.hubs import load_demo_network
from domain.matching import (
    HubSignals,
    MatchIndex,
    MatchRequest,
    brute_force,
    hub_doc,
    quality_score,
    rank_hubs,
)
from domain.text import language_of, terms


def profile(hub_id: str, **changes: Any) -> dict[str, Any]:
    base = load_demo_network()[0].model_dump(mode="json")
    return (
        base
        | {
            "id": hub_id,
            "name": hub_id,
            "services": ["awareness_training"],
            "technologies": ["artificial_intelligence"],
            "ai_subfields": [],
            "sectors": [],
            "competences": [],
            "description": "A hub.",
        }
        | changes
    )


def index(
    *profiles: dict[str, Any], embeddings: dict[str, list[float]] | None = None
) -> MatchIndex:
    return MatchIndex([hub_doc(p, (embeddings or {}).get(p["id"])) for p in profiles])


def test_terms_are_stemmed_without_stop_words_and_the_language_is_guessed() -> None:
    assert terms("Inspecting the inspections of start-ups") == ["inspect", "inspect", "start", "up"]
    assert language_of("wir suchen einen Partner für die Qualitätsprüfung".split()) == "german"
    assert terms("Nous cherchons une inspection des bouchons") == ["inspect", "bouchon"]


def test_a_sub_service_counts_toward_its_function_and_a_sibling_counts_half() -> None:
    idx = index(
        profile("exact", services=["testing_experimentation"]),
        profile("sibling", services=["concept_validation_prototyping"]),
        profile("unrelated", services=["awareness_training"]),
    )
    by_service = rank_hubs(idx, MatchRequest(services=("testing_experimentation",)))
    assert [(m.hub_id, m.components["coverage"]) for m in by_service] == [
        ("exact", 1.0),
        ("sibling", 0.5),
    ]
    assert "offers other test before invest services" in by_service[1].reasons[0]
    by_function = rank_hubs(idx, MatchRequest(services=("test_before_invest",)))
    assert [(m.hub_id, m.components["coverage"]) for m in by_function] == [
        ("exact", 1.0),
        ("sibling", 1.0),
    ]


def test_quality_counts_from_three_reviews_and_says_so() -> None:
    assert quality_score([5, 4]) == (0.5, None)
    value, reason = quality_score([5, 4, 5])
    assert value == pytest.approx((14 / 3 - 1) / 4) and reason == "4.7/5 over 3 reviewed cases"
    idx = index(
        profile("a-hub", services=["testing_experimentation"]),
        profile("b-hub", services=["testing_experimentation"]),
    )
    request = MatchRequest(services=("testing_experimentation",))
    assert [m.hub_id for m in rank_hubs(idx, request)] == ["a-hub", "b-hub"]  # tie: by id
    reviewed = {"b-hub": HubSignals(ratings=(5, 5, 4))}
    ranked = rank_hubs(idx, request, reviewed)
    assert [m.hub_id for m in ranked] == ["b-hub", "a-hub"]
    assert "4.7/5 over 3 reviewed cases" in ranked[0].reasons
    busy = {"a-hub": HubSignals(open_cases=6)}
    ranked = rank_hubs(idx, request, busy)
    assert [m.hub_id for m in ranked] == ["b-hub", "a-hub"]
    assert "6 open cases now" in ranked[1].reasons
    member = {"b-hub": HubSignals(agreement="member")}
    assert "bound by the framework agreement" in rank_hubs(idx, request, member)[0].reasons


def test_the_requester_and_excluded_countries_are_never_ranked_and_borders_count() -> None:
    idx = index(
        profile("home", country="PT", region=None, services=["testing_experimentation"]),
        profile("near", country="PT", region=None, services=["testing_experimentation"]),
        profile("abroad", country="ES", region=None, services=["testing_experimentation"]),
        profile("barred", country="FR", region=None, services=["testing_experimentation"]),
    )
    request = MatchRequest(
        services=("testing_experimentation",), requester="home", excluded_countries=("FR",)
    )
    ranked = rank_hubs(idx, request)
    assert [m.hub_id for m in ranked] == ["abroad", "near"]
    assert "in Spain, across the border from Portugal" in ranked[0].reasons


def test_text_relevance_uses_stems_and_names_the_words_of_the_need() -> None:
    idx = index(
        profile("vision", description="Visual inspection of cork stoppers and bottle caps."),
        profile("words", description="We inspect nothing; we write reports on corporate finance."),
    )
    (first, *rest) = rank_hubs(idx, MatchRequest(need="inspecting cork stopper defects"))
    assert first.hub_id == "vision" and first.components["text"] > 0
    assert any("“cork”" in r and "“stopper”" in r for r in first.reasons)
    assert all(m.components["text"] < first.components["text"] for m in rest)


def test_embeddings_count_only_when_every_hub_and_the_query_have_one() -> None:
    vectors = {"a-hub": [1.0, 0.0], "b-hub": [0.0, 1.0]}
    idx = index(profile("a-hub"), profile("b-hub"), embeddings=vectors)
    ranked = rank_hubs(idx, MatchRequest(need="something else"), query_embedding=[0.1, 0.9])
    assert ranked[0].hub_id == "b-hub" and ranked[0].weights["semantic"] > 0
    assert rank_hubs(idx, MatchRequest(need="something else")) == []  # no signal at all


def test_the_brute_force_reference_ranks_like_the_index_without_signals() -> None:
    hubs = [h.model_dump(mode="json") for h in load_demo_network()]
    idx = index(*hubs)
    docs = [hub_doc(h) for h in hubs]
    vocabulary = idx.terms.vocabulary_
    idf = idx.tfidf.idf_

    def idf_of(term: str) -> float:
        j = vocabulary.get(term)
        return float(idf[j]) if j is not None else 0.0

    request = MatchRequest(
        services=("testing_experimentation",), need="computer vision for food quality", limit=8
    )
    expected = [hub_id for hub_id, _ in brute_force(docs, request, idf_of)]
    weights_only = {h["id"]: HubSignals() for h in hubs}
    ranked = rank_hubs(idx, request, weights_only)
    assert [m.hub_id for m in ranked] == expected
