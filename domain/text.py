"""Language-aware tokens for partner matching: words, stop words out, Snowball stems.

A text's language is guessed from its stop words (English when nothing else wins); its words
are stemmed with that language's Snowball stemmer (``snowballstemmer``), so "inspection",
"inspecting" and "inspections" are one term, and "start-up" is "start" + "up" never matched
against "start". Stop words come from scikit-learn's English list and short lists of the
most frequent function words of other EU languages kept here.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

import snowballstemmer  # type: ignore[import-untyped]
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

WORD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)

_OTHER_STOP_WORDS = {
    "german": "der die das und oder ein eine einen einem einer mit für von zu im in auf ist "
    "sind wir unsere unser ihr sie es den dem des bei wie auch nicht nach aus über zur zum "
    "brauchen suchen möchten wollen kann können soll unseren unserer",
    "french": "le la les un une des et ou de du en au aux pour par sur avec dans est sont nous "
    "notre nos vous votre qui que ce cette ces il elle ils pas plus besoin cherchons voulons "
    "souhaitons pouvoir",
    "spanish": "el la los las un una unos unas y o de del en para por con sin es son nuestro "
    "nuestra nuestros que se su sus al como más necesitamos buscamos queremos",
    "italian": "il lo la i gli le un una uno e o di del della dei delle in per con su è sono "
    "nostro nostra nostri che si al alla come più abbiamo bisogno cerchiamo vogliamo",
    "portuguese": "o a os as um uma uns umas e ou de do da dos das em no na nos nas para por com "
    "é são nosso nossa que se ao como mais precisamos procuramos queremos",
    "dutch": "de het een en of van in op voor met is zijn wij we onze ons die dat te bij als "
    "ook niet naar uit zoeken willen hebben nodig",
    "polish": "i w na z do się jest są nie że to od po dla o jak przez nasz nasza nasze "
    "potrzebujemy szukamy chcemy",
}
STOP_WORDS: dict[str, frozenset[str]] = {
    "english": frozenset(ENGLISH_STOP_WORDS)
    | frozenset("need needs looking want wants help company companies sme smes".split()),
    **{lang: frozenset(words.split()) for lang, words in _OTHER_STOP_WORDS.items()},
}


@lru_cache(maxsize=16)
def _stemmer(language: str) -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer(language)


def language_of(words: list[str]) -> str:
    """The language whose stop words the text uses most (English on a tie or none)."""
    hits = {lang: sum(w in stops for w in words) for lang, stops in STOP_WORDS.items()}
    best = max(hits.values(), default=0)
    if best == 0 or hits["english"] == best:
        return "english"
    return min(lang for lang, n in hits.items() if n == best)


def terms(text: str, language: str | None = None) -> list[str]:
    """The text's terms in order: lower-cased words, stop words out, stemmed."""
    return [term for term, _ in words_and_terms(text, language)]


def words_and_terms(text: str, language: str | None = None) -> list[tuple[str, str]]:
    """Each kept word's term and the word itself (to show a term as the text wrote it)."""
    words = WORD.findall(text.lower())
    lang = language or language_of(words)
    stops = STOP_WORDS[lang] | STOP_WORDS["english"]
    kept = [w for w in words if w not in stops]
    return [(_stem(lang, w), w) for w in kept]


@lru_cache(maxsize=200_000)
def _stem(language: str, word: str) -> str:
    """One word's stem (memoised: the pure-Python stemmer costs ~80 µs a word)."""
    return str(_stemmer(language).stemWord(word))


def term_counts(text: str, language: str | None = None) -> dict[str, int]:
    return dict(Counter(terms(text, language)))
