"""Activity inputs and results (plain pydantic models; table objects never cross Temporal)."""

from __future__ import annotations

from pydantic import BaseModel

from domain.cases import CaseFacts
from domain.steps import Notice
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


class LinkSpec(BaseModel):
    """A one-time link for an external party, decided by the workflow: the projection stores
    its token (derived from the purpose, never in history) and queues the mail carrying it."""

    action: str  # the one action the token allows (snake_case)
    party: str
    subject: str | None = None  # what the link is about (e.g. the candidate hub to consent to)
    purpose: str  # unique per case, e.g. "sign:v2:client"
    expires_at: str


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
