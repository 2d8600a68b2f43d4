"""Starting a case: the request body for each scenario, its checks, and the first facts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from api.problems import ApiError
from dihflow.settings import Settings
from domain.cases import (
    HUB_ROLES,
    Caller,
    CaseFacts,
    ClientInfo,
    MilestoneSpec,
    Role,
    Scenario,
    TaskSpec,
)
from domain.taxonomy import vocabulary
from store.models import Hub

EXAMPLE: dict[str, Any] = {
    "scenario": "joint_service",
    "title": "AI quality inspection for a cork producer",
    "need": "Detect surface defects on cork stoppers with computer vision.",
    "client": {"name": "Cortiça Exemplo Lda", "country": "PT", "email": "ops@cork.example"},
    "invited_hub_ids": ["po-valley-ai"],
}


class CaseCreate(BaseModel):
    """Start a case. Which fields apply depends on ``scenario``:

    - ``joint_service``: ``client`` (required), ``invited_hub_ids``, ``tasks``;
    - ``co_development``: ``invited_hub_ids`` (co-developers), ``service_name`` (required),
      ``service_description``, ``ipr_model``, ``background_ip``, ``milestones``;
    - ``matchmaking``: ``local_player`` (required), ``wanted_services`` (taxonomy codes).
    """

    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": EXAMPLE})

    scenario: Scenario
    title: str = Field(min_length=1, max_length=200)
    need: str = Field(min_length=1, max_length=5000)
    scope: str | None = Field(default=None, min_length=1, max_length=5000)
    lead_hub_id: str | None = Field(default=None, max_length=64)
    client: ClientInfo | None = None
    local_player: ClientInfo | None = None
    invited_hub_ids: list[str] = Field(default=[], max_length=20)
    tasks: list[TaskSpec] | None = Field(default=None, max_length=50)
    service_name: str | None = Field(default=None, min_length=1, max_length=200)
    service_description: str = Field(default="", max_length=5000)
    ipr_model: Literal["joint_ownership", "lead_owned_with_licences", "each_owns_foreground"] = (
        "joint_ownership"
    )
    background_ip: dict[str, list[str]] = Field(default={}, max_length=20)
    milestones: list[MilestoneSpec] = Field(default=[], max_length=50)
    wanted_services: list[str] = Field(default=[], max_length=20)
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


def lead_hub_for(session: Session, caller: Caller, body: CaseCreate) -> str:
    """The lead hub id, or a 403/422 naming what is wrong."""
    if caller.role in HUB_ROLES:
        if body.lead_hub_id not in (None, caller.hub_id):
            raise ApiError(403, "a hub starts cases as their lead hub only")
        lead = caller.hub_id
    elif caller.role == Role.back_office:
        if not body.lead_hub_id:
            raise ApiError(
                422,
                "the back office names the lead hub",
                errors=[{"field": "lead_hub_id", "message": "required for the back office"}],
            )
        lead = body.lead_hub_id
    else:
        raise ApiError(403, "only hubs and the back office start cases")
    errors = scenario_errors(body)
    if lead and session.get(Hub, lead) is None:
        errors.append({"field": "lead_hub_id", "message": f"unknown hub {lead!r}"})
    for i, hub_id in enumerate(body.invited_hub_ids):
        if hub_id == lead:
            errors.append(
                {"field": f"invited_hub_ids.{i}", "message": "the lead hub cannot be invited"}
            )
    errors += hub_errors(session, "invited_hub_ids", body.invited_hub_ids)
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
    services = vocabulary().services
    errors += [
        {"field": f"wanted_services.{i}", "message": f"unknown service code {code!r}"}
        for i, code in enumerate(body.wanted_services)
        if code not in services
    ]
    start = body.start_date or datetime.now(UTC).date()
    if body.end_date is not None and body.end_date <= start:
        errors.append({"field": "end_date", "message": "must be after start_date"})
    if errors:
        raise ApiError(422, "the case cannot be started as asked", errors=errors)
    return lead  # type: ignore[return-value]


def hub_errors(session: Session, field: str, hub_ids: list[str]) -> list[dict[str, str]]:
    """One error per hub id the registry does not know, named ``field.<index>``."""
    return [
        {"field": f"{field}.{i}", "message": f"unknown hub {h!r}"}
        for i, h in enumerate(hub_ids)
        if session.get(Hub, h) is None
    ]


def first_facts(case_id: str, lead: str, body: CaseCreate, settings: Settings) -> CaseFacts:
    now = datetime.now(UTC)
    start_date = body.start_date or now.date()
    data: dict[str, Any] = dict(
        case_id=case_id,
        scenario=body.scenario,
        title=body.title,
        need=body.need,
        scope=body.scope or body.need,
        lead_hub_id=lead,
        client=body.client,
        local_player=body.local_player,
        tasks=body.tasks or [],
        start_date=start_date.isoformat(),
        end_date=(body.end_date or start_date + timedelta(days=180)).isoformat(),
        partnering_days=body.partnering_days or settings.partnering_days,
        invitation_days=body.invitation_days or settings.invitation_days,
        signing_days=body.signing_days or settings.signing_days,
        reminder_days=body.reminder_days or settings.reminder_days,
        review_days=body.review_days or settings.review_days,
        link_days=settings.link_ttl_days,
        signing_order=body.signing_order,
        created_at=now.isoformat(timespec="seconds"),
    )
    if body.scenario == Scenario.co_development:
        data |= dict(
            service_name=body.service_name or "",
            service_description=body.service_description,
            ipr_model=body.ipr_model,
            background_ip=body.background_ip,
            milestone_plan=body.milestones,
        )
    if body.scenario == Scenario.matchmaking:
        data["wanted_services"] = body.wanted_services
    return CaseFacts(**data)
