"""The metrics of a running stack: a case driven end to end shows in the API's series, and a
worker exposes the Temporal SDK's own metrics on its metrics address."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from base import logs
from base.engine import DevServer, connect, free_port
from tests.conftest import Stack
from tests.e2e.helpers import LEAD, act, start_case
from tests.factories import settings_for
from worker import build_worker

pytestmark = pytest.mark.e2e


async def series(stack: Stack) -> dict[tuple[str, frozenset], float]:  # type: ignore[type-arg]
    r = await stack.http.get("/metrics")
    assert r.status_code == 200, r.text
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(r.text)
        for s in family.samples
    }


def at(found: dict, name: str, **labels: str) -> float:  # type: ignore[type-arg]
    return found.get((name, frozenset(labels.items())), 0.0)


async def test_a_case_run_end_to_end_shows_in_the_series(stack: Stack) -> None:
    before = await series(stack)
    case = await start_case(stack)
    r = await act(stack, f"hub_member:{LEAD}", case["id"], "cancel", {"reason": "metrics test"})
    assert r.status_code == 200, r.text
    after = await series(stack)

    def grew(name: str, **labels: str) -> float:
        return at(after, name, **labels) - at(before, name, **labels)

    assert grew("dihflow_cases_started_total", scenario="joint_service") == 1
    assert grew("dihflow_cases_ended_total", scenario="joint_service", outcome="cancelled") == 1
    assert grew("dihflow_steps_total", action="cancel", result="done") == 1
    assert (
        grew(
            "dihflow_http_requests_total",
            method="POST",
            route="/v1/cases/{case_id}/actions/cancel",
            status="200",
        )
        == 1
    )
    assert grew("dihflow_http_requests_total", method="POST", route="/v1/cases", status="201") == 1
    queued = sum(v for (name, _), v in after.items() if name == "dihflow_outbox_messages")
    assert queued > sum(v for (name, _), v in before.items() if name == "dihflow_outbox_messages")


async def test_a_worker_serves_the_sdk_metrics_on_its_address(
    dev_server: DevServer, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    address = f"127.0.0.1:{free_port()}"
    settings = settings_for(
        tmp_path,
        temporal_address=dev_server.address,
        task_queue=f"tq-{uuid.uuid4().hex[:8]}",
        worker_metrics_address=address,
    )
    client = await connect(settings, runtime=logs.telemetry(address))
    with ThreadPoolExecutor(max_workers=2) as executor:
        async with build_worker(client, settings, executor):
            async with httpx.AsyncClient() as http:
                for _ in range(100):  # the pollers report once they have started
                    text = (await http.get(f"http://{address}/metrics")).text
                    if "temporal_num_pollers" in text or "temporal_worker" in text:
                        break
    names = {f.name for f in text_string_to_metric_families(text)}
    assert any(n.startswith("temporal_") for n in names), sorted(names)[:20]
