"""A history of ended cases for the indicators and report tests: every scenario and every
ending, projected step by step through ``project_case`` (so the phases, parties, milestones and
reviews are the rows the real projection writes). Each step is a day of January 2026 at
midnight UTC; the figures the tests expect are worked out by hand from this table.

=====  ==============  ==================  =============  ============================
case   scenario        lead → partner      ending (day)   notes
=====  ==============  ==================  =============  ============================
J1     joint service   tagus → po-valley   completed 20   survey 5/4/4/5 yes, 2 peers
J2     joint service   tagus → po-valley   no_review 25   deliverable late
J3     joint service   spree (none)        expired 16     meseta declined, ebro lapsed
C1     co-development  meseta → ebro       completed 20   2 peer reviews, no survey
C2     co-development  po-valley           rejected 5
M1     matchmaking     tagus ↔ spree       completed 10   survey 4/4/3/4 no, 2 peers
M2     matchmaking     tagus               cancelled 8
J4     joint service   po-valley → tagus   completed 22   survey 3/3/4/3 yes, 2 peers
J5     joint service   tagus → po-valley   completed Feb 3 (outside January)
=====  ==============  ==================  =============  ============================
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from domain.cases import (
    CaseFacts,
    ClientInfo,
    Deliverable,
    Introduction,
    Invitation,
    PeerReview,
    Survey,
)
from domain.timeline import chain_event
from store.db import session_scope
from store.records import project_case
from tests import factories

TAGUS, PO, SPREE, MESETA, EBRO = (
    "tagus-ai",
    "po-valley-ai",
    "spree-trust",
    "meseta-robotics",
    "ebro-agrodata",
)
JAN = datetime(2026, 1, 1, tzinfo=UTC)
CORK_CLIENT = ClientInfo(
    name="Cork Stoppers Lda",
    country="PT",
    email="ops@cork.example",
    organisation_type="private_company",
    size="small",
    sector="agriculture_food",
)
PERIOD = (JAN, datetime(2026, 2, 1, tzinfo=UTC))


def day(n: float) -> str:
    return (JAN + timedelta(days=n - 1)).isoformat()


def _facts(case_id: str, scenario: str, lead: str, **extra: Any) -> CaseFacts:
    return factories.make_facts(
        scenario,
        case_id=case_id,
        title=f"Case {case_id}",
        lead_hub_id=lead,
        created_at=day(1),
        quality_review=True,
        **extra,
    )


def _play(url: str, f: CaseFacts, steps: list[tuple[float, str, str, dict[str, Any]]]) -> None:
    """Each step: (day, state reached, event type, event data), projected as the workflow would."""
    for when, state, type_, data in steps:
        f.state = state
        if state == "closed" and f.outcome is None:
            f.outcome = "completed"
        event = chain_event(f.seq, f.head_hash, type_, "system", day(when), data)
        f.seq, f.head_hash = event.seq, event.hash
        with session_scope(url) as session:
            project_case(session, f, [event])


def _survey(q: int, t: int, c: int, v: int, rec: bool, when: float) -> Survey:
    return Survey(
        quality=q, timeliness=t, communication=c, value=v, would_recommend=rec, at=day(when)
    )


def _peer(by: str, on: str, rel: int, con: int, again: bool) -> PeerReview:
    return PeerReview(
        reviewer=by, subject=on, reliability=rel, contribution=con, would_collaborate_again=again
    )


def _delivered(hub: str, due_day: int, submitted_day: float) -> Deliverable:
    return Deliverable(
        hub_id=hub,
        id=f"d-{hub}",
        status="accepted",
        due=day(due_day)[:10],
        submitted_at=day(submitted_day),
    )


def _joint(
    url: str,
    case_id: str,
    lead: str,
    partner: str,
    days: tuple[float, float, float, float, float, float, float],
    deliverable: Deliverable,
    survey: Survey | None,
    peers: list[PeerReview],
    outcome: str = "completed",
    **extra: Any,
) -> None:
    invited, answered, approved, executed, delivered, closed, _ = days
    f = _facts(case_id, "joint_service", lead, **extra)
    _play(url, f, [(invited, "requested", "case_requested", {})])
    f.invitations = [Invitation(hub_id=partner)]
    _play(url, f, [(invited, "partnering", "partners_invited", {"hub_ids": [partner]})])
    f.invitations = [Invitation(hub_id=partner, status="accepted")]
    _play(url, f, [(answered, "legal_review", "invitation_accepted", {"hub_id": partner})])
    _play(url, f, [(approved, "signing", "draft_approved", {})])
    _play(url, f, [(executed, "delivery", "agreement_executed", {})])
    f.deliverables = [deliverable]
    _play(url, f, [(delivered, "review", "delivery_completed", {})])
    f.survey, f.hub_reviews = survey, peers
    f.outcome = outcome
    _play(url, f, [(closed, "closed", "closed", {"outcome": outcome})])


def seed_history(url: str) -> None:
    """The table above, in a migrated store holding the demo hubs."""
    _joint(
        url,
        "J1",
        TAGUS,
        PO,
        (1, 3, 5, 9, 19, 20, 0),
        _delivered(PO, 15, 14),
        _survey(5, 4, 4, 5, True, 20),
        [_peer(PO, TAGUS, 5, 4, True), _peer(TAGUS, PO, 4, 4, True)],
        client=CORK_CLIENT,
        wanted_services=["digital_maturity_assessment"],
    )
    _joint(
        url,
        "J2",
        TAGUS,
        PO,
        (2, 6, 8, 10, 20, 25, 0),
        _delivered(PO, 15, 18),
        None,
        [],
        outcome="no_review",
    )
    _joint(
        url,
        "J4",
        PO,
        TAGUS,
        (10, 11, 12, 13, 20, 22, 0),
        _delivered(TAGUS, 18, 17),
        _survey(3, 3, 4, 3, True, 22),
        [_peer(TAGUS, PO, 4, 3, True), _peer(PO, TAGUS, 4, 4, True)],
    )
    _joint(  # ends in February: outside the period
        url,
        "J5",
        TAGUS,
        PO,
        (20, 21, 22, 23, 30, 34, 0),
        _delivered(PO, 28, 27),
        _survey(1, 1, 1, 1, False, 34),
        [_peer(PO, TAGUS, 1, 1, False), _peer(TAGUS, PO, 1, 1, False)],
    )

    f = _facts("J3", "joint_service", SPREE)
    _play(url, f, [(2, "requested", "case_requested", {})])
    f.invitations = [Invitation(hub_id=MESETA), Invitation(hub_id=EBRO)]
    _play(url, f, [(2, "partnering", "partners_invited", {"hub_ids": [MESETA, EBRO]})])
    f.invitations[0].status = "declined"
    _play(url, f, [(4, "partnering", "invitation_declined", {"hub_id": MESETA})])
    f.invitations[1].status = "lapsed"
    _play(url, f, [(9, "partnering", "invitation_lapsed", {"hub_id": EBRO})])
    _play(url, f, [(16, "expired", "expired", {"reason": "no partner"})])

    f = _facts("C1", "co_development", MESETA)
    _play(url, f, [(1, "requested", "case_requested", {})])
    f.invitations = [Invitation(hub_id=EBRO)]
    _play(url, f, [(1, "partnering", "partners_invited", {"hub_ids": [EBRO]})])
    f.invitations = [Invitation(hub_id=EBRO, status="accepted")]
    _play(url, f, [(2, "legal_review", "invitation_accepted", {"hub_id": EBRO})])
    _play(url, f, [(3, "signing", "draft_approved", {})])
    _play(url, f, [(6, "development", "agreement_executed", {})])
    f.deliverables = [_delivered(MESETA, 10, 9), _delivered(EBRO, 10, 10.8)]
    _play(url, f, [(16, "pilot", "development_completed", {})])
    _play(url, f, [(17, "review", "pilot_completed", {})])
    f.hub_reviews = [_peer(EBRO, MESETA, 3, 3, False), _peer(MESETA, EBRO, 4, 5, True)]
    _play(url, f, [(20, "closed", "closed", {"outcome": "completed"})])

    f = _facts("C2", "co_development", PO)
    _play(url, f, [(1, "requested", "case_requested", {})])
    _play(url, f, [(5, "rejected", "request_rejected", {})])

    f = _facts("M1", "matchmaking", TAGUS)
    _play(
        url, f, [(1, "requested", "case_requested", {}), (1, "matching", "candidates_ranked", {})]
    )
    f.introductions = [Introduction(hub_id=SPREE)]
    _play(url, f, [(2, "introducing", "candidates_selected", {"hub_ids": [SPREE]})])
    f.introductions = [Introduction(hub_id=SPREE, hub_consent="given", player_consent="given")]
    _play(url, f, [(4, "meeting", "introductions_settled", {})])
    _play(url, f, [(6, "follow_up", "nda_skipped", {}), (7, "review", "outcome_recorded", {})])
    f.survey = _survey(4, 4, 3, 4, False, 9)
    f.hub_reviews = [_peer(SPREE, TAGUS, 5, 5, True), _peer(TAGUS, SPREE, 5, 4, True)]
    _play(url, f, [(10, "closed", "closed", {"outcome": "completed"})])

    f = _facts("M2", "matchmaking", TAGUS)
    _play(
        url, f, [(1, "requested", "case_requested", {}), (1, "matching", "candidates_ranked", {})]
    )
    _play(url, f, [(8, "cancelled", "cancelled", {})])

    f = _facts(  # still open: never counted
        "O1", "joint_service", TAGUS, client=ClientInfo(name="X", country="PT", email="x@x.example")
    )
    _play(url, f, [(3, "requested", "case_requested", {})])
