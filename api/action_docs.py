"""Each human step's request body as its own schema in the OpenAPI document.

The payload classes in ``domain/actions.py`` are the one declaration: every action gets a
component named after it (``InvitePartnersBody`` for ``invite-partners``), its own path
(``POST /v1/cases/{case_id}/actions/invite-partners``, operation id ``invite_partners``) and an
example, which ``tests/api/test_action_schemas.py`` validates against the payload class, so an
example cannot drift from what the API accepts. A link's body is one of its actions' bodies
(``domain.outcomes.LINK_ACTIONS``), documented as such on ``POST /v1/links/{token}``.
"""

from __future__ import annotations

from typing import Any

from domain.actions import ACTIONS, PAYLOADS, kebab
from domain.outcomes import LINK_ACTIONS

REF = "#/components/schemas/{model}"
SHA = "9f2c" + "0" * 60  # a SHA-256 in hex: 64 characters

EXAMPLES: dict[str, dict[str, Any]] = {
    "invite_partners": {"hub_ids": ["po-valley-ai", "spree-trust"]},
    "accept_invitation": {},
    "decline_invitation": {"reason": "No capacity before the summer."},
    "close_partnering": {},
    "reject_request": {"reason": "Outside the network's AI services."},
    "revise_draft": {
        "scope": "Data audit and a proof-of-concept classifier.",
        "tasks": [
            {"hub_id": "tagus-ai", "description": "Data audit", "cost_share_pct": 40},
            {"hub_id": "po-valley-ai", "description": "Proof-of-concept", "cost_share_pct": 60},
        ],
    },
    "approve_draft": {},
    "request_changes": {"comments": "Clause 4: name the data controller."},
    "sign": {"document_sha256": SHA, "signer_name": "Ana Ribeiro"},
    "decline_to_sign": {"reason": "The liability cap is too low for us."},
    "submit_deliverable": {"summary": "Proof-of-concept model and its test report."},
    "accept_deliverable": {"hub_id": "po-valley-ai"},
    "reject_deliverable": {"hub_id": "po-valley-ai", "reason": "The report lacks test data."},
    "complete_pilot": {"success": True, "summary": "The pilot met its acceptance criteria."},
    "select_candidates": {"hub_ids": ["spree-trust"]},
    "consent": {},
    "decline_consent": {"reason": "We found a provider locally."},
    "record_meeting": {"hub_id": "spree-trust", "held_on": "2027-01-15", "notes": "Kick-off."},
    "request_nda": {},
    "skip_nda": {},
    "record_outcome": {"result": "collaboration_agreed", "summary": "A pilot from March."},
    "review": {
        "quality": 5,
        "timeliness": 4,
        "communication": 5,
        "value": 4,
        "would_recommend": True,
        "comment": "On time and clearly explained.",
    },
    "peer_review": {
        "hub_id": "po-valley-ai",
        "reliability": 5,
        "contribution": 4,
        "would_collaborate_again": True,
    },
    "cancel": {"reason": "The client withdrew its request."},
    "extend_deadline": {"deadline": "partnering", "days": 7},
    "nudge": {"note": "The client is waiting for your answer."},
}

MULTIPART = {
    "schema": {
        "type": "object",
        "required": ["summary", "file"],
        "properties": {
            "summary": {"type": "string"},
            "deliverable_id": {"type": "string"},
            "file": {"type": "string", "format": "binary"},
        },
    }
}


def schema_name(action: str) -> str:
    """``invite_partners`` -> ``InvitePartnersBody``."""
    return "".join(part.capitalize() for part in action.split("_")) + "Body"


def schema_ref(action: str) -> str:
    return REF.format(model=schema_name(action))


def action_path(case_id: str, action: str) -> str:
    return f"/v1/cases/{case_id}/actions/{kebab(action)}"


def action_body(action: str) -> dict[str, Any]:
    """The ``openapi_extra`` of one action's path: its body schema and example."""
    content: dict[str, Any] = {
        "application/json": {
            "schema": {"$ref": schema_ref(action)},
            "example": EXAMPLES[action],
        }
    }
    if action == "submit_deliverable":
        content["multipart/form-data"] = MULTIPART
    return {"requestBody": {"required": False, "content": content}}


def link_body() -> dict[str, Any]:
    """``POST /v1/links/{token}``: the body of the action the link (or ``?action=``) is for."""
    return {
        "requestBody": {
            "required": False,
            "content": {
                "application/json": {
                    "schema": {"oneOf": [{"$ref": schema_ref(a)} for a in LINK_ACTIONS]},
                    "examples": {
                        kebab(a): {"summary": kebab(a), "value": EXAMPLES[a]} for a in LINK_ACTIONS
                    },
                }
            },
        }
    }


def components() -> dict[str, Any]:
    """One schema per action (the payload class's, retitled), with the types they share."""
    found: dict[str, Any] = {}
    for action in ACTIONS:
        model = PAYLOADS[action]
        schema = model.model_json_schema(ref_template=REF)
        found.update(schema.pop("$defs", {}))
        schema["title"] = schema_name(action)
        schema["description"] = f"The body of `{kebab(action)}`."
        schema.setdefault("properties", {})
        found[schema_name(action)] = schema
    found.pop("FileRef", None)  # set by the API from an uploaded file, never by a client
    for schema in found.values():
        schema.get("properties", {}).pop("file", None)
    return found
