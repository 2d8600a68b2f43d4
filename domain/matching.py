"""Partner matching: which hubs fit a need, each result with its score components and reasons.

One model serves ``POST /v1/matches``, the matchmaking start and the joint-service start
(the ``rank_candidates`` activity: candidates, suggested partners). Components, each in
[0, 1] and reported with its weight (``WEIGHTS``):

- ``coverage``: the share of the needed services, technologies and sectors the hub offers,
  taxonomy-aware: a needed service is fully covered by the hub offering it and half covered by
  another service of the same function (a needed *function* code is covered by any of its
  services); AI subfields count as technologies.
- ``text``: TF-IDF cosine (scikit-learn's ``TfidfTransformer``, sublinear tf) of the need
  against the hub's description, services, technologies, sectors, competences, infrastructure
  and catalogue, over language-aware stemmed terms with stop words out (``domain.text``).
- ``semantic``: cosine of sentence embeddings (optional; weight 0 when no embeddings).
- ``complementarity``: across a border from the requesting hub, and offering needed services
  the requester does not; a preferred country counts here too.
- ``quality``: the mean review rating when the hub has at least ``MIN_REVIEWS`` reviews,
  else neutral 0.5 (``quality_score`` is the one function to swap for richer indicators).
- ``agreement``: framework-agreement membership (neutral 0.5 while ``unknown``).
- ``load``: fewer open cases score higher.

Only hubs with some coverage, text or semantic signal are ranked (the neutral components alone
never bring a hub in); the requester and excluded countries never appear; ties break by hub id.

The per-hub vectors (``HubDoc``) are computed when a profile changes (``hub_doc``) and stored;
``MatchIndex`` stacks them into sparse matrices once per registry change, so a query is a few
sparse products. ``brute_force`` scores the same model hub by hub, for the benchmark.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from scipy import sparse  # type: ignore[import-untyped]
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import TfidfTransformer

from domain.cases import Candidate, CaseFacts
from domain.glossary import code_reader, glossary
from domain.taxonomy import vocabulary
from domain.text import term_counts, words_and_terms

LIMIT = 10
MIN_REVIEWS = 3
PARTIAL = 0.5  # a sibling service of the needed one's function
READ_WEIGHT = 0.5  # a code read from the need's words, against 1 for a ticked one
WEIGHTS: dict[str, float] = {
    "coverage": 0.40,
    "text": 0.25,
    "semantic": 0.15,
    "complementarity": 0.08,
    "quality": 0.06,
    "agreement": 0.03,
    "load": 0.03,
}
Agreement = Literal["member", "not_member", "unknown"]


# -- request and per-hub inputs ----------------------------------------------------------------
@dataclass(frozen=True)
class MatchRequest:
    services: tuple[str, ...] = ()
    technologies: tuple[str, ...] = ()  # technology or AI subfield codes
    sectors: tuple[str, ...] = ()
    need: str = ""
    preferred_countries: tuple[str, ...] = ()
    excluded_countries: tuple[str, ...] = ()
    requester: str | None = None
    limit: int = LIMIT
    read_codes: bool = True  # count the codes the need's words point to (domain.glossary)


@dataclass(frozen=True)
class HubDoc:
    """What matching needs of one profile, computed when the profile changes."""

    hub_id: str
    name: str
    country: str
    codes: tuple[str, ...]  # "s:<service>", "f:<function>", "t:<technology>", "x:<sector>"
    terms: Mapping[str, int]
    embedding: tuple[float, ...] | None = None


@dataclass(frozen=True)
class HubSignals:
    """What the cases say of a hub (read per query: these change with every case)."""

    ratings: tuple[int, ...] = ()
    open_cases: int = 0
    agreement: Agreement = "unknown"


@dataclass(frozen=True)
class Match:
    hub_id: str
    name: str
    country: str
    score: float
    components: dict[str, float]
    weights: dict[str, float]
    reasons: list[str] = field(default_factory=list)


def hub_doc(profile: Mapping[str, Any], embedding: Sequence[float] | None = None) -> HubDoc:
    """A profile's matching vectors: its taxonomy codes and its text's stemmed terms."""
    vocab = vocabulary()
    codes: list[str] = []
    for s in profile.get("services", []):
        codes.append(f"s:{s}")
        if s in vocab.service_function:
            codes.append(f"f:{vocab.service_function[s]}")
    techs = [*profile.get("technologies", []), *profile.get("ai_subfields", [])]
    codes += [f"t:{t}" for t in techs]
    codes += [f"x:{s}" for s in profile.get("sectors", [])]
    return HubDoc(
        hub_id=profile["id"],
        name=profile.get("name", profile["id"]),
        country=profile.get("country", ""),
        codes=tuple(dict.fromkeys(codes)),
        terms=term_counts(profile_text(profile), "english"),
        embedding=tuple(embedding) if embedding is not None else None,
    )


def profile_text(profile: Mapping[str, Any]) -> str:
    """The words a need is matched against: description, labels of the codes, competences,
    infrastructure and catalogue entries."""
    vocab = vocabulary()
    words = glossary()
    parts = [profile.get("name", ""), profile.get("description", "")]
    for kind, prefix in (("services", "s"), ("technologies", "t"), ("ai_subfields", "t")):
        parts += [words.get(f"{prefix}:{code}", code) for code in profile.get(kind, [])]
    parts += [words.get(f"x:{code}", code) for code in profile.get("sectors", [])]
    parts += [_label(vocab, "competences", code) for code in profile.get("competences", [])]
    parts += list(profile.get("infrastructure", []))
    for entry in profile.get("catalogue", []):
        parts += [entry.get("name", ""), entry.get("description", "")]
    return " ".join(p for p in parts if p)


def _label(vocab: Any, kind: str, code: str) -> str:
    try:
        return str(vocab.label(kind, code))
    except KeyError:
        return code


# -- the swappable signals -----------------------------------------------------------------------
def quality_score(ratings: Sequence[int]) -> tuple[float, str | None]:
    """Quality in [0, 1] and its reason; neutral 0.5 below ``MIN_REVIEWS`` reviews."""
    if len(ratings) < MIN_REVIEWS:
        return 0.5, None
    mean = sum(ratings) / len(ratings)
    return (mean - 1) / 4, f"{mean:.1f}/5 over {len(ratings)} reviewed cases"


def agreement_score(status: Agreement) -> tuple[float, str | None]:
    if status == "member":
        return 1.0, "bound by the framework agreement"
    if status == "not_member":
        return 0.0, "not bound by the framework agreement"
    return 0.5, None


def load_score(open_cases: int) -> float:
    return 1.0 / (1.0 + open_cases / 3.0)


# -- the index --------------------------------------------------------------------------------
class MatchIndex:
    """The stacked vectors of every hub, built once per registry change."""

    def __init__(self, docs: Sequence[HubDoc]):
        self.docs = sorted(docs, key=lambda d: d.hub_id)
        self.ids = [d.hub_id for d in self.docs]
        self.position = {hub_id: i for i, hub_id in enumerate(self.ids)}
        self.countries = np.array([d.country for d in self.docs], dtype=object)
        self.terms = DictVectorizer(dtype=np.float64)
        counts = self.terms.fit_transform([dict(d.terms) for d in self.docs] or [{}])
        self.tfidf = TfidfTransformer(sublinear_tf=True)
        self.text = sparse.csr_matrix(self.tfidf.fit_transform(counts))
        self.text_columns = self.text.tocsc()  # a query reads only its terms' columns
        self.term_column: dict[str, int] = self.terms.vocabulary_
        self.idf: np.ndarray = self.tfidf.idf_
        self.code_vectorizer = DictVectorizer(dtype=np.float64)
        codes = self.code_vectorizer.fit_transform([dict.fromkeys(d.codes, 1) for d in self.docs])
        # dense, one byte a cell, column-major: a needed code is one contiguous column
        self.codes = np.asfortranarray(codes.toarray().astype(np.uint8))
        self.code_column = self.code_vectorizer.vocabulary_
        with_embeddings = [d.embedding for d in self.docs if d.embedding is not None]
        self.embeddings: np.ndarray | None = None
        if self.docs and len(with_embeddings) == len(self.docs):
            matrix = np.asarray([d.embedding for d in self.docs], dtype=np.float32)
            norms = np.linalg.norm(matrix, axis=1, keepdims=True)
            self.embeddings = matrix / np.where(norms == 0, 1, norms)

    def __len__(self) -> int:
        return len(self.docs)

    def query_weights(self, need: str) -> dict[int, float]:
        """The need's TF-IDF vector (sublinear tf, L2-normalised, as the hubs' rows) as
        {term column: weight}; terms no hub uses drop out."""
        weights = {
            self.term_column[t]: (1.0 + math.log(c)) * float(self.idf[self.term_column[t]])
            for t, c in term_counts(need).items()
            if t in self.term_column
        }
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        return {j: w / norm for j, w in weights.items()}

    def text_scores(self, weights: dict[int, float]) -> np.ndarray:
        """Cosine of every hub's text with the query: its terms' columns only."""
        if not weights:
            return np.zeros(len(self.docs))
        columns = self.text_columns[:, list(weights)]
        return np.asarray(columns @ np.fromiter(weights.values(), dtype=np.float64)).ravel()

    def _column(self, code: str) -> np.ndarray:
        j = self.code_column.get(code)
        if j is None:
            return np.zeros(len(self.docs))
        return self.codes[:, j].astype(np.float64)

    def coverage(self, request: MatchRequest, read: Sequence[str] = ()) -> np.ndarray:
        """The share of the needed items each hub covers; codes ``read`` from the need's
        words (not ticked) count at ``READ_WEIGHT``."""
        wanted = _wanted(request)
        ticked = {code for code, _ in wanted}
        extra = [code for code in read if code not in ticked]
        if not wanted and not extra:
            return np.zeros(len(self.docs))
        total = np.zeros(len(self.docs))
        for code, partial in wanted:
            covered = self._column(code)
            if partial is not None:
                covered = np.maximum(covered, PARTIAL * self._column(partial))
            total += covered
        for code in extra:
            total += READ_WEIGHT * self._column(code)
        return total / (len(wanted) + READ_WEIGHT * len(extra))


def _wanted(request: MatchRequest) -> list[tuple[str, str | None]]:
    """Each needed item as (its code column, the column that half-covers it, if any)."""
    vocab = vocabulary()
    functions = set(vocab.labels.get("functions", {}))
    wanted: list[tuple[str, str | None]] = []
    for s in request.services:
        if s in functions:
            wanted.append((f"f:{s}", None))
        else:
            fn = vocab.service_function.get(s)
            wanted.append((f"s:{s}", f"f:{fn}" if fn else None))
    wanted += [(f"t:{t}", None) for t in request.technologies]
    wanted += [(f"x:{s}", None) for s in request.sectors]
    return wanted


# -- ranking ---------------------------------------------------------------------------------
def rank_hubs(
    index: MatchIndex,
    request: MatchRequest,
    signals: Mapping[str, HubSignals] | None = None,
    query_embedding: Sequence[float] | np.ndarray | None = None,
) -> list[Match]:
    """The best ``request.limit`` hubs, best first, each with components and reasons."""
    n = len(index)
    if n == 0:
        return []
    signals = signals or {}
    read = code_reader().read(request.need) if request.need.strip() and request.read_codes else []
    coverage = index.coverage(request, read)
    text = np.zeros(n)
    weights_of_need: dict[int, float] = {}
    if request.need.strip():
        weights_of_need = index.query_weights(request.need)
        text = index.text_scores(weights_of_need)
    semantic = np.zeros(n)
    use_semantic = index.embeddings is not None and query_embedding is not None
    if use_semantic:
        q = np.asarray(query_embedding, dtype=np.float32)
        q = q / (np.linalg.norm(q) or 1.0)
        # einsum, not BLAS: a multi-threaded BLAS matvec this small thrashes on a busy host
        semantic = np.clip(np.einsum("ij,j->i", index.embeddings, q), 0.0, 1.0)  # type: ignore[arg-type]
    eligible = (coverage > 0) | (text > 0) | (semantic > 0.3)
    if request.requester in index.position:
        eligible[index.position[request.requester]] = False
    if request.excluded_countries:
        eligible &= ~np.isin(index.countries, list(request.excluded_countries))
    candidates = np.flatnonzero(eligible)
    if candidates.size == 0:
        return []
    weights = _weights(use_semantic)
    requester = _requester(index, request)
    parts = {
        "coverage": coverage,
        "text": text,
        "semantic": semantic,
        "complementarity": _complementarity(index, request, requester),
        **_signal_arrays(index, signals),
    }
    total = np.round(sum(weights[k] * v for k, v in parts.items()), 6)
    order = _top(candidates, total, request.limit)
    matches = []
    for i in order:
        doc = index.docs[i]
        matches.append(
            Match(
                hub_id=doc.hub_id,
                name=doc.name,
                country=doc.country,
                score=float(total[i]),
                components={k: round(float(v[i]), 4) for k, v in parts.items()},
                weights=weights,
                reasons=_reasons(index, int(i), request, float(text[i]), read, weights_of_need)
                + _signal_reasons(doc, request, requester, signals.get(doc.hub_id)),
            )
        )
    return matches


def _top(candidates: np.ndarray, total: np.ndarray, k: int) -> np.ndarray:
    """The best ``k`` candidates, best first, ties by position (= hub id): a partial sort
    keeps every candidate tied with the k-th, then only those are ordered."""
    scores = total[candidates]
    if candidates.size > 4 * k:
        kth = np.partition(-scores, k - 1)[k - 1]
        keep = -scores <= kth
        candidates, scores = candidates[keep], scores[keep]
    return candidates[np.lexsort((candidates, -scores))][:k]


def _complementarity(index: MatchIndex, request: MatchRequest, requester: _Requester) -> np.ndarray:
    """Half for the border (or a preferred country), half for needed services the requester
    lacks and the hub offers."""
    n = len(index)
    value = np.zeros(n)
    if request.preferred_countries:
        value += 0.5 * np.isin(index.countries, list(request.preferred_countries))
    elif requester.country:
        value += 0.5 * (index.countries != requester.country)
    if requester.country and request.services:
        lacking = [f"s:{s}" for s in request.services if f"s:{s}" not in requester.codes]
        for code in lacking:
            value += 0.5 * index._column(code) / len(request.services)
    return np.minimum(value, 1.0)


def _signal_arrays(index: MatchIndex, signals: Mapping[str, HubSignals]) -> dict[str, Any]:
    n = len(index)
    quality = np.full(n, quality_score(())[0])
    agreement = np.full(n, agreement_score("unknown")[0])
    load = np.ones(n)
    for hub_id, s in signals.items():
        i = index.position.get(hub_id)
        if i is None:
            continue
        quality[i] = quality_score(s.ratings)[0]
        agreement[i] = agreement_score(s.agreement)[0]
        load[i] = load_score(s.open_cases)
    return {"quality": quality, "agreement": agreement, "load": load}


def _weights(use_semantic: bool) -> dict[str, float]:
    if use_semantic:
        return dict(WEIGHTS)
    rest = 1.0 - WEIGHTS["semantic"]
    return {k: (0.0 if k == "semantic" else round(v / rest, 4)) for k, v in WEIGHTS.items()}


@dataclass(frozen=True)
class _Requester:
    country: str | None
    codes: frozenset[str]


def _requester(index: MatchIndex, request: MatchRequest) -> _Requester:
    i = index.position.get(request.requester or "")
    if i is None:
        return _Requester(None, frozenset())
    doc = index.docs[i]
    return _Requester(doc.country, frozenset(doc.codes))


def _signal_reasons(
    doc: HubDoc, request: MatchRequest, requester: _Requester, signals: HubSignals | None
) -> list[str]:
    vocab = vocabulary()
    signals = signals or HubSignals()
    reasons: list[str] = []
    country = _label(vocab, "countries", doc.country)
    if request.preferred_countries:
        if doc.country in request.preferred_countries:
            reasons.append(f"in {country}, a preferred country")
    elif requester.country and doc.country != requester.country:
        reasons.append(
            f"in {country}, across the border from {_label(vocab, 'countries', requester.country)}"
        )
    if requester.country:
        fills = [
            s for s in request.services if f"s:{s}" in doc.codes and f"s:{s}" not in requester.codes
        ]
        if fills:
            names = ", ".join(_label(vocab, "services", s) for s in fills[:3])
            reasons.append(f"brings {names}, which the requesting hub does not offer")
    for _, why in (quality_score(signals.ratings), agreement_score(signals.agreement)):
        if why:
            reasons.append(why)
    if signals.open_cases:
        n = signals.open_cases
        reasons.append(f"{n} open case{'s' if n != 1 else ''} now")
    return reasons


def _reasons(
    index: MatchIndex,
    i: int,
    request: MatchRequest,
    text: float,
    read: Sequence[str],
    need_weights: dict[int, float],
) -> list[str]:
    """What the hub offers of the need, in words, then what its profile says of it."""
    vocab = vocabulary()
    doc = index.docs[i]
    functions = vocab.labels.get("functions", {})
    reasons = []
    for s in request.services:
        if s in functions:
            offered = [c[2:] for c in doc.codes if c.startswith("s:")]
            inside = [o for o in offered if vocab.service_function.get(o) == s]
            if inside:
                names = ", ".join(_label(vocab, "services", o) for o in inside[:3])
                reasons.append(f"offers {functions[s].lower()}: {names}")
        elif f"s:{s}" in doc.codes:
            reasons.append(f"offers {_label(vocab, 'services', s)}")
        else:
            fn = vocab.service_function.get(s)
            if fn and f"f:{fn}" in doc.codes:
                reasons.append(
                    f"offers other {functions[fn].lower()} services, not "
                    f"{_label(vocab, 'services', s).lower()} itself"
                )
    techs = [
        _label(vocab, "technologies" if t in vocab.technologies else "ai_subfields", t)
        for t in request.technologies
        if f"t:{t}" in doc.codes
    ]
    if techs:
        reasons.append("works with " + ", ".join(techs))
    sectors = [_label(vocab, "sectors", s) for s in request.sectors if f"x:{s}" in doc.codes]
    if sectors:
        reasons.append("serves " + ", ".join(sectors))
    ticked = {f"t:{t}" for t in request.technologies} | {f"x:{s}" for s in request.sectors}
    for code in read:
        if code in doc.codes and code not in ticked:
            kind = (
                "sectors"
                if code[0] == "x"
                else ("technologies" if code[2:] in vocab.technologies else "ai_subfields")
            )
            verb = "serves" if kind == "sectors" else "works with"
            reasons.append(f"{verb} {_label(vocab, kind, code[2:])}, which the need describes")
    if text > 0:
        words = _telling_terms(index, i, request.need, need_weights)
        reasons.append(
            f"its profile answers the need's {', '.join(words)} (text relevance {text:.2f})"
        )
    return reasons


def _telling_terms(
    index: MatchIndex, i: int, need: str, need_weights: dict[int, float], top: int = 4
) -> list[str]:
    """The need's terms that weigh most in this hub's match (by TF-IDF weight)."""
    start, end = index.text.indptr[i], index.text.indptr[i + 1]
    row = dict(zip(index.text.indices[start:end], index.text.data[start:end], strict=True))
    product = [(w * row[j], j) for j, w in need_weights.items() if j in row]
    names = index.terms.feature_names_
    weights = sorted(product, key=lambda p: (-p[0], p[1]))
    as_written: dict[str, str] = {}
    for term, word in words_and_terms(need):
        as_written.setdefault(term, word)
    return [f"“{as_written.get(names[j], names[j])}”" for _, j in weights[:top]]


# -- the same model, hub by hub (the benchmark's reference) -----------------------------------
def brute_force(
    docs: Sequence[HubDoc],
    request: MatchRequest,
    idf: Callable[[str], float],
    signals: Mapping[str, HubSignals] | None = None,
) -> list[tuple[str, float]]:
    """Scores every hub in a loop over its own vectors (no index): coverage and TF-IDF text
    only, with ``idf`` from the same corpus; what an index saves is measured against this."""
    wanted = _wanted(request)
    ticked = {code for code, _ in wanted}
    read = code_reader().read(request.need) if request.need.strip() and request.read_codes else []
    extra = [code for code in read if code not in ticked]
    q = term_counts(request.need)
    q_vec = {t: (1 + math.log(c)) * idf(t) for t, c in q.items() if idf(t) > 0}
    q_norm = math.sqrt(sum(v * v for v in q_vec.values())) or 1.0
    weights = _weights(False)
    out = []
    for doc in docs:
        if doc.hub_id == request.requester or doc.country in request.excluded_countries:
            continue
        codes = set(doc.codes)
        cov = 0.0
        for code, partial in wanted:
            cov += 1.0 if code in codes else (PARTIAL if partial and partial in codes else 0.0)
        cov += sum(READ_WEIGHT for code in extra if code in codes)
        cov = cov / (len(wanted) + READ_WEIGHT * len(extra)) if wanted or extra else 0.0
        d_vec = {t: (1 + math.log(c)) * idf(t) for t, c in doc.terms.items()}
        d_norm = math.sqrt(sum(v * v for v in d_vec.values())) or 1.0
        text = sum(v * d_vec.get(t, 0.0) for t, v in q_vec.items()) / (q_norm * d_norm)
        if cov > 0 or text > 0:
            out.append((doc.hub_id, weights["coverage"] * cov + weights["text"] * text))
    out.sort(key=lambda p: (-round(p[1], 9), p[0]))
    return out[: request.limit]


# -- the matchmaking start -----------------------------------------------------------------------
def request_for_case(facts: CaseFacts, limit: int = LIMIT) -> MatchRequest:
    """What a case asks of the matching when it opens (a matchmaking case's candidates, a
    joint service's suggested partners): its needed codes and its words; never its lead."""
    return MatchRequest(
        services=tuple(facts.wanted_services),
        technologies=tuple(facts.wanted_technologies),
        sectors=tuple(facts.wanted_sectors),
        need=f"{facts.title}. {facts.need}",
        requester=facts.lead_hub_id,
        limit=limit,
    )


def candidates(matches: Sequence[Match]) -> list[Candidate]:
    """A case's ranked hubs (matchmaking candidates, joint-service suggestions): the score
    out of 100, each component and the reasons in words."""
    return [
        Candidate(
            hub_id=m.hub_id,
            score=round(m.score * 100, 1),
            reasons=m.reasons,
            components=dict(m.components),
        )
        for m in matches
    ]


def overlap_rank(facts: CaseFacts, hubs: list[dict[str, Any]], limit: int = LIMIT) -> list[str]:
    """The ranking this model replaced (3 per wanted service offered + 1 per shared word of 4+
    letters), kept as the evaluation's baseline. Hub ids, best first."""
    import re

    word = re.compile(r"[a-zà-ÿ0-9]{4,}")
    stop = frozenset(
        "with that this from have their they will would into about which for and the "
        "services service company companies small medium using based need needs".split()
    )

    def words(text: str) -> set[str]:
        return {w for w in word.findall(text.lower()) if w not in stop}

    vocab = vocabulary()
    need = words(f"{facts.title} {facts.need}")
    ranked = []
    for profile in hubs:
        if profile["id"] == facts.lead_hub_id:
            continue
        labels = [
            _label(vocab, kind, code)
            for kind in ("technologies", "ai_subfields", "sectors")
            for code in profile.get(kind, [])
        ]
        shared = need & words(" ".join([*labels, profile.get("description", "")]))
        offered = [s for s in facts.wanted_services if s in profile.get("services", [])]
        score = 3 * len(offered) + len(shared)
        if score:
            ranked.append((-score, profile["id"]))
    return [hub_id for _, hub_id in sorted(ranked)[:limit]]
