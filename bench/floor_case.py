"""The engine floor of the lifecycle benchmark: a bare workflow of a case's shape.

It is opened by an update (with start), then takes one update per human step, and runs, in
each, the activities a real case ran in that step (their names and order come from a finished
case's history: see ``bench/lifecycle.py``). What runs after a step has returned (the executed
copy after the last signature) runs in the run loop, as in the case workflow, and the run loop
waits for the next step with a timer, as the case workflow waits for its next deadline. Every
payload is the case id; the activities' bodies are in ``bench/lifecycle.py`` (the documents
are rendered with raw docxtpl, every other body does nothing).

The minimal floor is the same workflow given ``minimal_segments``: one local activity per
human step that does nothing, and the one draft render (raw docxtpl, local too), nothing in
the run loop: the least any engine-backed product of a case's shape can do.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RawValue
from temporalio.exceptions import ApplicationError


class Segment(BaseModel):
    """The activities of one update (``update`` names it) or of the run loop (``update`` is
    empty: it follows the update before it); those named in ``local`` run as local
    activities."""

    update: str
    activities: list[str]
    local: list[str] = []


MINIMAL_STEP = "minimal_step"
DRAFT_RENDER = "render_agreement"


def minimal_segments(segments: Sequence[Segment]) -> list[Segment]:
    """The minimal floor's shape of ``segments``: each update runs ``MINIMAL_STEP`` (and the
    update that rendered the draft renders it once more); the run loop's work is dropped."""
    made = []
    for s in segments:
        if not s.update:
            continue
        names = [MINIMAL_STEP] + ([DRAFT_RENDER] if DRAFT_RENDER in s.activities else [])
        made.append(Segment(update=s.update, activities=names, local=names))
    return made


class FloorResult(BaseModel):
    steps: int
    loop_ms: float  # the run loop's work after the step that asked for it (workflow time)


class FloorStart(BaseModel):
    case_id: str
    segments: list[Segment]
    activity_timeout_seconds: int = 30


@workflow.defn(name="FloorCase")
class FloorCase:
    @workflow.init
    def __init__(self, start: FloorStart) -> None:
        self.start = start
        self.next = 0  # the next segment to run
        self.steps = 0
        self.loop_due = False
        self.loop_ms = 0.0
        self.asked = workflow.now()

    @workflow.run
    async def run(self, start: FloorStart) -> FloorResult:
        while self.next < len(self.start.segments) or self.loop_due:
            seen = self.steps
            try:
                await workflow.wait_condition(
                    lambda seen=seen: self.steps != seen or self.loop_due,  # type: ignore[misc]
                    timeout=timedelta(days=14),
                )
            except TimeoutError:
                continue
            if self.loop_due:
                await self._run_segment(self.start.segments[self.next])
                self.loop_ms += (workflow.now() - self.asked).total_seconds() * 1000
                self.loop_due = False
        await workflow.wait_condition(workflow.all_handlers_finished)
        return FloorResult(steps=self.steps, loop_ms=self.loop_ms)

    @workflow.update(dynamic=True)
    async def step(self, name: str, args: Sequence[RawValue]) -> int:
        await workflow.wait_condition(lambda: not self.loop_due)  # as a case's lock
        segment = self.start.segments[self.next]
        if segment.update != name:
            raise ApplicationError(
                f"{name} out of turn: {segment.update} is next", non_retryable=True
            )
        await self._run_segment(segment)
        self.steps += 1
        if self.next < len(self.start.segments) and not self.start.segments[self.next].update:
            self.loop_due = True  # the run loop's work after this step
            self.asked = workflow.now()
        return self.steps

    async def _run_segment(self, segment: Segment) -> None:
        self.next += 1
        timeout = timedelta(seconds=self.start.activity_timeout_seconds)
        for name in segment.activities:
            if name in segment.local:
                await workflow.execute_local_activity(
                    name, self.start.case_id, start_to_close_timeout=timeout
                )
            else:
                await workflow.execute_activity(
                    name, self.start.case_id, start_to_close_timeout=timeout
                )
