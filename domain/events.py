"""Timeline event types a hub can subscribe to (the messages of webhook delivery are in
``activities.payloads``).

Shared by the API (to validate a subscription) and the webhook activities (to match them).
"""

from __future__ import annotations

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
    "peer_reviewed",
    "closed",
    "cancelled",
    "request_rejected",
    "expired",
    "reminder_sent",
    "deadline_extended",
    "nudged",
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
    "executed_copy_attached",
)


def subscribed(event_types: list[str], event_type: str) -> bool:
    """Does a subscription to ``event_types`` (or ``["*"]``) cover ``event_type``?"""
    return ALL_EVENTS in event_types or event_type in event_types
