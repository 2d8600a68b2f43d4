"""``POST /v1/matches``: which hubs fit a need, best first, each with its score components
(value and weight) and its reasons in words. The model is ``domain.matching``'s, the same the
matchmaking start ranks its candidates with and the joint-service start its suggested partners
(``store.matching.match``).

Any caller with a key may ask. A hub's member or signatory asks for its own hub (the
requesting hub defaults to it, and is never in its results); the back office and the legal
helpdesk may name any hub or none.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.deps import CallerDep, SessionDep
from api.problems import ApiError
from api.routes.cases import ERRORS
from domain.cases import Role
from domain.matching import WEIGHTS, MatchRequest
from domain.taxonomy import vocabulary
from store.matching import match
from store.models import Hub

router = APIRouter(prefix="/v1/matches", tags=["matching"])
Codes = Annotated[list[Annotated[str, Field(max_length=80)]], Field(max_length=30)]
Countries = Annotated[list[Annotated[str, Field(max_length=2)]], Field(max_length=60)]


class MatchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    services: Codes = Field(default=[], description="service or service-function codes")
    technologies: Codes = Field(default=[], description="technology or AI subfield codes")
    sectors: Codes = []
    need: str = Field(default="", max_length=5000, description="the need in words, any language")
    preferred_countries: Countries = []
    excluded_countries: Countries = []
    requesting_hub_id: str | None = Field(default=None, max_length=64)
    limit: int = Field(default=10, ge=1, le=50)


class Component(BaseModel):
    value: float
    weight: float


class MatchView(BaseModel):
    hub_id: str
    name: str
    country: str
    score: float
    components: dict[str, Component]
    reasons: list[str]


class MatchList(BaseModel):
    requesting_hub_id: str | None
    items: list[MatchView]


def _errors(body: MatchBody) -> list[dict[str, str]]:
    vocab = vocabulary()
    functions = set(vocab.labels.get("functions", {}))
    errors = [
        {"field": f"services.{i}", "message": f"unknown service code {code!r}"}
        for i, code in enumerate(body.services)
        if code not in vocab.services and code not in functions
    ]
    errors += [
        {"field": f"technologies.{i}", "message": f"unknown technology code {code!r}"}
        for i, code in enumerate(body.technologies)
        if code not in vocab.technologies and code not in vocab.ai_subfields
    ]
    errors += [
        {"field": f"sectors.{i}", "message": f"unknown sector code {code!r}"}
        for i, code in enumerate(body.sectors)
        if code not in vocab.sectors
    ]
    for name in ("preferred_countries", "excluded_countries"):
        errors += [
            {"field": f"{name}.{i}", "message": f"unknown country code {code!r}"}
            for i, code in enumerate(getattr(body, name))
            if code not in vocab.countries
        ]
    if not (body.services or body.technologies or body.sectors or body.need.strip()):
        errors.append(
            {"field": "need", "message": "give a need, or services, technologies or sectors"}
        )
    return errors


@router.post("", response_model=MatchList, responses=ERRORS)
def find_matches(body: MatchBody, session: SessionDep, caller: CallerDep) -> MatchList:
    """Rank the registry's hubs for a need (changes nothing)."""
    requester = body.requesting_hub_id
    if caller.role in (Role.hub_member, Role.hub_signatory):
        if requester is not None and requester != caller.hub_id:
            raise ApiError(403, "a hub asks for matches for itself: leave requesting_hub_id out")
        requester = caller.hub_id
    errors = _errors(body)
    if requester is not None and session.get(Hub, requester) is None:
        errors.append({"field": "requesting_hub_id", "message": f"no hub {requester!r}"})
    if errors:
        raise ApiError(422, "the match request is not valid", errors=errors)
    matches = match(
        session,
        MatchRequest(
            services=tuple(body.services),
            technologies=tuple(body.technologies),
            sectors=tuple(body.sectors),
            need=body.need,
            preferred_countries=tuple(body.preferred_countries),
            excluded_countries=tuple(body.excluded_countries),
            requester=requester,
            limit=body.limit,
        ),
    )
    items = [
        MatchView(
            hub_id=m.hub_id,
            name=m.name,
            country=m.country,
            score=m.score,
            components={
                k: Component(value=v, weight=m.weights.get(k, WEIGHTS[k]))
                for k, v in m.components.items()
            },
            reasons=m.reasons,
        )
        for m in matches
    ]
    return MatchList(requesting_hub_id=requester, items=items)
