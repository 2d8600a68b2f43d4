"""Reads from the store for the API (the read model; never the workflow)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, cast

import sqlalchemy as sa
from sqlalchemy import exists, tuple_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from domain.cases import Caller, CaseFacts, Role
from store.db import as_utc
from store.models import Case, CaseParty, Document, Hub, Signature, TimelineEntry
from store.search import matches_text


def sees_everything(caller: Caller) -> bool:
    return caller.role in (Role.back_office, Role.legal)


def visible_case(
    session: Session, case_id: str, caller: Caller, *, departed_ok: bool = False
) -> Case | None:
    """The case, or None when it does not exist *or* the caller may not see it (both 404).

    A hub that left the case (declined, lapsed, not selected) sees it only where
    ``departed_ok`` (the case's summary); its documents, files, timeline and dossier are 404.
    """
    case = session.get(Case, case_id)
    if case is None or sees_everything(caller):
        return case
    if caller.role == "link":
        return None
    party = session.get(CaseParty, (case_id, caller.hub_id))
    if party is None:
        return None
    if not departed_ok and departed(case, caller) is not None:
        return None
    return case


def departed(case: Case, caller: Caller) -> str | None:
    """How the caller's hub left ``case`` (see ``CaseFacts.departed``), or None."""
    if sees_everything(caller) or caller.hub_id is None:
        return None
    return case_facts(case).departed(caller.hub_id)


@dataclass
class CaseFilter:
    scenario: str | None = None
    state: str | None = None
    hub: str | None = None
    overdue: bool | None = None
    text: str | None = None
    country: str | None = None  # a party hub (lead, partner, invited, candidate) is in it
    sort: str = "newest"  # or "oldest": by creation time


SORTS = ("newest", "oldest")


def encode_cursor(case: ListedCase) -> str:
    raw = f"{as_utc(case.created_at).isoformat()}|{case.id}"  # type: ignore[union-attr]
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """Raises ValueError on a cursor this API did not hand out."""
    padded = cursor + "=" * (-len(cursor) % 4)
    created, case_id = base64.urlsafe_b64decode(padded).decode().split("|", 1)
    moment = datetime.fromisoformat(created)
    if moment.tzinfo is None:
        raise ValueError("a cursor carries a UTC time")
    return moment, case_id


class ListedCase(Protocol):
    """What a list shows of a case (``api.views.summary``); a ``Case`` is one too."""

    id: str
    scenario: str
    state: str
    outcome: str | None
    title: str
    lead_hub_id: str
    next_deadline: datetime | None
    created_at: datetime
    updated_at: datetime
    overdue: bool
    state_since: datetime | None


# The columns of a ListedCase: a list never reads the facts JSON, nor builds ORM objects.
SUMMARY_COLUMNS = tuple(
    col(c)
    for c in (
        Case.id,
        Case.scenario,
        Case.state,
        Case.outcome,
        Case.title,
        Case.lead_hub_id,
        Case.next_deadline,
        Case.created_at,
        Case.updated_at,
        Case.overdue,
        Case.state_since,
    )
)


def _filtered(
    session: Session, caller: Caller, flt: CaseFilter, query: Any
) -> tuple[Any, Any, Any]:
    """``query`` narrowed to the cases ``flt`` and ``caller`` allow, and the two columns a
    list is ordered by (a hub's list is read from its ``caseparty`` rows)."""
    hubs = [] if sees_everything(caller) else [caller.hub_id]
    if flt.hub and flt.hub not in hubs:
        hubs.append(flt.hub)
    created, key = col(Case.created_at), col(Case.id)
    if hubs:
        created, key = col(CaseParty.created_at), col(CaseParty.case_id)
        query = query.join(CaseParty, key == col(Case.id)).where(col(CaseParty.hub_id) == hubs[0])
        for hub in hubs[1:]:
            also = aliased(CaseParty)
            query = query.where(
                exists().where(col(also.case_id) == col(Case.id), col(also.hub_id) == hub)
            )
    if flt.scenario:
        query = query.where(col(Case.scenario) == flt.scenario)
    if flt.state:
        query = query.where(col(Case.state) == flt.state)
    if flt.overdue is not None:
        query = query.where(col(Case.overdue) == flt.overdue)
    if flt.country:
        party = aliased(CaseParty)
        query = query.where(
            exists()
            .where(col(party.case_id) == col(Case.id))
            .where(col(party.hub_id) == col(Hub.id), col(Hub.country) == flt.country)
        )
    if flt.text:
        query = query.where(matches_text(session, flt.text))
    return query, created, key


def list_cases(
    session: Session, caller: Caller, flt: CaseFilter, limit: int, cursor: str | None
) -> tuple[list[ListedCase], str | None]:
    """Newest (or oldest) first, ``limit`` at a time; the cursor continues after the last row
    returned.

    Each page is read in index order and stops after ``limit`` rows: a hub's cases from
    ``caseparty`` by ``(hub_id, created_at, case_id)``, every other list from an index of
    ``case`` ending in ``(created_at, id)``.
    """
    query, created, key = _filtered(session, caller, flt, sa.select(*SUMMARY_COLUMNS))
    oldest = flt.sort == "oldest"
    if cursor:
        after = tuple_(*decode_cursor(cursor))
        query = query.where(
            tuple_(created, key) > after if oldest else tuple_(created, key) < after
        )
    order = (created.asc(), key.asc()) if oldest else (created.desc(), key.desc())
    page = session.execute(query.order_by(*order).limit(limit + 1))
    rows = cast(list[ListedCase], page.all())
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (encode_cursor(rows[-1]) if more and rows else None)


def count_by_state(session: Session, caller: Caller, flt: CaseFilter) -> dict[str, int]:
    """How many cases of ``flt`` (its state aside) are in each state."""
    flt = CaseFilter(**{**flt.__dict__, "state": None})
    query, _, _ = _filtered(
        session, caller, flt, sa.select(col(Case.state), sa.func.count()).select_from(Case)
    )
    return {state: n for state, n in session.execute(query.group_by(col(Case.state))).all()}


def case_facts_of(session: Session, case_ids: list[str]) -> dict[str, CaseFacts]:
    """The facts of a few listed cases (a page of a list), in one query."""
    # Read as text and parsed by pydantic in one go: about 4x faster than the JSON column's
    # decoded dict validated afterwards (the page's largest cost).
    rows = session.execute(
        sa.select(col(Case.id), sa.cast(col(Case.facts), sa.Text)).where(col(Case.id).in_(case_ids))
    ).all()
    return {case_id: CaseFacts.model_validate_json(facts) for case_id, facts in rows}


def case_facts(case: Case) -> CaseFacts:
    return CaseFacts.model_validate(case.facts)


def timeline(session: Session, case_id: str) -> list[TimelineEntry]:
    return list(
        session.exec(
            select(TimelineEntry)
            .where(TimelineEntry.case_id == case_id)
            .order_by(col(TimelineEntry.seq))
        )
    )


def documents(session: Session, case_id: str) -> list[Document]:
    return list(
        session.exec(
            select(Document).where(Document.case_id == case_id).order_by(col(Document.version))
        )
    )


def signatures(session: Session, case_id: str) -> list[Signature]:
    return list(
        session.exec(
            select(Signature).where(Signature.case_id == case_id).order_by(col(Signature.id))
        )
    )


def hub_names(session: Session, hub_ids: list[str]) -> dict[str, str]:
    """Names only: a hub's profile JSON is large and not needed here."""
    rows = session.exec(select(Hub.id, Hub.name).where(col(Hub.id).in_(hub_ids)))
    return dict(rows.all())
