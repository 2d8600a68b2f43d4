"""Case activities: project to the read model, render drafts, issue links for external parties.

Each is idempotent: keyed by case id and event seq (records), by case and version (documents),
by case and purpose (links), so Temporal may retry any of them.
"""

from __future__ import annotations

import email.policy
import hashlib
from datetime import date, datetime
from decimal import Decimal
from email import message_from_bytes
from email.message import EmailMessage
from pathlib import Path

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.payloads import LinkInput, LinkResult, RecordInput, RenderInput
from activities.rendering import TEMPLATES_DIR, render_docx, sha256_hex
from dihflow.settings import Settings
from domain.agreements import (
    SPECIFIC_AGREEMENT_TEMPLATE,
    AgreementParty,
    AgreementTask,
    SpecificAgreementVariables,
)
from domain.cases import Draft
from domain.taxonomy import vocabulary
from domain.timeline import canonical_json
from store.db import session_scope
from store.models import Document, Hub, Signature
from store.records import derive_link_token, ensure_link, project_case, record_signature

TEMPLATE_VERSION = "1"


class CaseActivities:
    """The activities, bound to one ``Settings`` (the seam tests use to point them elsewhere)."""

    def __init__(self, settings: Settings):
        self.settings = settings

    @activity.defn(name="record_case")
    def record_case(self, data: RecordInput) -> None:
        with session_scope(self.settings.database_url) as session:
            project_case(session, data.facts, data.events)
            if data.signature is not None:
                s = data.signature
                session.flush()
                record_signature(
                    session,
                    Signature(
                        case_id=data.facts.case_id,
                        document_id=s.document_id,
                        document_sha256=s.document_sha256,
                        party=s.party,
                        principal_id=s.principal_id,
                        signer_name=s.signer_name,
                        ip=s.ip,
                        user_agent=s.user_agent,
                        signed_at=datetime.fromisoformat(s.signed_at),
                    ),
                )

    @activity.defn(name="render_agreement")
    def render_agreement(self, data: RenderInput) -> Draft:
        facts = data.facts
        doc_id = f"{facts.case_id}-v{data.version}"
        template_path = TEMPLATES_DIR / f"{SPECIFIC_AGREEMENT_TEMPLATE}.docx"
        with session_scope(self.settings.database_url) as session:
            existing = session.get(Document, doc_id)
            if existing is not None:  # rendered once per version: a retry finds the first one
                return _draft(existing)
            hubs = {h: session.get(Hub, h) for h in facts.party_hub_ids}
            missing = [h for h, row in hubs.items() if row is None]
            if missing:
                raise ApplicationError(
                    f"unknown hubs {missing}", type="unknown_hub", non_retryable=True
                )
            variables = _agreement_variables(facts, data, hubs)  # type: ignore[arg-type]
            context = variables.to_context()
            issued = datetime.fromisoformat(data.issued_on)
            content = render_docx(template_path, context, fixed_time=issued)
            digest = sha256_hex(content)
            path = _store_file(self.settings.documents_dir, digest, content, ".docx")
            row = Document(
                id=doc_id,
                case_id=facts.case_id,
                version=data.version,
                template=SPECIFIC_AGREEMENT_TEMPLATE,
                template_version=TEMPLATE_VERSION,
                template_sha256=sha256_hex(template_path.read_bytes()),
                variables_sha256=hashlib.sha256(canonical_json(context)).hexdigest(),
                sha256=digest,
                path=str(path.relative_to(self.settings.documents_dir)),
                size=len(content),
            )
            session.add(row)
            return _draft(row)

    @activity.defn(name="issue_link")
    def issue_link(self, data: LinkInput) -> LinkResult:
        """Store the link token (hashed) and deliver the link to the external party."""
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
            )
        url = f"{self.settings.public_url}/v1/links/{token}"
        write_outbox(self.settings.outbox_dir, data, url)
        return LinkResult(
            token_hash_prefix=hashlib.sha256(token.encode()).hexdigest()[:12],
            delivered_to="outbox",
        )


def _draft(row: Document) -> Draft:
    return Draft(
        version=row.version,
        document_id=row.id,
        sha256=row.sha256,
        template=row.template,
        template_version=row.template_version,
    )


def _agreement_variables(
    facts, data: RenderInput, hubs: dict[str, Hub]
) -> SpecificAgreementVariables:  # type: ignore[no-untyped-def]
    def party(hub_id: str, role: str) -> AgreementParty:
        hub = hubs[hub_id]
        reps = hub.profile.get("representatives") or [{}]
        return AgreementParty(
            id=hub_id,
            name=hub.name,
            country=vocabulary().label("countries", hub.country),
            role=role,  # type: ignore[arg-type]
            representative=reps[0].get("name", ""),
        )

    from domain.actions import default_tasks  # the same default the API shows

    tasks = facts.tasks or default_tasks(facts)
    return SpecificAgreementVariables(
        case_ref=facts.case_id,
        version=data.version,
        issued_on=date.fromisoformat(data.issued_on[:10]),
        title=facts.title,
        need=facts.need,
        scope=facts.scope,
        lead=party(facts.lead_hub_id, "lead"),
        partners=[party(h, "partner") for h in facts.partner_ids],
        client=AgreementParty(
            id="client",
            name=facts.client.name,
            country=vocabulary().label("countries", facts.client.country),
            role="client",
            representative=facts.client.contact_name,
        ),
        tasks=[
            AgreementTask(
                party=hubs[t.hub_id].name,
                description=t.description,
                cost_share_pct=Decimal(str(t.cost_share_pct)),
            )
            for t in tasks
        ],
        start_date=date.fromisoformat(facts.start_date),
        end_date=date.fromisoformat(facts.end_date),
        framework_reference="Framework Collaboration Agreement of the AI DIH Network",
    )


def _store_file(root: Path, digest: str, content: bytes, suffix: str) -> Path:
    """Content-addressed: the path is the hash, so writing twice is harmless."""
    path = root / digest[:2] / f"{digest}{suffix}"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(suffix + ".tmp")
        tmp.write_bytes(content)
        tmp.replace(path)
    return path


def write_outbox(outbox: Path, data: LinkInput, url: str) -> Path:
    """The dev outbox: one ``.eml`` per message, named by case and purpose (a retry overwrites)."""
    msg = EmailMessage()
    msg["To"] = f"{data.recipient_name} <{data.recipient_email}>"
    msg["From"] = "dihflow <no-reply@dihflow.example>"
    msg["Subject"] = f"[{data.case_id}] Action requested: {data.action.replace('_', ' ')}"
    msg["X-Dihflow-Case"] = data.case_id
    msg["X-Dihflow-Action"] = data.action.replace("_", "-")
    msg["X-Dihflow-Link"] = url
    msg.set_content(
        f"Hello {data.recipient_name},\n\n"
        f"You are asked to {data.action.replace('_', ' ')} for the collaboration "
        f'"{data.title}" (case {data.case_id}).\n\nOpen this one-time link: {url}\n'
        f"It expires at {data.expires_at}.\n"
    )
    outbox.mkdir(parents=True, exist_ok=True)
    path = outbox / f"{data.case_id}-{data.purpose.replace(':', '-')}.eml"
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(bytes(msg))
    tmp.replace(path)
    return path


def outbox_links(outbox: Path, case_id: str) -> list[dict[str, str]]:
    """The links the dev outbox holds for one case (shown to the lead in the embedded default)."""
    found = []
    for path in sorted(outbox.glob(f"{case_id}-*.eml")):
        msg = message_from_bytes(path.read_bytes(), policy=email.policy.default)
        found.append(
            {
                "action": str(msg["X-Dihflow-Action"]).strip(),
                "url": str(msg["X-Dihflow-Link"]).strip(),
                "file": path.name,
            }
        )
    return found
