"""Activities: every side effect of the workflows, each idempotent (safe to retry)."""

from __future__ import annotations

from typing import Any

from base.settings import Settings


def activities_for(settings: Settings) -> list[Any]:
    """Every activity the worker registers, bound to ``settings``."""
    from activities.documents import DocumentActivities
    from activities.executed import ExecutedActivities
    from activities.framework import FrameworkActivities
    from activities.messages import MessageActivities
    from activities.projection import ProjectionActivities
    from activities.records import RecordActivities
    from activities.webhooks import WebhookActivities

    records, documents, messages, webhooks = (
        RecordActivities(settings),
        DocumentActivities(settings),
        MessageActivities(settings),
        WebhookActivities(settings),
    )
    executed, projection = ExecutedActivities(settings), ProjectionActivities(settings)
    return [
        projection.project_step,
        records.record_case,
        records.rank_candidates,
        records.publish_service,
        documents.render_agreement,
        executed.produce_executed_agreement,
        messages.issue_link,
        messages.notify,
        webhooks.queue_webhooks,
        webhooks.deliver_webhook,
        *_framework(FrameworkActivities(settings)),
    ]


def _framework(framework: Any) -> list[Any]:
    return [
        framework.draft_framework_clauses,
        framework.render_framework_final,
        framework.project_framework,
    ]
