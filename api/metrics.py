"""``GET /metrics``: Prometheus text for operators.

- ``dihflow_http_requests_total`` and ``dihflow_http_request_seconds`` by method, route (the
  route's template, so one series per route however many cases) and status: counted by this
  API process (sum them over processes in Prometheus).
- ``dihflow_steps_total`` by action and result (``done``, ``refused``, ``failed``): every step
  this process sent, whether from the API, a link or the staff pages.
- From the store at scrape time, so every API process answers the same: cases started by
  scenario, cases ended by scenario and outcome, open cases by state, the outbox by kind and
  status and the age of its oldest pending message.
- The worker's own series (activity failures, task latencies, sticky cache) come from the
  Temporal SDK's Prometheus telemetry on the worker (``DIHFLOW_WORKER_METRICS_ADDRESS``).

Who may read it: the bearer of ``DIHFLOW_METRICS_TOKEN`` when it is set, otherwise loopback
callers only (a scraper on the same machine, or behind a proxy that adds the token).
"""

from __future__ import annotations

import hmac
import re
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func
from sqlmodel import col, select
from starlette.routing import Mount, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import ApiError
from domain.actions import ACTIONS
from domain.cases import ENDINGS
from store.db import as_utc, session_scope
from store.models import Case, OutboxMessage, utcnow

PROCESS = CollectorRegistry(auto_describe=True)  # what this process counts
HTTP_REQUESTS = Counter(
    "dihflow_http_requests",
    "HTTP requests answered, by method, route template and status",
    ["method", "route", "status"],
    registry=PROCESS,
)
HTTP_SECONDS = Histogram(
    "dihflow_http_request_seconds",
    "Time to answer an HTTP request, by method and route template",
    ["method", "route"],
    registry=PROCESS,
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
STEPS = Counter(
    "dihflow_steps",
    "Human steps sent to a case, by action and result (done, refused, failed)",
    ["action", "result"],
    registry=PROCESS,
)
LOOPBACK = ("127.0.0.1", "::1", "localhost")

router = APIRouter(tags=["system"])


def count_step(action: str, result: str) -> None:
    """One step's result; an unknown action's name (anything a caller typed) is not a label."""
    STEPS.labels(action=action if action in ACTIONS else "unknown", result=result).inc()


class HttpMetrics:
    """ASGI middleware: counts every HTTP answer under its route's template (also answers
    given before routing, such as a 401 or a 413, under the route the path would reach)."""

    def __init__(self, app: ASGIApp, router: Any = None) -> None:
        self.app, self.router = app, router
        self.patterns: list[tuple[re.Pattern[str], str]] | None = None

    def _template(self, scope: Scope) -> str:
        route = scope.get("route")
        if getattr(route, "path", None):
            return str(route.path)  # type: ignore[union-attr]
        path = scope.get("path", "")
        for pattern, template in self._patterns():
            if pattern.fullmatch(path):
                return template
        return "unmatched"

    def _patterns(self) -> list[tuple[re.Pattern[str], str]]:
        """The app's route templates in matching order, compiled once (routes are fixed once
        the app serves)."""
        if self.patterns is None:
            try:  # FastAPI keeps included routers lazily; this flattens them
                from fastapi.routing import iter_route_contexts

                routes: list[Any] = list(iter_route_contexts(self.router.routes))
            except ImportError:  # pragma: no cover - older FastAPI lists its routes flat
                routes = list(self.router.routes)
            self.patterns = [
                (compile_path(r.path)[0], r.path)
                for r in routes
                if getattr(r, "path", None) and not isinstance(r, Mount)
            ]
        return self.patterns

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_counted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        finally:
            template = self._template(scope)
            method = scope.get("method", "")
            HTTP_REQUESTS.labels(method=method, route=template, status=str(status)).inc()
            HTTP_SECONDS.labels(method=method, route=template).observe(
                time.perf_counter() - started
            )


class StoreCollector(Collector):
    """Case and outbox figures read from the store when Prometheus scrapes."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url

    def collect(self) -> Iterator[Any]:
        started = CounterMetricFamily(
            "dihflow_cases_started", "Cases started, by scenario", labels=["scenario"]
        )
        ended = CounterMetricFamily(
            "dihflow_cases_ended",
            "Cases ended, by scenario and outcome",
            labels=["scenario", "outcome"],
        )
        open_ = GaugeMetricFamily("dihflow_cases_open", "Open cases, by state", labels=["state"])
        outbox = GaugeMetricFamily(
            "dihflow_outbox_messages",
            "Outbox messages, by kind and status",
            labels=["kind", "status"],
        )
        oldest = GaugeMetricFamily(
            "dihflow_outbox_oldest_pending_seconds", "Age of the oldest unsent outbox message"
        )
        with session_scope(self.database_url) as session:
            rows = session.exec(
                select(Case.scenario, Case.state, Case.outcome, func.count()).group_by(
                    col(Case.scenario), col(Case.state), col(Case.outcome)
                )
            ).all()
            by_scenario: dict[str, int] = {}
            for scenario, state, outcome, n in rows:
                by_scenario[scenario] = by_scenario.get(scenario, 0) + n
                if state in ENDINGS:  # a closed case has its outcome; the other endings are it
                    ended.add_metric([scenario, outcome or state], n)
                else:
                    open_.add_metric([state], n)
            for scenario, n in sorted(by_scenario.items()):
                started.add_metric([scenario], n)
            for kind, status, n in session.exec(
                select(OutboxMessage.kind, OutboxMessage.status, func.count()).group_by(
                    OutboxMessage.kind, OutboxMessage.status
                )
            ).all():
                outbox.add_metric([kind, status], n)
            first: datetime | None = session.exec(
                select(func.min(col(OutboxMessage.created_at))).where(
                    OutboxMessage.status == "pending"
                )
            ).one()
        since = as_utc(first) if first else None
        oldest.add_metric([], (utcnow() - since).total_seconds() if since else 0.0)
        yield from (started, ended, open_, outbox, oldest)


def _allowed(request: Request) -> bool:
    token = request.app.state.settings.metrics_token
    if token:
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        return hmac.compare_digest(given.encode(), token.encode())
    return (request.client.host if request.client else "") in LOOPBACK


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """The Prometheus text of this process and of the store."""
    if not _allowed(request):
        raise ApiError(403, "metrics are for the operators' scraper (DIHFLOW_METRICS_TOKEN)")
    store = request.app.state.metrics_store
    body = generate_latest(PROCESS) + generate_latest(store)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def install(app: Any, database_url: str) -> None:
    store = CollectorRegistry(auto_describe=False)
    store.register(StoreCollector(database_url))
    app.state.metrics_store = store
    app.add_middleware(HttpMetrics, router=app.router)
    app.include_router(router)
