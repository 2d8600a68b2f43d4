"""The hub registry: everyone reads it; only the back office writes it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Response
from pydantic import BaseModel
from sqlmodel import col, select

from api.deps import CallerDep, SessionDep
from api.idempotency import claim
from api.problems import ApiError
from api.routes.cases import ERRORS
from domain.cases import Role
from domain.hubs import HubProfile
from store.models import Hub
from store.records import upsert_hub

router = APIRouter(prefix="/v1/hubs", tags=["hubs"])


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


def _back_office_only(caller: Any) -> None:
    if caller.role != Role.back_office:
        raise ApiError(403, "only the back office writes the hub registry")


@router.get("", response_model=HubList, responses=ERRORS)
def list_hubs(session: SessionDep, caller: CallerDep, country: str | None = None) -> HubList:
    """The hub registry, by name."""
    query = select(Hub).order_by(col(Hub.name))
    if country:
        query = query.where(Hub.country == country.upper())
    return HubList(items=[_public(h) for h in session.exec(query)])


@router.get("/{hub_id}", response_model=HubView, responses=ERRORS)
def get_hub(hub_id: str, session: SessionDep, caller: CallerDep) -> HubView:
    hub = session.get(Hub, hub_id)
    if hub is None:
        raise ApiError(404, f"no hub {hub_id!r}")
    return _public(hub)


@router.post("", status_code=201, response_model=HubView, responses=ERRORS)
def create_hub(
    body: HubProfile,
    response: Response,
    session: SessionDep,
    caller: CallerDep,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> HubView:
    """Add a hub to the registry (back office). 409 when the id is taken."""
    _back_office_only(caller)
    if idempotency_key:
        _, seen = claim(
            session,
            caller.principal_id,
            idempotency_key,
            "hubs",
            body.model_dump(mode="json"),
            body.id,
        )
        if seen:
            hub = session.get(Hub, body.id)
            assert hub is not None
            response.headers["Location"] = f"/v1/hubs/{body.id}"
            return _public(hub)
    if session.get(Hub, body.id) is not None:
        raise ApiError(409, f"hub {body.id!r} exists already; PUT /v1/hubs/{body.id} changes it")
    upsert_hub(session, body)
    session.commit()
    response.headers["Location"] = f"/v1/hubs/{body.id}"
    hub = session.get(Hub, body.id)
    assert hub is not None
    return _public(hub)


@router.put("/{hub_id}", response_model=HubView, responses=ERRORS)
def update_hub(hub_id: str, body: HubProfile, session: SessionDep, caller: CallerDep) -> HubView:
    """Replace a hub's profile (back office). The id in the body must be the one in the path."""
    _back_office_only(caller)
    if body.id != hub_id:
        raise ApiError(
            422,
            "the body's id differs from the path",
            errors=[{"field": "id", "message": "must match"}],
        )
    if session.get(Hub, hub_id) is None:
        raise ApiError(404, f"no hub {hub_id!r}")
    upsert_hub(session, body)
    session.commit()
    hub = session.get(Hub, hub_id)
    assert hub is not None
    return _public(hub)
