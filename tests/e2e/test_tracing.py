"""With DIHFLOW_OTEL_ENDPOINT set, the API's HTTP spans, the Temporal client's calls and the
workflow's runs, updates and activities are traced (here into an in-memory exporter): the case's
first request is the root of the workflow's trace; unset, nothing is traced."""

from __future__ import annotations

from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from base import tracing
from base.engine import DevServer
from tests.conftest import running_stack
from tests.e2e.helpers import PARTNER, act, start_case

pytestmark = pytest.mark.e2e


async def test_a_step_is_one_trace_from_request_to_activity(
    dev_server: DevServer, tmp_path: Path
) -> None:
    exporter = InMemorySpanExporter()
    provider = tracing.install("dihflow-test", exporter=exporter)
    if not any(getattr(p, "span_exporter", None) is exporter for p in _processors(provider)):
        pytest.skip("another test set this process's tracer provider first")
    async with running_stack(
        dev_server, tmp_path / "var", otel_endpoint="http://127.0.0.1:9"
    ) as stack:
        exporter.clear()
        case = await start_case(stack)
        r = await act(stack, f"hub_member:{PARTNER}", case["id"], "accept-invitation")
        assert r.status_code == 200, r.text
    spans = exporter.get_finished_spans()

    def server(route: str):  # type: ignore[no-untyped-def]
        return next(s for s in spans if s.name == route and s.kind.name == "SERVER")

    def in_trace(trace_id: int) -> set[str]:
        return {s.name.split(":")[0] for s in spans if s.context.trace_id == trace_id}

    started = in_trace(server("POST /v1/cases").context.trace_id)
    stepped = in_trace(
        server("POST /v1/cases/{case_id}/actions/accept-invitation").context.trace_id
    )
    # the case's first request: its trace holds the workflow, its steps and their activities
    assert {"RunWorkflow", "HandleUpdate", "StartActivity", "RunActivity"} <= started, started
    # a later step's request: its trace holds the client's update call into the workflow
    assert "StartWorkflowUpdate" in stepped, stepped


def _processors(provider):  # type: ignore[no-untyped-def]
    return getattr(provider._active_span_processor, "_span_processors", ())


async def test_without_an_endpoint_nothing_is_traced(stack) -> None:  # type: ignore[no-untyped-def]
    assert not stack.settings.otel_endpoint
    assert tracing.client_interceptors(stack.settings) == []
