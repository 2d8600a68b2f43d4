"""Liveness, readiness and the hub registry (read side)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from sqlmodel import col, select

from api.deps import CallerDep, SessionDep
from api.problems import ApiError
from api.routes.cases import ERRORS
from store.models import Hub

router = APIRouter()


@router.get("/healthz", tags=["system"])
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", tags=["system"], responses={503: ERRORS[503]})
async def readyz(request: Request, session: SessionDep) -> JSONResponse:
    """Ready when the database and the workflow engine both answer."""
    checks: dict[str, str] = {}
    try:
        session.exec(text("SELECT 1"))  # type: ignore[call-overload]
        checks["database"] = "ok"
    except Exception:
        checks["database"] = "unreachable"
    try:
        client = await request.app.state.temporal.get()
        await asyncio.wait_for(client.service_client.check_health(), 5)
        checks["temporal"] = "ok"
    except Exception:
        checks["temporal"] = "unreachable"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=200 if ready else 503,
    )


class HubView(BaseModel):
    id: str
    name: str
    country: str
    profile: dict[str, Any]


class HubList(BaseModel):
    items: list[HubView]


def _public(hub: Hub) -> HubView:
    profile = dict(hub.profile)
    # representatives' contact details are personal data: names and titles only
    profile["representatives"] = [
        {"id": r.get("id"), "name": r.get("name"), "title": r.get("title")}
        for r in profile.get("representatives", [])
    ]
    return HubView(id=hub.id, name=hub.name, country=hub.country, profile=profile)


@router.get("/v1/hubs", response_model=HubList, tags=["hubs"], responses=ERRORS)
def list_hubs(session: SessionDep, caller: CallerDep, country: str | None = None) -> HubList:
    """The hub registry."""
    query = select(Hub).order_by(col(Hub.name))
    if country:
        query = query.where(Hub.country == country.upper())
    return HubList(items=[_public(h) for h in session.exec(query)])


@router.get("/v1/hubs/{hub_id}", response_model=HubView, tags=["hubs"], responses=ERRORS)
def get_hub(hub_id: str, session: SessionDep, caller: CallerDep) -> HubView:
    hub = session.get(Hub, hub_id)
    if hub is None:
        raise ApiError(404, f"no hub {hub_id!r}")
    return _public(hub)
