"""The taxonomy as words: each code's label, catalogue wording and description, and reading
which codes a need speaks of.

A hub's text for matching includes the glossary of its codes (a hub that lists "Computer
vision" also answers a need about "image recognition" or "inspection"); ``CodeReader`` finds
the AI subfield or technology and the sector a need's words point to (TF-IDF over the
glossary entries), so a need that ticked only a service still counts toward the hubs whose
codes fit what it describes.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import TfidfTransformer

from domain.taxonomy import load_taxonomy
from domain.text import term_counts

THRESHOLD = 0.25  # cosine of the need with an entry, below which nothing is read


def _words(item: dict[str, Any]) -> str:
    return " ".join(str(item[k]) for k in ("label", "jrc_label", "description") if item.get(k))


@lru_cache(maxsize=1)
def glossary() -> dict[str, str]:
    """Code column ("s:", "t:", "x:" + code, as in ``domain.matching``) -> its words."""
    tax = load_taxonomy()
    out: dict[str, str] = {}
    for function in tax["service_functions"]["functions"]:
        for item in function["services"]:
            out[f"s:{item['code']}"] = _words(item)
    for item in tax["technologies"]["items"]:
        out[f"t:{item['code']}"] = _words(item)
    for item in tax["technologies"]["ai_subfields"]["items"]:
        out[f"t:{item['code']}"] = _words(item)
    for item in tax["sectors"]["dih_market_sectors"]["items"]:
        out[f"x:{item['code']}"] = _words(item)
    return out


class CodeReader:
    """Which technology and which sector a need's words point to."""

    def __init__(self) -> None:
        entries = glossary()
        self.columns = [c for c in entries if c[0] in "tx"]
        self.terms = DictVectorizer()
        counts = self.terms.fit_transform(
            [term_counts(entries[c], "english") for c in self.columns]
        )
        self.tfidf = TfidfTransformer(sublinear_tf=True)
        self.matrix = self.tfidf.fit_transform(counts).tocsc()
        self.vocabulary: dict[str, int] = self.terms.vocabulary_
        self.idf = self.tfidf.idf_
        self.groups = [
            np.array([i for i, c in enumerate(self.columns) if c.startswith(prefix)])
            for prefix in ("t:", "x:")
        ]

    def read(self, need: str) -> list[str]:
        """The best technology ("t:") and the best sector ("x:") above ``THRESHOLD``."""
        weights = {
            self.vocabulary[t]: (1.0 + math.log(c)) * float(self.idf[self.vocabulary[t]])
            for t, c in term_counts(need).items()
            if t in self.vocabulary
        }
        if not weights:
            return []
        norm = math.sqrt(sum(w * w for w in weights.values()))
        vector = np.fromiter(weights.values(), dtype=np.float64) / norm
        scores = np.asarray(self.matrix[:, list(weights)] @ vector).ravel()
        found = []
        for group in self.groups:
            best = group[np.argmax(scores[group])]  # the first of equals: taxonomy order
            if scores[best] >= THRESHOLD:
                found.append(self.columns[best])
        return found


@lru_cache(maxsize=1)
def code_reader() -> CodeReader:
    return CodeReader()
