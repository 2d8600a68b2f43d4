"""Timeline event types a hub can subscribe to, and the messages of webhook delivery.

Shared by the API (to validate a subscription), the case workflow (to queue deliveries) and
the webhook activities (to match and send them). Pure types, no I/O.
"""

from __future__ import annotations

from pydantic import BaseModel

from domain.timeline import TimelineEvent

ALL_EVENTS = "*"
EVENT_TYPES: tuple[str, ...] = (
    "case_requested",
    "partners_invited",
    "invitation_accepted",
    "invitation_declined",
    "invitation_lapsed",
    "partnering_closed",
    "draft_rendered",
    "draft_revised",
    "draft_approved",
    "changes_requested",
    "signed",
    "signature_declined",
    "agreement_executed",
    "deliverable_submitted",
    "deliverable_accepted",
    "deliverable_rejected",
    "deliverable_overdue",
    "delivery_completed",
    "development_completed",
    "pilot_completed",
    "review_opened",
    "reviewed",
    "closed",
    "cancelled",
    "request_rejected",
    "expired",
    "reminder_sent",
    "deadline_extended",
    "candidates_ranked",
    "candidates_selected",
    "consent_given",
    "consent_declined",
    "introductions_settled",
    "meeting_recorded",
    "nda_requested",
    "nda_skipped",
    "outcome_recorded",
    "service_published",
    "executed_copy_produced",
    "executed_copy_failed",
)


def subscribed(event_types: list[str], event_type: str) -> bool:
    """Does a subscription to ``event_types`` (or ``["*"]``) cover ``event_type``?"""
    return ALL_EVENTS in event_types or event_type in event_types


class QueueWebhooksInput(BaseModel):
    """Events just recorded for a case, and every hub they concern (lead, invited, introduced)."""

    case_id: str
    events: list[TimelineEvent]
    hub_ids: list[str]


class QueueWebhooksResult(BaseModel):
    queued: int  # deliveries created by this call
    started: int  # delivery workflows started (or found running) for pending deliveries


class DeliveryInput(BaseModel):
    """One webhook delivery to make (its row ``webhook_delivery.id``)."""

    delivery_id: str


class DeliveryResult(BaseModel):
    status: str  # delivered, failed
    attempts: int
    status_code: int | None = None
