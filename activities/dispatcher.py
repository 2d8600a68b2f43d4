"""The outbox dispatcher: sends what the steps' projections queued, after their commit.

It runs beside the worker (an asyncio task in the worker process, started and stopped with
it; ``worker.start_dispatcher``), looks for due rows every ``POLL_SECONDS`` and is woken at once
when a projection in the same process commits. Each row is taken for a lease (see
``store.outbox``), sent, then marked sent (what was sent while the last marking ran is marked in one
statement: at most one marking in flight, so under load rows are marked in batches and at
low load one by one, at once); a failure is retried with backoff (2 s doubling to
5 min), a refused mail address is given up at once. Any number of workers may run one.

What a row sends:

- ``mail``: through the configured notifier (SMTP, or the dev outbox directory). Its
  ``Message-ID`` header is ``<message id@dihflow>``: a mail sent again after a crash between
  sending and marking carries the same one (at least once; the dev outbox keeps the first).
- ``webhook``: starts the ``WebhookDelivery`` workflow of the delivery, workflow id
  ``webhook-<delivery id>`` with the use-existing policy (the delivery id is the message id):
  a start sent again finds the running or finished delivery.
- ``pdf``: the executed copy's PDF, by a pool of converters (one LibreOffice each, as many
  as the machine has cores, at most ``MAX_CONVERTERS``), never on a step's path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy

from activities.notify import MailRefused, Message, notifier_from_settings
from activities.payloads import DeliveryInput
from activities.pdf import MAX_CONVERTERS, PdfConverter
from base.settings import Settings
from store import housekeeping, outbox
from store.records import derive_link_token

log = logging.getLogger("dihflow.outbox")
T = TypeVar("T")

POLL_SECONDS = 1.0
BATCH = 50
DELIVERY_WORKFLOW = "WebhookDelivery"

_running: set[OutboxDispatcher] = set()
_running_lock = threading.Lock()


def wake_dispatchers() -> None:
    """Tell this process's dispatchers that rows were committed (from any thread)."""
    with _running_lock:
        running = list(_running)
    for dispatcher in running:
        dispatcher.wake()


class OutboxDispatcher:
    def __init__(
        self,
        settings: Settings,
        client: Client,
        *,
        poll_seconds: float = POLL_SECONDS,
        lease: timedelta | None = None,
        converters: int | None = None,
        on_cpu: Callable[[float], None] | None = None,
    ):
        self.settings, self.client = settings, client
        self.poll_seconds = poll_seconds
        self.lease = lease or timedelta(seconds=settings.outbox_lease_seconds)
        self.on_cpu = on_cpu  # told the thread CPU of each send (the benchmark counts it)
        size = converters or max(1, min(os.cpu_count() or 1, MAX_CONVERTERS))
        self.converters: asyncio.Queue[PdfConverter] = asyncio.Queue()
        self._all_converters = [
            PdfConverter(settings.pdf_converter, settings.pdf_python) for _ in range(size)
        ]
        for converter in self._all_converters:
            self.converters.put_nowait(converter)
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._sending: set[asyncio.Task[None]] = set()
        self._to_mark: list[str] = []  # sent, to be marked by the next marking
        self._marking: asyncio.Task[None] | None = None
        self.sent = 0  # rows marked sent by this dispatcher

    # -- life ---------------------------------------------------------------------------------
    def start(self) -> OutboxDispatcher:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self._run(), name="outbox-dispatcher")
        with _running_lock:
            _running.add(self)
        return self

    async def stop(self) -> None:
        with _running_lock:
            _running.discard(self)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for task in list(self._sending):
            task.cancel()
        await asyncio.gather(*self._sending, return_exceptions=True)
        if self._marking is not None:  # what was sent is marked before stopping
            await asyncio.gather(self._marking, return_exceptions=True)
        for converter in self._all_converters:
            await asyncio.to_thread(converter.close)

    def wake(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake.set)

    # -- the loop -----------------------------------------------------------------------------
    async def _run(self) -> None:
        next_purge = time.monotonic()
        while True:
            self._wake.clear()
            if time.monotonic() >= next_purge:  # housekeeping, once an hour
                next_purge = time.monotonic() + housekeeping.PURGE_SECONDS
                try:
                    url = self.settings.database_url
                    await self._thread(housekeeping.purge, url, datetime.now(UTC))
                except Exception:
                    log.exception("the housekeeping purge failed; it runs again in an hour")
            try:
                url = self.settings.database_url
                rows = await self._thread(outbox.claim, url, BATCH, self.lease)
            except Exception:  # the store is busy or down: look again later
                log.exception("the outbox could not be read")
                rows = []
            for row in rows:
                task = asyncio.create_task(self._send(row))
                self._sending.add(task)
                task.add_done_callback(self._sending.discard)
            if len(rows) == BATCH:
                await asyncio.sleep(0)  # more are due: take them once these are on their way
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)

    async def _send(self, row: outbox.Claimed) -> None:
        url = self.settings.database_url
        try:
            if row.kind == "mail":
                await self._thread(self._mail, row)
            elif row.kind == "webhook":
                await self._webhook(row)
            elif row.kind == "pdf":
                why = await self._pdf(row)
                if why is not None:  # no converter here (turned off, not installed)
                    await self._thread(outbox.mark_retry, url, row.id, why, True)
                    return
            else:
                raise ValueError(f"unknown outbox kind {row.kind!r}")
        except asyncio.CancelledError:
            raise  # stopping: the lease runs out and the row is sent later
        except MailRefused as exc:
            await self._thread(outbox.mark_retry, url, row.id, str(exc), True)
            return
        except Exception as exc:
            log.warning("outbox %s (%s, attempt %d): %s", row.id, row.kind, row.attempts, exc)
            error = f"{type(exc).__name__}: {exc}"
            with contextlib.suppress(Exception):
                await self._thread(outbox.mark_retry, url, row.id, error)
            return
        self._to_mark.append(row.id)
        if self._marking is None or self._marking.done():
            self._marking = asyncio.create_task(self._mark_sent())

    async def _mark_sent(self) -> None:
        """Mark what was sent, in one statement, until nothing is left to mark (a crash before
        this leaves the rows to come due again after the lease: sent again, same message id)."""
        while self._to_mark:
            ids, self._to_mark = self._to_mark, []
            try:
                await self._thread(outbox.mark_sent_many, self.settings.database_url, ids)
            except Exception:  # the store is busy: the rows are sent again after the lease
                log.exception("could not mark %d outbox rows sent", len(ids))
                continue
            self.sent += len(ids)

    async def _thread(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in a thread, its CPU told to ``on_cpu``."""
        return await asyncio.to_thread(self._timed, fn, *args)

    def _timed(self, fn: Callable[..., T], *args: Any) -> T:
        began = time.thread_time()
        try:
            return fn(*args)
        finally:
            if self.on_cpu is not None:
                self.on_cpu(time.thread_time() - began)

    def _mail(self, row: outbox.Claimed) -> None:
        p = row.payload
        link = None
        if p.get("link_purpose"):
            token = derive_link_token(self.settings.secret_key, row.case_id, p["link_purpose"])
            link = f"{self.settings.public_url}/l/{token}"
        message = Message(
            key=p["key"],
            case_id=row.case_id,
            to_name=p["to_name"],
            to_email=p["to_email"],
            subject=p["subject"],
            template=p["template"],
            context=p.get("context") or {},
            link=link,
            action=p.get("action"),
            message_id=row.id,
        )
        notifier_from_settings(self.settings).send(message, datetime.now(UTC))

    async def _webhook(self, row: outbox.Claimed) -> None:
        delivery = row.payload["delivery_id"]
        await self.client.start_workflow(
            DELIVERY_WORKFLOW,
            DeliveryInput(delivery_id=delivery),
            id=f"webhook-{delivery}",
            task_queue=self.settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )

    async def _pdf(self, row: outbox.Claimed) -> str | None:
        from activities.executed import make_pdf

        converter = await self.converters.get()
        try:
            return await asyncio.to_thread(
                make_pdf, self.settings, converter, row.payload["document_id"]
            )
        finally:
            self.converters.put_nowait(converter)
