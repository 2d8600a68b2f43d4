"""The authorization matrix: every route × caller × own or foreign object, with its status.

``TABLE`` below is the contract in one place: one row per (route template exactly as FastAPI
declares it, caller, object, expected status). Each row is one test against the real stack
(dev server, worker, API over HTTP). ``test_every_route_has_rows`` lists the app's routes, so a
new route without rows here fails the suite until someone writes down who may call it.

Callers (``CALLERS``): no key, an unknown key, a revoked key, a link token sent as an API key,
members and signatories of the lead hub (tagus-ai) and of the invited partner (po-valley-ai),
an outsider hub (vistula-ai), the back office and the legal helpdesk. Link routes take no key:
their credential is the token in the path (objects ``sign-link``, ``used-link``,
``unknown-link``).

Objects (``World``): cases led by tagus-ai inviting po-valley-ai in the states the rows need,
documents, deliverable files, hubs, templates, ad hoc documents, webhooks and link tokens.
Shared objects are made once per module and only receive requests that change nothing;
``fresh:<object>`` makes a new one for a row whose request changes state.

Status precedence (DESIGN.md): no or bad key → 401; case not visible → 404; not enabled now
for anyone → 409; enabled but not for this caller → 403; bad body → 422. Every non-2xx answer
is ``application/problem+json`` with ``status`` equal to the HTTP status, except the link
pages for people (``GET``/``POST /l/{token}``), which answer an HTML page with that status.

To add a route: add its rows (at least anonymous, an own caller, a foreign caller, back office
and legal, see ``REQUIRED_CALLERS``), and an object builder in ``World`` if it needs one.
Rows marked ``bug=...`` are known contract deviations, run as ``xfail(strict=True)``.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import httpx
import pytest
from sqlmodel import col, select
from starlette.routing import Mount, compile_path

from activities.notify import read_outbox
from api.app import create_app
from base.settings import Settings
from domain.cases import Role
from store.db import session_scope
from store.keys import create_key, revoke_key
from store.models import Hub
from tests.conftest import Stack
from tests.e2e.helpers import CLIENT, LEAD, LOCAL_PLAYER, PARTNER, start_case

OUTSIDER = "vistula-ai"
MARK = "authz-matrix"  # names the hubs and webhooks this module makes (removed afterwards)
SPECIFIC = "specific_collaboration_agreement"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

# -- callers ----------------------------------------------------------------------------------
KEYS = {  # caller name → the stack's key name
    "lead-member": f"hub_member:{LEAD}",
    "lead-signatory": f"hub_signatory:{LEAD}",
    "partner-member": f"hub_member:{PARTNER}",
    "partner-signatory": f"hub_signatory:{PARTNER}",
    "foreign-hub": f"hub_member:{OUTSIDER}",
    "foreign-signatory": f"hub_signatory:{OUTSIDER}",
    "back-office": "back_office",
    "legal": "legal",
}
UNAUTHENTICATED = ("anonymous", "unknown-key", "revoked-key")
CALLERS = (*UNAUTHENTICATED, "link-token-as-key", *KEYS)
OWN = ("lead-member", "lead-signatory", "partner-member", "partner-signatory")
FOREIGN = ("foreign-hub", "foreign-signatory")
# every route has a row for each of these (one of each tuple)
REQUIRED_CALLERS: tuple[tuple[str, ...], ...] = (
    ("anonymous",),
    OWN,
    FOREIGN,
    ("back-office",),
    ("legal",),
)

# -- request bodies ---------------------------------------------------------------------------
CASE = {
    "scenario": "joint_service",
    "title": f"{MARK}: started by the matrix",
    "need": "Detect surface defects on cork stoppers before shipping.",
    "client": CLIENT,
    "invited_hub_ids": [PARTNER],
}
REASON = {"reason": "authorization matrix"}
SIGN = {"document_sha256": "{sha}"}
WRONG_SHA = {"document_sha256": "0" * 64}
UPLOAD = {"file": ("report.txt", b"Proof-of-concept report", "text/plain")}
DELIVERABLE_FORM = {"summary": "Proof-of-concept model and report"}
TEMPLATE_UPLOAD = {
    "file": ("template.docx", b"PK\x03\x04 not really a docx", DOCX),
    "schema": (None, '{"type": "object", "properties": {}}'),
    "example": (None, "{}"),
}


def FCA(_: dict[str, Any]) -> dict[str, Any]:  # noqa: N802 - a body, named like the others
    """A new framework agreement edition with a label of its own."""
    return {"label": f"mx-{secrets.token_hex(4)}"}


FCA_COMMENT = {"clause": "{clause}", "text": "A comment from the matrix"}
FCA_AMENDMENT = {"clause": "{clause}", "text": "New text", "rationale": "clearer"}
FCA_DEADLINE = {"deadline": "2099-01-01T00:00:00+00:00"}


MATCH = {"services": ["testing_experimentation"], "need": "defect detection on cork stoppers"}
HOOK = {"url": f"http://127.0.0.1:9/{MARK}", "event_types": ["service_published"]}
CODEC = {"payloads": [{"metadata": {"encoding": "anNvbi9wbGFpbg=="}, "data": "e30="}]}


def document_request() -> dict[str, Any]:
    """Variables for the specific collaboration agreement, outside any case."""
    party = {"country": "Portugal", "representative": ""}
    return {
        "template": SPECIFIC,
        "variables": {
            "case_ref": "ADHOC-MATRIX",
            "version": 1,
            "issued_on": "2026-11-24",
            "title": "Data audit for a hospital",
            "need": "An audit of imaging data before an AI pilot.",
            "scope": "Data audit and recommendations.",
            "lead": {"id": LEAD, "name": "Tagus AI Hub", "role": "lead", **party},
            "partners": [
                {"id": "spree-trust", "name": "Spree Trust Lab", "role": "partner", **party}
            ],
            "client": {"id": "client", "name": "Hospital Exemplo", "role": "client", **party},
            "tasks": [
                {"party": "Tagus AI Hub", "description": "Audit", "cost_share_pct": 60},
                {"party": "Spree Trust Lab", "description": "Assessment", "cost_share_pct": 40},
            ],
            "start_date": "2026-12-01",
            "end_date": "2027-03-31",
            "framework_reference": "FCA 2026",
        },
    }


# -- the table ---------------------------------------------------------------------------------
Body = Any  # a literal (strings may hold "{key}" filled from the object) or a callable(object)


@dataclass(frozen=True)
class Row:
    route: str  # "METHOD /path/{param}" exactly as the app declares it
    caller: str  # a name in CALLERS
    obj: str  # a World object; "fresh:<name>" makes a new one for this row
    status: int
    action: str | None = None  # fills {action}
    json: Body = None
    content: str | None = None  # a raw JSON body (for malformed ones)
    form: dict[str, str] | None = None
    files: dict[str, Any] | None = None  # multipart parts (with ``form`` as the fields)
    query: dict[str, str] | None = None
    listed: bool | None = None  # on a list route: is the object in the answer?
    note: str = ""
    bug: str | None = None  # a known contract deviation: xfail(strict=True, reason=bug)

    @property
    def id(self) -> str:
        action = f" {self.action}" if self.action else ""
        note = f" ({self.note})" if self.note else ""
        return f"{self.route}{action} {self.caller}@{self.obj}{note} -> {self.status}"


def R(route: str, caller: str, obj: str, status: int, **request: Any) -> Row:
    return Row(route, caller, obj, status, **request)


def no_key(route: str, obj: str = "none", **request: Any) -> list[Row]:
    """No key, an unknown key and a revoked key: 401 before anything else."""
    return [R(route, caller, obj, 401, **request) for caller in UNAUTHENTICATED]


def everyone(route: str, status: int, obj: str = "none") -> list[Row]:
    """A public route: the same answer with or without a key."""
    callers = ("anonymous", "unknown-key", "lead-member", "foreign-hub", "back-office", "legal")
    return [R(route, caller, obj, status) for caller in callers]


def page(route: str, obj: str, status: int, **request: Any) -> list[Row]:
    """A staff page (HTML): it takes no API key, so every caller here, with a key or without,
    gets the same answer (most are sent to sign in, 303). Who may do what once signed in as
    back office or legal is tested with real sessions in ``tests/web``."""
    callers = ("anonymous", "lead-member", "foreign-hub", "back-office", "legal")
    PAGE_ROUTES.add(route)
    return [R(route, caller, obj, status, **request) for caller in callers]


PAGE_ROUTES: set[str] = set()  # the staff pages: their errors are HTML pages


ACTION = "POST /v1/cases/{case_id}/actions/{action}"

COPY = "POST /v1/cases/{case_id}/executed-copy"
PDF = {"file": ("agreement-qes.pdf", b"%PDF-1.7\n%%EOF\n", "application/pdf")}

# One row per line or two (the formatter is off for the table: it is read more than edited).
# fmt: off
TABLE: list[Row] = [
    # -- GET /v1/cases/{case_id}/dossier
    *no_key("GET /v1/cases/{case_id}/dossier", "delivery"),
    R("GET /v1/cases/{case_id}/dossier", "lead-member", "delivery", 200),
    R("GET /v1/cases/{case_id}/dossier", "partner-signatory", "delivery", 200),
    R("GET /v1/cases/{case_id}/dossier", "foreign-hub", "delivery", 404),
    R("GET /v1/cases/{case_id}/dossier", "foreign-signatory", "delivery", 404),
    R("GET /v1/cases/{case_id}/dossier", "back-office", "delivery", 200),
    R("GET /v1/cases/{case_id}/dossier", "legal", "legal-review", 200),
    R("GET /v1/cases/{case_id}/dossier", "link-token-as-key", "delivery", 401),
    R("GET /v1/cases/{case_id}/dossier", "back-office", "missing-case", 404),
    # -- POST /v1/cases/{case_id}/executed-copy
    *no_key(COPY, "delivery", files=PDF),
    R(COPY, "lead-member", "fresh:delivery", 201, files=PDF),
    R(COPY, "lead-signatory", "fresh:delivery", 201, files=PDF),
    R(COPY, "partner-member", "delivery", 403, files=PDF),
    R(COPY, "partner-signatory", "delivery", 403, files=PDF),
    R(COPY, "foreign-hub", "delivery", 404, files=PDF),
    R(COPY, "foreign-signatory", "delivery", 404, files=PDF),
    R(COPY, "back-office", "delivery", 403, files=PDF),
    R(COPY, "legal", "delivery", 403, files=PDF),
    R(COPY, "lead-member", "signing", 409, files=PDF,
      note="not every party has signed"),
    R(COPY, "lead-member", "delivery", 415, files=UPLOAD,
      note="not a PDF"),
    R(COPY, "lead-member", "missing-case", 404, files=PDF),
    # -- system: public -----------------------------------------------------------------------
    *everyone("GET /healthz", 200),
    *everyone("GET /readyz", 200),
    *everyone("GET /openapi.json", 200),
    # the dev outbox exists only in the embedded default (dev_pages); the test stack is not it
    R("GET /dev/outbox", "anonymous", "none", 404),
    R("GET /dev/outbox", "lead-member", "none", 404),
    R("GET /dev/outbox", "foreign-hub", "none", 404),
    R("GET /dev/outbox", "back-office", "none", 404),
    R("GET /dev/outbox", "legal", "none", 404),
    # -- POST /v1/cases -------------------------------------------------------------------------
    *no_key("POST /v1/cases", json=CASE),
    R("POST /v1/cases", "anonymous", "none", 401, content="{", note="malformed JSON"),
    R("POST /v1/cases", "lead-member", "none", 201, json=CASE),
    R("POST /v1/cases", "lead-signatory", "none", 201, json={**CASE, "lead_hub_id": LEAD}),
    R("POST /v1/cases", "lead-member", "none", 403, json={**CASE, "lead_hub_id": PARTNER},
      note="another hub as lead"),
    R("POST /v1/cases", "partner-member", "none", 403, json={**CASE, "lead_hub_id": LEAD},
      note="another hub as lead"),
    R("POST /v1/cases", "foreign-hub", "none", 403, json={**CASE, "lead_hub_id": LEAD},
      note="another hub as lead"),
    R("POST /v1/cases", "foreign-hub", "none", 201, json=CASE, note="its own case"),
    R("POST /v1/cases", "back-office", "none", 201,
      json={**CASE, "lead_hub_id": LEAD, "invited_hub_ids": []}, note="no invitations"),
    R("POST /v1/cases", "back-office", "none", 201, json={**CASE, "lead_hub_id": LEAD},
      note="with invitations"),
    R("POST /v1/cases", "back-office", "none", 422, json=CASE, note="no lead hub"),
    R("POST /v1/cases", "legal", "none", 403, json={**CASE, "lead_hub_id": LEAD}),
    R("POST /v1/cases", "lead-member", "none", 422, json={**CASE, "title": ""}),
    # -- GET /v1/cases: a hub lists only its cases; a filter never widens that ------------------
    *no_key("GET /v1/cases"),
    R("GET /v1/cases", "lead-member", "partnering", 200, query={"text": "{title}"}, listed=True),
    R("GET /v1/cases", "lead-signatory", "partnering", 200, query={"text": "{title}"},
      listed=True),
    R("GET /v1/cases", "partner-member", "partnering", 200, query={"text": "{title}"},
      listed=True),
    R("GET /v1/cases", "foreign-hub", "partnering", 200, query={"text": "{title}"},
      listed=False),
    R("GET /v1/cases", "foreign-hub", "partnering", 200,
      query={"text": "{title}", "hub": LEAD}, listed=False, note="filtered by the lead hub"),
    R("GET /v1/cases", "back-office", "partnering", 200, query={"text": "{title}"},
      listed=True),
    R("GET /v1/cases", "legal", "partnering", 200, query={"text": "{title}"}, listed=True),
    # -- GET /v1/cases/{case_id} ----------------------------------------------------------------
    *no_key("GET /v1/cases/{case_id}", "partnering"),
    R("GET /v1/cases/{case_id}", "link-token-as-key", "partnering", 401),
    R("GET /v1/cases/{case_id}", "lead-member", "partnering", 200),
    R("GET /v1/cases/{case_id}", "lead-signatory", "partnering", 200),
    R("GET /v1/cases/{case_id}", "partner-member", "partnering", 200, note="invited"),
    R("GET /v1/cases/{case_id}", "partner-signatory", "partnering", 200, note="invited"),
    R("GET /v1/cases/{case_id}", "foreign-hub", "partnering", 404),
    R("GET /v1/cases/{case_id}", "foreign-signatory", "partnering", 404),
    R("GET /v1/cases/{case_id}", "back-office", "partnering", 200),
    R("GET /v1/cases/{case_id}", "legal", "partnering", 200),
    R("GET /v1/cases/{case_id}", "foreign-hub", "foreign-case", 200, note="its own case"),
    R("GET /v1/cases/{case_id}", "lead-member", "foreign-case", 404),
    R("GET /v1/cases/{case_id}", "back-office", "missing-case", 404),
    # a hub that left the case (declined, a candidate not selected; lapsed, which needs the
    # deadline to pass: tests/api/test_departed_hubs) sees its summary only
    R("GET /v1/cases/{case_id}", "partner-member", "unselected", 200, note="not selected"),
    R("GET /v1/cases/{case_id}/timeline", "partner-member", "unselected", 404),
    R("GET /v1/cases/{case_id}/dossier", "partner-signatory", "unselected", 404),
    R("GET /v1/cases/{case_id}/timeline", "lead-member", "unselected", 200),
    R("GET /v1/cases/{case_id}", "partner-member", "declined", 200, note="declined: summary"),
    R("GET /v1/cases/{case_id}/timeline", "partner-member", "declined", 404),
    R("GET /v1/cases/{case_id}/timeline", "lead-member", "declined", 200),
    R("GET /v1/cases/{case_id}/dossier", "partner-signatory", "declined", 404),
    R("GET /v1/cases/{case_id}/dossier", "lead-member", "declined", 200),
    R("GET /v1/cases/{case_id}/documents/{doc_id}", "partner-member", "declined", 404),
    R("GET /v1/cases/{case_id}/documents/{doc_id}", "lead-member", "declined", 200),
    # -- GET /v1/cases/{case_id}/timeline -------------------------------------------------------
    *no_key("GET /v1/cases/{case_id}/timeline", "partnering"),
    R("GET /v1/cases/{case_id}/timeline", "lead-member", "partnering", 200),
    R("GET /v1/cases/{case_id}/timeline", "partner-member", "partnering", 200),
    R("GET /v1/cases/{case_id}/timeline", "foreign-hub", "partnering", 404),
    R("GET /v1/cases/{case_id}/timeline", "foreign-signatory", "partnering", 404),
    R("GET /v1/cases/{case_id}/timeline", "back-office", "partnering", 200),
    R("GET /v1/cases/{case_id}/timeline", "legal", "partnering", 200),
    R("GET /v1/cases/{case_id}/timeline", "legal", "missing-case", 404),
    # -- actions: cancel (lead hub or back office; any open state) ------------------------------
    *no_key(ACTION, "partnering", action="cancel", json=REASON),
    R(ACTION, "lead-member", "fresh:partnering", 200, action="cancel", json=REASON),
    R(ACTION, "back-office", "fresh:partnering", 200, action="cancel", json=REASON),
    R(ACTION, "partner-member", "partnering", 403, action="cancel", json=REASON),
    R(ACTION, "legal", "partnering", 403, action="cancel", json=REASON),
    R(ACTION, "foreign-hub", "partnering", 404, action="cancel", json=REASON),
    R(ACTION, "foreign-hub", "partnering", 404, action="cancel", json={}, note="bad body"),
    R(ACTION, "lead-member", "partnering", 422, action="cancel", json={}),
    R(ACTION, "legal", "partnering", 403, action="cancel", json={}, note="bad body"),
    R(ACTION, "legal", "partnering", 403, action="cancel", content="[]",
      note="non-object JSON"),
    R(ACTION, "lead-member", "cancelled", 409, action="cancel", json=REASON),
    R(ACTION, "foreign-hub", "cancelled", 404, action="cancel", json=REASON),
    # -- accept-invitation (the invited hub) ----------------------------------------------------
    R(ACTION, "partner-member", "fresh:partnering", 200, action="accept-invitation"),
    R(ACTION, "partner-member", "partnering", 422, action="accept-invitation", json={"x": 1}),
    R(ACTION, "lead-member", "partnering", 403, action="accept-invitation"),
    R(ACTION, "lead-signatory", "partnering", 403, action="accept-invitation"),
    R(ACTION, "back-office", "partnering", 403, action="accept-invitation"),
    R(ACTION, "legal", "partnering", 403, action="accept-invitation"),
    R(ACTION, "foreign-hub", "partnering", 404, action="accept-invitation"),
    R(ACTION, "partner-member", "legal-review", 409, action="accept-invitation"),
    # -- invite-partners (the lead hub) ---------------------------------------------------------
    R(ACTION, "lead-member", "partnering", 422, action="invite-partners",
      json={"hub_ids": [f"{MARK}-no-such-hub"]}),
    R(ACTION, "partner-member", "partnering", 403, action="invite-partners",
      json={"hub_ids": ["spree-trust"]}),
    R(ACTION, "back-office", "partnering", 403, action="invite-partners",
      json={"hub_ids": ["spree-trust"]}),
    R(ACTION, "foreign-hub", "partnering", 404, action="invite-partners",
      json={"hub_ids": ["spree-trust"]}),
    # -- approve-draft / request-changes (legal) -----------------------------------------------
    R(ACTION, "legal", "fresh:legal-review", 200, action="approve-draft"),
    R(ACTION, "lead-member", "legal-review", 403, action="approve-draft"),
    R(ACTION, "partner-member", "legal-review", 403, action="approve-draft"),
    R(ACTION, "back-office", "legal-review", 403, action="approve-draft"),
    R(ACTION, "foreign-hub", "legal-review", 404, action="approve-draft"),
    R(ACTION, "legal", "partnering", 409, action="approve-draft"),
    R(ACTION, "back-office", "partnering", 409, action="approve-draft"),
    R(ACTION, "partner-member", "partnering", 409, action="approve-draft"),
    R(ACTION, "foreign-hub", "partnering", 404, action="approve-draft", note="not enabled"),
    R(ACTION, "lead-member", "partnering", 409, action="approve-draft", content="{not json",
      note="malformed JSON"),
    R(ACTION, "legal", "signing", 409, action="approve-draft"),
    R(ACTION, "legal", "legal-review", 422, action="request-changes", json={}),
    R(ACTION, "lead-member", "legal-review", 403, action="request-changes", json={}),
    # -- sign (a signatory of a party hub, over the current draft's SHA-256) -------------------
    R(ACTION, "link-token-as-key", "signing", 401, action="sign", json=SIGN),
    R(ACTION, "lead-signatory", "fresh:signing", 200, action="sign", json=SIGN),
    R(ACTION, "partner-signatory", "fresh:signing", 200, action="sign", json=SIGN),
    R(ACTION, "lead-member", "signing", 403, action="sign", json=SIGN, note="not a signatory"),
    R(ACTION, "partner-member", "signing", 403, action="sign", json=SIGN),
    R(ACTION, "back-office", "signing", 403, action="sign", json=SIGN),
    R(ACTION, "legal", "signing", 403, action="sign", json=SIGN),
    R(ACTION, "foreign-signatory", "signing", 404, action="sign", json=SIGN),
    R(ACTION, "lead-signatory", "signing", 409, action="sign", json=WRONG_SHA,
      note="not the current draft"),
    R(ACTION, "lead-signatory", "signing", 422, action="sign", json={}),
    R(ACTION, "lead-signatory", "signing", 422, action="sign",
      json={"document_sha256": "not-a-sha"}, note="not a SHA-256"),
    R(ACTION, "lead-member", "signing", 403, action="sign", json={}, note="bad body"),
    R(ACTION, "lead-signatory", "partnering", 409, action="sign", json=WRONG_SHA),
    R(ACTION, "lead-signatory", "legal-review", 409, action="sign", json={},
      note="no SHA-256, not signing yet"),
    # -- submit-deliverable (the partner that owes it; multipart with a file) ------------------
    R(ACTION, "partner-member", "fresh:delivery", 200, action="submit-deliverable",
      form=DELIVERABLE_FORM, files=UPLOAD),
    R(ACTION, "anonymous", "delivery", 401, action="submit-deliverable",
      form=DELIVERABLE_FORM, files=UPLOAD),
    R(ACTION, "lead-member", "delivery", 403, action="submit-deliverable",
      form=DELIVERABLE_FORM, files=UPLOAD, note="owes nothing"),
    R(ACTION, "back-office", "delivery", 403, action="submit-deliverable",
      form=DELIVERABLE_FORM, files=UPLOAD),
    R(ACTION, "legal", "delivery", 403, action="submit-deliverable",
      form=DELIVERABLE_FORM, files=UPLOAD),
    R(ACTION, "foreign-hub", "delivery", 404, action="submit-deliverable",
      form=DELIVERABLE_FORM, files=UPLOAD),
    R(ACTION, "partner-member", "delivery", 422, action="submit-deliverable", json={}),
    R(ACTION, "partner-member", "partnering", 409, action="submit-deliverable",
      form=DELIVERABLE_FORM, files=UPLOAD),
    R(ACTION, "partner-member", "delivered", 409, action="submit-deliverable",
      form=DELIVERABLE_FORM, files=UPLOAD, note="already submitted"),
    # -- accept-deliverable (the lead hub) ------------------------------------------------------
    R(ACTION, "partner-member", "delivered", 403, action="accept-deliverable",
      json={"hub_id": PARTNER}),
    R(ACTION, "back-office", "delivered", 403, action="accept-deliverable",
      json={"hub_id": PARTNER}),
    R(ACTION, "legal", "delivered", 403, action="accept-deliverable", json={"hub_id": PARTNER}),
    R(ACTION, "foreign-hub", "delivered", 404, action="accept-deliverable",
      json={"hub_id": PARTNER}),
    R(ACTION, "lead-member", "delivered", 422, action="accept-deliverable",
      json={"deliverable_id": "d9"}),
    R(ACTION, "lead-member", "delivery", 409, action="accept-deliverable",
      json={"hub_id": PARTNER}, note="nothing submitted"),
    # -- extend-deadline, reject-request (back office); unknown actions ------------------------
    R(ACTION, "back-office", "partnering", 422, action="extend-deadline",
      json={"deadline": "no-such-deadline", "days": 1}),
    R(ACTION, "lead-member", "partnering", 403, action="extend-deadline",
      json={"deadline": "partnering", "days": 1}),
    R(ACTION, "back-office", "partnering", 409, action="reject-request", json=REASON),
    R(ACTION, "lead-member", "partnering", 404, action="teleport"),
    R(ACTION, "foreign-hub", "partnering", 404, action="teleport"),
    # -- GET /v1/cases/{case_id}/documents/{doc_id} ---------------------------------------------
    *no_key("GET /v1/cases/{case_id}/documents/{doc_id}", "legal-review"),
    R("GET /v1/cases/{case_id}/documents/{doc_id}", "lead-member", "legal-review", 200),
    R("GET /v1/cases/{case_id}/documents/{doc_id}", "lead-signatory", "legal-review", 200),
    R("GET /v1/cases/{case_id}/documents/{doc_id}", "partner-member", "legal-review", 200),
    R("GET /v1/cases/{case_id}/documents/{doc_id}", "foreign-hub", "legal-review", 404),
    R("GET /v1/cases/{case_id}/documents/{doc_id}", "back-office", "legal-review", 200),
    R("GET /v1/cases/{case_id}/documents/{doc_id}", "legal", "legal-review", 200),
    R("GET /v1/cases/{case_id}/documents/{doc_id}", "lead-member", "missing-doc", 404),
    R("GET /v1/cases/{case_id}/documents/{doc_id}", "foreign-hub", "foreign-case", 404,
      note="its own case, another case's document"),
    R("GET /v1/cases/{case_id}/documents/{doc_id}", "back-office", "adhoc-doc-in-case", 404),
    R("GET /v1/cases/{case_id}/documents/{doc_id}", "legal", "missing-case", 404),
    # -- GET /v1/cases/{case_id}/deliverables/{deliverable_id}/file ------------------------------
    *no_key("GET /v1/cases/{case_id}/deliverables/{deliverable_id}/file", "delivered"),
    R("GET /v1/cases/{case_id}/deliverables/{deliverable_id}/file", "lead-member",
      "delivered", 200),
    R("GET /v1/cases/{case_id}/deliverables/{deliverable_id}/file", "partner-member",
      "delivered", 200),
    R("GET /v1/cases/{case_id}/deliverables/{deliverable_id}/file", "foreign-hub",
      "delivered", 404),
    R("GET /v1/cases/{case_id}/deliverables/{deliverable_id}/file", "foreign-signatory",
      "delivered", 404),
    R("GET /v1/cases/{case_id}/deliverables/{deliverable_id}/file", "back-office",
      "delivered", 200),
    R("GET /v1/cases/{case_id}/deliverables/{deliverable_id}/file", "legal", "delivered", 200),
    R("GET /v1/cases/{case_id}/deliverables/{deliverable_id}/file", "lead-member",
      "missing-deliverable", 404),
    R("GET /v1/cases/{case_id}/deliverables/{deliverable_id}/file", "lead-member",
      "no-deliverable", 404),
    R("GET /v1/cases/{case_id}/deliverables/{deliverable_id}/file", "back-office",
      "missing-case", 404),
    # -- hubs: everyone with a key reads the registry; only the back office writes it ----------
    *no_key("GET /v1/hubs"),
    R("GET /v1/hubs", "lead-member", "none", 200),
    R("GET /v1/hubs", "foreign-hub", "none", 200),
    R("GET /v1/hubs", "back-office", "none", 200),
    R("GET /v1/hubs", "legal", "none", 200),
    *no_key("GET /v1/hubs/{hub_id}", "own-hub"),
    R("GET /v1/hubs/{hub_id}", "lead-member", "own-hub", 200),
    R("GET /v1/hubs/{hub_id}", "lead-member", "other-hub", 200),
    R("GET /v1/hubs/{hub_id}", "foreign-hub", "own-hub", 200),
    R("GET /v1/hubs/{hub_id}", "back-office", "own-hub", 200),
    R("GET /v1/hubs/{hub_id}", "legal", "own-hub", 200),
    R("GET /v1/hubs/{hub_id}", "lead-member", "missing-hub", 404),
    # -- indicators: the network's for every key; a hub's for that hub and the staff ----------
    *no_key("GET /v1/indicators"),
    R("GET /v1/indicators", "lead-member", "none", 200),
    R("GET /v1/indicators", "foreign-hub", "none", 200),
    R("GET /v1/indicators", "back-office", "none", 200),
    R("GET /v1/indicators", "legal", "none", 200),
    R("GET /v1/indicators", "legal", "none", 422, query={"from": "2026-02-01", "to": "2026-01-01"},
      note="period ends before it starts"),
    R("GET /v1/indicators", "legal", "none", 422, query={"scenario": "bake_off"}),
    *no_key("GET /v1/hubs/{hub_id}/indicators", "own-hub"),
    R("GET /v1/hubs/{hub_id}/indicators", "lead-member", "own-hub", 200),
    R("GET /v1/hubs/{hub_id}/indicators", "lead-signatory", "own-hub", 200),
    R("GET /v1/hubs/{hub_id}/indicators", "lead-member", "other-hub", 403),
    R("GET /v1/hubs/{hub_id}/indicators", "foreign-hub", "own-hub", 403),
    R("GET /v1/hubs/{hub_id}/indicators", "back-office", "own-hub", 200),
    R("GET /v1/hubs/{hub_id}/indicators", "legal", "own-hub", 200),
    R("GET /v1/hubs/{hub_id}/indicators", "back-office", "missing-hub", 404),
    *no_key("GET /v1/reports/network"),
    R("GET /v1/reports/network", "back-office", "none", 200),
    R("GET /v1/reports/network", "legal", "none", 200, query={"format": "docx"}),
    R("GET /v1/reports/network", "lead-member", "none", 403),
    R("GET /v1/reports/network", "foreign-signatory", "none", 403),
    R("GET /v1/reports/network", "back-office", "none", 422, query={"format": "xls"}),
    *no_key("POST /v1/hubs", "new-hub", json=lambda o: o["hub_body"]),
    R("POST /v1/hubs", "back-office", "fresh:new-hub", 201, json=lambda o: o["hub_body"]),
    R("POST /v1/hubs", "back-office", "own-hub", 409, json=lambda o: o["hub_body"],
      note="id taken"),
    R("POST /v1/hubs", "back-office", "none", 422, json={"id": f"{MARK}-x"}),
    R("POST /v1/hubs", "lead-member", "fresh:new-hub", 403, json=lambda o: o["hub_body"]),
    R("POST /v1/hubs", "lead-signatory", "fresh:new-hub", 403, json=lambda o: o["hub_body"]),
    R("POST /v1/hubs", "foreign-hub", "fresh:new-hub", 403, json=lambda o: o["hub_body"]),
    R("POST /v1/hubs", "legal", "fresh:new-hub", 403, json=lambda o: o["hub_body"]),
    *no_key("PUT /v1/hubs/{hub_id}", "own-hub", json=lambda o: o["hub_body"]),
    R("PUT /v1/hubs/{hub_id}", "lead-member", "own-hub", 403, json=lambda o: o["hub_body"]),
    R("PUT /v1/hubs/{hub_id}", "lead-signatory", "own-hub", 403, json=lambda o: o["hub_body"]),
    R("PUT /v1/hubs/{hub_id}", "lead-member", "other-hub", 403, json=lambda o: o["hub_body"]),
    R("PUT /v1/hubs/{hub_id}", "foreign-hub", "own-hub", 403, json=lambda o: o["hub_body"]),
    R("PUT /v1/hubs/{hub_id}", "legal", "own-hub", 403, json=lambda o: o["hub_body"]),
    R("PUT /v1/hubs/{hub_id}", "back-office", "own-hub", 200, json=lambda o: o["hub_body"],
      note="unchanged profile"),
    R("PUT /v1/hubs/{hub_id}", "back-office", "missing-hub", 404, json=lambda o: o["hub_body"]),
    R("PUT /v1/hubs/{hub_id}", "back-office", "own-hub", 422,
      json=lambda o: {**o["hub_body"], "id": PARTNER}, note="id differs from the path"),
    # -- matches: everyone with a key asks; a hub asks for itself ---------------------------------
    *no_key("POST /v1/matches", json=MATCH),
    R("POST /v1/matches", "lead-member", "none", 200, json=MATCH),
    R("POST /v1/matches", "lead-signatory", "none", 200, json=MATCH),
    R("POST /v1/matches", "foreign-hub", "none", 200, json=MATCH),
    R("POST /v1/matches", "back-office", "none", 200, json={**MATCH, "requesting_hub_id": LEAD}),
    R("POST /v1/matches", "legal", "none", 200, json=MATCH),
    R("POST /v1/matches", "lead-member", "none", 403, json={**MATCH, "requesting_hub_id": PARTNER},
      note="a hub asks for itself"),
    R("POST /v1/matches", "back-office", "none", 422, json={"services": ["telepathy"]},
      note="unknown code"),
    R("POST /v1/matches", "back-office", "none", 422, json={}, note="nothing asked"),
    R("POST /v1/matches", "back-office", "none", 422,
      json={**MATCH, "requesting_hub_id": f"{MARK}-nowhere"}, note="unknown hub"),
    # -- templates: everyone with a key reads them; only legal publishes ------------------------
    *no_key("GET /v1/templates"),
    R("GET /v1/templates", "lead-member", "none", 200),
    R("GET /v1/templates", "foreign-hub", "none", 200),
    R("GET /v1/templates", "back-office", "none", 200),
    R("GET /v1/templates", "legal", "none", 200),
    *no_key("GET /v1/templates/{name}", "template"),
    R("GET /v1/templates/{name}", "lead-member", "template", 200),
    R("GET /v1/templates/{name}", "foreign-hub", "template", 200),
    R("GET /v1/templates/{name}", "back-office", "template", 200),
    R("GET /v1/templates/{name}", "legal", "template", 200),
    R("GET /v1/templates/{name}", "legal", "missing-template", 404),
    # no 201 row: a published version would become the one every later case renders
    *no_key("POST /v1/templates/{name}/versions", "template", files=TEMPLATE_UPLOAD),
    R("POST /v1/templates/{name}/versions", "lead-member", "template", 403,
      files=TEMPLATE_UPLOAD),
    R("POST /v1/templates/{name}/versions", "foreign-hub", "template", 403,
      files=TEMPLATE_UPLOAD),
    R("POST /v1/templates/{name}/versions", "back-office", "template", 403,
      files=TEMPLATE_UPLOAD),
    R("POST /v1/templates/{name}/versions", "legal", "template", 415, json={},
      note="not multipart"),
    R("POST /v1/templates/{name}/versions", "legal", "template", 422,
      files={"schema": (None, "{}")}, note="no file"),
    R("POST /v1/templates/{name}/versions", "legal", "missing-template", 404,
      files=TEMPLATE_UPLOAD),
    # -- documents outside cases: legal makes them; staff read them; hubs see none -------------
    *no_key("POST /v1/documents", json=document_request()),
    R("POST /v1/documents", "legal", "none", 201, json=document_request()),
    R("POST /v1/documents", "legal", "none", 422, json={"template": SPECIFIC, "variables": {}}),
    R("POST /v1/documents", "legal", "none", 404,
      json={"template": "no_such_template", "variables": {}}),
    R("POST /v1/documents", "back-office", "none", 403, json=document_request()),
    R("POST /v1/documents", "lead-member", "none", 403, json=document_request()),
    R("POST /v1/documents", "foreign-hub", "none", 403, json=document_request()),
    *no_key("GET /v1/documents"),
    R("GET /v1/documents", "legal", "adhoc-doc", 200, listed=True),
    R("GET /v1/documents", "back-office", "adhoc-doc", 200, listed=False, note="not its own"),
    R("GET /v1/documents", "lead-member", "adhoc-doc", 200, listed=False),
    R("GET /v1/documents", "foreign-hub", "adhoc-doc", 200, listed=False),
    *no_key("GET /v1/documents/{doc_id}", "adhoc-doc"),
    R("GET /v1/documents/{doc_id}", "legal", "adhoc-doc", 200),
    R("GET /v1/documents/{doc_id}", "back-office", "adhoc-doc", 200),
    R("GET /v1/documents/{doc_id}", "lead-member", "adhoc-doc", 404),
    R("GET /v1/documents/{doc_id}", "foreign-hub", "adhoc-doc", 404),
    R("GET /v1/documents/{doc_id}", "back-office", "case-doc", 404,
      note="case documents are under their case"),
    R("GET /v1/documents/{doc_id}", "lead-member", "case-doc", 404),
    R("GET /v1/documents/{doc_id}", "legal", "missing-doc", 404),
    *no_key("GET /v1/documents/{doc_id}/file", "adhoc-doc"),
    R("GET /v1/documents/{doc_id}/file", "legal", "adhoc-doc", 200),
    R("GET /v1/documents/{doc_id}/file", "back-office", "adhoc-doc", 200),
    R("GET /v1/documents/{doc_id}/file", "lead-member", "adhoc-doc", 404),
    R("GET /v1/documents/{doc_id}/file", "foreign-hub", "adhoc-doc", 404),
    R("GET /v1/documents/{doc_id}/file", "back-office", "case-doc", 404),
    R("GET /v1/documents/{doc_id}/file", "lead-member", "case-doc", 404),
    # -- link routes: the token in the path is the credential; an API key adds nothing ----------
    R("GET /v1/links/{token}", "anonymous", "sign-link", 200),
    R("GET /v1/links/{token}", "foreign-hub", "sign-link", 200, note="the token is the key"),
    R("GET /v1/links/{token}", "anonymous", "unknown-link", 404),
    R("GET /v1/links/{token}", "anonymous", "used-link", 410),
    R("GET /v1/links/{token}", "back-office", "used-link", 410),
    R("GET /v1/links/{token}", "lead-member", "unknown-link", 404),
    R("GET /v1/links/{token}", "foreign-hub", "unknown-link", 404),
    R("GET /v1/links/{token}", "back-office", "unknown-link", 404),
    R("GET /v1/links/{token}", "legal", "unknown-link", 404),
    R("GET /v1/links/{token}/document", "anonymous", "sign-link", 200),
    R("GET /v1/links/{token}/document", "anonymous", "unknown-link", 404),
    R("GET /v1/links/{token}/document", "anonymous", "used-link", 410),
    R("GET /v1/links/{token}/document", "lead-member", "unknown-link", 404),
    R("GET /v1/links/{token}/document", "foreign-hub", "unknown-link", 404),
    R("GET /v1/links/{token}/document", "back-office", "unknown-link", 404),
    R("GET /v1/links/{token}/document", "legal", "unknown-link", 404),
    R("POST /v1/links/{token}", "anonymous", "fresh:sign-link", 200, json=SIGN),
    R("POST /v1/links/{token}", "anonymous", "sign-link", 403, json={},
      query={"action": "review"}, note="?action=review"),
    R("POST /v1/links/{token}", "anonymous", "sign-link", 403, json={},
      query={"action": "approve-draft"}, note="?action=approve-draft"),
    R("POST /v1/links/{token}", "anonymous", "sign-link", 409, json=WRONG_SHA,
      note="not the current draft"),
    R("POST /v1/links/{token}", "anonymous", "fresh:sign-link", 422, json={}),
    R("POST /v1/links/{token}", "anonymous", "unknown-link", 404, json=SIGN),
    R("POST /v1/links/{token}", "anonymous", "unknown-link", 404, content="[1]",
      note="non-object JSON"),
    R("POST /v1/links/{token}", "anonymous", "used-link", 410, content="{not json",
      note="malformed JSON"),
    R("POST /v1/links/{token}", "anonymous", "fresh:sign-link", 422, content="[1]",
      note="non-object JSON"),
    R("POST /v1/links/{token}", "anonymous", "used-link", 410, json=SIGN),
    R("POST /v1/links/{token}", "lead-member", "unknown-link", 404, json=SIGN),
    R("POST /v1/links/{token}", "foreign-hub", "unknown-link", 404, json=SIGN),
    R("POST /v1/links/{token}", "back-office", "unknown-link", 404, json=SIGN),
    R("POST /v1/links/{token}", "legal", "unknown-link", 404, json=SIGN),
    # -- link pages (HTML for people; errors are pages with the same status) --------------------
    R("GET /l/{token}", "anonymous", "sign-link", 200),
    R("GET /l/{token}", "anonymous", "unknown-link", 404),
    R("GET /l/{token}", "anonymous", "used-link", 410),
    R("GET /l/{token}", "lead-member", "unknown-link", 404),
    R("GET /l/{token}", "foreign-hub", "unknown-link", 404),
    R("GET /l/{token}", "back-office", "unknown-link", 404),
    R("GET /l/{token}", "legal", "unknown-link", 404),
    R("GET /l/{token}/document", "anonymous", "sign-link", 200),
    R("GET /l/{token}/document", "anonymous", "unknown-link", 404),
    R("GET /l/{token}/document", "anonymous", "used-link", 410),
    R("GET /l/{token}/document", "lead-member", "unknown-link", 404),
    R("GET /l/{token}/document", "foreign-hub", "unknown-link", 404),
    R("GET /l/{token}/document", "back-office", "unknown-link", 404),
    R("GET /l/{token}/document", "legal", "unknown-link", 404),
    R("POST /l/{token}", "anonymous", "fresh:sign-link", 200,
      form={"choice": "sign", "confirm": "yes", "document_sha256": "{sha}"}),
    R("POST /l/{token}", "anonymous", "sign-link", 422, form={"document_sha256": "{sha}"},
      note="not confirmed"),
    R("POST /l/{token}", "anonymous", "sign-link", 403, form={"choice": "review", "rating": "5"},
      note="a choice the link does not allow"),
    R("POST /l/{token}", "anonymous", "sign-link", 403, form={"choice": "review"},
      note="a choice the link does not allow, no rating"),
    R("POST /l/{token}", "anonymous", "unknown-link", 404, form={"choice": "sign"}),
    R("POST /l/{token}", "anonymous", "used-link", 410, form={"choice": "sign"}),
    R("POST /l/{token}", "lead-member", "unknown-link", 404, form={"choice": "sign"}),
    R("POST /l/{token}", "foreign-hub", "unknown-link", 404, form={"choice": "sign"}),
    R("POST /l/{token}", "back-office", "unknown-link", 404, form={"choice": "sign"}),
    R("POST /l/{token}", "legal", "unknown-link", 404, form={"choice": "sign"}),
    # -- the staff pages --------------------------------------------------------------------------
    *page("GET /", "none", 303),
    *page("GET /sign-in", "none", 200),
    *page("POST /sign-in", "none", 403, form={"username": "office", "password": "x"},
          note="no sign-in form token"),
    *page("POST /sign-out", "none", 303),
    *page("GET /cases", "none", 303),
    *page("GET /cases.csv", "none", 303),
    *page("GET /cases/{case_id}", "legal-review", 303),
    *page("GET /cases/{case_id}/documents/{doc_id}", "legal-review", 303),
    *page("GET /cases/{case_id}/deliverables/{deliverable_id}/file", "missing-case", 303),
    *page("POST /cases/{case_id}/actions/{action}", "legal-review", 303, action="approve-draft",
          form={"csrf_token": "x"}),
    *page("GET /web-static/{path:path}", "stylesheet", 200),
    *page("GET /legal", "none", 303),
    *page("GET /legal/{case_id}", "legal-review", 303),
    *page("GET /legal/{case_id}/documents/{doc_id}", "legal-review", 303),
    *page("POST /legal/{case_id}/{action}", "legal-review", 303, action="approve-draft",
          form={"csrf_token": "x"}),
    *page("GET /templates", "none", 303),
    *page("GET /templates/{name}", "template", 303),
    *page("POST /templates/{name}/preview", "template", 303, form={"csrf_token": "x"}),
    *page("POST /templates/{name}/publish", "template", 303, form={"csrf_token": "x"}),
    *page("GET /hubs", "none", 303),
    *page("GET /hubs/{hub_id}", "own-hub", 303),
    *page("POST /hubs/import/preview", "none", 303, form={"csrf_token": "x"}),
    *page("POST /hubs/import", "none", 303, form={"csrf_token": "x"}),
    *page("GET /network", "none", 303),
    # -- webhooks: a hub manages only its own (another hub's → 404); staff have none (403) ------
    *no_key("POST /v1/webhooks", json=HOOK),
    R("POST /v1/webhooks", "lead-member", "none", 201, json=HOOK),
    R("POST /v1/webhooks", "foreign-hub", "none", 201, json=HOOK, note="its own"),
    R("POST /v1/webhooks", "back-office", "none", 403, json=HOOK),
    R("POST /v1/webhooks", "legal", "none", 403, json=HOOK),
    R("POST /v1/webhooks", "lead-member", "none", 422,
      json={"url": "ftp://example.org/hook", "event_types": []}),
    *no_key("GET /v1/webhooks"),
    R("GET /v1/webhooks", "lead-member", "webhook", 200, listed=True),
    R("GET /v1/webhooks", "lead-signatory", "webhook", 200, listed=True, note="same hub"),
    R("GET /v1/webhooks", "partner-member", "webhook", 200, listed=False),
    R("GET /v1/webhooks", "foreign-hub", "webhook", 200, listed=False),
    R("GET /v1/webhooks", "back-office", "webhook", 403),
    R("GET /v1/webhooks", "legal", "webhook", 403),
    *no_key("GET /v1/webhooks/{webhook_id}", "webhook"),
    R("GET /v1/webhooks/{webhook_id}", "lead-member", "webhook", 200),
    R("GET /v1/webhooks/{webhook_id}", "lead-signatory", "webhook", 200, note="same hub"),
    R("GET /v1/webhooks/{webhook_id}", "partner-member", "webhook", 404),
    R("GET /v1/webhooks/{webhook_id}", "foreign-hub", "webhook", 404),
    R("GET /v1/webhooks/{webhook_id}", "back-office", "webhook", 403),
    R("GET /v1/webhooks/{webhook_id}", "legal", "webhook", 403),
    R("GET /v1/webhooks/{webhook_id}", "lead-member", "deleted-webhook", 404),
    R("GET /v1/webhooks/{webhook_id}", "lead-member", "missing-webhook", 404),
    *no_key("DELETE /v1/webhooks/{webhook_id}", "webhook"),
    R("DELETE /v1/webhooks/{webhook_id}", "lead-member", "fresh:webhook", 204),
    R("DELETE /v1/webhooks/{webhook_id}", "partner-member", "webhook", 404),
    R("DELETE /v1/webhooks/{webhook_id}", "foreign-hub", "webhook", 404),
    R("DELETE /v1/webhooks/{webhook_id}", "back-office", "webhook", 403),
    R("DELETE /v1/webhooks/{webhook_id}", "legal", "webhook", 403),
    R("DELETE /v1/webhooks/{webhook_id}", "lead-member", "deleted-webhook", 404),
    *no_key("POST /v1/webhooks/{webhook_id}/rotate-secret", "webhook"),
    R("POST /v1/webhooks/{webhook_id}/rotate-secret", "lead-member", "fresh:webhook", 200),
    R("POST /v1/webhooks/{webhook_id}/rotate-secret", "lead-signatory", "fresh:webhook", 200,
      note="same hub"),
    R("POST /v1/webhooks/{webhook_id}/rotate-secret", "partner-member", "webhook", 404),
    R("POST /v1/webhooks/{webhook_id}/rotate-secret", "foreign-hub", "webhook", 404),
    R("POST /v1/webhooks/{webhook_id}/rotate-secret", "back-office", "webhook", 403),
    R("POST /v1/webhooks/{webhook_id}/rotate-secret", "legal", "webhook", 403),
    R("POST /v1/webhooks/{webhook_id}/rotate-secret", "lead-member", "deleted-webhook", 404),
    *no_key("GET /v1/webhooks/{webhook_id}/deliveries", "webhook"),
    R("GET /v1/webhooks/{webhook_id}/deliveries", "lead-member", "webhook", 200),
    R("GET /v1/webhooks/{webhook_id}/deliveries", "partner-member", "webhook", 404),
    R("GET /v1/webhooks/{webhook_id}/deliveries", "foreign-hub", "webhook", 404),
    R("GET /v1/webhooks/{webhook_id}/deliveries", "back-office", "webhook", 403),
    R("GET /v1/webhooks/{webhook_id}/deliveries", "legal", "webhook", 403),
    R("GET /v1/webhooks/{webhook_id}/deliveries", "lead-member", "webhook", 422,
      query={"cursor": "not-a-cursor"}),
    # -- operators: the metrics (loopback callers here: no token set) and the payload codec --
    *everyone("GET /metrics", 200),
    R("GET /metrics", "lead-signatory", "none", 200, note="loopback; with a token set, only it"),
    *no_key("POST /v1/codec/encode", json=CODEC),
    R("POST /v1/codec/encode", "back-office", "none", 200, json=CODEC),
    R("POST /v1/codec/encode", "legal", "none", 403, json=CODEC),
    R("POST /v1/codec/encode", "lead-member", "none", 403, json=CODEC),
    R("POST /v1/codec/encode", "foreign-hub", "none", 403, json=CODEC),
    *no_key("POST /v1/codec/decode", json=CODEC),
    R("POST /v1/codec/decode", "back-office", "none", 200, json=CODEC),
    R("POST /v1/codec/decode", "legal", "none", 403, json=CODEC),
    R("POST /v1/codec/decode", "lead-signatory", "none", 403, json=CODEC),
    R("POST /v1/codec/decode", "foreign-hub", "none", 403, json=CODEC),
    # -- the framework agreement (an edition in consultation; its later steps in the e2e test)
    *[row for route in (
        "GET /v1/framework-agreements/{edition_id}",
        "GET /v1/framework-agreements/{edition_id}/events",
        "GET /v1/framework-agreements/{edition_id}/clauses",
        "GET /v1/framework-agreements/{edition_id}/versions",
        "GET /v1/framework-agreements/{edition_id}/comments",
        "GET /v1/framework-agreements/{edition_id}/amendments",
        "GET /v1/framework-agreements/{edition_id}/amendments/{amendment_id}/votes",
        "GET /v1/framework-agreements/{edition_id}/tallies",
        "GET /v1/framework-agreements/{edition_id}/decisions",
        "GET /v1/framework-agreements/{edition_id}/signatures",
        "GET /v1/framework-agreements/{edition_id}/register",
        "GET /v1/framework-agreements/{edition_id}/withdrawals",
    ) for row in (
        *no_key(route, "framework"),
        R(route, "lead-member", "framework", 200),
        R(route, "foreign-hub", "framework", 200),
        R(route, "back-office", "framework", 200),
        R(route, "legal", "framework", 200),
        R(route, "lead-member", "unknown-edition", 404),
    )],
    *no_key("GET /v1/framework-agreements"),
    R("GET /v1/framework-agreements", "lead-member", "framework", 200),
    R("GET /v1/framework-agreements", "foreign-hub", "framework", 200),
    R("GET /v1/framework-agreements", "back-office", "framework", 200),
    R("GET /v1/framework-agreements", "legal", "framework", 200),
    *no_key("POST /v1/framework-agreements", json=FCA),
    R("POST /v1/framework-agreements", "back-office", "none", 201, json=FCA),
    R("POST /v1/framework-agreements", "lead-member", "none", 403, json=FCA),
    R("POST /v1/framework-agreements", "foreign-signatory", "none", 403, json=FCA),
    R("POST /v1/framework-agreements", "legal", "none", 403, json=FCA),
    R("POST /v1/framework-agreements", "back-office", "none", 422, json={"label": "a b"}),
    *no_key("GET /v1/framework-agreements/{edition_id}/versions/{version}", "framework"),
    *[R("GET /v1/framework-agreements/{edition_id}/versions/{version}", c, "framework", 404,
        note="no final version yet")
      for c in ("lead-member", "foreign-hub", "back-office", "legal")],
    *[row for route, body in (
        ("POST /v1/framework-agreements/{edition_id}/comments", FCA_COMMENT),
        ("POST /v1/framework-agreements/{edition_id}/amendments", FCA_AMENDMENT),
        ("POST /v1/framework-agreements/{edition_id}/amendments/{amendment_id}/votes",
         {"choice": "for"}),
    ) for row in (
        *no_key(route, "framework", json=body),
        *[R(route, c, "fresh:framework", 200 if "votes" in route else 201, json=body)
          for c in ("lead-member", "foreign-signatory")],
        R(route, "foreign-hub", "framework", 422, json={"choice": "maybe", "text": ""}),
        R(route, "back-office", "framework", 403, json=body),
        R(route, "legal", "framework", 403, json=body),
    )],
    *no_key("POST /v1/framework-agreements/{edition_id}/deadline", "framework", json=FCA_DEADLINE),
    R("POST /v1/framework-agreements/{edition_id}/deadline", "back-office", "fresh:framework", 200,
      json=FCA_DEADLINE),
    R("POST /v1/framework-agreements/{edition_id}/deadline", "back-office", "framework", 422,
      json={"deadline": "soon"}),
    *[R("POST /v1/framework-agreements/{edition_id}/deadline", c, "framework", 403,
        json=FCA_DEADLINE) for c in ("lead-member", "foreign-hub", "legal")],
    # the framework agreement's staff pages (signed-in behaviour: tests/e2e)
    *page("GET /framework", "none", 303),
    *page("GET /framework/{edition_id}", "framework", 303),
    *page("GET /framework/{edition_id}/consolidation", "framework", 303),
    *page("GET /framework/{edition_id}/register", "framework", 303),
    *page("POST /framework/{edition_id}/amendments/{amendment_id}/decision", "framework", 303,
          form={"csrf_token": "x", "decision": "accept", "reason": "r"}),
    *page("POST /framework/{edition_id}/final-version", "framework", 303,
          form={"csrf_token": "x"}),
    # steps of later states: not possible in consultation for anyone (409 before 403)
    *[row for route, body in (
        ("POST /v1/framework-agreements/{edition_id}/amendments/{amendment_id}/decision",
         {"decision": "accept", "reason": "r"}),
        ("POST /v1/framework-agreements/{edition_id}/final-version", None),
        ("POST /v1/framework-agreements/{edition_id}/signatures", WRONG_SHA),
        ("POST /v1/framework-agreements/{edition_id}/withdrawals", None),
    ) for row in (
        *no_key(route, "framework", json=body),
        *[R(route, c, "framework", 409, json=body)
          for c in ("lead-member", "lead-signatory", "foreign-signatory", "back-office", "legal")],
    )],
]
# fmt: on

PREPARE_CONCURRENCY = 4
ALIASES = {"sign-link": "signing", "used-link": "delivery"}
HTML_PAGES = {"GET /l/{token}", "POST /l/{token}", *PAGE_ROUTES}  # errors as HTML pages
LISTS = {
    "GET /v1/cases": "case_id",
    "GET /v1/webhooks": "webhook_id",
    "GET /v1/documents": "doc_id",
}
FRAMEWORK_DOCS = ("/docs", "/redoc")  # Swagger UI / ReDoc and their assets


# -- the app's routes ---------------------------------------------------------------------------
@lru_cache(maxsize=1)
def app_routes() -> tuple[tuple[str, str], ...]:
    """Every (method, path template) the app serves, in matching order, minus HEAD/OPTIONS
    and the framework's docs pages."""
    app = create_app(Settings().replace(secret_key="matrix"), run_migrations=False)
    try:  # FastAPI ≥ 0.16x keeps included routers lazily; this flattens them
        from fastapi.routing import iter_route_contexts

        routes: list[Any] = list(iter_route_contexts(app.routes))
    except ImportError:  # pragma: no cover - older FastAPI lists its routes flat
        routes = list(app.routes)
    found: list[tuple[str, str]] = []
    for route in routes:
        original = getattr(route, "original_route", route)
        path = route.path
        if path is None or path.startswith(FRAMEWORK_DOCS):
            continue
        if isinstance(original, Mount):
            found.append(("GET", f"{path}/{{path:path}}"))
            continue
        if path.startswith(ONE_STEP) and path != STEPS:
            continue  # each step's documented path: the same handler as STEPS, the same rows
        for method in sorted(set(route.methods or ()) - {"HEAD", "OPTIONS"}):
            found.append((method, path))
    return tuple(found)


STEPS = "/v1/cases/{case_id}/actions/{action}"
ONE_STEP = "/v1/cases/{case_id}/actions/"


def served_by(method: str, path: str) -> str | None:
    """The route template that answers ``method path`` (the first match, as Starlette picks)."""
    for m, template in app_routes():
        if m == method and compile_path(template)[0].fullmatch(path):
            return f"{m} {template}"
    return None


# -- objects --------------------------------------------------------------------------------------
def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


class World:
    """The objects the rows act on, made on first use (``fresh:`` ones for each row)."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.cache: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.pool: dict[str, list[dict[str, Any]]] = {}  # fresh objects made ahead
        self.webhooks: list[tuple[str, str]] = []  # (key name, webhook id) to delete afterwards
        self._revoked: str | None = None

    async def get(self, name: str) -> dict[str, Any]:
        fresh = name.startswith("fresh:")
        base = ALIASES.get(name.removeprefix("fresh:"), name.removeprefix("fresh:"))
        builder: Callable[[], Any] = getattr(self, "_" + base.replace("-", "_"))
        if fresh:
            made = self.pool.get(base)
            return made.pop() if made else await builder()  # type: ignore[no-any-return]
        if base not in self.cache:  # a future, so builders running together share one object
            self.cache[base] = asyncio.ensure_future(builder())
        return await self.cache[base]

    async def prepare(self, rows: list[Row]) -> None:
        """Make the objects of ``rows`` ahead, side by side (cases take a few engine steps
        each): every shared one, and one of a fresh kind per row that asks for it. A build
        that fails here fails again, with its error, in the rows that need the object."""

        # A few at a time: an API request holds a pooled store connection while it awaits
        # the engine, and the projection activities need connections from the same pool.
        slots = asyncio.Semaphore(PREPARE_CONCURRENCY)

        async def shared(name: str) -> None:
            async with slots:
                await self.get(name)

        async def fresh(name: str) -> None:
            base = ALIASES.get(name, name)
            async with slots:
                made = await getattr(self, "_" + base.replace("-", "_"))()
            self.pool.setdefault(base, []).append(made)

        for caller in sorted({row.caller for row in rows}):
            await self.headers(caller)
        jobs = [shared(name) for name in sorted({r.obj for r in rows if ":" not in r.obj})]
        jobs += [fresh(r.obj.removeprefix("fresh:")) for r in rows if r.obj.startswith("fresh:")]
        await asyncio.gather(*jobs, return_exceptions=True)

    async def headers(self, caller: str) -> dict[str, str]:
        if caller == "anonymous":
            return {}
        if caller == "unknown-key":
            return bearer("dfk_000000000000_" + "x" * 43)
        if caller == "revoked-key":
            if self._revoked is None:
                url = self.stack.settings.database_url
                raw = create_key(url, Role.hub_member, LEAD, f"{MARK} revoked")
                assert revoke_key(url, raw.split("_")[1])
                self._revoked = raw
            return bearer(self._revoked)
        if caller == "link-token-as-key":
            return bearer((await self.get("sign-link"))["token"])
        return self.stack.auth(KEYS[caller])

    def record(self, row: Row, response: httpx.Response) -> None:
        """Remember what a row made, so the module leaves the shared stack as it found it."""
        if row.route == "POST /v1/webhooks" and response.status_code == 201:
            self.webhooks.append((KEYS[row.caller], response.json()["id"]))

    async def cleanup(self) -> None:
        for who, webhook_id in self.webhooks:
            await self.stack.http.delete(f"/v1/webhooks/{webhook_id}", headers=self.stack.auth(who))
        with session_scope(self.stack.settings.database_url) as session:
            for hub in session.exec(select(Hub).where(col(Hub.id).startswith(f"{MARK}-"))):
                session.delete(hub)

    # -- helpers --
    async def act(self, who: str, case_id: str, action: str, **request: Any) -> dict[str, Any]:
        r = await self.stack.http.post(
            f"/v1/cases/{case_id}/actions/{action}", headers=self.stack.auth(who), **request
        )
        assert r.status_code == 200, f"{action} by {who}: {r.status_code} {r.text}"
        return r.json()  # type: ignore[no-any-return]

    async def link_token(self, case_id: str, action: str) -> str:
        """The token of the link page URL (``…/l/<token>``) the dev outbox holds for a case."""
        for _ in range(100):
            links = [
                m["link"]
                for m in read_outbox(self.stack.settings.outbox_dir, case_id)
                if m["action"] == action and "/l/" in m["link"]
            ]
            if links:
                return links[0].rsplit("/", 1)[-1]
            await asyncio.sleep(0.05)
        raise AssertionError(f"no {action} link in the outbox for {case_id}")

    def hub_profile(self, hub_id: str) -> dict[str, Any]:
        with session_scope(self.stack.settings.database_url) as session:
            hub = session.get(Hub, hub_id)
            assert hub is not None, hub_id
            return dict(hub.profile)

    # -- the framework agreement: an edition in consultation, with a comment and an amendment
    async def _framework(self) -> dict[str, Any]:
        auth = self.stack.auth("back_office")
        r = await self.stack.http.post("/v1/framework-agreements", json=FCA({}), headers=auth)
        assert r.status_code == 201, r.text
        edition_id = r.json()["id"]
        base = f"/v1/framework-agreements/{edition_id}"
        clause = (await self.stack.http.get(f"{base}/clauses", headers=auth)).json()["items"][0]
        member = self.stack.auth(KEYS["lead-member"])
        body = {"clause": clause["number"], "text": "Replacement", "rationale": "matrix"}
        r = await self.stack.http.post(f"{base}/amendments", json=body, headers=member)
        assert r.status_code == 201, r.text
        return {
            "edition_id": edition_id,
            "clause": clause["number"],
            "amendment_id": r.json()["data"]["amendment_id"],
            "version": "final",
        }

    async def _unknown_edition(self) -> dict[str, Any]:
        return {"edition_id": "fca-unknown", "amendment_id": 1, "version": "final"}

    # -- cases (led by tagus-ai, inviting po-valley-ai) --
    async def _partnering(self) -> dict[str, Any]:
        title = f"{MARK} {secrets.token_hex(6)}"
        case = await start_case(self.stack, title=title)
        assert case["state"] == "partnering", case
        return {"case_id": case["id"], "title": title}

    async def _legal_review(self) -> dict[str, Any]:
        case = await self._partnering()
        view = await self.act(KEYS["partner-member"], case["case_id"], "accept-invitation")
        assert view["state"] == "legal_review", view["state"]
        draft = view["draft"]
        return case | {"doc_id": draft["document_id"], "sha": draft["sha256"]}

    async def _declined(self) -> dict[str, Any]:
        """In legal review with spree-trust as partner; po-valley-ai declined its invitation."""
        title = f"{MARK} {secrets.token_hex(6)}"
        case = await start_case(self.stack, title=title, invited_hub_ids=[PARTNER, "spree-trust"])
        await self.act(KEYS["partner-member"], case["id"], "decline-invitation", json=REASON)
        view = await self.act("hub_member:spree-trust", case["id"], "accept-invitation")
        assert view["state"] == "legal_review", view["state"]
        return {"case_id": case["id"], "doc_id": view["draft"]["document_id"]}

    async def _unselected(self) -> dict[str, Any]:
        """A matchmaking case that proposed po-valley-ai as a candidate, which declined."""
        r = await self.stack.http.post(
            "/v1/cases",
            headers=self.stack.auth(KEYS["lead-member"]),
            json={
                "scenario": "matchmaking",
                "title": f"{MARK} {secrets.token_hex(6)}",
                "need": "An assessment of trustworthy AI.",
                "local_player": LOCAL_PLAYER,
                "wanted_services": ["trustworthy_ai_assessment"],
            },
        )
        assert r.status_code == 201, r.text
        cid = r.json()["id"]
        await self.act(KEYS["lead-member"], cid, "select-candidates", json={"hub_ids": [PARTNER]})
        view = await self.act(KEYS["partner-member"], cid, "decline-consent", json=REASON)
        assert view["parties"][-1]["role"] == "not_selected", view["parties"]
        return {"case_id": cid}

    async def _signing(self) -> dict[str, Any]:
        case = await self._legal_review()
        view = await self.act("legal", case["case_id"], "approve-draft")
        assert view["state"] == "signing", view["state"]
        return case | {"token": await self.link_token(case["case_id"], "sign")}

    async def _delivery(self) -> dict[str, Any]:
        """Signed by all three parties (the client through its link, now used); the partner's
        deliverable is open."""
        case = await self._signing()
        sign = {"document_sha256": case["sha"]}
        for who in ("lead-signatory", "partner-signatory"):
            await self.act(KEYS[who], case["case_id"], "sign", json=sign)
        r = await self.stack.http.post(f"/v1/links/{case['token']}", json=sign)
        assert r.status_code == 200 and r.json()["state"] == "delivery", r.text
        return case

    async def _delivered(self) -> dict[str, Any]:
        """In delivery, the partner's deliverable submitted with a file."""
        case = await self._delivery()
        view = await self.act(
            KEYS["partner-member"],
            case["case_id"],
            "submit-deliverable",
            data=DELIVERABLE_FORM,
            files=UPLOAD,
        )
        (deliverable,) = [d for d in view["deliverables"] if d["file"]]
        return case | {"deliverable_id": deliverable["id"]}

    async def _cancelled(self) -> dict[str, Any]:
        case = await self._partnering()
        await self.act(KEYS["lead-member"], case["case_id"], "cancel", json=REASON)
        return case

    async def _foreign_case(self) -> dict[str, Any]:
        """The outsider's own case, paired with a document of one of ours."""
        case = await start_case(
            self.stack,
            KEYS["foreign-hub"],
            title=f"{MARK} outsider",
            invited_hub_ids=["spree-trust"],
        )
        return {"case_id": case["id"], "doc_id": (await self.get("legal-review"))["doc_id"]}

    async def _missing_case(self) -> dict[str, Any]:
        return {"case_id": "c-0000000000", "doc_id": "doc-000000000000", "deliverable_id": "d1"}

    async def _missing_doc(self) -> dict[str, Any]:
        return await self.get("legal-review") | {"doc_id": "doc-000000000000"}

    async def _adhoc_doc_in_case(self) -> dict[str, Any]:
        adhoc = await self.get("adhoc-doc")
        return await self.get("legal-review") | {"doc_id": adhoc["doc_id"]}

    async def _missing_deliverable(self) -> dict[str, Any]:
        return await self.get("delivered") | {"deliverable_id": "d9"}

    async def _no_deliverable(self) -> dict[str, Any]:
        return await self.get("partnering") | {"deliverable_id": "d1"}

    # -- links ("sign-link" is the signing case's client link, "used-link" the delivery's) --
    async def _unknown_link(self) -> dict[str, Any]:
        return {"token": "0" * 48, "sha": "0" * 64}

    # -- hubs, templates, documents outside cases, webhooks --
    async def _own_hub(self) -> dict[str, Any]:
        return {"hub_id": LEAD, "hub_body": self.hub_profile(LEAD)}

    async def _other_hub(self) -> dict[str, Any]:
        return {"hub_id": PARTNER, "hub_body": self.hub_profile(PARTNER)}

    async def _missing_hub(self) -> dict[str, Any]:
        hub_id = f"{MARK}-missing"
        return {"hub_id": hub_id, "hub_body": self.hub_profile(LEAD) | {"id": hub_id}}

    async def _new_hub(self) -> dict[str, Any]:
        suffix = secrets.token_hex(4)
        body = self.hub_profile(LEAD) | {
            "id": f"{MARK}-{suffix}",
            "name": f"Matrix Hub {suffix}",
            "short_name": f"Matrix {suffix}",
        }
        return {"hub_id": body["id"], "hub_body": body}

    async def _template(self) -> dict[str, Any]:
        return {"name": SPECIFIC}

    async def _missing_template(self) -> dict[str, Any]:
        return {"name": "no_such_template"}

    async def _adhoc_doc(self) -> dict[str, Any]:
        r = await self.stack.http.post(
            "/v1/documents", json=document_request(), headers=self.stack.auth("legal")
        )
        assert r.status_code == 201, r.text
        return {"doc_id": r.json()["id"]}

    async def _case_doc(self) -> dict[str, Any]:
        return {"doc_id": (await self.get("legal-review"))["doc_id"]}

    async def _webhook(self) -> dict[str, Any]:
        who = KEYS["lead-member"]
        r = await self.stack.http.post("/v1/webhooks", json=HOOK, headers=self.stack.auth(who))
        assert r.status_code == 201, r.text
        self.webhooks.append((who, r.json()["id"]))
        return {"webhook_id": r.json()["id"]}

    async def _deleted_webhook(self) -> dict[str, Any]:
        hook = await self._webhook()
        r = await self.stack.http.delete(
            f"/v1/webhooks/{hook['webhook_id']}", headers=self.stack.auth(KEYS["lead-member"])
        )
        assert r.status_code == 204, r.text
        return hook

    async def _missing_webhook(self) -> dict[str, Any]:
        return {"webhook_id": "wh-0000000000000000"}

    async def _none(self) -> dict[str, Any]:
        return {}

    async def _stylesheet(self) -> dict[str, Any]:
        return {"path": "staff.css"}


def selected_rows(items: list[pytest.Item]) -> list[Row]:
    """The rows this run will test (all of them, or those ``-k`` kept)."""
    params = (getattr(getattr(item, "callspec", None), "params", {}) for item in items)
    return [p["row"] for p in params if isinstance(p.get("row"), Row)]


@pytest.fixture(scope="module")
async def world(stack: Stack, request: pytest.FixtureRequest) -> AsyncIterator[World]:
    w = World(stack)
    await w.prepare(selected_rows(request.session.items))
    yield w
    await w.cleanup()


# -- the tests -----------------------------------------------------------------------------------
def fill(value: Any, obj: dict[str, Any]) -> Any:
    """A row's body or query with ``{key}`` placeholders taken from its object."""
    if callable(value):
        return value(obj)
    if isinstance(value, str):
        return value.format_map(obj) if "{" in value else value
    if isinstance(value, dict):
        return {k: fill(v, obj) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, obj) for v in value]
    return value


def url_for(row: Row, obj: dict[str, Any]) -> tuple[str, str]:
    method, template = row.route.split(" ", 1)
    values = obj | ({"action": row.action} if row.action else {})
    path = re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: str(values[m.group(1)]), template)
    return method, path


def _param(row: Row) -> Any:
    marks = [pytest.mark.xfail(strict=True, reason=row.bug)] if row.bug else []
    return pytest.param(row, id=row.id, marks=marks)


@pytest.mark.e2e
@pytest.mark.parametrize("row", [_param(r) for r in TABLE])
async def test_authorization_matrix(row: Row, world: World) -> None:
    obj = await world.get(row.obj)
    method, path = url_for(row, obj)
    assert served_by(method, path) == row.route, f"{method} {path} is not served by {row.route}"
    request: dict[str, Any] = {"headers": await world.headers(row.caller)}
    if row.query:
        request["params"] = fill(row.query, obj)
    if row.json is not None:
        request["json"] = fill(row.json, obj)
    if row.content is not None:
        request["content"] = row.content
        request["headers"] |= {"Content-Type": "application/json"}
    if row.form is not None:
        request["data"] = fill(row.form, obj)
    if row.files is not None:
        request["files"] = row.files
    r = await world.stack.http.request(method, path, **request)
    world.record(row, r)

    assert r.status_code == row.status, f"{method} {path}: {r.status_code} {r.text[:400]}"
    content_type = r.headers.get("content-type", "")
    if r.status_code >= 400:
        if row.route in HTML_PAGES:
            assert content_type.startswith("text/html"), content_type
        else:
            assert content_type.startswith("application/problem+json"), content_type
            assert r.json()["status"] == r.status_code
    if row.listed is not None:
        key = LISTS[row.route]
        ids = [item["id"] for item in r.json()["items"]]
        assert (obj[key] in ids) is row.listed, f"{obj[key]} in {ids}: expected {row.listed}"


def test_every_route_has_rows() -> None:
    """A route the app serves without rows here fails: write down who may call it first."""
    routes = {f"{m} {p}" for m, p in app_routes()}
    covered = {row.route for row in TABLE}
    assert not routes - covered, (
        "routes without rows in the authorization matrix (add rows to TABLE in "
        f"tests/api/test_authorization_matrix.py): {sorted(routes - covered)}"
    )
    assert not covered - routes, f"rows for routes the app does not serve: {covered - routes}"
    for route in sorted(routes):
        callers = {row.caller for row in TABLE if row.route == route}
        missing = [group for group in REQUIRED_CALLERS if not callers & set(group)]
        assert not missing, f"{route}: no row for a caller among {missing}"


def test_table_is_well_formed() -> None:
    ids = [row.id for row in TABLE]
    assert len(ids) == len(set(ids)), {i for i in ids if ids.count(i) > 1}
    builders = {name for name in dir(World) if name.startswith("_") and not name.startswith("__")}
    for row in TABLE:
        assert row.caller in CALLERS, row.id
        name = row.obj.removeprefix("fresh:")
        assert "_" + ALIASES.get(name, name).replace("-", "_") in builders, row.id
        assert (row.action is not None) == ("{action}" in row.route), row.id
        assert row.listed is None or row.route in LISTS, row.id
