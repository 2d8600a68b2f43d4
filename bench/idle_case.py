"""The least an open case can be, the floor of the open-cases benchmark: a workflow opened by
an update (with start) that then waits on a 14-day timer. No activities, no facts, a module of
a few lines: what a cached workflow costs the worker before any of our code is in it."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow


@workflow.defn(name="IdleCase")
class IdleCase:
    def __init__(self) -> None:
        self.opened = False

    @workflow.run
    async def run(self, case_id: str) -> None:
        await workflow.sleep(timedelta(days=14))

    @workflow.update
    def open_case(self) -> str:
        self.opened = True
        return "partnering"
