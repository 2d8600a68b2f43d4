"""The framework agreement workflow's side effects: the draft's clauses from the template, the
final version rendered, and one projection per step (the read model, its events and, at entry
into force, a notice to every hub and the webhook deliveries) — each idempotent.
"""

from __future__ import annotations

import io
import json
from datetime import date, datetime
from typing import Any

import docx
from pydantic import BaseModel, Field
from sqlmodel import Session, select
from temporalio import activity

from activities.webhooks import insert_deliveries
from base.settings import Settings
from documents.library import generate
from documents.rendering import render_docx, template_path
from documents.template_check import example_file
from domain.agreements import (
    FRAMEWORK_FINAL_TEMPLATE,
    FRAMEWORK_TEMPLATE,
    ChangeLogEntry,
    FinalClause,
    FinalSection,
    FrameworkAgreementVariables,
    FrameworkFinalVariables,
    FrameworkParty,
)
from domain.framework import (
    Amendment,
    Clause,
    Comment,
    Edition,
    Party,
    change_log,
    consolidated_clauses,
    split_clauses,
)
from domain.taxonomy import vocabulary
from domain.timeline import TimelineEvent
from store import framework as rows
from store.db import session_scope
from store.models import Document, Hub
from store.outbox import add_message, message_id

IN_FORCE_EVENT = "entered_into_force"


class DraftInput(BaseModel):
    edition_id: str
    label: str
    quorum: int
    opened_at: str


class DraftResult(BaseModel):
    members: list[str]
    clauses: list[Clause]


class FinalInput(BaseModel):
    edition: Edition
    at: str


class FinalResult(BaseModel):
    sha256: str
    document_id: str


class FrameworkProjectInput(BaseModel):
    """One step of an edition: the edition's row (its lists left out), the step's events and
    the items it touched."""

    edition: Edition
    events: list[TimelineEvent]
    clauses: dict[str, list[Clause]] = Field(default_factory=dict)  # version → clauses
    comments: list[Comment] = Field(default_factory=list)
    amendments: list[Amendment] = Field(default_factory=list)
    parties: list[Party] = Field(default_factory=list)
    signer_name: str = ""


def draft_clauses(session: Session, data: DraftInput) -> DraftResult:
    """The member hubs (the registry now) and the clauses of the framework template rendered
    for them: a Heading 1 "N. Title" opens a section, "N.M<tab>text" paragraphs are clauses."""
    hubs = list(session.exec(select(Hub).order_by(Hub.id)))  # type: ignore[arg-type]
    example = json.loads(example_file(FRAMEWORK_TEMPLATE).read_text(encoding="utf-8"))
    parties = [
        FrameworkParty(
            id=h.id,
            name=h.name,
            country=vocabulary().label("countries", h.country),
            legal_status=h.profile.get("legal_status", "public"),
        )
        for h in hubs
    ]
    variables = FrameworkAgreementVariables(
        edition=data.label,
        version=1,
        issued_on=date.fromisoformat(data.opened_at[:10]),
        parties=parties,
        entry_threshold=max(2, min(100, data.quorum)),
        decision_majority_pct=example["decision_majority_pct"],
        governing_law=example["governing_law"],
        dispute_forum=example["dispute_forum"],
        secretariat=example["secretariat"],
    )
    content = render_docx(
        template_path(FRAMEWORK_TEMPLATE),
        variables.to_context(),
        fixed_time=datetime.fromisoformat(data.opened_at),
    )
    document = docx.Document(io.BytesIO(content))
    paragraphs = [
        (p.style.name.replace(" ", "") if p.style else "", p.text) for p in document.paragraphs
    ]
    return DraftResult(members=[h.id for h in hubs], clauses=split_clauses(paragraphs))


def final_variables(session: Session, edition: Edition, at: str) -> FrameworkFinalVariables:
    """The final version's variables: consolidated clauses by section, and the change log."""
    names = {h.id: h.name for h in session.exec(select(Hub))}
    accepted = {a.clause for a in edition.amendments if a.decision == "accepted"}
    sections: dict[str, list[FinalClause]] = {}
    for clause in consolidated_clauses(edition):
        sections.setdefault(clause.section, []).append(
            FinalClause(number=clause.number, text=clause.text, amended=clause.number in accepted)
        )
    changes = [
        ChangeLogEntry(
            id=c["id"],
            clause=c["clause"],
            proposed_by=names.get(c["hub_id"], c["hub_id"]),
            rationale=c["rationale"],
            votes_for=c["for"],
            votes_against=c["against"],
            votes_abstain=c["abstain"],
            decision=c["decision"],
            reason=c["reason"],
        )
        for c in change_log(edition)
    ]
    return FrameworkFinalVariables(
        edition=edition.label,
        issued_on=date.fromisoformat(at[:10]),
        draft_sha256=edition.draft_sha256,
        quorum=edition.quorum,
        notice_days=edition.notice_days,
        comment_count=len(edition.comments),
        sections=[FinalSection(title=t, clauses=c) for t, c in sections.items()],
        changes=changes,
    )


def final_document_id(edition_id: str) -> str:
    return f"{edition_id}-final"


def render_final(session: Session, settings: Settings, data: FinalInput) -> FinalResult:
    """Render the final version once (a retry finds the stored document)."""
    doc_id = final_document_id(data.edition.id)
    existing = session.get(Document, doc_id)
    if existing is None:
        variables = final_variables(session, data.edition, data.at)
        existing = generate(
            session,
            settings.documents_dir,
            FRAMEWORK_FINAL_TEMPLATE,
            None,
            variables.model_dump(mode="json"),
            "system",
            now=datetime.fromisoformat(data.at),
            doc_id=doc_id,
        )
    return FinalResult(sha256=existing.sha256, document_id=doc_id)


def project(session: Session, data: FrameworkProjectInput) -> int:
    """Write the step; the number of outbox rows added (notices and webhooks at entry into
    force)."""
    edition = data.edition
    rows.upsert_edition(session, edition)
    for version, clauses in data.clauses.items():
        rows.upsert_clauses(session, edition.id, version, clauses)
    for comment in data.comments:
        rows.upsert_comment(session, edition.id, comment)
    for amendment in data.amendments:
        rows.upsert_amendment(session, edition.id, amendment)
    for party in data.parties:
        rows.upsert_party(session, edition.id, party, data.signer_name)
    rows.add_events(session, edition.id, data.events)
    session.flush()
    in_force = [e for e in data.events if e.type == IN_FORCE_EVENT]
    if not in_force:
        return 0
    event = in_force[0]
    hubs = list(session.exec(select(Hub).order_by(Hub.id)))  # type: ignore[arg-type]
    added = 0
    for hub in hubs:
        mail: dict[str, Any] = {
            "key": f"{edition.id}:{event.seq}:{hub.id}",
            "to_name": hub.name,
            "to_email": hub.profile["email"],
            "subject": f"[{edition.id}] The framework agreement {edition.label} is in force",
            "template": "framework_in_force",
            "context": {
                "label": edition.label,
                "in_force_at": event.at,
                "signatories": event.data["signatories"],
                "quorum": edition.quorum,
                "sha256": event.data["sha256"],
            },
            "link_purpose": None,
            "action": None,
        }
        mid = message_id(edition.id, event.seq, "mail:framework_in_force", hub.id)
        added += add_message(session, mid, edition.id, event.seq, "mail", hub.id, mail)
    for row, _ in insert_deliveries(session, edition.id, in_force, [h.id for h in hubs]):
        if row.status == "pending":
            payload = {"delivery_id": row.id}
            added += add_message(
                session, row.id, edition.id, row.seq, "webhook", row.webhook_id, payload
            )
    return added


class FrameworkActivities:
    def __init__(self, settings: Settings):
        self.settings = settings

    @activity.defn(name="draft_framework_clauses")
    def draft_framework_clauses(self, data: DraftInput) -> DraftResult:
        with session_scope(self.settings.database_url) as session:
            return draft_clauses(session, data)

    @activity.defn(name="render_framework_final")
    def render_framework_final(self, data: FinalInput) -> FinalResult:
        with session_scope(self.settings.database_url) as session:
            return render_final(session, self.settings, data)

    @activity.defn(name="project_framework")
    def project_framework(self, data: FrameworkProjectInput) -> int:
        with session_scope(self.settings.database_url) as session:
            added = project(session, data)
        if added:
            from activities.dispatcher import wake_dispatchers

            wake_dispatchers()
        return added
