"""Starting a case: the lead hub, the registry checks, and the first facts (the request body
and the checks that need no store are ``domain.case_start``)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from api.problems import ApiError
from base.settings import Settings
from domain.case_start import EXAMPLE as EXAMPLE
from domain.case_start import CaseCreate as CaseCreate
from domain.case_start import start_errors
from domain.cases import (
    ENDINGS,
    HUB_ROLES,
    Caller,
    CaseFacts,
    Role,
    Scenario,
)
from domain.timeline import CHAIN_VERSION
from store.models import Case, Hub


def lead_hub_for(session: Session, caller: Caller, body: CaseCreate, today: date) -> str:
    """The lead hub id, or a 403/422 naming what is wrong (``today``: the start date when the
    body names none)."""
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
    errors = start_errors(body, lead or "", today)
    if lead and session.get(Hub, lead) is None:
        errors.append({"field": "lead_hub_id", "message": f"unknown hub {lead!r}"})
    errors += hub_errors(session, "invited_hub_ids", body.invited_hub_ids)
    if errors:
        raise ApiError(422, "the case cannot be started as asked", errors=errors)
    return lead  # type: ignore[return-value]


def within_open_case_quota(session: Session, lead: str, limit: int) -> None:
    """429 naming the limit when ``lead`` already leads ``limit`` open cases (a hub's key
    cannot fill the engine and the store with cases; 0: no limit)."""
    if limit <= 0:
        return
    open_cases = session.exec(
        select(func.count())
        .select_from(Case)
        .where(Case.lead_hub_id == lead, col(Case.state).not_in(ENDINGS))
    ).one()
    if open_cases >= limit:
        raise ApiError(
            429,
            f"hub {lead!r} leads {open_cases} open cases, the most a hub may lead at once is "
            f"{limit} (DIHFLOW_OPEN_CASES_PER_HUB); close or cancel one first",
            title="Too Many Open Cases",
            limit=limit,
        )


def hub_errors(session: Session, field: str, hub_ids: list[str]) -> list[dict[str, str]]:
    """One error per hub id the registry does not know, named ``field.<index>``."""
    return [
        {"field": f"{field}.{i}", "message": f"unknown hub {h!r}"}
        for i, h in enumerate(hub_ids)
        if session.get(Hub, h) is None
    ]


def first_facts(
    case_id: str, lead: str, body: CaseCreate, settings: Settings, now: datetime
) -> CaseFacts:
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
        chain=CHAIN_VERSION,  # its event hashes bound to its id (domain.timeline)
    )
    if body.scenario == Scenario.co_development:
        data |= dict(
            service_name=body.service_name or "",
            service_description=body.service_description,
            ipr_model=body.ipr_model,
            background_ip=body.background_ip,
            milestone_plan=body.milestones,
        )
    if body.scenario == Scenario.matchmaking or body.wanted_services:
        data["wanted_services"] = body.wanted_services  # a joint service: the services delivered
    if body.wanted_technologies:
        data["wanted_technologies"] = body.wanted_technologies
    if body.wanted_sectors:
        data["wanted_sectors"] = body.wanted_sectors
    return CaseFacts(**data)
