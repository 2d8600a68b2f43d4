"""Message activities: one-time links for external parties, and notifications.

Mail goes over SMTP when ``DIHFLOW_SMTP_HOST`` is set, else into the dev outbox
(``var/outbox/``, one ``.eml`` per message). Each message has an idempotency key (case, step,
index): a retried activity rewrites nothing in the outbox; over SMTP delivery is at least once
and receivers can dedupe by Message-ID.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.notify import MailRefused, Message, notifier_from_settings
from activities.payloads import LinkInput, LinkResult, NotifyInput
from base.settings import Settings
from domain.cases import EXTERNAL_PARTIES, CaseFacts
from domain.digests import sha256_hex
from domain.outcomes import Notice
from store.db import session_scope
from store.models import Case, Hub
from store.records import derive_link_token, ensure_link

REQUESTS = {
    "sign": "sign the agreement",
    "consent": "agree to an introduction",
    "review": "tell us how the collaboration went",
    "accept_deliverable": "accept a deliverable",
}


class MessageActivities:
    def __init__(self, settings: Settings):
        self.settings = settings

    def link_url(self, case_id: str, purpose: str) -> str:
        token = derive_link_token(self.settings.secret_key, case_id, purpose)
        return f"{self.settings.public_url}/l/{token}"

    def _send(self, message: Message) -> str:
        try:
            return notifier_from_settings(self.settings).send(message, datetime.now(UTC))
        except MailRefused as exc:  # a bad address does not get better by retrying
            raise ApplicationError(str(exc), type="MailRefused", non_retryable=True) from exc
        except ValueError as exc:  # a message that cannot be built: the same on every try
            raise ApplicationError(str(exc), type="BadMessage", non_retryable=True) from exc

    @activity.defn(name="issue_link")
    def issue_link(self, data: LinkInput) -> LinkResult:
        """Store the link token (hashed) and send the link to the external party."""
        token = derive_link_token(self.settings.secret_key, data.case_id, data.purpose)
        with session_scope(self.settings.database_url) as session:
            ensure_link(
                session,
                token,
                data.case_id,
                data.action,
                data.party,
                data.purpose,
                datetime.fromisoformat(data.expires_at),
                subject=data.subject,
                renew=data.again_key is not None,
            )
            facts = _facts(session, data.case_id)
            lead = _hub_name(session, facts.lead_hub_id)
            about = _hub_name(session, data.subject) if data.subject else ""
        request = REQUESTS.get(data.action, data.action.replace("_", " "))
        if about:
            request += f" with {about}"
        key, subject = f"{data.case_id}:link:{data.purpose}", f"Please {request}"
        if data.again_key is not None:  # a nudge: one more message, the same link
            key, subject = f"{key}:{data.again_key}", f"Reminder: please {request}"
        where = self._send(
            Message(
                key=key,
                case_id=data.case_id,
                to_name=data.recipient_name,
                to_email=data.recipient_email,
                subject=f"[{data.case_id}] {subject}: {data.title}",
                template="link",
                context={
                    "requested_by": lead,
                    "request": request,
                    "title": data.title,
                    "expires_at": data.expires_at,
                    "note": data.note,
                },
                link=self.link_url(data.case_id, data.purpose),
                action=data.action.replace("_", "-"),
            )
        )
        return LinkResult(token_hash_prefix=sha256_hex(token.encode())[:12], delivered_to=where)

    @activity.defn(name="notify")
    def notify(self, data: NotifyInput) -> int:
        """Send each notice to its hub (contact address in the registry) or external party."""
        with session_scope(self.settings.database_url) as session:
            facts = _facts(session, data.case_id)
            lead = _hub_name(session, facts.lead_hub_id)
            hubs = {
                n.to: session.get(Hub, n.to) for n in data.notices if n.to not in EXTERNAL_PARTIES
            }
        sent = 0
        for i, notice in enumerate(data.notices):
            if notice.to in EXTERNAL_PARTIES:
                who = facts.external(notice.to)
                if who is None:
                    continue
                name, email = who.contact_name or who.name, who.email
            else:
                hub = hubs.get(notice.to)
                if hub is None:
                    continue
                name, email = hub.name, hub.profile["email"]
            link = None
            if notice.link_purpose:
                link = self.link_url(data.case_id, notice.link_purpose)
            self._send(
                Message(
                    key=f"{data.key_prefix}:{i}",
                    case_id=data.case_id,
                    to_name=name,
                    to_email=email,
                    subject=f"[{data.case_id}] {notice.subject}",
                    template=notice.template,
                    context=_context(notice, data, name, lead),
                    link=link,
                    action=notice.link_action.replace("_", "-") if notice.link_action else None,
                )
            )
            sent += 1
        return sent


def _facts(session: object, case_id: str) -> CaseFacts:
    case = session.get(Case, case_id)  # type: ignore[attr-defined]
    if case is None:
        raise ApplicationError(f"no case {case_id}", type="UnknownCase", non_retryable=True)
    return CaseFacts.model_validate(case.facts)


_HUB_NAME = sa.select(Hub.__table__.c.name).where(  # type: ignore[attr-defined]
    Hub.__table__.c.id == sa.bindparam("hub_id")  # type: ignore[attr-defined]
)


def _hub_name(session: object, hub_id: str) -> str:
    """The hub's name (the name column alone: no profile JSON read), or its id if unknown.
    One statement built once (a projection asks for names at every step)."""
    name = session.execute(_HUB_NAME, {"hub_id": hub_id}).scalar()  # type: ignore[attr-defined]
    return name if name is not None else hub_id


def _context(notice: Notice, data: NotifyInput, name: str, lead: str) -> dict[str, str]:
    """What each mail template needs, from the notice and the case."""
    ctx = notice.context
    base = {"title": data.title}
    if notice.template == "invitation":
        return base | {"hub_name": name, "lead_hub": lead, "deadline": ctx.get("deadline", "")}
    if notice.template == "reminder":
        return base | {
            "waiting_for": ctx.get("what", ""),
            "due_date": ctx.get("due", ""),
            "note": ctx.get("note", ""),
        }
    if notice.template == "deadline":
        return base | {
            "deadline_name": ctx.get("deadline_name", ""),
            "deadline": ctx.get("deadline", ""),
            "outcome": notice.subject,
        }
    return base | {
        "previous_state": ctx.get("previous_state", ""),
        "new_state": data.state.replace("_", " "),
        "note": notice.subject,
    }
