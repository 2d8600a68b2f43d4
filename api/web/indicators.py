"""The indicators section of the back office's network and hub pages: the period from the
page's ``from``/``to`` query (a year to today by default), the figures of ``store.indicators``."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi import Request
from sqlmodel import Session

from api.problems import ApiError
from api.routes.indicators import period
from store.indicators import Scope, indicators


def _day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def indicators_context(
    request: Request, session: Session, hub_id: str | None = None
) -> dict[str, Any]:
    """``ind`` and its period for ``_indicators.html``; a bad period falls back to the default,
    saying so."""
    raw_from, raw_to = request.query_params.get("from"), request.query_params.get("to")
    start, end = _day(raw_from), _day(raw_to)
    error = ""
    if (raw_from and start is None) or (raw_to and end is None):
        error, start, end = "Dates are written YYYY-MM-DD: showing the last year.", None, None
    try:
        first, last = period(start, end)
    except ApiError as exc:
        error = f"{exc.detail}: showing the last year."
        first, last = period(None, None)
    return {
        "ind": indicators(session, Scope(first, last, hub_id=hub_id)),
        "ind_from": first.date().isoformat(),
        "ind_to": (last.date() - timedelta(days=1)).isoformat(),
        "ind_error": error,
    }
