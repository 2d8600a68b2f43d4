"""The hub registry pages (back office): the list with search and filters (country, service,
technology, words of the name, city or description), kept in the URL; a hub's page with its
profile, its representatives and their mandates (expired ones marked) and its open and ended
cases. Hubs are imported in bulk from a file (``api.web.hub_import``) and edited one by one
through the JSON API (``PUT /v1/hubs/{id}``).

Decision: these pages are the back office's only, like the Network page; the legal helpdesk
reads a case's parties on the case page.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import SessionDep
from api.web.auth import BackOfficeDep, PageError
from api.web.indicators import indicators_context
from api.web.render import page
from domain.hubs import HubProfile
from domain.registry import COLUMNS
from domain.taxonomy import vocabulary
from store.insights import HubFilter, hub_cases, mandates, search_hubs
from store.models import Hub
from store.search import SearchError

router = APIRouter(include_in_schema=False)


def label(kind: str, code: str) -> str:
    try:
        return vocabulary().label(kind, code)
    except KeyError:
        return code


def _options(kind: str, codes: set[str]) -> list[tuple[str, str]]:
    return sorted(((code, label(kind, code)) for code in codes), key=lambda o: o[1].lower())


@router.get("/hubs", response_class=HTMLResponse)
def hubs_page(request: Request, session: SessionDep, staff: BackOfficeDep) -> HTMLResponse:
    q = request.query_params
    flt = HubFilter(
        text=(q.get("text") or "").strip()[:200] or None,
        country=q.get("country") or None,
        service=q.get("service") or None,
        technology=q.get("technology") or None,
    )
    error = ""
    everything = search_hubs(session, HubFilter())
    try:
        found = search_hubs(session, flt)
    except SearchError as exc:
        found, error = [], f"Search: {exc}."
    return page(
        request,
        "hubs.html",
        {
            "hubs": found,
            "total": len(everything),
            "flt": flt,
            "error": error,
            "label": label,
            "countries": _options("countries", {h.country for h in everything}),
            "services": _options("services", {s for h in everything for s in h.services}),
            "technologies": _options(
                "technologies", {t for h in everything for t in h.technologies}
            ),
            "filtered": any(vars(flt).values()),
            "imported": _imported(q.get("imported", "")),
            "columns": COLUMNS,
        },
    )


def _imported(value: str) -> dict[str, int] | None:
    """The summary an import returns with (``created,updated,unchanged,rejected``)."""
    parts = value.split(",")
    if len(parts) != 4 or not all(p.isdigit() for p in parts):
        return None
    return dict(zip(("created", "updated", "unchanged", "rejected"), map(int, parts), strict=True))


@router.get("/hubs/{hub_id}", response_class=HTMLResponse)
def hub_page(
    hub_id: str, request: Request, session: SessionDep, staff: BackOfficeDep
) -> HTMLResponse:
    row = session.get(Hub, hub_id)
    if row is None:
        raise PageError(404, f"There is no hub {hub_id!r} in the registry.", "Hub not found")
    profile = HubProfile.model_validate(row.profile)
    today = datetime.now(UTC).date()
    context: dict[str, Any] = {
        "hub": profile,
        "mandates": mandates(profile, today),
        "today": today,
        "cases": hub_cases(session, hub_id),
        "label": label,
        "region": label("nuts2", profile.region) if profile.region else "",
        "heading": profile.short_name,
    }
    return page(request, "hub.html", context | indicators_context(request, session, hub_id))
