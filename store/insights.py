"""Reads behind the staff pages beyond the case list: the legal queue, the hub registry and a
hub's cases, and the network's figures. Read-only, like every query of the API.

Each network figure carries the Cases-list filter that shows the cases behind it (``filters``:
the query parameters of ``/cases``), so a page links every number to its list.
"""

from __future__ import annotations

import statistics
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from domain.cases import ENDINGS, CaseFacts, DraftComment
from domain.hubs import HubProfile, Representative
from store.db import as_utc
from store.models import Case, CaseParty, Document, Hub, TimelineEntry
from store.queries import case_facts, hub_names
from store.search import WORD, search_words


# -- the legal queue -------------------------------------------------------------------------
@dataclass
class QueueItem:
    """One draft waiting for the legal helpdesk."""

    case: Case
    facts: CaseFacts
    lead_hub_name: str
    draft: Document
    previous: Document | None  # the version before, for the diff
    waiting_since: datetime  # when this draft version was rendered

    @property
    def variables(self) -> dict[str, Any]:
        return dict((self.draft.variables or {}).get("context", {}))

    @property
    def comment_rounds(self) -> list[DraftComment]:
        return list(self.facts.review_comments)


LEGAL_QUEUE_LIMIT = 100


def legal_queue(session: Session, limit: int = LEGAL_QUEUE_LIMIT) -> list[QueueItem]:
    """Cases in ``legal_review``, the oldest draft first (by when its version was rendered).

    Reads the newest document of each such case in one grouped query, then the drafts the
    facts name; a case whose draft row is missing (never, when the workflow wrote it) is left
    out rather than shown without a document.
    """
    since = sa.func.max(col(Document.created_at))
    rows = session.execute(
        sa.select(col(Case.id), since.label("since"))
        .join(Document, col(Document.case_id) == col(Case.id))
        .where(col(Case.state) == "legal_review")
        .group_by(col(Case.id))
        .order_by(since.asc(), col(Case.id).asc())
        .limit(limit)
    ).all()
    return _queue_items(session, [case_id for case_id, _ in rows])


def queue_item(session: Session, case_id: str) -> QueueItem | None:
    """The queue's entry for one case, or None when it has no draft waiting for review."""
    found = _queue_items(session, [case_id])
    return found[0] if found else None


def _queue_items(session: Session, case_ids: list[str]) -> list[QueueItem]:
    """The entries of ``case_ids`` that are in legal review with a stored draft, in order."""
    cases = {
        c.id: c
        for c in session.exec(
            select(Case).where(col(Case.id).in_(case_ids), col(Case.state) == "legal_review")
        )
    }
    wanted: dict[str, CaseFacts] = {}
    for case_id in case_ids:
        if case_id in cases:
            facts = case_facts(cases[case_id])
            if facts.draft is not None:
                wanted[case_id] = facts
    docs = _documents_of(session, list(wanted))
    names = hub_names(session, [f.lead_hub_id for f in wanted.values()])
    items: list[QueueItem] = []
    for case_id, facts in wanted.items():
        assert facts.draft is not None
        by_version = {(d.template, d.version): d for d in docs.get(case_id, [])}
        draft = by_version.get((facts.draft.template, facts.draft.version))
        if draft is None:
            continue
        items.append(
            QueueItem(
                case=cases[case_id],
                facts=facts,
                lead_hub_name=names.get(facts.lead_hub_id, facts.lead_hub_id),
                draft=draft,
                previous=by_version.get((facts.draft.template, facts.draft.version - 1)),
                waiting_since=as_utc(draft.created_at),  # type: ignore[arg-type]
            )
        )
    return items


def _documents_of(session: Session, case_ids: list[str]) -> dict[str, list[Document]]:
    found: dict[str, list[Document]] = defaultdict(list)
    if case_ids:
        for doc in session.exec(select(Document).where(col(Document.case_id).in_(case_ids))):
            assert doc.case_id is not None
            found[doc.case_id].append(doc)
    return found


# -- the hub registry --------------------------------------------------------------------------
@dataclass
class HubFilter:
    text: str | None = None  # every word begins a word of the name, short name, city or description
    country: str | None = None
    service: str | None = None
    technology: str | None = None


def _words(*texts: str) -> set[str]:
    """Every word of ``texts`` folded as a search folds it (lower case, no accents)."""
    plain = unicodedata.normalize("NFKD", " ".join(texts))
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return {w.lower() for w in WORD.findall(plain)}


def search_hubs(session: Session, flt: HubFilter) -> list[HubProfile]:
    """The registry's hubs matching every filter given, by name.

    The registry is small (hundreds of hubs, not cases by the hundred thousand): the profiles
    are read in one query and filtered here with the case list's rules for words (prefixes,
    any order, case and accents ignored). A text without a letter or digit raises
    ``store.search.SearchError``, as on the case list.
    """
    query = select(Hub).order_by(col(Hub.name))
    if flt.country:
        query = query.where(col(Hub.country) == flt.country)
    words = search_words(flt.text) if flt.text else []
    out: list[HubProfile] = []
    for hub in session.exec(query):
        profile = HubProfile.model_validate(hub.profile)
        if flt.service and flt.service not in profile.services:
            continue
        if flt.technology and flt.technology not in profile.technologies:
            continue
        if words:
            haystack = _words(profile.name, profile.short_name, profile.city, profile.description)
            if not all(any(h.startswith(w) for h in haystack) for w in words):
                continue
        out.append(profile)
    return out


@dataclass(frozen=True)
class Mandate:
    """A representative's mandate as of a day: ``status`` is ``current``, ``expired`` (ended
    before that day) or ``not_started``."""

    representative: Representative
    status: str
    delegated_by_name: str | None = None

    @property
    def expired(self) -> bool:
        return self.status == "expired"


def mandates(profile: HubProfile, today: date) -> list[Mandate]:
    names = {r.id: r.name for r in profile.representatives}
    out = []
    for rep in profile.representatives:
        status = "current"
        if rep.mandate_until is not None and rep.mandate_until < today:
            status = "expired"
        elif rep.mandate_from is not None and rep.mandate_from > today:
            status = "not_started"
        out.append(Mandate(rep, status, names.get(rep.delegated_by or "")))
    return out


HUB_CASES_LIMIT = 50


@dataclass
class HubCases:
    open: list[tuple[Case, str]] = field(default_factory=list)  # (case, the hub's role in it)
    closed: list[tuple[Case, str]] = field(default_factory=list)
    more_open: bool = False
    more_closed: bool = False


def hub_cases(session: Session, hub_id: str, limit: int = HUB_CASES_LIMIT) -> HubCases:
    """The hub's open and ended cases, newest first, ``limit`` of each (read from the
    ``(hub_id, created_at, case_id)`` index of ``caseparty``)."""
    out = HubCases()
    for ended, rows, more in ((False, out.open, "more_open"), (True, out.closed, "more_closed")):
        state = col(Case.state).in_(ENDINGS)
        query = (
            select(Case, CaseParty.role)
            .join(CaseParty, col(CaseParty.case_id) == col(Case.id))
            .where(col(CaseParty.hub_id) == hub_id, state if ended else sa.not_(state))
            .order_by(col(CaseParty.created_at).desc(), col(CaseParty.case_id).desc())
            .limit(limit + 1)
        )
        found = list(session.exec(query))
        rows.extend((case, role) for case, role in found[:limit])
        setattr(out, more, len(found) > limit)
    return out


# -- the network's figures -----------------------------------------------------------------------
@dataclass(frozen=True)
class Phase:
    """A phase of the common spine, measured from the first of ``starts`` to the next of
    ``ends`` on a case's timeline (a phase entered again, such as a second legal review
    round, is measured again). ``states`` names the list state a case is in during the phase,
    per scenario (absent: the scenario has no such phase)."""

    name: str
    label: str
    starts: frozenset[str]
    ends: frozenset[str]
    states: dict[str, str]
    abandons: frozenset[str] = frozenset()  # events that leave the phase unfinished


def _phase(
    name: str,
    label: str,
    starts: set[str],
    ends: set[str],
    *,
    abandons: frozenset[str] = frozenset(),
    **states: str,
) -> Phase:
    return Phase(name, label, frozenset(starts), frozenset(ends), states, abandons)


PHASES: tuple[Phase, ...] = (
    _phase(
        "partners",
        "Request to partners confirmed",
        {"case_requested"},
        {"partnering_closed", "introductions_settled"},
        joint_service="partnering",
        co_development="partnering",
        matchmaking="introducing",
    ),
    _phase(
        "legal_review",
        "Legal review of a draft",
        {"draft_rendered"},
        {"draft_approved", "changes_requested"},
        joint_service="legal_review",
        co_development="legal_review",
        matchmaking="legal_review",
    ),
    _phase(
        "signing",
        "Signature of the approved draft",
        {"draft_approved"},
        {"agreement_executed"},
        abandons=frozenset({"signature_declined"}),
        joint_service="signing",
        co_development="signing",
        matchmaking="signing",
    ),
    _phase(
        "delivery",
        "Delivery or development",
        {"agreement_executed"},
        {"delivery_completed", "development_completed"},
        joint_service="delivery",
        co_development="development",
    ),
    _phase(
        "review",
        "Quality review",
        {"delivery_completed", "review_opened", "outcome_recorded"},
        {"closed"},
        joint_service="review",
        co_development="review",
        matchmaking="review",
    ),
)
# A case that ends otherwise leaves its open phase unfinished: it is not counted.
ENDING_EVENTS = frozenset({"cancelled", "request_rejected", "expired"})
PHASE_SAMPLE = 5_000  # the newest cases whose timelines the medians read


@dataclass(frozen=True)
class Figure:
    """One number on the network page and the Cases-list filter behind it."""

    label: str
    value: float | int
    filters: dict[str, str]
    count: int | None = None  # how many spans a median is over


@dataclass
class NetworkFigures:
    open_by_state: dict[str, list[Figure]]  # scenario -> one per state with open cases
    open_total: Figure
    overdue: list[Figure]  # one per scenario, then the whole network
    endings: list[Figure]  # cases per ending (closed, cancelled, ...), whole network
    median_days: dict[str, list[Figure]]  # scenario -> one per phase measured
    mean_rating: Figure | None
    sample: int = 0  # how many cases the medians and the rating read


def network_figures(session: Session, sample: int = PHASE_SAMPLE) -> NetworkFigures:
    """Open cases per scenario and state, overdue counts, cases per ending, and the median
    calendar days per phase (with the mean review rating) over the newest ``sample`` cases'
    timelines: a fixed amount of reading however large the store grows."""
    counts = session.execute(
        sa.select(col(Case.scenario), col(Case.state), sa.func.count())
        .group_by(col(Case.scenario), col(Case.state))
        .order_by(col(Case.scenario), col(Case.state))
    ).all()
    open_by_state: dict[str, list[Figure]] = defaultdict(list)
    endings: dict[str, int] = defaultdict(int)
    total = 0
    for scenario, state, n in counts:
        if state in ENDINGS:
            endings[state] += n
            continue
        total += n
        open_by_state[scenario].append(
            Figure(state.replace("_", " "), n, {"scenario": scenario, "state": state})
        )
    overdue_rows = session.execute(
        sa.select(col(Case.scenario), sa.func.count())
        .where(col(Case.overdue).is_(True), col(Case.state).not_in(ENDINGS))
        .group_by(col(Case.scenario))
        .order_by(col(Case.scenario))
    ).all()
    overdue = [
        Figure(scenario.replace("_", " "), n, {"scenario": scenario, "overdue": "yes"})
        for scenario, n in overdue_rows
    ]
    overdue.append(Figure("whole network", sum(n for _, n in overdue_rows), {"overdue": "yes"}))
    medians, rating, read = _phase_medians(session, sample)
    return NetworkFigures(
        open_by_state=dict(open_by_state),
        open_total=Figure("open cases", total, {}),
        overdue=overdue,
        endings=[
            Figure(state, endings[state], {"state": state})
            for state in ENDINGS
            if endings.get(state)
        ],
        median_days=medians,
        mean_rating=rating,
        sample=read,
    )


def _phase_medians(
    session: Session, sample: int
) -> tuple[dict[str, list[Figure]], Figure | None, int]:
    newest = session.execute(
        sa.select(col(Case.id), col(Case.scenario))
        .order_by(col(Case.created_at).desc(), col(Case.id).desc())
        .limit(sample)
    ).all()
    scenario_of = dict(newest)
    kinds = {t for p in PHASES for t in p.starts | p.ends | p.abandons}
    kinds |= ENDING_EVENTS | {"reviewed"}
    spans: dict[tuple[str, str], list[float]] = defaultdict(list)
    ratings: list[int] = []
    ids = list(scenario_of)
    for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        events = session.execute(
            sa.select(
                col(TimelineEntry.case_id),
                col(TimelineEntry.type),
                col(TimelineEntry.at),
                col(TimelineEntry.data),
            )
            .where(col(TimelineEntry.case_id).in_(chunk), col(TimelineEntry.type).in_(kinds))
            .order_by(col(TimelineEntry.case_id), col(TimelineEntry.seq))
        ).all()
        by_case: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for case_id, type_, at, data in events:
            by_case[case_id].append((type_, at))
            if type_ == "reviewed" and isinstance((data or {}).get("rating"), int):
                ratings.append(data["rating"])
        for case_id, timeline in by_case.items():
            for phase, days in phase_spans(timeline):
                spans[(scenario_of[case_id], phase)].append(days)
    medians: dict[str, list[Figure]] = {}
    for scenario in sorted({s for s, _ in spans}):
        medians[scenario] = [
            Figure(
                p.label,
                round(statistics.median(spans[(scenario, p.name)]), 1),
                {"scenario": scenario, "state": p.states[scenario]},
                count=len(spans[(scenario, p.name)]),
            )
            for p in PHASES
            if spans.get((scenario, p.name)) and scenario in p.states
        ]
    rating = None
    if ratings:
        rating = Figure(
            "mean review rating (1-5)",
            round(statistics.fmean(ratings), 2),
            {"state": "closed"},
            count=len(ratings),
        )
    return medians, rating, len(ids)


def phase_spans(timeline: list[tuple[str, str]]) -> list[tuple[str, float]]:
    """(phase name, calendar days) for each phase a case went through, from its events
    ``(type, at)`` in timeline order. A phase still open is not counted."""
    opened: dict[str, datetime] = {}
    out: list[tuple[str, float]] = []
    for type_, at in timeline:
        moment = datetime.fromisoformat(at)
        for phase in PHASES:
            if phase.name in opened and type_ in phase.ends:
                days = (moment - opened.pop(phase.name)) / timedelta(days=1)
                out.append((phase.name, days))
            elif type_ in phase.abandons:
                opened.pop(phase.name, None)
        if type_ in ENDING_EVENTS:
            opened.clear()
        for phase in PHASES:
            if type_ in phase.starts and phase.name not in opened:
                opened[phase.name] = moment
    return out
