"""Store activities: project a step to the read model, rank candidates, publish a service.

Idempotent: records are keyed by case id and event seq; a published service by case id.
"""

from __future__ import annotations

from datetime import datetime

from temporalio import activity

from activities.payloads import RecordInput, SignatureInput
from base.settings import Settings
from domain.cases import Candidate, CaseFacts
from domain.hubs import CataloguedService, HubProfile
from domain.matching import candidates, request_for_case
from store.db import session_scope
from store.matching import match
from store.models import Hub, Signature
from store.records import project_case, record_signature, upsert_hub


def signature_row(case_id: str, s: SignatureInput) -> Signature:
    """The store's row of a signature a step recorded (``record_case`` and ``project_step``)."""
    return Signature(
        case_id=case_id,
        document_id=s.document_id,
        document_sha256=s.document_sha256,
        party=s.party,
        principal_id=s.principal_id,
        signer_name=s.signer_name,
        ip=s.ip,
        user_agent=s.user_agent,
        signed_at=datetime.fromisoformat(s.signed_at),
    )


class RecordActivities:
    def __init__(self, settings: Settings):
        self.settings = settings

    @activity.defn(name="record_case")
    def record_case(self, data: RecordInput) -> None:
        with session_scope(self.settings.database_url) as session:
            project_case(session, data.facts, data.events)
            if data.signature is not None:
                session.flush()
                record_signature(session, signature_row(data.facts.case_id, data.signature))

    @activity.defn(name="rank_candidates")
    def rank_candidates(self, facts: CaseFacts) -> list[Candidate]:
        with session_scope(self.settings.database_url) as session:
            return candidates(match(session, request_for_case(facts)))

    @activity.defn(name="publish_service")
    def publish_service(self, facts: CaseFacts) -> None:
        """Add the co-developed service to each co-developer's catalogue (once per case)."""
        entry = CataloguedService(
            name=facts.service_name,
            description=facts.service_description,
            case_id=facts.case_id,
            co_developers=facts.party_hub_ids,
        )
        with session_scope(self.settings.database_url) as session:
            for hub_id in facts.party_hub_ids:
                hub = session.get(Hub, hub_id)
                if hub is None:
                    continue
                profile = HubProfile.model_validate(hub.profile)
                if any(s.case_id == facts.case_id for s in profile.catalogue):
                    continue
                upsert_hub(
                    session, profile.model_copy(update={"catalogue": [*profile.catalogue, entry]})
                )
