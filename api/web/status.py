"""Where a case stands, as the back office reads it: who it is waiting on, its partners.

Pure functions of the stored facts (no I/O), shared by the list and the case page.
"""

from __future__ import annotations

from domain.cases import CLIENT, LOCAL_PLAYER, CaseFacts, Scenario

LEAD = "the lead hub"
ENDED = ("closed", "rejected", "cancelled", "expired")


def partners(facts: CaseFacts) -> list[str]:
    """Hub ids of the partners (accepted invitations; matched candidates in matchmaking)."""
    return [*facts.partner_ids, *(i.hub_id for i in facts.introductions if i.mutual)]


def waiting_on(facts: CaseFacts, names: dict[str, str] | None = None) -> list[str]:
    """Who must act next for the case to move on, in words ('' ids become hub names)."""
    names = names or {}

    def hub(hub_id: str) -> str:
        return names.get(hub_id, hub_id)

    def party(p: str) -> str:
        if p == CLIENT:
            return "the client"
        if p == LOCAL_PLAYER:
            return "the local player"
        return hub(p)

    state = facts.state
    if state in ENDED:
        return []
    if state == "partnering":
        pending = [hub(i.hub_id) for i in facts.invitations if i.status == "pending"]
        return pending or [LEAD]
    if state == "legal_review":
        return ["the legal helpdesk"]
    if state == "signing":
        unsigned = [party(p) for p in facts.unsigned]
        return unsigned[:1] if facts.signing_order == "sequential" else unsigned
    if state in ("delivery", "development"):
        due = [hub(d.hub_id) for d in facts.deliverables if d.status in ("pending", "rejected")]
        decide = [LEAD] if any(d.status == "submitted" for d in facts.deliverables) else []
        return list(dict.fromkeys(decide + due)) or [LEAD]
    if state == "introducing":
        who: list[str] = []
        for intro in facts.introductions:
            if intro.hub_consent == "pending":
                who.append(hub(intro.hub_id))
            if intro.player_consent == "pending":
                who.append("the local player")
        return list(dict.fromkeys(who)) or [LEAD]
    if state == "review":
        if facts.scenario == Scenario.co_development:
            return [hub(h) for h in facts.party_hub_ids if h not in facts.peer_reviews]
        return ["the client" if facts.scenario == Scenario.joint_service else "the local player"]
    # requested, drafting, matching, meeting, pilot, follow_up: the lead hub's move
    return [LEAD]
