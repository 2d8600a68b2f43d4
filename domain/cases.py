"""Case types shared by the workflow, the activities and the API (pure pydantic, no I/O).

``CaseFacts`` is everything a case knows; the workflow owns it and the projection activity
writes a snapshot of it to the read model, so the API computes ``allowed_actions`` from the
store with the same code the workflow's validators use.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.timeline import GENESIS, chain_key

CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def control_character_error(value: str) -> str | None:
    """Why a one-line text (a title, a name) is refused: a line break, a tab or another
    control character would end up in mail headers and documents; None when it is fine."""
    found = CONTROL_CHARACTERS.search(value)
    if found is None:
        return None
    return f"must be one line without control characters (found {found.group()!r})"


def one_line(value: str) -> str:
    """A pydantic validator: ``value`` unchanged, or a ValueError naming the character."""
    error = control_character_error(value)
    if error is not None:
        raise ValueError(error)
    return value


def lead_positions(lead_hub_id: str, hub_ids: list[str]) -> list[int]:
    """Where the lead hub appears among ``hub_ids``: a lead never invites, or is matched with,
    itself (the rule of a case's start and of ``invite-partners``/``select-candidates``)."""
    return [i for i, h in enumerate(hub_ids) if h == lead_hub_id]


class Scenario(StrEnum):
    joint_service = "joint_service"
    co_development = "co_development"
    matchmaking = "matchmaking"


class Role(StrEnum):
    hub_member = "hub_member"
    hub_signatory = "hub_signatory"
    back_office = "back_office"
    legal = "legal"


HUB_ROLES = frozenset({Role.hub_member, Role.hub_signatory})
CLIENT = "client"  # the party id of a joint service's client
LOCAL_PLAYER = "local_player"  # the party id of a matchmaking case's local player
EXTERNAL_PARTIES = (CLIENT, LOCAL_PLAYER)
SYSTEM = "system"  # the actor of timers, reminders and automatic steps
ENDINGS = ("closed", "rejected", "cancelled", "expired")  # the final states: a case there is over


class Caller(BaseModel):
    """Who asks: a principal with a role (and a hub for hub roles), or a link holder."""

    model_config = ConfigDict(frozen=True)

    principal_id: str
    role: Role | Literal["link"]
    hub_id: str | None = None
    party: str | None = None  # for a link holder: the party it acts for (e.g. "client")
    link_action: str | None = None  # for a link holder: the one action its token allows
    subject: str | None = None  # for a link holder: what it is about (e.g. a candidate hub)

    @property
    def actor(self) -> str:
        """How the timeline names this caller (ids only, never personal data)."""
        if self.role == "link":
            return f"link:{self.party}"
        return f"principal:{self.principal_id}"


class ClientInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    country: str = Field(pattern=r"^[A-Z]{2}$")
    contact_name: str = Field(default="", max_length=200)
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)
    # for the EDIH reporting of customers served (taxonomy codes; optional)
    organisation_type: str = Field(default="", max_length=64, description="organisation_types")
    size: str = Field(default="", max_length=20, description="enterprise_size or pso_staff_size")
    sector: str = Field(default="", max_length=64, description="sectors (dih_market_sectors)")


class Invitation(BaseModel):
    hub_id: str
    status: Literal["pending", "accepted", "declined", "lapsed"] = "pending"
    reason: str = ""
    deadline: str = ""  # unanswered by then counts as declined


class TaskSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hub_id: str = Field(min_length=1, max_length=64)
    description: str = Field(min_length=1, max_length=2000)
    cost_share_pct: float = Field(ge=0, le=100)


class DraftComment(BaseModel):
    """The legal helpdesk's comments on one draft version (kept for every version)."""

    version: int
    comments: str
    by: str  # the actor, as on the timeline
    at: str


class Draft(BaseModel):
    version: int
    document_id: str
    sha256: str
    template: str
    template_version: str


class FileRef(BaseModel):
    """A file stored by content hash (a deliverable's attachment)."""

    sha256: str
    name: str
    size: int
    content_type: str


class Deliverable(BaseModel):
    """A milestone of delivery (joint service) or development (co-development): what one
    party hub owes, by when, and where its submission stands."""

    hub_id: str
    status: Literal["pending", "submitted", "accepted", "rejected"] = "pending"
    summary: str = ""
    reason: str = ""
    id: str = ""
    title: str = ""
    due: str = ""  # ISO date; past it and not accepted, the deliverable is overdue
    file: FileRef | None = None
    reminders: int = 0
    submitted_at: str = ""  # the last submission (UTC ISO 8601): on time when by ``due``
    accepted_at: str = ""


class MilestoneSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hub_id: str = Field(min_length=1, max_length=64)
    title: str = Field(min_length=1, max_length=300)
    due_days: int = Field(default=60, ge=1, le=1000, description="days after the start date")


class Candidate(BaseModel):
    """A hub the matching ranked for a case (``domain.matching.candidates``): its score out of
    100, each score component in [0, 1] (empty for cases ranked before components were kept)
    and the reasons in words."""

    hub_id: str
    score: float
    reasons: list[str] = []
    components: dict[str, float] = {}


class Introduction(BaseModel):
    """Double opt-in: the candidate hub and the local player each consent (or decline)."""

    hub_id: str
    hub_consent: Literal["pending", "given", "declined"] = "pending"
    player_consent: Literal["pending", "given", "declined"] = "pending"
    reason: str = ""

    @property
    def mutual(self) -> bool:
        return self.hub_consent == "given" and self.player_consent == "given"

    @property
    def settled(self) -> bool:
        return self.mutual or "declined" in (self.hub_consent, self.player_consent)


class Meeting(BaseModel):
    hub_id: str
    held_on: str
    notes: str = ""


class PilotResult(BaseModel):
    success: bool
    summary: str = ""


class Review(BaseModel):
    rating: int
    comment: str = ""


class Survey(BaseModel):
    """The client's (joint service) or local player's (matchmaking) quality survey, each
    score 1-5 (patch ``quality-review``)."""

    quality: int
    timeliness: int
    communication: int
    value: int
    would_recommend: bool
    comment: str = ""
    at: str = ""

    @property
    def rating(self) -> int:
        """One overall score (the mean of the four, rounded half up) for the pages that show one."""
        return int((self.quality + self.timeliness + self.communication + self.value) / 4 + 0.5)


class PeerReview(BaseModel):
    """A hub's review of another party hub of the case: a partner reviews the collaboration
    (its subject is the lead hub), the lead reviews each partner."""

    reviewer: str
    subject: str
    reliability: int
    contribution: int
    would_collaborate_again: bool
    comment: str = ""
    at: str = ""


class CaseFacts(BaseModel):
    """The whole state of one case; ``state`` is the lifecycle's current state value."""

    case_id: str
    scenario: Scenario
    state: str = "requested"
    outcome: str | None = None
    title: str
    need: str
    scope: str
    lead_hub_id: str
    client: ClientInfo | None = None  # joint service
    local_player: ClientInfo | None = None  # matchmaking
    invitations: list[Invitation] = []
    invitation_days: int = 7
    signing_days: int = 30
    reminder_days: int = 7
    # co-development
    ipr_model: str = ""
    service_name: str = ""
    service_description: str = ""
    background_ip: dict[str, list[str]] = {}
    milestone_plan: list[MilestoneSpec] = []
    pilot: PilotResult | None = None
    peer_reviews: dict[str, Review] = {}
    # what the case needs (taxonomy codes): matchmaking ranks its candidates with them, a
    # joint service its suggested partners (for a joint service, the services delivered)
    wanted_services: list[str] = []
    wanted_technologies: list[str] = []  # technology or AI subfield codes
    wanted_sectors: list[str] = []
    # the matching's ranking when the case opened: a matchmaking case's candidates; a joint
    # service's suggested partners (patch ``joint-service-suggestions``; advice only, the lead
    # may invite any hub)
    candidates: list[Candidate] = []
    # matchmaking
    introductions: list[Introduction] = []
    meetings: list[Meeting] = []
    nda_requested: bool = False
    result: str = ""  # the matchmaking outcome the lead records
    tasks: list[TaskSpec] = []
    changes_requested: str = ""
    review_comments: list[DraftComment] = []  # every round of the helpdesk's comments
    signing_order: Literal["parallel", "sequential"] = "parallel"  # sequential: as in signers
    draft: Draft | None = None
    external_copy_sha256: str | None = None  # the executed copy signed elsewhere, attached
    signatures: dict[str, str] = {}  # party id -> SHA-256 it signed, for the current draft
    deliverables: list[Deliverable] = []
    review: Review | None = None
    # the quality review (patch ``quality-review``; False for cases started before it)
    quality_review: bool = False
    survey: Survey | None = None
    hub_reviews: list[PeerReview] = []
    end_reason: str = ""
    deadlines: dict[str, str] = {}  # name -> UTC ISO 8601 instant
    start_date: str
    end_date: str
    partnering_days: int
    review_days: int
    link_days: int = 14
    created_at: str
    seq: int = 0
    head_hash: str = GENESIS
    chain: int = 1  # the timeline's chain version (domain.timeline); new cases are opened with 2

    @property
    def chain_key(self) -> str | None:
        """What this case's event hashes are bound to (``domain.timeline.chain_key``)."""
        return chain_key(self.chain, self.case_id)

    # -- derived views used by guards, permissions and pages ---------------------------------
    def invitation(self, hub_id: str | None) -> Invitation | None:
        return next((i for i in self.invitations if i.hub_id == hub_id), None)

    def departed(self, hub_id: str | None) -> str | None:
        """How a hub left the case (``declined``, ``lapsed``, ``not_selected``); None for the
        lead and every hub still taking part. A hub that left sees a summary of the case at
        most: that it was asked and how that ended (least privilege)."""
        if hub_id is None or hub_id == self.lead_hub_id:
            return None
        invitation = self.invitation(hub_id)
        if invitation is not None and invitation.status in ("declined", "lapsed"):
            return invitation.status
        intro = self.introduction(hub_id)
        if intro is not None and intro.settled and not intro.mutual:
            return "not_selected"
        return None

    @property
    def partner_ids(self) -> list[str]:
        return [i.hub_id for i in self.invitations if i.status == "accepted"]

    @property
    def party_hub_ids(self) -> list[str]:
        return [self.lead_hub_id, *self.partner_ids]

    @property
    def signers(self) -> list[str]:
        """Every party whose signature the current draft needs.

        Joint service: each hub, then the client. Co-development: each hub. Matchmaking (the
        NDA): the lead, each candidate hub with a mutual introduction, then the local player.
        """
        if self.scenario == Scenario.joint_service:
            return [*self.party_hub_ids, CLIENT]
        if self.scenario == Scenario.matchmaking:
            return [self.lead_hub_id, *self.matched_hub_ids, LOCAL_PLAYER]
        return self.party_hub_ids

    @property
    def matched_hub_ids(self) -> list[str]:
        return [i.hub_id for i in self.introductions if i.mutual]

    def introduction(self, hub_id: str | None) -> Introduction | None:
        return next((i for i in self.introductions if i.hub_id == hub_id), None)

    def external(self, party: str) -> ClientInfo | None:
        return {CLIENT: self.client, LOCAL_PLAYER: self.local_player}.get(party)

    @property
    def unsigned(self) -> list[str]:
        """Parties still to sign the current draft (everyone while there is no draft)."""
        current = self.draft.sha256 if self.draft else None
        return [p for p in self.signers if current is None or self.signatures.get(p) != current]

    def deliverable(self, hub_id: str | None) -> Deliverable | None:
        """The first open (else the first) deliverable a hub owes."""
        owed = [d for d in self.deliverables if d.hub_id == hub_id]
        return next((d for d in owed if d.status != "accepted"), owed[0] if owed else None)

    def deliverable_by_id(self, deliverable_id: str) -> Deliverable | None:
        return next((d for d in self.deliverables if d.id == deliverable_id), None)

    # -- the quality review (cases with ``quality_review``) ----------------------------------
    @property
    def surveyed_party(self) -> str | None:
        """The external party asked for the survey (none in co-development)."""
        return {Scenario.joint_service: CLIENT, Scenario.matchmaking: LOCAL_PLAYER}.get(
            self.scenario
        )

    @property
    def review_pairs(self) -> list[tuple[str, str]]:
        """Every (reviewer, subject) peer review the case expects: each partner hub reviews
        the collaboration (the lead), the lead reviews each partner."""
        partners = (
            self.matched_hub_ids if self.scenario == Scenario.matchmaking else self.partner_ids
        )
        return [(p, self.lead_hub_id) for p in partners] + [(self.lead_hub_id, p) for p in partners]

    def reviews_owed(self, hub_id: str | None) -> list[str]:
        """The hubs ``hub_id`` still owes a peer review of, in the case's order."""
        done = {(r.reviewer, r.subject) for r in self.hub_reviews}
        return [s for r, s in self.review_pairs if r == hub_id and (r, s) not in done]

    @property
    def survey_missing(self) -> bool:
        return self.quality_review and self.surveyed_party is not None and self.survey is None

    @property
    def peer_reviews_owed(self) -> bool:
        done = {(r.reviewer, r.subject) for r in self.hub_reviews}
        return self.quality_review and any(p not in done for p in self.review_pairs)

    @property
    def is_open(self) -> bool:
        return self.state not in ENDINGS


class CaseStart(BaseModel):
    """What a workflow starts with (its facts are carried over on continue-as-new)."""

    facts: CaseFacts
    invited_hub_ids: list[str] = []
    requested_by: Caller
    activity_timeout_seconds: int = 30
    history_limit: int = 2_000  # continue-as-new past this many history events, facts kept


class ActionRequest(BaseModel):
    """One human step sent to a case workflow as the update named after the action."""

    caller: Caller
    body: dict[str, Any] = {}
    ip: str = ""
    user_agent: str = ""


class AttachCopyRequest(BaseModel):
    """The executed copy signed elsewhere, stored by the API, for the timeline to record
    (the workflow update ``attach_executed_copy``)."""

    caller: Caller
    document_id: str
    sha256: str


class ActionResult(BaseModel):
    state: str
    outcome: str | None = None
    seq: int
    changed: bool = True
