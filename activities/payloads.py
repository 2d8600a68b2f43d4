"""Every activity's input and result, in one place (plain pydantic models: table objects never
cross Temporal). The workflows import these and ``domain`` only, besides the activity
references they call. Their JSON shape is in saved workflow histories: add fields with
defaults, never rename or remove one (see README "Versioning workflows").

| activity                     | input                      | result                |
|------------------------------|----------------------------|-----------------------|
| ``record_case``              | ``RecordInput``            | none                  |
| ``render_agreement``         | ``RenderInput``            | ``domain.cases.Draft``|
| ``issue_link``               | ``LinkInput``              | ``LinkResult``        |
| ``notify``                   | ``NotifyInput``            | none                  |
| ``rank_candidates``          | ``domain.cases.CaseFacts`` | ``list[Candidate]``   |
| ``publish_service``          | ``domain.cases.CaseFacts`` | none                  |
| ``produce_executed_agreement``| ``ExecuteInput``          | ``ExecutedCopy``      |
| ``queue_webhooks``           | ``QueueWebhooksInput``     | ``QueueWebhooksResult``|
| ``deliver_webhook``          | ``DeliveryInput``          | ``DeliveryResult``    |
| ``project_step``             | ``ProjectInput``           | ``ProjectResult``     |
"""

from __future__ import annotations

from pydantic import BaseModel

from domain.cases import CaseFacts
from domain.outcomes import Notice
from domain.timeline import TimelineEvent


class SignatureInput(BaseModel):
    party: str
    document_id: str
    document_sha256: str
    principal_id: str
    signer_name: str = ""
    ip: str = ""
    user_agent: str = ""
    signed_at: str


class RecordInput(BaseModel):
    facts: CaseFacts
    events: list[TimelineEvent]
    signature: SignatureInput | None = None


class RenderInput(BaseModel):
    facts: CaseFacts
    version: int
    issued_on: str  # the draft's date (UTC, ISO), fixed by the workflow so a retry renders alike


class LinkInput(BaseModel):
    case_id: str
    action: str  # the one action the token allows (snake_case)
    party: str
    subject: str | None = None  # what the link is about (e.g. the candidate hub to consent to)
    purpose: str  # unique per case, e.g. "sign:v2"
    expires_at: str
    title: str
    recipient_name: str
    recipient_email: str
    document_id: str | None = None
    # a nudge: the link sent again under this key (one message per nudge), its expiry renewed
    again_key: str | None = None
    note: str = ""  # the back office's note for the recipient


class LinkResult(BaseModel):
    """Never the token itself: it must not land in workflow history."""

    token_hash_prefix: str
    delivered_to: str


class NotifyInput(BaseModel):
    case_id: str
    title: str
    state: str
    key_prefix: str  # with the notice's index: each message's idempotency key
    notices: list[Notice]
    link_days: int = 14


class ExecuteInput(BaseModel):
    """The case as recorded with its ``agreement_executed`` event: ``facts.head_hash`` is the
    timeline head at execution, ``executed_at`` that event's time (fixes the files' dates)."""

    facts: CaseFacts
    executed_at: str
    pdf: bool = True  # False: the PDF is left to the outbox's converters (made after the step)


class ExecutedCopy(BaseModel):
    """Ids and hashes only (this lands in workflow history)."""

    version: int
    document_id: str
    sha256: str
    certificate_id: str
    certificate_sha256: str
    pdf_document_id: str | None = None
    pdf_sha256: str | None = None
    pdf_skipped: str | None = None  # why there is no PDF


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


class LinkSpec(BaseModel):
    """A one-time link for an external party, decided by the workflow: the projection stores
    its token (derived from the purpose, never in history) and queues the mail carrying it."""

    action: str  # the one action the token allows (snake_case)
    party: str
    subject: str | None = None  # what the link is about (e.g. the candidate hub to consent to)
    purpose: str  # unique per case, e.g. "sign:v2:client"
    expires_at: str
    again: bool = False  # a nudge: the same link mailed again, its unused expiry renewed
    note: str = ""  # the back office's note for the recipient (a nudge's)


class ProjectInput(BaseModel):
    """One step's projection: the case row (its facts), the step's timeline events, a
    signature, links, and what to send after commit (notices, webhook deliveries to the
    ``hub_ids``' subscriptions, PDFs of ``pdf_document_ids``), written in one transaction."""

    facts: CaseFacts
    events: list[TimelineEvent]
    signature: SignatureInput | None = None
    links: list[LinkSpec] = []
    notices: list[Notice] = []
    hub_ids: list[str] = []
    pdf_document_ids: list[str] = []


class ProjectResult(BaseModel):
    messages: int  # outbox rows this attempt added (0 on a retry after commit)
