"""Webhooks: queue a case's events for the hubs that subscribed, and deliver each one.

``queue_webhooks`` (run by the case workflow after each recorded step) inserts one
``webhook_delivery`` row per (active subscription of a concerned hub, matching event) and
starts one ``WebhookDelivery`` workflow per pending row; ``deliver_webhook`` (run by that
workflow, retried by Temporal with backoff) POSTs the event to the hub's URL.

How a hub verifies a delivery
-----------------------------
Each request is a ``POST`` of a JSON body ``{"id", "case_id", "seq", "type", "at", "data",
"hash"}`` (``hash`` is the timeline event's hash) with these headers:

``X-Dihflow-Event``      the event type, e.g. ``invitation_accepted``
``X-Dihflow-Delivery``   the delivery id: the same on every retry of one delivery (dedupe on it)
``X-Dihflow-Timestamp``  when this attempt was signed, in Unix seconds
``X-Dihflow-Signature``  ``sha256=`` + the hex HMAC-SHA256, keyed with the webhook's secret
                         (UTF-8), of the bytes ``f"{timestamp}."`` followed by the raw body

To verify: recompute the HMAC over the timestamp header, a dot and the body bytes exactly as
received (before any JSON parsing), compare in constant time, and reject timestamps more than
a few minutes old so a captured request cannot be replayed later. ``verify_signature`` below
does all of that. Deliveries of one case may arrive out of order or more than once: order by
``seq`` and ignore a delivery id already processed. Answer any 2xx to acknowledge.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import httpx
import sqlalchemy as sa
from sqlmodel import Session
from temporalio import activity
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError

from activities.payloads import (
    DeliveryInput,
    DeliveryResult,
    QueueWebhooksInput,
    QueueWebhooksResult,
)
from base.codec import open_text
from base.settings import Settings
from domain.digests import sha256_hex
from domain.events import subscribed
from domain.targets import address_problem, url_problem
from domain.timeline import TimelineEvent
from store.db import as_utc, session_scope
from store.models import Case, Webhook, WebhookDelivery, utcnow
from store.queries import case_facts

DELIVERY_WORKFLOW = "WebhookDelivery"
DEFAULT_MAX_ATTEMPTS = 20  # used only when the retry policy does not say
REQUEST_TIMEOUT_SECONDS = 10.0  # connecting, and each read
DELIVERY_DEADLINE_SECONDS = 15.0  # one attempt in all: a receiver that trickles is cut off
USER_AGENT = "dihflow-webhooks/1"
DEFAULT_TOLERANCE_SECONDS = 300  # how old a delivery's timestamp may be when verified


# -- where a webhook may point --------------------------------------------------------------
def target_problem(url: str, public_only: bool) -> str | None:
    """Why ``url`` may not receive deliveries now (``domain/targets.py``), or None. With
    ``public_only`` its host is resolved (blocking: call it from a thread) and every address
    it gives must be public."""
    why = url_problem(url, public_only)
    if why is not None or not public_only:
        return why
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        infos = socket.getaddrinfo(host, parts.port or 443, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        return f"{host} does not resolve ({exc.strerror})"
    for info in infos:
        why = address_problem(str(info[4][0]))
        if why is not None:
            return f"{host} resolves to {why}"
    return None


# -- the signature scheme ------------------------------------------------------------------
def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The ``X-Dihflow-Signature`` value for ``body`` sent at ``timestamp``."""
    message = f"{timestamp}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_signature(
    secret: str,
    timestamp: int | str,
    body: bytes,
    header: str,
    *,
    tolerance_seconds: int | None = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """True when ``header`` is the signature of ``body`` at ``timestamp`` under ``secret``.

    A timestamp further than ``tolerance_seconds`` (default 5 minutes) from ``now`` (default:
    the current time) is refused too, which stops a captured request being replayed later;
    ``tolerance_seconds=None`` checks the signature alone.
    """
    if tolerance_seconds is not None:
        try:
            sent = int(timestamp)
        except (TypeError, ValueError):
            return False
        if abs((time.time() if now is None else now) - sent) > tolerance_seconds:
            return False
    expected = sign(secret, timestamp, body).encode()
    # a rotation's overlap sends one signature per secret: any of them will do
    given = (part.strip().encode() for part in header.split(","))
    return any(hmac.compare_digest(expected, part) for part in given)


def signing_secrets(hook: Webhook, ring: str) -> list[str]:
    """The secrets a delivery is signed with: the webhook's, and the one a rotation replaced
    while its overlap lasts (sealed at rest with the payload key ring, opened here)."""
    secrets = [open_text(ring, hook.secret)]
    until = as_utc(hook.previous_until) if hook.previous_until is not None else None
    if hook.previous_secret and until is not None and until > utcnow():
        secrets.append(open_text(ring, hook.previous_secret))
    return secrets


def delivery_id(webhook_id: str, case_id: str, seq: int) -> str:
    """Stable per (webhook, case, event): a retried queueing finds the row it made."""
    return "d-" + sha256_hex(f"{webhook_id}:{case_id}:{seq}".encode())[:32]


def delivery_payload(delivery: str, case_id: str, event: TimelineEvent) -> dict[str, Any]:
    return {
        "id": delivery,
        "case_id": case_id,
        "seq": event.seq,
        "type": event.type,
        "at": event.at,
        "data": event.data,
        "hash": event.hash,
    }


_HOOK = Webhook.__table__  # type: ignore[attr-defined]
_ACTIVE_HOOKS = (  # the columns a delivery needs, in a statement built once
    sa.select(_HOOK.c.id, _HOOK.c.event_types)
    .where(_HOOK.c.hub_id.in_(sa.bindparam("hub_ids", expanding=True)), _HOOK.c.active.is_(True))
    .order_by(_HOOK.c.id)
)


def insert_deliveries(
    session: Session, case_id: str, events: list[TimelineEvent], hub_ids: list[str]
) -> list[tuple[WebhookDelivery, bool]]:
    """One delivery row per (active subscription of the hubs, matching event), added unless
    it exists; each with True when it was new."""
    if not events or not hub_ids:
        return []
    hooks = session.execute(_ACTIVE_HOOKS, {"hub_ids": hub_ids}).all()
    rows = []
    for event in events:
        for hook in hooks:
            if not subscribed(hook.event_types, event.type):
                continue
            did = delivery_id(hook.id, case_id, event.seq)
            row = session.get(WebhookDelivery, did)
            new = row is None
            if row is None:
                row = WebhookDelivery(
                    id=did,
                    webhook_id=hook.id,
                    case_id=case_id,
                    seq=event.seq,
                    event_type=event.type,
                    payload=delivery_payload(did, case_id, event),
                )
                session.add(row)
            rows.append((row, new))
    return rows


class WebhookActivities:
    def __init__(self, settings: Settings):
        self.settings = settings
        # the deliveries' own threads for their store reads and writes: a burst of deliveries
        # never waits for, nor takes, a thread that case work needs
        self._store = ThreadPoolExecutor(max_workers=2, thread_name_prefix="webhook-store")

    # -- queueing ---------------------------------------------------------------------------
    @activity.defn(name="queue_webhooks")
    async def queue_webhooks(self, data: QueueWebhooksInput) -> QueueWebhooksResult:
        """Insert the deliveries (idempotently), then start a workflow per pending one.

        Starting is idempotent too: workflow id ``webhook-<delivery id>`` with the
        use-existing conflict policy. Nothing here waits for a receiver.
        """
        queued, pending = await asyncio.to_thread(self._insert_deliveries, data)
        if pending:
            client = activity.client()
            await asyncio.gather(
                *(
                    client.start_workflow(
                        DELIVERY_WORKFLOW,
                        DeliveryInput(delivery_id=d),
                        id=f"webhook-{d}",
                        task_queue=self.settings.task_queue,
                        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                    )
                    for d in pending
                )
            )
        return QueueWebhooksResult(queued=queued, started=len(pending))

    def _insert_deliveries(self, data: QueueWebhooksInput) -> tuple[int, list[str]]:
        if not data.events or not data.hub_ids:
            return 0, []
        with session_scope(self.settings.database_url) as session:
            case = session.get(Case, data.case_id)
            hub_ids = data.hub_ids
            if case is not None:  # a hub that left the case receives none of its events
                facts = case_facts(case)
                hub_ids = [h for h in hub_ids if facts.departed(h) is None]
            rows = insert_deliveries(session, data.case_id, data.events, hub_ids)
        return sum(new for _, new in rows), [r.id for r, _ in rows if r.status == "pending"]

    # -- delivering -------------------------------------------------------------------------
    @activity.defn(name="deliver_webhook")
    async def deliver_webhook(self, data: DeliveryInput) -> DeliveryResult:
        """POST one delivery; a non-2xx answer, a transport error or a receiver slower than
        ``DELIVERY_DEADLINE_SECONDS`` in all raises so Temporal retries.

        It runs apart from case work: the request is a coroutine on the worker's event loop
        (no thread of the activity pool is held while a receiver answers, however slowly) and
        the store is reached through this class's own small executor. Each attempt is written
        to the row (in its own transaction) before anything is raised.
        """
        info = activity.info()
        attempt = info.attempt
        limit = info.retry_policy.maximum_attempts if info.retry_policy else DEFAULT_MAX_ATTEMPTS
        last = 0 < limit <= attempt  # 0: no limit
        loop = asyncio.get_running_loop()
        found = await loop.run_in_executor(self._store, self._pending, data.delivery_id)
        if isinstance(found, DeliveryResult):
            return found
        url, secret, payload, event_type = found
        refused = await loop.run_in_executor(
            self._store, target_problem, url, self.settings.webhooks_public_only
        )
        if refused is not None:  # the name points somewhere it may not (any more)
            error = f"refused: {refused}"
            await loop.run_in_executor(
                self._store,
                self._record_attempt,
                data.delivery_id,
                attempt,
                None,
                error,
                False,
                True,
            )
            raise ApplicationError(error, type="WebhookTargetRefused", non_retryable=True)

        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Dihflow-Event": event_type,
            "X-Dihflow-Delivery": data.delivery_id,
            "X-Dihflow-Timestamp": timestamp,
            # during a rotation's overlap, one signature per secret, comma-separated
            "X-Dihflow-Signature": ",".join(sign(s, timestamp, body) for s in secret),
        }
        status_code: int | None = None
        error = ""
        try:
            async with (
                asyncio.timeout(DELIVERY_DEADLINE_SECONDS),  # the whole exchange, not per read
                httpx.AsyncClient(timeout=REQUEST_TIMEOUT_SECONDS, follow_redirects=False) as http,
                http.stream("POST", url, content=body, headers=headers) as response,
            ):
                status_code = response.status_code  # the body is never read: only the status
        except TimeoutError:
            status_code = None
            error = f"the receiver did not answer within {DELIVERY_DEADLINE_SECONDS:g} s"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        delivered = status_code is not None and 200 <= status_code < 300
        if not delivered and not error:
            error = f"the receiver answered HTTP {status_code}"
        result = await loop.run_in_executor(
            self._store,
            self._record_attempt,
            data.delivery_id,
            attempt,
            status_code,
            error,
            delivered,
            last,
        )
        if not delivered:
            raise ApplicationError(error, type="WebhookNotDelivered")
        return result

    def _pending(
        self, delivery: str
    ) -> DeliveryResult | tuple[str, list[str], dict[str, Any], str]:
        """The delivery's URL, signing secrets, payload and event type; or its result when
        there is nothing (more) to send."""
        with session_scope(self.settings.database_url) as session:
            row = session.get(WebhookDelivery, delivery)
            if row is None:
                raise ApplicationError(f"no webhook delivery {delivery!r}", non_retryable=True)
            if row.status != "pending":  # delivered (or given up) already: never send twice
                return DeliveryResult(
                    status=row.status, attempts=row.attempts, status_code=row.last_status_code
                )
            hook = session.get(Webhook, row.webhook_id)
            if hook is None or not hook.active:
                row.status, row.last_error = "failed", "the webhook was deleted"
                session.add(row)
                return DeliveryResult(status="failed", attempts=row.attempts)
            return (
                hook.url,
                signing_secrets(hook, self.settings.payload_keys),
                row.payload,
                row.event_type,
            )

    def _record_attempt(
        self,
        delivery: str,
        attempt: int,
        status_code: int | None,
        error: str,
        delivered: bool,
        last: bool,
    ) -> DeliveryResult:
        with session_scope(self.settings.database_url) as session:
            row = session.get(WebhookDelivery, delivery)
            assert row is not None
            row.attempts = max(row.attempts, attempt)
            row.last_status_code = status_code
            row.last_error = error[:500]
            if delivered:
                row.status, row.delivered_at = "delivered", utcnow()
            elif last:
                row.status = "failed"
            session.add(row)
            return DeliveryResult(status=row.status, attempts=row.attempts, status_code=status_code)
