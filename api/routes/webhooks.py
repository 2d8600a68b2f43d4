"""Webhook routes: a hub subscribes URLs to case events and reads its delivery log.

Only a hub's members and signatories manage its webhooks; another hub's webhook answers 404.
The secret that signs deliveries is shown once, in the answer to the registration.
How deliveries are signed and verified: see ``activities.webhooks``.
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from activities.webhooks import target_problem
from api.deps import CallerDep, SessionDep, SettingsDep
from api.idempotency import claim
from api.problems import ApiError, Problem
from base.codec import open_text, seal_text
from domain.cases import HUB_ROLES
from domain.events import ALL_EVENTS, EVENT_TYPES
from domain.targets import url_problem
from store.db import as_utc
from store.models import Webhook, WebhookDelivery, utcnow
from store.queries import decode_cursor

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "content": {"application/problem+json": {}}}
    for code in (401, 403, 404, 409, 422)
}


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=500, description="an http or https URL that accepts POSTs")
    event_types: list[str] = Field(
        min_length=1,
        description=f'timeline event types to receive, or ["{ALL_EVENTS}"] for all of them',
        examples=[["invitation_accepted", "draft_rendered"], [ALL_EVENTS]],
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        why = url_problem(url, public_only=False) or ("has a space" if " " in url else None)
        if why:
            raise ValueError("must be an absolute http:// or https:// URL")
        return url

    @field_validator("event_types")
    @classmethod
    def _known_types(cls, types: list[str]) -> list[str]:
        unknown = [t for t in types if t != ALL_EVENTS and t not in EVENT_TYPES]
        if unknown:
            raise ValueError(f"unknown event type(s) {', '.join(map(repr, unknown))}")
        if ALL_EVENTS in types:
            return [ALL_EVENTS]
        return list(dict.fromkeys(types))


class WebhookView(BaseModel):
    id: str
    url: str
    event_types: list[str]
    created_at: datetime


class WebhookCreated(WebhookView):
    secret: str = Field(description="signs every delivery; shown only in this answer")


class WebhookList(BaseModel):
    items: list[WebhookView]
    next_cursor: str | None = None


class DeliveryView(BaseModel):
    id: str
    case_id: str
    seq: int
    event_type: str
    status: str = Field(description="pending, delivered or failed")
    attempts: int
    last_status_code: int | None
    last_error: str
    created_at: datetime
    delivered_at: datetime | None


class DeliveryList(BaseModel):
    items: list[DeliveryView]
    next_cursor: str | None = None


def caller_hub(caller: CallerDep) -> str:
    """The caller's hub; 403 for anyone else (a dependency, so it answers before a 422)."""
    if caller.role not in HUB_ROLES or caller.hub_id is None:
        raise ApiError(403, "only a hub's members manage its webhooks")
    return caller.hub_id


HubDep = Annotated[str, Depends(caller_hub)]


def _own_webhook(session: Session, webhook_id: str, hub_id: str) -> Webhook:
    hook = session.get(Webhook, webhook_id)
    if hook is None or hook.hub_id != hub_id or not hook.active:
        raise ApiError(404, f"no webhook {webhook_id!r}")
    return hook


def _view(hook: Webhook) -> WebhookView:
    return WebhookView(
        id=hook.id,
        url=hook.url,
        event_types=hook.event_types,
        created_at=as_utc(hook.created_at),  # type: ignore[arg-type]
    )


@router.post("", status_code=201, response_model=WebhookCreated, responses=ERRORS)
def create_webhook(
    body: WebhookCreate,
    response: Response,
    session: SessionDep,
    hub_id: HubDep,
    caller: CallerDep,
    settings: SettingsDep,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> WebhookCreated:
    """Subscribe a URL to the caller hub's case events. The answer holds the signing secret:
    keep it, it is never shown again (except to a retry with the same Idempotency-Key)."""
    hook_id = f"wh-{secrets.token_hex(8)}"
    if idempotency_key:
        hook_id, _ = claim(
            session,
            caller.principal_id,
            idempotency_key,
            "webhooks",
            body.model_dump(mode="json"),
            hook_id,
        )
    hook = session.get(Webhook, hook_id)
    if hook is not None and not hook.active:  # a retry after the webhook was deleted
        raise ApiError(
            409,
            "the webhook this Idempotency-Key created has been deleted; register a new one "
            "with another key",
        )
    if hook is None:
        _within_quota(session, hub_id, settings.webhooks_per_hub)
        refused = target_problem(body.url, settings.webhooks_public_only)
        if refused is not None:
            raise ApiError(
                422,
                f"webhooks may not point there: {refused}",
                errors=[{"field": "url", "message": refused}],
            )
        hook = Webhook(
            id=hook_id,
            hub_id=hub_id,
            url=body.url,
            event_types=body.event_types,
            secret=seal_text(settings.payload_keys, secrets.token_urlsafe(32)),
        )
        session.add(hook)
        session.commit()
    response.headers["Location"] = f"/v1/webhooks/{hook.id}"
    return WebhookCreated(
        **_view(hook).model_dump(), secret=open_text(settings.payload_keys, hook.secret)
    )


def _within_quota(session: Session, hub_id: str, limit: int) -> None:
    """422 naming the limit when the hub has ``limit`` active webhooks already (every event
    is sent to each of them: the limit bounds what one hub adds to every case step)."""
    active = session.exec(
        select(func.count())
        .select_from(Webhook)
        .where(Webhook.hub_id == hub_id, col(Webhook.active).is_(True))
    ).one()
    if active >= limit:
        raise ApiError(
            422,
            f"a hub may have at most {limit} webhooks (DIHFLOW_WEBHOOKS_PER_HUB); delete one first",
            errors=[{"field": "url", "message": f"limit of {limit} webhooks reached"}],
            limit=limit,
        )


@router.get("", response_model=WebhookList, responses=ERRORS)
def list_webhooks(session: SessionDep, hub_id: HubDep) -> WebhookList:
    """The caller hub's webhooks, oldest first (a hub has a handful: one page)."""
    rows = session.exec(
        select(Webhook)
        .where(Webhook.hub_id == hub_id, col(Webhook.active).is_(True))
        .order_by(col(Webhook.created_at), col(Webhook.id))
    )
    return WebhookList(items=[_view(h) for h in rows])


@router.get("/{webhook_id}", response_model=WebhookView, responses=ERRORS)
def get_webhook(webhook_id: str, session: SessionDep, hub_id: HubDep) -> WebhookView:
    """One of the caller hub's webhooks (without its secret)."""
    return _view(_own_webhook(session, webhook_id, hub_id))


class SecretRotated(BaseModel):
    id: str
    secret: str = Field(description="signs every delivery from now on; shown only here")
    previous_valid_until: datetime = Field(
        description="until then deliveries carry a second signature, by the replaced secret"
    )


@router.post("/{webhook_id}/rotate-secret", response_model=SecretRotated, responses=ERRORS)
def rotate_secret(
    webhook_id: str, session: SessionDep, hub_id: HubDep, settings: SettingsDep
) -> SecretRotated:
    """A new signing secret, shown once. The replaced one keeps signing deliveries beside it
    (``X-Dihflow-Signature`` then holds two signatures, comma-separated) for
    ``DIHFLOW_WEBHOOK_SECRET_OVERLAP_HOURS``, so the receiver can switch without losing one."""
    hook = _own_webhook(session, webhook_id, hub_id)
    raw = secrets.token_urlsafe(32)
    until = utcnow() + timedelta(hours=settings.webhook_secret_overlap_hours)
    hook.previous_secret, hook.previous_until = hook.secret, until
    hook.secret = seal_text(settings.payload_keys, raw)
    session.add(hook)
    session.commit()
    return SecretRotated(id=hook.id, secret=raw, previous_valid_until=until)


@router.delete("/{webhook_id}", status_code=204, response_class=Response, responses=ERRORS)
def delete_webhook(webhook_id: str, session: SessionDep, hub_id: HubDep) -> Response:
    """Stop a webhook: nothing more is queued for it, and pending deliveries give up."""
    hook = _own_webhook(session, webhook_id, hub_id)
    hook.active = False  # kept, not removed: its deliveries refer to it
    session.add(hook)
    session.commit()
    return Response(status_code=204)


@router.get("/{webhook_id}/deliveries", response_model=DeliveryList, responses=ERRORS)
def list_deliveries(
    webhook_id: str,
    session: SessionDep,
    hub_id: HubDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> DeliveryList:
    """The webhook's delivery log, newest first."""
    hook = _own_webhook(session, webhook_id, hub_id)
    query = select(WebhookDelivery).where(WebhookDelivery.webhook_id == hook.id)
    if cursor:
        try:
            created, last_id = decode_cursor(cursor)
        except ValueError:
            raise ApiError(
                422,
                "the cursor is not one this API gave out",
                errors=[{"field": "cursor", "message": "invalid cursor"}],
            ) from None
        query = query.where(
            or_(
                col(WebhookDelivery.created_at) < created,
                and_(col(WebhookDelivery.created_at) == created, col(WebhookDelivery.id) < last_id),
            )
        )
    rows = list(
        session.exec(
            query.order_by(
                col(WebhookDelivery.created_at).desc(), col(WebhookDelivery.id).desc()
            ).limit(limit + 1)
        )
    )
    page = rows[:limit]
    next_cursor = _cursor(page[-1]) if len(rows) > limit and page else None
    return DeliveryList(items=[_delivery_view(d) for d in page], next_cursor=next_cursor)


def _cursor(row: WebhookDelivery) -> str:
    raw = f"{as_utc(row.created_at).isoformat()}|{row.id}"  # type: ignore[union-attr]
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _delivery_view(d: WebhookDelivery) -> DeliveryView:
    return DeliveryView(
        id=d.id,
        case_id=d.case_id,
        seq=d.seq,
        event_type=d.event_type,
        status=d.status,
        attempts=d.attempts,
        last_status_code=d.last_status_code,
        last_error=d.last_error,
        created_at=as_utc(d.created_at),  # type: ignore[arg-type]
        delivered_at=as_utc(d.delivered_at),
    )
