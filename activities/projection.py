"""One projection per step: the case row, its timeline events, a signature, link tokens and
the outbox rows of what the step sends, in ONE store transaction (``project_step``).

Idempotent: events are keyed by (case id, seq), the signature by (case, document hash, party),
link tokens by their hash, webhook deliveries by (webhook, case, seq) and outbox rows by their
message id (``store.outbox.message_id``). A projection retried after its commit (the worker
lost before it reported) writes nothing twice and queues nothing twice.

Nothing leaves the system here: the outbox dispatcher (``activities/dispatcher.py``) sends the
rows once the transaction has committed, and is woken when it runs in this process.

Mail keys (the dev outbox's file names, the ``X-Dihflow-Key`` header) are those the step's
notices always had: ``<case>:<seq>:<n>`` for the n-th notice of the step recorded up to
``seq``, ``<case>:link:<purpose>`` for a link.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session
from temporalio import activity

from activities.messages import REQUESTS, _context, _hub_name
from activities.payloads import LinkSpec, NotifyInput, ProjectInput, ProjectResult
from activities.records import signature_row
from activities.webhooks import insert_deliveries
from base.settings import Settings
from domain.cases import EXTERNAL_PARTIES, CaseFacts
from store.db import session_scope
from store.models import Hub
from store.outbox import add_messages, message_id, row
from store.records import derive_link_token, ensure_link, project_case, record_signature

# a hub's name and mail address: two columns, no ORM object, no whole profile (built once)
_HUB_CONTACT = sa.select(
    Hub.__table__.c.name,  # type: ignore[attr-defined]
    Hub.__table__.c.profile["email"].as_string(),  # type: ignore[attr-defined]
).where(Hub.__table__.c.id == sa.bindparam("hub_id"))  # type: ignore[attr-defined]


class ProjectionActivities:
    def __init__(self, settings: Settings):
        self.settings = settings

    @activity.defn(name="project_step")
    def project_step(self, data: ProjectInput) -> ProjectResult:
        with session_scope(self.settings.database_url) as session:
            added = project(
                session, data, self.settings.secret_key, self.settings.pdf_in_background
            )
        if added:
            from activities.dispatcher import wake_dispatchers

            wake_dispatchers()
        return ProjectResult(messages=added)


def project(session: Session, data: ProjectInput, secret_key: str, pdf_rows: bool = True) -> int:
    """Write the step (see the module's docstring); the number of outbox rows added. With
    ``pdf_rows`` off (``pdf_in_background`` unset) no PDF is queued: it is made when first
    asked for (``api.routes.cases.executed_pdf_on_demand``)."""
    facts = data.facts
    project_case(session, facts, data.events)
    session.flush()
    if data.signature is not None:
        record_signature(session, signature_row(facts.case_id, data.signature))
    seq = facts.seq
    rows: list[dict[str, Any]] = []  # the outbox rows, added in one statement at the end
    for link in data.links:
        token = derive_link_token(secret_key, facts.case_id, link.purpose)
        ensure_link(
            session,
            token,
            facts.case_id,
            link.action,
            link.party,
            link.purpose,
            datetime.fromisoformat(link.expires_at),
            subject=link.subject,
            renew=link.again,
        )
        mail = _link_mail(session, facts, link, seq)
        if mail is not None:
            mid = message_id(facts.case_id, seq, f"link:{link.purpose}", link.party)
            rows.append(row(mid, facts.case_id, seq, "mail", link.party, mail))
    rows.extend(_notices(session, data, seq))
    for delivery, _ in insert_deliveries(session, facts.case_id, data.events, data.hub_ids):
        if delivery.status == "pending":  # the delivery id is the message id of its row
            payload = {"delivery_id": delivery.id}
            rows.append(
                row(
                    delivery.id,
                    facts.case_id,
                    delivery.seq,
                    "webhook",
                    delivery.webhook_id,
                    payload,
                )
            )
    for document_id in data.pdf_document_ids if pdf_rows else ():
        mid = message_id(facts.case_id, seq, "pdf", document_id)
        rows.append(row(mid, facts.case_id, seq, "pdf", document_id, {"document_id": document_id}))
    return add_messages(session, rows)


def _link_mail(
    session: Session, facts: CaseFacts, link: LinkSpec, seq: int
) -> dict[str, Any] | None:
    """The mail carrying a link; a nudge's (``again``) is one more message, keyed by its step."""
    who = facts.external(link.party)
    if who is None:
        return None
    lead = _hub_name(session, facts.lead_hub_id)
    about = _hub_name(session, link.subject) if link.subject else ""
    request = REQUESTS.get(link.action, link.action.replace("_", " "))
    if about:
        request += f" with {about}"
    key, subject = f"{facts.case_id}:link:{link.purpose}", f"Please {request}"
    if link.again:
        key, subject = f"{key}:nudge:{seq}", f"Reminder: please {request}"
    return {
        "key": key,
        "to_name": who.contact_name or who.name,
        "to_email": who.email,
        "subject": f"[{facts.case_id}] {subject}: {facts.title}",
        "template": "link",
        "context": {
            "requested_by": lead,
            "request": request,
            "title": facts.title,
            "expires_at": link.expires_at,
            "note": link.note,
        },
        "link_purpose": link.purpose,
        "action": link.action.replace("_", "-"),
    }


def _notices(session: Session, data: ProjectInput, seq: int) -> list[dict[str, Any]]:
    """One mail row per notice to a known recipient (a hub in the registry, or an external
    party of the case); a recipient nobody can reach is skipped, as ``notify`` did."""
    facts = data.facts
    if not data.notices:
        return []
    lead = _hub_name(session, facts.lead_hub_id)
    shim = NotifyInput(
        case_id=facts.case_id,
        title=facts.title,
        state=facts.state,
        key_prefix=f"{facts.case_id}:{seq}",
        notices=data.notices,
        link_days=facts.link_days,
    )
    rows, seen = [], set()
    for i, notice in enumerate(data.notices):
        if notice.to in EXTERNAL_PARTIES:
            who = facts.external(notice.to)
            if who is None:
                continue
            name, email = who.contact_name or who.name, who.email
        else:
            hub = session.execute(_HUB_CONTACT, {"hub_id": notice.to}).first()
            if hub is None:
                continue
            name, email = hub
        kind = f"mail:{notice.template}"
        recipient = notice.to
        while (kind, recipient) in seen:  # a second notice to one recipient in one step
            recipient += "+"
        seen.add((kind, recipient))
        mail = {
            "key": f"{facts.case_id}:{seq}:{i}",
            "to_name": name,
            "to_email": email,
            "subject": f"[{facts.case_id}] {notice.subject}",
            "template": notice.template,
            "context": _context(notice, shim, name, lead),
            "link_purpose": notice.link_purpose,
            "action": notice.link_action.replace("_", "-") if notice.link_action else None,
        }
        mid = message_id(facts.case_id, seq, kind, recipient)
        rows.append(row(mid, facts.case_id, seq, "mail", notice.to, mail))
    return rows
