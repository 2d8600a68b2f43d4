"""Document activities: render a case's agreement draft (one template per scenario).

Rendered once per (case, version): a retried activity finds the stored document instead of
making a second one. Files are stored by their SHA-256 (``documents/ab/abcd….docx``).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.payloads import RenderInput
from base.settings import Settings
from documents.files import store_file
from documents.rendering import TEMPLATES_DIR, render_docx
from domain.agreements import (
    CO_DEVELOPMENT_TEMPLATE,
    NDA_TEMPLATE,
    SPECIFIC_AGREEMENT_TEMPLATE,
    AgreementMilestone,
    AgreementParty,
    AgreementShare,
    AgreementTask,
    CoDevelopmentAgreementVariables,
    NdaParty,
    NdaVariables,
    SpecificAgreementVariables,
)
from domain.cases import CaseFacts, Draft, Scenario
from domain.digests import sha256_hex
from domain.steps import default_tasks, milestone_due
from domain.taxonomy import vocabulary
from domain.timeline import canonical_json
from store import framework as framework_rows
from store.db import session_scope
from store.models import Document, Hub

TEMPLATE_VERSION = "1"
FRAMEWORK = "Framework Collaboration Agreement of the AI DIH Network"
TEMPLATES = {
    Scenario.joint_service: SPECIFIC_AGREEMENT_TEMPLATE,
    Scenario.co_development: CO_DEVELOPMENT_TEMPLATE,
    Scenario.matchmaking: NDA_TEMPLATE,
}


class DocumentActivities:
    def __init__(self, settings: Settings):
        self.settings = settings

    @activity.defn(name="render_agreement")
    def render_agreement(self, data: RenderInput) -> Draft:
        facts = data.facts
        doc_id = f"{facts.case_id}-v{data.version}"
        template = TEMPLATES[facts.scenario]
        template_path = TEMPLATES_DIR / f"{template}.docx"
        with session_scope(self.settings.database_url) as session:
            existing = session.get(Document, doc_id)
            if existing is not None:
                return _draft(existing)
            wanted = {facts.lead_hub_id, *facts.partner_ids, *facts.matched_hub_ids}
            hubs = {h: session.get(Hub, h) for h in wanted}
            missing = sorted(h for h, row in hubs.items() if row is None)
            if missing:
                raise ApplicationError(
                    f"unknown hubs {missing}", type="UnknownHub", non_retryable=True
                )
            terms = framework_terms(session, {h: row.name for h, row in hubs.items()})  # type: ignore[union-attr]
            variables = _variables(facts, data, hubs, terms)  # type: ignore[arg-type]
            context = variables.to_context()  # type: ignore[attr-defined]
            fixed = datetime.fromisoformat(data.issued_on)
            content = render_docx(template_path, context, fixed_time=fixed)
            digest = sha256_hex(content)
            path = store_file(self.settings.documents_dir, digest, content, ".docx")
            row = Document(
                id=doc_id,
                case_id=facts.case_id,
                version=data.version,
                template=template,
                template_version=TEMPLATE_VERSION,
                template_sha256=sha256_hex(template_path.read_bytes()),
                variables_sha256=sha256_hex(canonical_json(context)),
                sha256=digest,
                path=str(path.relative_to(self.settings.documents_dir)),
                size=len(content),
                variables={"context": context, "fixed_time": fixed.isoformat()},
            )
            session.add(row)
            return _draft(row)


def _draft(row: Document) -> Draft:
    return Draft(
        version=row.version,
        document_id=row.id,
        sha256=row.sha256,
        template=row.template,
        template_version=row.template_version,
    )


def _country(code: str) -> str:
    return vocabulary().label("countries", code)


def framework_terms(session: Session, hub_names: dict[str, str]) -> dict[str, Any]:
    """How an agreement between these hubs refers to the framework agreement: while no
    edition is in force, as it always did; once one is, by its edition, and with the
    standalone terms when one of the hubs is not bound by it (``unbound_parties``)."""
    edition = framework_rows.edition_in_force(session)
    if edition is None:
        return {"framework_reference": FRAMEWORK}
    bound = framework_rows.bound_hub_ids(session, edition.id)
    unbound = [name for hub, name in sorted(hub_names.items()) if hub not in bound]
    return {
        "framework_reference": f"{FRAMEWORK}, edition {edition.label}",
        "standalone_terms": bool(unbound),
        "unbound_parties": unbound,
    }


def _variables(
    facts: CaseFacts,
    data: RenderInput,
    hubs: dict[str, Hub],
    terms: dict[str, Any] | None = None,
) -> BaseModel:
    def party(hub_id: str, role: str) -> AgreementParty:
        hub = hubs[hub_id]
        reps = hub.profile.get("representatives") or [{}]
        return AgreementParty(
            id=hub_id,
            name=hub.name,
            country=_country(hub.country),
            role=role,  # type: ignore[arg-type]
            representative=reps[0].get("name", ""),
        )

    common: dict[str, Any] = dict(
        case_ref=facts.case_id,
        version=data.version,
        issued_on=date.fromisoformat(data.issued_on[:10]),
        framework_reference=FRAMEWORK,
    )
    common.update(terms or {})
    start, end = date.fromisoformat(facts.start_date), date.fromisoformat(facts.end_date)
    if facts.scenario == Scenario.matchmaking:
        player = facts.local_player
        assert player is not None
        parties = [
            NdaParty(id=h, name=hubs[h].name, country=_country(hubs[h].country), kind="hub")
            for h in [facts.lead_hub_id, *facts.matched_hub_ids]
        ]
        parties.append(
            NdaParty(
                id="local_player",
                name=player.name,
                country=_country(player.country),
                kind="local_player",
                representative=player.contact_name,
            )
        )
        lead_country = _country(hubs[facts.lead_hub_id].country)
        return NdaVariables(
            **common,
            purpose=facts.need,
            parties=parties,
            governing_law=f"the law of {lead_country}",
        )
    tasks = facts.tasks or default_tasks(facts)
    if facts.scenario == Scenario.co_development:
        plan = facts.milestone_plan
        milestones = [
            AgreementMilestone(
                title=m.title,
                party=hubs[m.hub_id].name,
                due=date.fromisoformat(milestone_due(facts, m.due_days)),
            )
            for m in plan
            if m.hub_id in hubs  # a hub that declined owes nothing
        ] or [
            AgreementMilestone(title="Contribution to the service", party=hubs[h].name, due=end)
            for h in facts.party_hub_ids
        ]
        return CoDevelopmentAgreementVariables(
            **common,
            title=facts.title,
            need=facts.need,
            service_name=facts.service_name,
            service_description=facts.service_description or facts.scope,
            lead=party(facts.lead_hub_id, "lead"),
            partners=[party(h, "partner") for h in facts.partner_ids],
            ipr_model=facts.ipr_model or "joint_ownership",  # type: ignore[arg-type]
            background_ip={h: items for h, items in facts.background_ip.items() if h in hubs},
            milestones=milestones,
            cost_shares=[
                AgreementShare(
                    party=hubs[t.hub_id].name, cost_share_pct=Decimal(str(t.cost_share_pct))
                )
                for t in tasks
            ],
            start_date=start,
            end_date=end,
        )
    client = facts.client
    assert client is not None
    return SpecificAgreementVariables(
        **common,
        title=facts.title,
        need=facts.need,
        scope=facts.scope,
        lead=party(facts.lead_hub_id, "lead"),
        partners=[party(h, "partner") for h in facts.partner_ids],
        client=AgreementParty(
            id="client",
            name=client.name,
            country=_country(client.country),
            role="client",
            representative=client.contact_name,
        ),
        tasks=[
            AgreementTask(
                party=hubs[t.hub_id].name,
                description=t.description,
                cost_share_pct=Decimal(str(t.cost_share_pct)),
            )
            for t in tasks
        ],
        start_date=start,
        end_date=end,
    )
