"""The network's indicators (``store.indicators``): for the network, a scenario, or one hub,
over a period of ended cases. Every principal with a key reads the network's figures (they are
aggregates); a hub's own figures are read by that hub and the network staff."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from starlette.concurrency import run_in_threadpool

from api.deps import CallerDep, SessionDep, SettingsDep
from api.problems import ApiError
from api.routes.cases import ERRORS
from base.settings import Settings
from domain.cases import HUB_ROLES, Caller, Role, Scenario
from store.indicators import Scope, indicators
from store.models import Hub

router = APIRouter(tags=["indicators"])
DEFAULT_DAYS = 365

From = Annotated[
    date | None,
    Query(alias="from", description="first day of the period (default: a year before `to`)"),
]
To = Annotated[
    date | None, Query(alias="to", description="last day of the period, included (default: today)")
]


def period(start: date | None, end: date | None) -> tuple[datetime, datetime]:
    """``[from, to]`` as instants ``[from 00:00, the day after to 00:00)`` UTC; 422 when
    ``to`` is before ``from``."""
    last = end or datetime.now(UTC).date()
    first = start or last - timedelta(days=DEFAULT_DAYS)
    if last < first:
        raise ApiError(
            422,
            "the period ends before it starts",
            errors=[{"field": "to", "message": f"must be {first.isoformat()} or later"}],
        )
    return (
        datetime.combine(first, time(), UTC),
        datetime.combine(last + timedelta(days=1), time(), UTC),
    )


def may_read_hub(caller: Caller, hub_id: str) -> None:
    if caller.role in HUB_ROLES and caller.hub_id != hub_id:
        raise ApiError(403, "a hub reads its own indicators; the network's are at /v1/indicators")


@router.get("/v1/indicators", responses=ERRORS)
def network_indicators(
    session: SessionDep,
    caller: CallerDep,
    start: From = None,
    end: To = None,
    scenario: Scenario | None = None,
) -> dict[str, Any]:
    """The network's indicators over the cases that ended in the period (optionally of one
    scenario): each average with its ``n``, no review score from fewer than 3 reviews."""
    first, last = period(start, end)
    return indicators(session, Scope(first, last, scenario=scenario.value if scenario else None))


@router.get("/v1/hubs/{hub_id}/indicators", responses=ERRORS)
def hub_indicators(
    hub_id: str,
    session: SessionDep,
    caller: CallerDep,
    start: From = None,
    end: To = None,
    scenario: Scenario | None = None,
) -> dict[str, Any]:
    """One hub's indicators: the cases it took part in (lead, partner, matched), the peer
    reviews about it, its own deliverables and the invitations it answered."""
    if session.get(Hub, hub_id) is None:
        raise ApiError(404, f"no hub {hub_id!r}")
    may_read_hub(caller, hub_id)
    first, last = period(start, end)
    scope = Scope(first, last, hub_id=hub_id, scenario=scenario.value if scenario else None)
    return indicators(session, scope)


REPORT_TYPES = {
    "text/html": {"schema": {"type": "string"}},
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": {
        "schema": {"type": "string", "format": "binary"}
    },
    "application/pdf": {"schema": {"type": "string", "format": "binary"}},
}


@router.get(
    "/v1/reports/network",
    response_class=Response,
    responses={200: {"content": REPORT_TYPES, "description": "the report"}, **ERRORS},
)
async def network_report(
    session: SessionDep,
    settings: SettingsDep,
    caller: CallerDep,
    start: From = None,
    end: To = None,
    format: Annotated[  # noqa: A002 (the query parameter's name)
        Literal["html", "docx", "pdf"], Query(description="html, docx or pdf")
    ] = "html",
) -> Response:
    """The network's collaboration report (back office and legal helpdesk): cases per
    scenario and ending, cycle time per phase and its bottlenecks, why cases failed, the
    cross-border matrix and satisfaction, with charts. 503 when a PDF cannot be made here."""
    if caller.role not in (Role.back_office, Role.legal):
        raise ApiError(403, "the network report is for the back office and the legal helpdesk")
    first, last = period(start, end)
    made = await run_in_threadpool(_report, session, settings, first, last, format)
    disposition = "inline" if format == "html" else "attachment"
    return Response(
        made.content,
        media_type=made.media_type,
        headers={"Content-Disposition": f'{disposition}; filename="{made.filename}"'},
    )


def _report(session: Any, settings: Settings, first: datetime, last: datetime, fmt: str) -> Any:
    from activities.reports import ReportUnavailable, network_report_file

    try:
        return network_report_file(session, settings, first, last, fmt)
    except ReportUnavailable as exc:
        raise ApiError(503, str(exc), title="Report format unavailable") from None
