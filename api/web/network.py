"""The network page (back office): open cases per scenario and state, overdue cases, cases per
ending, the median calendar days each phase takes and the mean review rating
(``store.insights.network_figures``). Every figure links to the Cases list filtered to the
cases behind it."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import SessionDep
from api.web.auth import BackOfficeDep
from api.web.indicators import indicators_context
from api.web.render import page
from store.insights import PHASES, Figure, network_figures

router = APIRouter(include_in_schema=False)


def cases_link(figure: Figure) -> str:
    """The Cases list showing the cases behind ``figure``."""
    return "/cases" + (f"?{urlencode(figure.filters)}" if figure.filters else "")


@router.get("/network", response_class=HTMLResponse)
def network_page(request: Request, session: SessionDep, staff: BackOfficeDep) -> HTMLResponse:
    figures = network_figures(session)
    scenarios = sorted(figures.median_days)
    by_label = {s: {fig.label: fig for fig in figures.median_days[s]} for s in scenarios}
    phases = [
        (phase.label, [by_label[s].get(phase.label) for s in scenarios])
        for phase in PHASES
        if any(phase.label in by_label[s] for s in scenarios)
    ]
    context = {"f": figures, "link": cases_link, "scenarios": scenarios, "phases": phases}
    return page(request, "network.html", context | indicators_context(request, session))
