"""The outbox under faults, with real processes killed at chosen points: a projection retried
after its commit, a dispatcher lost between sending and marking, a backlog left by a stopped
dispatcher."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from activities.dispatcher import OutboxDispatcher
from activities.projection import ProjectionActivities, project
from base.engine import DevServer, connect
from base.settings import Settings
from store.db import migrate, session_scope
from tests.activities.test_projection import SECRET, counts, outbox, seed_store, step_input
from tests.faults.outbox_crash import DIED, ProjectOnce

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Place:
    settings: Settings
    client: Client

    @property
    def url(self) -> str:
        return self.settings.database_url

    def spawn(self, mode: str) -> subprocess.Popen[bytes]:
        s = self.settings
        env = {k: v for k, v in os.environ.items() if not k.startswith("DIHFLOW_")}
        env.update(
            DIHFLOW_TEMPORAL_ADDRESS=str(s.temporal_address),
            DIHFLOW_TASK_QUEUE=s.task_queue,
            DIHFLOW_DATABASE_URL=s.database_url,
            DIHFLOW_OUTBOX_DIR=str(s.outbox_dir),
            DIHFLOW_DOCUMENTS_DIR=str(s.documents_dir),
            DIHFLOW_SECRET_KEY=s.secret_key,
            DIHFLOW_PUBLIC_URL=s.public_url,
        )
        return subprocess.Popen(
            [sys.executable, "-m", "tests.faults.outbox_crash", mode], cwd=ROOT, env=env
        )


@pytest.fixture
async def place(dev_server: DevServer, tmp_path: Path) -> AsyncIterator[Place]:
    settings = Settings().replace(
        var_dir=tmp_path,
        temporal_address=dev_server.address,
        task_queue=f"tq-{uuid.uuid4().hex[:8]}",
        database_url=f"sqlite:///{tmp_path / 'store.db'}",
        documents_dir=tmp_path / "documents",
        outbox_dir=tmp_path / "outbox",
        secret_key=SECRET,
    )
    migrate(settings.database_url)
    seed_store(settings.database_url)
    yield Place(settings, await connect(settings))


def statuses(url: str) -> Counter[str]:
    return Counter(r.status for r in outbox(url))


async def until_all_sent(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while statuses(url) != Counter({"sent": len(outbox(url))}):
        assert time.monotonic() < deadline, f"outbox not drained: {statuses(url)}"
        await asyncio.sleep(0.1)


def mails(place: Place) -> dict[str, list[str]]:
    """Message-IDs of the dev outbox's files, by mail key."""
    found: dict[str, list[str]] = {}
    for path in sorted(place.settings.outbox_dir.glob("*.eml")):
        mail = message_from_bytes(path.read_bytes(), policy=policy.default)
        found.setdefault(str(mail["X-Dihflow-Key"]), []).append(str(mail["Message-ID"]))
    return found


async def test_a_projection_killed_after_its_commit_is_retried_and_writes_nothing_twice(
    place: Place,
) -> None:
    worker = place.spawn("project")
    handle = await place.client.start_workflow(
        ProjectOnce.run,
        step_input(),
        id=f"project-{uuid.uuid4().hex[:8]}",
        task_queue=place.settings.task_queue,
    )
    assert await asyncio.to_thread(worker.wait, 60) == DIED
    committed, queued = counts(place.url), [r.id for r in outbox(place.url)]
    assert committed["TimelineEntry"] == 3 and len(queued) == 4  # committed, never reported

    with ThreadPoolExecutor(max_workers=2) as executor:
        async with Worker(
            place.client,
            task_queue=place.settings.task_queue,
            workflows=[ProjectOnce],
            activities=[ProjectionActivities(place.settings).project_step],
            activity_executor=executor,
            workflow_runner=UnsandboxedWorkflowRunner(),
        ):
            result = await handle.result()

    history = await handle.fetch_history()
    started = [
        e.activity_task_started_event_attributes.attempt
        for e in history.events
        if e.HasField("activity_task_started_event_attributes")
    ]
    assert started == [2]  # the engine ran it again after the lost worker
    assert result.messages == 0
    assert counts(place.url) == committed
    assert [r.id for r in outbox(place.url)] == queued
    per_recipient = Counter((r.kind, r.recipient) for r in outbox(place.url))
    assert set(per_recipient.values()) == {1}


async def test_a_dispatcher_lost_between_sending_and_marking_sends_again_under_one_id(
    place: Place,
) -> None:
    with session_scope(place.url) as session:
        project(session, step_input(), SECRET)
    rows = {r.id: r for r in outbox(place.url)}

    lost = place.spawn("dispatch")
    assert await asyncio.to_thread(lost.wait, 60) == DIED
    assert statuses(place.url) == Counter({"pending": 4})  # sent, but never marked
    assert mails(place)  # at least one mail went out before the crash

    dispatcher = OutboxDispatcher(place.settings, place.client, poll_seconds=0.2).start()
    try:
        await until_all_sent(place.url)
    finally:
        await dispatcher.stop()

    final = outbox(place.url)
    assert max(r.attempts for r in final) == 2  # taken by the lost one, then by this one
    # one file per mail (the first send stands), its Message-ID the message id
    expected = {r.payload["key"]: [f"<{r.id}@dihflow>"] for r in rows.values() if r.kind == "mail"}
    assert mails(place) == expected
    # the delivery's workflow was started under the message id, once
    (hook,) = [r for r in rows.values() if r.kind == "webhook"]
    handle = place.client.get_workflow_handle(f"webhook-{hook.id}")
    history = await handle.fetch_history()
    started = "workflow_execution_started_event_attributes"
    assert sum(e.HasField(started) for e in history.events) == 1
    await handle.terminate("test over")


async def test_a_stopped_dispatchers_backlog_drains_on_restart(place: Place) -> None:
    first = OutboxDispatcher(place.settings, place.client, poll_seconds=0.2).start()
    await first.stop()
    for n in range(3):
        data = step_input()
        facts = data.facts.model_copy(update={"case_id": f"c-backlog{n}"})
        with session_scope(place.url) as session:
            project(session, data.model_copy(update={"facts": facts, "hub_ids": []}), SECRET)
    assert statuses(place.url) == Counter({"pending": 9})

    again = OutboxDispatcher(place.settings, place.client, poll_seconds=0.2).start()
    try:
        await until_all_sent(place.url)
    finally:
        await again.stop()
    assert again.sent == 9
    assert len(mails(place)) == 9
    assert all(row.sent_at is not None for row in outbox(place.url))
