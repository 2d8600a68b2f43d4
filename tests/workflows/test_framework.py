"""The framework agreement workflow under the time-skipping test server, with its real
activities on a SQLite store seeded with the demo network: the deadline's timer, quorum,
withdrawal after its notice period, continue-as-new; and saved histories that replay."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from activities.framework import FrameworkActivities
from base.engine import find_binary
from dihflow.seed import seed_demo_network
from domain.framework import Edition, FrameworkRequest, FrameworkResult
from domain.hubs import load_demo_network
from store import framework as rows
from store.db import session_scope
from store.models import OutboxMessage
from tests.factories import settings_for
from worker import sandbox_runner
from workflows import WORKFLOWS
from workflows.framework import FrameworkStart

HISTORIES = Path(__file__).parent / "histories" / "framework"
HUBS = [h.id for h in load_demo_network()]


@pytest.fixture(scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    environment = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=find_binary("temporal-test-server"),
    )
    yield environment
    await environment.shutdown()


@contextlib.asynccontextmanager
async def running(env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[tuple[str, str]]:
    settings = settings_for(tmp_path)
    seed_demo_network(settings.database_url)
    queue = f"tq-{uuid.uuid4().hex[:8]}"
    acts = FrameworkActivities(settings)
    with ThreadPoolExecutor(max_workers=4) as executor:
        async with Worker(
            env.client,
            task_queue=queue,
            workflows=WORKFLOWS,
            activities=[
                acts.draft_framework_clauses,
                acts.render_framework_final,
                acts.project_framework,
            ],
            activity_executor=executor,
            workflow_runner=sandbox_runner(),
        ):
            yield queue, settings.database_url


async def _start(client: Client, queue: str, start: FrameworkStart) -> WorkflowHandle:
    """The edition's handle, following its runs (not pinned to the first one)."""
    wid = f"framework-{start.edition_id}"
    await client.start_workflow("FrameworkAgreement", start, id=wid, task_queue=queue)
    return client.get_workflow_handle(wid)


async def act(
    handle: WorkflowHandle, action: str, hub: str | None = None, **body: object
) -> FrameworkResult:
    request = FrameworkRequest(
        action=action, actor=f"principal:{hub or 'bo'}", hub_id=hub, body=body
    )
    return await handle.execute_update(action, request, result_type=FrameworkResult)  # type: ignore[no-any-return]


async def edition(handle: WorkflowHandle) -> Edition:
    return await handle.query("edition", result_type=Edition)  # type: ignore[no-any-return]


async def _lifecycle(handle: WorkflowHandle, env: WorkflowEnvironment) -> Edition:
    await handle.execute_update("open_edition", result_type=FrameworkResult)
    ed = await edition(handle)
    clause = ed.clauses[5].number
    await act(handle, "comment", HUBS[0], clause=clause, text="Too strict?")
    await act(handle, "comment", HUBS[1], clause=clause, text="No.", parent_id=1)
    await act(handle, "propose_amendment", HUBS[2], clause=clause, text="Softer.", rationale="why")
    for hub in HUBS[:5]:
        await act(handle, "vote", hub, amendment_id=1, choice="for")
    await env.sleep(timedelta(days=31))  # the deadline passes: consolidation
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await act(handle, "vote", HUBS[6], amendment_id=1, choice="for")
    assert ed.deadline in str(info.value.cause)
    await act(handle, "decide_amendment", amendment_id=1, decision="accept", reason="5 for")
    final = await act(handle, "publish_final")
    sha = str(final.data["sha256"])
    for hub in HUBS[:3]:
        await act(handle, "sign", hub, document_sha256=sha)
    await act(handle, "give_notice", HUBS[0])
    await env.sleep(timedelta(days=91))  # the notice period runs out
    return await edition(handle)


async def test_edition_runs_from_consultation_to_a_withdrawal(
    env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with running(env, tmp_path) as (queue, url):
        start = FrameworkStart(edition_id=f"fca-{uuid.uuid4().hex[:6]}", label="2026", quorum=3)
        handle = await _start(env.client, queue, start)
        try:
            ed = await _lifecycle(handle, env)
        finally:
            history = await handle.fetch_history()
            with contextlib.suppress(RPCError):
                await handle.terminate(reason="test done")
    assert ed.state == "in_force" and ed.parties[HUBS[0]].withdrawn
    with session_scope(url) as session:
        row = session.get(rows.FrameworkEdition, ed.id)
        assert row is not None and row.state == "in_force" and row.final_sha256
        register = {p.hub_id: p for p in rows.parties(session, ed.id)}
        assert register[HUBS[0]].withdrawn and register[HUBS[0]].withdrawal_at is not None
        assert [e.seq for e in rows.events(session, ed.id, limit=1000)] == list(
            range(1, ed.seq + 1)
        )
        notices = len(
            session.exec(select(OutboxMessage).where(OutboxMessage.case_id == ed.id)).all()
        )
        assert notices == len(HUBS)  # a notice to every hub at entry into force
        assert len(rows.clauses(session, ed.id, "final")) == len(ed.clauses)
    if os.environ.get("DIHFLOW_SAVE_HISTORIES"):
        HISTORIES.mkdir(parents=True, exist_ok=True)
        (HISTORIES / "framework_in_force_withdrawal.json").write_text(history.to_json())


async def test_edition_continues_as_new_and_keeps_its_state(
    env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with running(env, tmp_path) as (queue, url):
        start = FrameworkStart(
            edition_id=f"fca-{uuid.uuid4().hex[:6]}", label="2027", history_limit=60
        )
        handle = await _start(env.client, queue, start)
        try:
            await handle.execute_update("open_edition", result_type=FrameworkResult)
            ed = await edition(handle)
            for i in range(40):
                await act(
                    handle, "comment", HUBS[i % 30], clause=ed.clauses[0].number, text=f"c{i}"
                )
            later = await edition(handle)
            current = await handle.describe()
            first = await env.client.get_workflow_handle(
                handle.id, run_id=current.raw_description.workflow_execution_info.first_run_id
            ).fetch_history()
        finally:
            with contextlib.suppress(RPCError):
                await handle.terminate(reason="test done")
    assert len(later.comments) == 40 and later.seq == 41
    assert current.run_id != current.raw_description.workflow_execution_info.first_run_id
    assert first.events[-1].HasField("workflow_execution_continued_as_new_event_attributes")
    assert len(first.events) <= 60 + 30  # bounded: the run continued as new
    with session_scope(url) as session:
        assert len(rows.comments(session, ed.id, limit=100)) == 40


@pytest.mark.parametrize("path", sorted(HISTORIES.glob("*.json")), ids=lambda p: p.stem)
async def test_saved_framework_history_replays(path: Path) -> None:
    from temporalio.client import WorkflowHistory

    history = WorkflowHistory.from_json("framework-replay", path.read_text())
    replayer = Replayer(
        workflows=WORKFLOWS,
        data_converter=pydantic_data_converter,
        workflow_runner=sandbox_runner(strict=True),
    )
    await replayer.replay_workflow(history)


def test_a_framework_history_is_saved() -> None:
    assert (HISTORIES / "framework_in_force_withdrawal.json").is_file()
