"""The Cases page: every case with filters, sort and cursor in the URL, counts per state, and
the CSV export of exactly the filtered list.

The rows come from ``store.queries.list_cases`` through ``api.routes.cases.filtered_cases``,
the query (and the filter checks) behind ``GET /v1/cases``, so the page, its CSV and the JSON
list cannot disagree. Counts per state are cached for ``COUNTS_TTL`` seconds per filter: a
figure to glance at, not worth a full count on every page view of a large store.

Decisions: ``country`` keeps the cases with a party hub (lead, partner, invited, candidate) in
that country; ``sort`` is ``newest`` (the default) or ``oldest`` first, by when the case
started, so that every page is still read from an index in list order. The CSV has the JSON
list's columns plus ``overdue``, every page of the filter in list order; a title a spreadsheet
would take for a formula (``=``, ``+``, ``-``, ``@`` first) is written with a leading ``'``.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from sqlmodel import Session, col, select

from api.problems import ApiError
from api.routes.cases import filtered_cases
from api.web.auth import PageError, Staff, StaffDep
from api.web.render import page
from api.web.status import partners, waiting_on
from base.settings import Settings
from domain.cases import Scenario
from domain.lifecycle import ALL_STATES
from store.db import as_utc, get_engine
from store.models import Hub
from store.queries import SORTS, CaseFilter, case_facts_of, count_by_state

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 25
COUNTS_TTL = 10.0
_counts: dict[tuple[Any, ...], tuple[float, dict[str, int]]] = {}
FILTERS = ("scenario", "state", "hub", "country", "overdue", "text", "sort")
CSV_COLUMNS = (
    "id",
    "scenario",
    "state",
    "outcome",
    "title",
    "lead_hub_id",
    "next_deadline",
    "overdue",
    "created_at",
    "updated_at",
)


class FilterError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def read_filter(params: dict[str, str]) -> CaseFilter:
    """The list's filter from the URL; empty fields mean "any"."""
    get = {k: (params.get(k) or "").strip() for k in FILTERS}
    if get["scenario"] and get["scenario"] not in {s.value for s in Scenario}:
        raise FilterError("scenario", f"unknown scenario {get['scenario']!r}")
    if get["overdue"] not in ("", "yes", "no"):
        raise FilterError("overdue", "overdue is yes, no or empty")
    if get["sort"] and get["sort"] not in SORTS:
        raise FilterError("sort", "sort is newest or oldest")
    country = get["country"].upper()
    if country and not (len(country) == 2 and country.isalpha()):
        raise FilterError("country", "a country is a two-letter code")
    return CaseFilter(
        scenario=get["scenario"] or None,
        state=get["state"] or None,
        hub=get["hub"] or None,
        overdue={"yes": True, "no": False}.get(get["overdue"]),
        text=get["text"] or None,
        country=country or None,
        sort=get["sort"] or "newest",
    )


def filter_params(flt: CaseFilter, **changes: Any) -> dict[str, str]:
    """The URL parameters of ``flt`` (with ``changes``), empty ones left out."""
    values = {
        "scenario": flt.scenario,
        "state": flt.state,
        "hub": flt.hub,
        "country": flt.country,
        "overdue": {True: "yes", False: "no"}.get(flt.overdue) if flt.overdue is not None else None,
        "text": flt.text,
        "sort": flt.sort if flt.sort != "newest" else None,
    } | changes
    return {k: str(v) for k, v in values.items() if v}


def _counts_for(session: Session, staff: Staff, flt: CaseFilter) -> dict[str, int]:
    store = str(session.get_bind().engine.url)  # a process may serve more than one store (tests do)
    key = (store, staff.role, tuple(sorted(filter_params(flt, state=None, sort=None).items())))
    now = time.monotonic()
    hit = _counts.get(key)
    if hit is not None and now - hit[0] < COUNTS_TTL:
        return hit[1]
    counts = count_by_state(session, staff.caller, flt)
    if len(_counts) > 500:
        _counts.clear()
    _counts[key] = (now, counts)
    return counts


def _rows(session: Session, listed: list[Any], names: dict[str, str]) -> list[dict[str, Any]]:
    """The listed cases with what the page adds to the JSON list; ``names``: every hub's."""
    facts = case_facts_of(session, [c.id for c in listed])
    rows = []
    for c in listed:
        f = facts[c.id]
        rows.append(
            {
                "case": c,
                "lead": names.get(c.lead_hub_id, c.lead_hub_id),
                "partners": [names.get(h, h) for h in partners(f)],
                "waiting_on": waiting_on(f, names),
                "since": as_utc(c.state_since),
                "deadline": as_utc(c.next_deadline),
            }
        )
    return rows


def _choices(session: Session) -> dict[str, Any]:
    hubs = session.exec(select(Hub.id, Hub.name, Hub.country).order_by(col(Hub.name))).all()
    return {
        "scenarios": [s.value for s in Scenario],
        "states": list(ALL_STATES),
        "hubs": [(hub_id, name) for hub_id, name, _ in hubs],
        "names": {hub_id: name for hub_id, name, _ in hubs},
        "countries": sorted({country for _, _, country in hubs}),
        "sorts": SORTS,
    }


@router.get("/cases", response_class=HTMLResponse)
def cases_page(request: Request, staff: StaffDep, cursor: str = "") -> HTMLResponse:
    settings: Settings = request.app.state.settings
    params = dict(request.query_params)
    with Session(get_engine(settings.database_url)) as session:
        context: dict[str, Any] = {"choices": _choices(session), "params": params}
        try:
            flt = read_filter(params)
            listed, next_cursor = filtered_cases(
                session, staff.caller, flt, PAGE_SIZE, cursor or None
            )
        except (FilterError, ApiError) as exc:
            field = exc.field if isinstance(exc, FilterError) else _field(exc)
            message = str(exc) if isinstance(exc, FilterError) else exc.detail
            context |= {"error": f"{field}: {message}", "rows": [], "counts": {}}
            context |= {"flt": CaseFilter(), "query": "", "next_url": "", "first_url": ""}
            return page(request, "cases.html", context, 422)
        rows = _rows(session, listed, context["choices"]["names"])
        counts = _counts_for(session, staff, flt)
    query = urlencode(filter_params(flt))
    context |= {
        "flt": flt,
        "rows": rows,
        "counts": counts,
        "total": sum(counts.values()),
        "query": query,
        "state_url": lambda state: "/cases?" + urlencode(filter_params(flt, state=state)),
        "next_url": ("/cases?" + urlencode(filter_params(flt, cursor=next_cursor)))
        if next_cursor
        else "",
        "first_url": ("/cases?" + query) if cursor else "",
        "now": datetime.now(UTC),
    }
    return page(request, "cases.html", context)


def _field(exc: ApiError) -> str:
    errors = exc.extra.get("errors") or [{"field": "filter"}]
    return str(errors[0]["field"])


def _safe_cell(value: str) -> str:
    """A cell a spreadsheet will not run as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _csv_lines(settings: Settings, staff: Staff, flt: CaseFilter) -> Iterator[str]:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    cursor: str | None = None
    while True:
        with Session(get_engine(settings.database_url)) as session:
            listed, cursor = filtered_cases(session, staff.caller, flt, 100, cursor)
        for c in listed:
            writer.writerow(
                [
                    c.id,
                    c.scenario,
                    c.state,
                    c.outcome or "",
                    _safe_cell(c.title),
                    c.lead_hub_id,
                    _iso(c.next_deadline),
                    "yes" if c.overdue else "no",
                    _iso(c.created_at),
                    _iso(c.updated_at),
                ]
            )
        yield out.getvalue()
        out.seek(0)
        out.truncate()
        if cursor is None:
            return


def _iso(moment: datetime | None) -> str:
    moment = as_utc(moment)
    return moment.isoformat() if moment else ""


@router.get("/cases.csv")
def cases_csv(request: Request, staff: StaffDep) -> StreamingResponse:
    """Every case of the filter (all pages), in list order, as CSV."""
    settings: Settings = request.app.state.settings
    try:
        flt = read_filter(dict(request.query_params))
        with Session(get_engine(settings.database_url)) as session:
            filtered_cases(session, staff.caller, flt, 1, None)  # the filter's 422s first
    except FilterError as exc:
        raise PageError(422, f"{exc.field}: {exc}", "Invalid filter") from None
    except ApiError as exc:
        raise PageError(422, f"{_field(exc)}: {exc.detail}", "Invalid filter") from None
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    return StreamingResponse(
        _csv_lines(settings, staff, flt),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="cases-{stamp}.csv"'},
    )
