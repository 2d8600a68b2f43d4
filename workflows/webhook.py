"""WebhookDeliveryWorkflow: one webhook delivery (workflow id ``webhook-<delivery id>``).

Started by the ``queue_webhooks`` activity, never awaited by a case: a receiver that is down
only keeps this small workflow retrying. No updates, no queries.
Timers: none of its own; Temporal's retry policy spaces the attempts (2 s, 4 s, 8 s, ...,
at most 10 min apart, 20 attempts). After the last attempt the row stays ``failed``.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.payloads import DeliveryInput, DeliveryResult
    from activities.webhooks import WebhookActivities

DELIVERY_TIMEOUT = timedelta(seconds=30)  # one attempt; its HTTP exchange stops at 15 s
DELIVERY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
    maximum_attempts=20,
)


@workflow.defn(name="WebhookDelivery")
class WebhookDeliveryWorkflow:
    @workflow.run
    async def run(self, data: DeliveryInput) -> DeliveryResult:
        try:
            return await workflow.execute_activity_method(
                WebhookActivities.deliver_webhook,
                data,
                start_to_close_timeout=DELIVERY_TIMEOUT,
                retry_policy=DELIVERY_RETRY,
            )
        except ActivityError:
            # Every attempt failed; the last one marked the row failed. Giving up on a
            # receiver is an expected outcome, not a failure of this workflow.
            workflow.logger.warning("webhook delivery %s given up", data.delivery_id)
            return DeliveryResult(status="failed", attempts=DELIVERY_RETRY.maximum_attempts)
