"""Starting a case: the request body for each scenario and the checks that need no store.

Pure: the API adds what needs the registry (the lead and invited hubs exist) and passes the
clock in (``today``), so the same rules hold wherever a start is checked.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from domain.agreements import cost_share_error
from domain.cases import (
    ClientInfo,
    MilestoneSpec,
    Scenario,
    TaskSpec,
    control_character_error,
    lead_positions,
    one_line,
)
from domain.taxonomy import customer_sizes, vocabulary

Errors = list[dict[str, str]]
OneLine = Annotated[str, AfterValidator(one_line)]

EXAMPLE: dict[str, Any] = {
    "scenario": "joint_service",
    "title": "AI quality inspection for a cork producer",
    "need": "Detect surface defects on cork stoppers with computer vision.",
    "client": {"name": "Cortiça Exemplo Lda", "country": "PT", "email": "ops@cork.example"},
    "invited_hub_ids": ["po-valley-ai"],
}


class CaseCreate(BaseModel):
    """Start a case. Which fields apply depends on ``scenario``:

    - ``joint_service``: ``client`` (required), ``invited_hub_ids``, ``tasks``; the case opens
      with suggested partners ranked for ``wanted_services``, ``wanted_technologies``,
      ``wanted_sectors`` and the need;
    - ``co_development``: ``invited_hub_ids`` (co-developers), ``service_name`` (required),
      ``service_description``, ``ipr_model``, ``background_ip``, ``milestones``;
    - ``matchmaking``: ``local_player`` (required), ``wanted_services``,
      ``wanted_technologies``, ``wanted_sectors`` (taxonomy codes) to rank candidates with.
    """

    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": EXAMPLE})

    scenario: Scenario
    title: OneLine = Field(min_length=1, max_length=200)
    need: str = Field(min_length=1, max_length=5000)
    scope: str | None = Field(default=None, min_length=1, max_length=5000)
    lead_hub_id: str | None = Field(default=None, max_length=64)
    client: ClientInfo | None = None
    local_player: ClientInfo | None = None
    invited_hub_ids: list[str] = Field(default=[], max_length=20)
    tasks: list[TaskSpec] | None = Field(default=None, max_length=50)
    service_name: OneLine | None = Field(default=None, min_length=1, max_length=200)
    service_description: str = Field(default="", max_length=5000)
    ipr_model: Literal["joint_ownership", "lead_owned_with_licences", "each_owns_foreground"] = (
        "joint_ownership"
    )
    background_ip: dict[str, list[str]] = Field(default={}, max_length=20)
    milestones: list[MilestoneSpec] = Field(default=[], max_length=50)
    wanted_services: list[str] = Field(default=[], max_length=20)
    wanted_technologies: list[str] = Field(
        default=[], max_length=20, description="technology or AI subfield codes"
    )
    wanted_sectors: list[str] = Field(default=[], max_length=20, description="sector codes")
    signing_order: Literal["parallel", "sequential"] = Field(
        default="parallel",
        description="sequential: each party signs in turn (lead, partners, then the client)",
    )
    start_date: date | None = None
    end_date: date | None = None
    partnering_days: int | None = Field(default=None, ge=1, le=365)
    invitation_days: int | None = Field(default=None, ge=1, le=365)
    signing_days: int | None = Field(default=None, ge=1, le=365)
    reminder_days: int | None = Field(default=None, ge=1, le=365)
    review_days: int | None = Field(default=None, ge=1, le=365)


REQUIRED = {
    Scenario.joint_service: "client",
    Scenario.co_development: "service_name",
    Scenario.matchmaking: "local_player",
}


def scenario_errors(body: CaseCreate) -> list[dict[str, str]]:
    """The fields a scenario needs, and those it cannot take."""
    errors = []
    needed = REQUIRED[body.scenario]
    if getattr(body, needed) is None:
        errors.append({"field": needed, "message": f"required for a {body.scenario.value} case"})
    if body.scenario == Scenario.matchmaking and body.invited_hub_ids:
        errors.append(
            {
                "field": "invited_hub_ids",
                "message": "a matchmaking case selects candidates after ranking",
            }
        )
    return errors


def start_errors(body: CaseCreate, lead: str, today: date) -> Errors:
    """Everything wrong with starting ``body`` led by ``lead`` on ``today``, as
    ``{field, message}`` pairs (empty when it may start), the registry aside."""
    errors = scenario_errors(body)
    for party in ("client", "local_player"):  # their names go into mail headers and documents
        who = getattr(body, party)
        for field in ("name", "contact_name"):
            problem = control_character_error(getattr(who, field)) if who else None
            if problem:
                errors.append({"field": f"{party}.{field}", "message": problem})
    errors += [
        {"field": f"invited_hub_ids.{i}", "message": "the lead hub cannot be invited"}
        for i in lead_positions(lead, body.invited_hub_ids)
    ]
    parties = {lead, *body.invited_hub_ids}
    errors += [
        {"field": f"background_ip.{h}", "message": "not a hub of this case"}
        for h in body.background_ip
        if h not in parties
    ]
    errors += [
        {"field": f"milestones.{i}.hub_id", "message": "not a hub of this case"}
        for i, m in enumerate(body.milestones)
        if m.hub_id not in parties
    ]
    if body.tasks:
        problem = cost_share_error(t.cost_share_pct for t in body.tasks)
        if problem is not None:
            errors.append({"field": "tasks", "message": problem})
    vocab = vocabulary()
    errors += [
        {"field": f"wanted_services.{i}", "message": f"unknown service code {code!r}"}
        for i, code in enumerate(body.wanted_services)
        if code not in vocab.services
    ]
    known_technologies = {*vocab.technologies, *vocab.ai_subfields}
    errors += [
        {"field": f"wanted_technologies.{i}", "message": f"unknown technology code {code!r}"}
        for i, code in enumerate(body.wanted_technologies)
        if code not in known_technologies
    ]
    errors += [
        {"field": f"wanted_sectors.{i}", "message": f"unknown sector code {code!r}"}
        for i, code in enumerate(body.wanted_sectors)
        if code not in vocab.sectors
    ]
    errors += customer_errors(body)
    start = body.start_date or today
    if body.end_date is not None and body.end_date <= start:
        errors.append({"field": "end_date", "message": "must be after start_date"})
    return errors


def customer_errors(body: CaseCreate) -> Errors:
    """The client's or local player's organisation type, size and sector: taxonomy codes."""
    vocab, sizes = vocabulary(), customer_sizes()
    errors: Errors = []
    for party in ("client", "local_player"):
        who = getattr(body, party)
        if who is None:
            continue
        for name, known in (
            ("organisation_type", vocab.organisation_types),
            ("size", sizes),
            ("sector", vocab.sectors),
        ):
            value = getattr(who, name)
            if value and value not in known:
                errors.append({"field": f"{party}.{name}", "message": f"unknown code {value!r}"})
    return errors
