"""Title search for case lists: what a search means, and the clause each store runs for it.

Every word of the search must begin a word of the title, in any order (``cork stop`` finds
"Cork stoppers inspection"); case and accents are ignored. Words are the runs of letters and
digits; anything else (quotes, ``*``, ``-``, ``:``, apostrophes) only separates words and
``AND``/``OR``/``NOT`` are words like any other, so no input ever reaches a store's query
syntax. The indexes behind it (SQLite FTS5, a PostgreSQL ``tsvector`` GIN index) come from
migration 0007.
"""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import ColumnElement, TextClause, literal_column, text
from sqlmodel import Session, col, select

from store.models import Case

MAX_WORDS = 10
WORD = re.compile(r"[^\W_]+")  # letters and digits; "_" separates, as in both indexes


class SearchError(ValueError):
    """A search with no word, or too many."""


def search_words(search: str) -> list[str]:
    """The distinct words of ``search``, lower case and without accents, in order."""
    # Decomposed first, so a letter typed with a combining accent stays one word.
    plain = "".join(
        c for c in unicodedata.normalize("NFKD", search) if not unicodedata.combining(c)
    )
    words = list(dict.fromkeys(w.lower() for w in WORD.findall(plain)))
    if not words:
        raise SearchError("the text to search for needs at least one letter or digit")
    if len(words) > MAX_WORDS:
        raise SearchError(f"search for at most {MAX_WORDS} words at a time")
    return words


# A search matching at most FEW_MATCHES cases reads those and sorts them. One matching more
# walks the list's index newest first and checks each case against the search: with matches
# that common, a page fills within a few thousand cases. (Left to itself, a planner walks the
# whole list for a rare word, or fetches and sorts every match of a common one.)
FEW_MATCHES = 500


def matches_text(session: Session, search: str) -> ColumnElement[bool] | TextClause:
    """A WHERE clause on ``case``: its title holds every word of ``search`` as a prefix."""
    words = search_words(search)
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        few = session.exec(
            select(Case.id).where(_postgres_match(words)).limit(FEW_MATCHES + 1)
        ).all()
        if len(few) <= FEW_MATCHES:
            return col(Case.id).in_(few)
        # Appending '' to the title keeps the planner off the GIN index (it would fetch and
        # sort every match): it walks the list's index and checks each case instead.
        return _postgres_match(words, title="\"case\".title || ''")
    phrase = " ".join(f'"{word}"*' for word in words)  # quoted: never an FTS5 operator
    rowids = (
        session.execute(
            text("SELECT rowid FROM case_search WHERE case_search MATCH :phrase LIMIT :n"),
            {"phrase": phrase, "n": FEW_MATCHES + 1},
        )
        .scalars()
        .all()
    )
    if len(rowids) <= FEW_MATCHES:
        return literal_column('"case".rowid').in_(rowids)
    # The unary + keeps SQLite from driving the query by rowid: it walks the list's index
    # and probes the matches instead.
    return text(
        '+"case".rowid IN (SELECT rowid FROM case_search WHERE case_search MATCH :phrase)'
    ).bindparams(phrase=phrase)


def _postgres_match(words: list[str], title: str = '"case".title') -> TextClause:
    # Each word goes through the normalisation of the indexed titles (unaccent, punctuation
    # to spaces) and becomes a quoted prefix lexeme, so no input is read as tsquery syntax.
    params = {f"search_word_{i}": word for i, word in enumerate(words)}
    query = " && ".join(
        f"to_tsquery('simple'::regconfig, quote_literal(dihflow_search_text(:{name})) || ':*')"
        for name in params
    )
    return text(
        f"to_tsvector('simple'::regconfig, dihflow_search_text({title})) @@ ({query})"
    ).bindparams(**params)
