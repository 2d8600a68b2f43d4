"""Who a case is waiting on now: the parties a back-office ``nudge`` reminds.

A derived view of the facts (pure, no I/O), read by the lifecycle's ``someone_pending`` guard
(``nudge`` is enabled only while someone is pending) and by the ``nudge`` step itself. The
legal helpdesk, which a case in ``legal_review`` waits on, is not a party of the case and has no
address here: ``nudge`` is not offered there.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.cases import CLIENT, LOCAL_PLAYER, CaseFacts, Scenario


@dataclass(frozen=True)
class Pending:
    """One party the case waits on: a hub id, or an external party acting through a link
    (``link_action``, and ``subject`` when the party holds one link per subject)."""

    party: str
    what: str  # what it owes, as a reminder says it: "your signature"
    due: str = ""
    link_action: str | None = None
    subject: str | None = None


def waiting_on(facts: CaseFacts) -> list[Pending]:
    """The parties the case waits on in its current state, each once, in a stable order."""
    found: dict[tuple[str, str | None], Pending] = {}
    for p in _by_state(facts):
        found.setdefault((p.party, p.subject), p)
    return list(found.values())


def _by_state(f: CaseFacts) -> list[Pending]:
    if f.state == "partnering":
        return [
            Pending(i.hub_id, "your answer to the invitation", i.deadline)
            for i in f.invitations
            if i.status == "pending"
        ]
    if f.state == "signing":
        unsigned = f.unsigned if f.signing_order == "parallel" else f.unsigned[:1]
        due = f.deadlines.get("signing", "")
        return [_party(p, "your signature", due, "sign") for p in unsigned]
    if f.state in ("delivery", "development"):
        owing = [
            Pending(d.hub_id, d.title or "your deliverable", d.due)
            for d in f.deliverables
            if d.status in ("pending", "rejected")
        ]
        if any(d.status == "submitted" for d in f.deliverables):
            owing.append(Pending(f.lead_hub_id, "your decision on a submitted deliverable"))
        return owing
    if f.state == "introducing":
        due = f.deadlines.get("introductions", "")
        waiting: list[Pending] = []
        for intro in f.introductions:
            if intro.hub_consent == "pending":
                waiting.append(Pending(intro.hub_id, "your consent to an introduction", due))
            if intro.player_consent == "pending":
                waiting.append(
                    Pending(
                        LOCAL_PLAYER,
                        "your consent to an introduction",
                        due,
                        "consent",
                        intro.hub_id,
                    )
                )
        return waiting
    if f.state == "review":
        due = f.deadlines.get("review", "")
        if f.quality_review:
            owed: list[Pending] = []
            if f.survey_missing and f.surveyed_party is not None:
                owed.append(Pending(f.surveyed_party, "your quality survey", due, "review"))
            reviewers = dict.fromkeys(r for r, _ in f.review_pairs)
            owed += [Pending(h, "your peer review", due) for h in reviewers if f.reviews_owed(h)]
            return owed
        if f.scenario == Scenario.co_development:
            return [
                Pending(h, "your peer review", due)
                for h in f.party_hub_ids
                if h not in f.peer_reviews
            ]
        if f.review is None:
            party = CLIENT if f.scenario == Scenario.joint_service else LOCAL_PLAYER
            return [Pending(party, "your review", due, "review")]
    return []


def _party(party: str, what: str, due: str, link_action: str) -> Pending:
    """A hub, or an external party that acts through a ``link_action`` link."""
    external = party in (CLIENT, LOCAL_PLAYER)
    return Pending(party, what, due, link_action if external else None)
