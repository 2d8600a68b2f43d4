"""The one factory module of the tests: case facts per scenario, callers, taking a step, and
settings for a store under a temporary directory."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from base.settings import Settings
from domain.actions import check_action
from domain.cases import LOCAL_PLAYER, Caller, CaseFacts, ClientInfo, Draft, Role
from domain.outcomes import Outcome
from domain.steps import apply_action

LEAD = "lead-hub"
PARTNER = "partner-a"
OTHER = "partner-b"
SHA = "ab" * 32
NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)

_SCENARIO_FIELDS: dict[str, dict[str, Any]] = {
    "joint_service": {
        "client": ClientInfo(name="Acme Bakery", country="PT", email="ops@acme.example"),
    },
    "co_development": {
        "service_name": "Edge AI quality inspection",
        "service_description": "A shared visual-inspection service for SMEs",
        "ipr_model": "joint_ownership",
    },
    "matchmaking": {
        "local_player": ClientInfo(name="Vision Start-up", country="ES", email="cto@vs.example"),
        "wanted_services": ["ai-prototyping"],
    },
}


def make_facts(
    scenario: str = "joint_service", state: str = "requested", **overrides: Any
) -> CaseFacts:
    """A case of ``scenario`` in ``state`` (no parties beyond the lead unless overridden)."""
    data: dict[str, Any] = {
        "case_id": "case-1",
        "scenario": scenario,
        "state": state,
        "title": "Quality inspection with computer vision",
        "need": "Detect defects on a production line",
        "scope": "Data collection, model, pilot",
        "lead_hub_id": LEAD,
        "start_date": "2025-03-01",
        "end_date": "2025-09-30",
        "partnering_days": 14,
        "invitation_days": 7,
        "signing_days": 30,
        "reminder_days": 7,
        "review_days": 30,
        "created_at": "2025-03-01T09:00:00+00:00",
        **_SCENARIO_FIELDS[scenario],
    }
    data.update(overrides)
    return CaseFacts(**data)


def draft(version: int = 1, sha256: str = SHA, template: str = "agreement") -> Draft:
    return Draft(
        version=version,
        document_id=f"doc-{version}",
        sha256=sha256,
        template=template,
        template_version="1",
    )


def member(hub: str) -> Caller:
    return Caller(principal_id=f"member-{hub}", role=Role.hub_member, hub_id=hub)


def signatory(hub: str) -> Caller:
    return Caller(principal_id=f"signatory-{hub}", role=Role.hub_signatory, hub_id=hub)


def link(party: str, action: str, subject: str | None = None) -> Caller:
    return Caller(
        principal_id=f"link-{party}-{action}-{subject or ''}",
        role="link",
        party=party,
        link_action=action,
        subject=subject,
    )


def player_link(action: str, subject: str | None = None) -> Caller:
    return link(LOCAL_PLAYER, action, subject)


BACK_OFFICE = Caller(principal_id="bo-1", role=Role.back_office)
LEGAL = Caller(principal_id="legal-1", role=Role.legal)


def take(
    facts: CaseFacts, action: str, caller: Caller, body: dict[str, Any], now: datetime = NOW
) -> Outcome:
    """What the workflow does for a human step: check it, then apply it."""
    payload = check_action(facts, action, caller, body)
    return apply_action(facts, action, caller, payload, now)


def event_types(out: Outcome) -> list[str]:
    return [e.type for e in out.events]


def notified(out: Outcome) -> list[tuple[str, str]]:
    return [(n.to, n.template) for n in out.notices]


def settings_for(var_dir: Path, **overrides: Any) -> Settings:
    """Settings with every file of the stack under ``var_dir``: a SQLite store, documents,
    the mail outbox; a fixed secret key unless overridden."""
    fields: dict[str, Any] = {
        "var_dir": var_dir,
        "database_url": f"sqlite:///{var_dir / 'db.sqlite'}",
        "documents_dir": var_dir / "documents",
        "outbox_dir": var_dir / "outbox",
        "secret_key": "k",
        "webhook_targets": "any",  # test receivers listen on 127.0.0.1
    }
    return Settings().replace(**(fields | overrides))
