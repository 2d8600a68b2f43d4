"""The framework agreement: ``/v1/framework-agreements/...`` (editions, clauses, versions,
comments, amendments, votes, tallies, decisions, signatures, the register, withdrawals).

Reads come from the store and are open to every principal (the register is public to every
hub). Steps go to the edition's workflow as updates; the order of refusals is DESIGN.md's:
unknown edition 404 → not possible now 409 (with ``allowed_actions``; a comment or vote after
the consultation's deadline names it) → not this caller's 403 → bad body 422.
"""

from __future__ import annotations

import asyncio
import base64
import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session
from temporalio.client import WithStartWorkflowOperation, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.deps import CallerDep, SessionDep, SettingsDep, TemporalClients, TemporalDep
from api.idempotency import claim
from api.problems import ApiError, Problem
from documents.files import files_for
from domain.actions import signing_authority
from domain.cases import HUB_ROLES, Caller, Role
from domain.framework import (
    DEFAULT_CONSULTATION_DAYS,
    DEFAULT_NOTICE_DAYS,
    DEFAULT_QUORUM,
    FRAMEWORK_TEMPLATE,
    FrameworkRefused,
    FrameworkRequest,
    FrameworkResult,
)
from domain.framework_lifecycle import FRAMEWORK_ACTIONS, enabled_actions
from domain.hubs import HubProfile
from store import framework as rows
from store.db import as_utc
from store.models import Document, Hub, Principal
from workflows.framework import FrameworkAgreementWorkflow, FrameworkStart

router = APIRouter(prefix="/v1/framework-agreements", tags=["framework agreement"])
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "content": {"application/problem+json": {}}}
    for code in (401, 403, 404, 409, 422, 503)
}
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
UPDATE_TIMEOUT_SECONDS = 60
WHO = {  # who may take each action, beyond the lifecycle enabling it
    "comment": HUB_ROLES,
    "propose_amendment": HUB_ROLES,
    "vote": HUB_ROLES,
    "extend_deadline": {Role.back_office},
    "decide_amendment": {Role.back_office},
    "publish_final": {Role.back_office},
    "sign": {Role.hub_signatory},
    "give_notice": {Role.hub_signatory},
}
assert set(WHO) == set(FRAMEWORK_ACTIONS)
Limit = Annotated[int, Query(ge=1, le=100)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# -- bodies -----------------------------------------------------------------------------------
class EditionCreate(_Body):
    label: str = Field(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9][A-Za-z0-9.-]*$")
    quorum: int = Field(default=DEFAULT_QUORUM, ge=2, le=100)
    notice_days: int = Field(default=DEFAULT_NOTICE_DAYS, ge=0, le=3650)
    consultation_days: int = Field(default=DEFAULT_CONSULTATION_DAYS, ge=1, le=365)


class CommentCreate(_Body):
    clause: str = Field(min_length=1, max_length=10)
    text: str = Field(min_length=1, max_length=5000)
    parent_id: int | None = Field(default=None, ge=1)


class AmendmentCreate(_Body):
    clause: str = Field(min_length=1, max_length=10)
    text: str = Field(min_length=1, max_length=5000)
    rationale: str = Field(min_length=1, max_length=2000)


class VoteCast(_Body):
    choice: Literal["for", "against", "abstain"]


class DecisionCreate(_Body):
    decision: Literal["accept", "reject"]
    reason: str = Field(min_length=1, max_length=2000)


class DeadlineExtend(_Body):
    deadline: datetime


class SignatureCreate(_Body):
    document_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


# -- views ------------------------------------------------------------------------------------
class EditionView(BaseModel):
    id: str
    label: str
    state: str
    quorum: int
    notice_days: int
    members: int
    opened_at: str
    deadline: str
    draft_sha256: str
    final_sha256: str | None
    final_document_id: str | None
    in_force_at: str | None
    signatories: int
    allowed_actions: list[str]


class ItemList(BaseModel):
    items: list[dict[str, Any]]
    next_cursor: str | None


class EditionList(BaseModel):
    items: list[EditionView]
    next_cursor: str | None


class StepResult(BaseModel):
    state: str
    seq: int
    changed: bool
    data: dict[str, Any]


# -- helpers ----------------------------------------------------------------------------------
def _edition(session: Session, edition_id: str) -> rows.FrameworkEdition:
    row = session.get(rows.FrameworkEdition, edition_id)
    if row is None:
        raise ApiError(404, f"no framework agreement edition {edition_id}")
    return row


def _allowed(row: rows.FrameworkEdition, caller: Caller) -> list[str]:
    return [a.replace("_", "-") for a in enabled_actions(row) if caller.role in WHO[a]]


def _view(session: Session, row: rows.FrameworkEdition, caller: Caller) -> EditionView:
    register = rows.parties(session, row.id)
    return EditionView(
        id=row.id,
        label=row.label,
        state=row.state,
        quorum=row.quorum,
        notice_days=row.notice_days,
        members=len(row.members),
        opened_at=_iso(row.opened_at) or "",
        deadline=_iso(row.deadline) or "",
        draft_sha256=row.draft_sha256,
        final_sha256=row.final_sha256,
        final_document_id=row.final_document_id,
        in_force_at=_iso(row.in_force_at),
        signatories=sum(1 for p in register if p.kind == "signatory"),
        allowed_actions=_allowed(row, caller),
    )


def _cursor(value: int) -> str:
    return base64.urlsafe_b64encode(str(value).encode()).decode().rstrip("=")


def _after(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        return int(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
    except (ValueError, UnicodeDecodeError):
        raise ApiError(
            422,
            "cursor is not one this API handed out",
            errors=[{"field": "cursor", "message": "invalid"}],
        ) from None


def _page(items: list[dict[str, Any]], limit: int, key: str) -> ItemList:
    more = len(items) > limit
    items = items[:limit]
    return ItemList(items=items, next_cursor=_cursor(items[-1][key]) if more else None)


def _iso(moment: datetime | None) -> str | None:
    value = as_utc(moment)
    return value.isoformat() if value else None


CONSULTATION_STEPS = ("comment", "propose_amendment", "vote")


def _check(row: rows.FrameworkEdition, action: str, caller: Caller) -> None:
    """409 when the lifecycle does not enable ``action`` now (a consultation step after the
    deadline names it), 403 when it is not this caller's."""
    enabled = enabled_actions(row)
    deadline = as_utc(row.deadline)
    assert deadline is not None
    if action in CONSULTATION_STEPS and (action not in enabled or datetime.now(UTC) >= deadline):
        raise ApiError(
            409,
            f"the consultation closed at its deadline {deadline.isoformat()}; "
            f"{action.replace('_', ' ')} is no longer possible",
            title="Consultation closed",
            deadline=deadline.isoformat(),
            allowed_actions=_allowed(row, caller),
        )
    if action not in enabled:
        raise ApiError(
            409,
            f"{action.replace('_', '-')} is not possible while edition {row.label} is in "
            f"{row.state}",
            allowed_actions=_allowed(row, caller),
        )
    if caller.role not in WHO[action]:
        raise ApiError(
            403,
            f"{action.replace('_', '-')} is for {FRAMEWORK_ACTIONS[action]}s",
            allowed_actions=_allowed(row, caller),
        )


async def _send(
    temporal: TemporalClients,
    session: Session,
    row: rows.FrameworkEdition,
    request: FrameworkRequest,
) -> StepResult:
    session.close()
    client = await temporal.get()
    handle = client.get_workflow_handle(f"framework-{row.id}")
    try:
        result: FrameworkResult = await asyncio.wait_for(
            handle.execute_update(request.action, request, result_type=FrameworkResult),
            UPDATE_TIMEOUT_SECONDS,
        )
    except WorkflowUpdateFailedError as exc:
        cause: BaseException | None = exc.cause
        while cause is not None and not isinstance(cause, ApplicationError):
            cause = cause.__cause__
        if isinstance(cause, ApplicationError) and cause.type == "ActionRefused" and cause.details:
            raise FrameworkRefused.from_dict(dict(cause.details[0])) from None
        raise ApiError(409, str(cause or exc)) from None
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise ApiError(404, f"edition {row.id} has no running workflow") from None
        raise ApiError(503, "the workflow engine is not reachable now; retry the step") from None
    except TimeoutError:
        raise ApiError(504, "the step was sent but not confirmed in time") from None
    return StepResult(**result.model_dump())


async def take_step(
    session: Session,
    temporal: TemporalClients,
    caller: Caller,
    edition_id: str,
    action: str,
    body: dict[str, Any],
    **extra: str,
) -> StepResult:
    row = _edition(session, edition_id)
    _check(row, action, caller)
    request = FrameworkRequest(
        action=action, actor=caller.actor, hub_id=caller.hub_id, body=body, **extra
    )
    return await _send(temporal, session, row, request)


# -- editions ---------------------------------------------------------------------------------
@router.post("", status_code=201, response_model=EditionView, responses=ERRORS)
async def open_edition(
    body: EditionCreate,
    response: Response,
    session: SessionDep,
    caller: CallerDep,
    settings: SettingsDep,
    temporal: TemporalDep,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> EditionView:
    """Open an edition (back office): the framework template's clauses go to consultation."""
    if caller.role != Role.back_office:
        raise ApiError(403, "only the back office opens a framework agreement edition")
    edition_id = "fca-" + re.sub(r"[^a-z0-9-]", "-", body.label.lower())
    if idempotency_key:
        claim(
            session,
            caller.principal_id,
            idempotency_key,
            "framework",
            body.model_dump(),
            edition_id,
        )
    existing = session.get(rows.FrameworkEdition, edition_id)
    if existing is None:
        start = FrameworkStart(
            edition_id=edition_id,
            label=body.label,
            quorum=body.quorum,
            notice_days=body.notice_days,
            consultation_days=body.consultation_days,
            opened_by=caller.actor,
        )
        session.close()
        operation = WithStartWorkflowOperation(
            FrameworkAgreementWorkflow.run,
            start,
            id=f"framework-{edition_id}",
            task_queue=settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        client = await temporal.get()
        try:
            _ = await asyncio.wait_for(
                client.execute_update_with_start_workflow(
                    FrameworkAgreementWorkflow.open_edition, start_workflow_operation=operation
                ),
                UPDATE_TIMEOUT_SECONDS,
            )
        except WorkflowUpdateFailedError as exc:
            raise ApiError(422, f"the edition could not be opened: {exc.cause}") from None
    response.headers["Location"] = f"/v1/framework-agreements/{edition_id}"
    return _view(session, _edition(session, edition_id), caller)


@router.get("", response_model=EditionList, responses=ERRORS)
def list_editions(
    session: SessionDep, caller: CallerDep, limit: Limit = 20, cursor: str | None = None
) -> EditionList:
    """Every edition, newest first."""
    found = rows.editions(session)
    start = _after(cursor)
    page = found[start : start + limit]
    more = start + limit < len(found)
    return EditionList(
        items=[_view(session, r, caller) for r in page],
        next_cursor=_cursor(start + limit) if more else None,
    )


@router.get("/{edition_id}", response_model=EditionView, responses=ERRORS)
def read_edition(edition_id: str, session: SessionDep, caller: CallerDep) -> EditionView:
    return _view(session, _edition(session, edition_id), caller)


@router.get("/{edition_id}/events", response_model=ItemList, responses=ERRORS)
def list_events(
    edition_id: str,
    session: SessionDep,
    caller: CallerDep,
    limit: Limit = 20,
    cursor: str | None = None,
) -> ItemList:
    """The edition's hash-chained events, oldest first."""
    _edition(session, edition_id)
    found = rows.events(session, edition_id, _after(cursor), limit + 1)
    items = [
        {
            "seq": e.seq,
            "type": e.type,
            "actor": e.actor,
            "at": _iso(e.at),
            "data": e.data,
            "prev": e.prev,
            "hash": e.hash,
        }
        for e in found
    ]
    return _page(items, limit, "seq")


# -- clauses and versions ---------------------------------------------------------------------
@router.get("/{edition_id}/clauses", response_model=ItemList, responses=ERRORS)
def list_clauses(
    edition_id: str,
    session: SessionDep,
    caller: CallerDep,
    version: Literal["draft", "final"] = "draft",
) -> ItemList:
    """The numbered clauses of the draft (or of the final version), each with its SHA-256."""
    _edition(session, edition_id)
    items = [
        {"number": c.number, "section": c.section, "text": c.text, "sha256": c.sha256}
        for c in rows.clauses(session, edition_id, version)
    ]
    return ItemList(items=items, next_cursor=None)


@router.get("/{edition_id}/versions", response_model=ItemList, responses=ERRORS)
def list_versions(edition_id: str, session: SessionDep, caller: CallerDep) -> ItemList:
    row = _edition(session, edition_id)
    items: list[dict[str, Any]] = [{"version": "draft", "sha256": row.draft_sha256}]
    if row.final_sha256:
        items.append(
            {
                "version": "final",
                "sha256": row.final_sha256,
                "document_id": row.final_document_id,
                "download": f"/v1/framework-agreements/{row.id}/versions/final",
            }
        )
    return ItemList(items=items, next_cursor=None)


@router.get(
    "/{edition_id}/versions/{version}",
    response_class=FileResponse,
    responses={**ERRORS, 200: {"content": {DOCX: {}}}},
)
def download_version(
    edition_id: str, version: str, session: SessionDep, caller: CallerDep, settings: SettingsDep
) -> FileResponse:
    """The final version as rendered (.docx): the document whose SHA-256 hubs sign."""
    row = _edition(session, edition_id)
    if version != "final" or not row.final_document_id:
        raise ApiError(404, f"edition {edition_id} has no rendered {version} version")
    doc = session.get(Document, row.final_document_id)
    if doc is None:
        raise ApiError(404, "the final version's document is not in the store")
    path = files_for(settings).local_path(doc.path)
    return FileResponse(path, media_type=DOCX, filename=f"{doc.id}.docx")


# -- comments ---------------------------------------------------------------------------------
@router.get("/{edition_id}/comments", response_model=ItemList, responses=ERRORS)
def list_comments(
    edition_id: str,
    session: SessionDep,
    caller: CallerDep,
    clause: str | None = None,
    limit: Limit = 20,
    cursor: str | None = None,
) -> ItemList:
    """Comments oldest first (``clause`` filters); a reply names its ``parent_id``."""
    _edition(session, edition_id)
    found = rows.comments(session, edition_id, _after(cursor), limit + 1, clause)
    items = [
        {
            "id": c.id,
            "clause": c.clause,
            "parent_id": c.parent_id,
            "hub_id": c.hub_id,
            "text": c.text,
            "at": _iso(c.at),
        }
        for c in found
    ]
    return _page(items, limit, "id")


def _keyed(
    session: Session, caller: Caller, key: str | None, route: str, body: BaseModel
) -> dict[str, Any]:
    """The body for the workflow, with the caller's ``Idempotency-Key`` (the same key and body
    give the first answer, recording nothing; the same key with another body is a 422)."""
    data = body.model_dump()
    if key:
        claim(session, caller.principal_id, key, route, data, key)
        data["key"] = f"{caller.principal_id}:{key}"
    return data


@router.post("/{edition_id}/comments", status_code=201, response_model=StepResult, responses=ERRORS)
async def add_comment(
    edition_id: str,
    body: CommentCreate,
    session: SessionDep,
    caller: CallerDep,
    temporal: TemporalDep,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> StepResult:
    """A member hub comments on a clause, or replies to a comment (``parent_id``)."""
    data = _keyed(session, caller, idempotency_key, f"framework-comment:{edition_id}", body)
    return await take_step(session, temporal, caller, edition_id, "comment", data)


# -- amendments, votes, tallies, decisions ----------------------------------------------------
def _amendment(a: rows.FrameworkAmendment) -> dict[str, Any]:
    return {
        "id": a.id,
        "clause": a.clause,
        "hub_id": a.hub_id,
        "text": a.text,
        "rationale": a.rationale,
        "at": _iso(a.at),
        "tally": {"for": a.votes_for, "against": a.votes_against, "abstain": a.votes_abstain},
        "decision": a.decision,
        "reason": a.reason,
        "decided_at": _iso(a.decided_at),
    }


@router.get("/{edition_id}/amendments", response_model=ItemList, responses=ERRORS)
def list_amendments(
    edition_id: str,
    session: SessionDep,
    caller: CallerDep,
    limit: Limit = 20,
    cursor: str | None = None,
) -> ItemList:
    _edition(session, edition_id)
    found = rows.amendments(session, edition_id, _after(cursor), limit + 1)
    return _page([_amendment(a) for a in found], limit, "id")


@router.post(
    "/{edition_id}/amendments", status_code=201, response_model=StepResult, responses=ERRORS
)
async def propose_amendment(
    edition_id: str,
    body: AmendmentCreate,
    session: SessionDep,
    caller: CallerDep,
    temporal: TemporalDep,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> StepResult:
    """A member hub proposes replacement text for a clause, with its rationale."""
    data = _keyed(session, caller, idempotency_key, f"framework-amendment:{edition_id}", body)
    return await take_step(session, temporal, caller, edition_id, "propose_amendment", data)


@router.get(
    "/{edition_id}/amendments/{amendment_id}/votes", response_model=ItemList, responses=ERRORS
)
def list_votes(
    edition_id: str, amendment_id: int, session: SessionDep, caller: CallerDep
) -> ItemList:
    _edition(session, edition_id)
    items = [
        {"hub_id": v.hub_id, "choice": v.choice, "at": _iso(v.at)}
        for v in rows.votes(session, edition_id, amendment_id)
    ]
    return ItemList(items=items, next_cursor=None)


@router.post(
    "/{edition_id}/amendments/{amendment_id}/votes", response_model=StepResult, responses=ERRORS
)
async def vote(
    edition_id: str,
    amendment_id: int,
    body: VoteCast,
    session: SessionDep,
    caller: CallerDep,
    temporal: TemporalDep,
) -> StepResult:
    """The caller's hub votes (one vote per hub, changeable until the deadline); the answer
    carries the amendment's tally."""
    return await take_step(
        session,
        temporal,
        caller,
        edition_id,
        "vote",
        {"amendment_id": amendment_id, "choice": body.choice},
    )


@router.get("/{edition_id}/tallies", response_model=ItemList, responses=ERRORS)
def list_tallies(edition_id: str, session: SessionDep, caller: CallerDep) -> ItemList:
    """Every amendment's tally, at any time."""
    _edition(session, edition_id)
    items = [
        {
            "amendment_id": a.id,
            "clause": a.clause,
            "for": a.votes_for,
            "against": a.votes_against,
            "abstain": a.votes_abstain,
        }
        for a in rows.amendments(session, edition_id, 0, 10_000)
    ]
    return ItemList(items=items, next_cursor=None)


@router.get("/{edition_id}/decisions", response_model=ItemList, responses=ERRORS)
def list_decisions(edition_id: str, session: SessionDep, caller: CallerDep) -> ItemList:
    """The consolidation's decisions: each decided amendment with its tally and reason."""
    _edition(session, edition_id)
    items = [_amendment(a) for a in rows.amendments(session, edition_id, 0, 10_000) if a.decision]
    return ItemList(items=items, next_cursor=None)


@router.post(
    "/{edition_id}/amendments/{amendment_id}/decision", response_model=StepResult, responses=ERRORS
)
async def decide_amendment(
    edition_id: str,
    amendment_id: int,
    body: DecisionCreate,
    session: SessionDep,
    caller: CallerDep,
    temporal: TemporalDep,
) -> StepResult:
    """The back office accepts or rejects an amendment, with a reason (consolidation)."""
    return await take_step(
        session,
        temporal,
        caller,
        edition_id,
        "decide_amendment",
        {"amendment_id": amendment_id, "decision": body.decision, "reason": body.reason},
    )


@router.post("/{edition_id}/deadline", response_model=StepResult, responses=ERRORS)
async def extend_consultation_deadline(
    edition_id: str,
    body: DeadlineExtend,
    session: SessionDep,
    caller: CallerDep,
    temporal: TemporalDep,
) -> StepResult:
    """The back office moves the consultation's deadline later."""
    return await take_step(
        session,
        temporal,
        caller,
        edition_id,
        "extend_deadline",
        {"deadline": body.deadline.isoformat()},
    )


@router.post("/{edition_id}/final-version", response_model=StepResult, responses=ERRORS)
async def publish_final(
    edition_id: str, session: SessionDep, caller: CallerDep, temporal: TemporalDep
) -> StepResult:
    """The back office publishes the final version (every amendment decided): rendered with
    its change log; its SHA-256 is what hubs sign."""
    return await take_step(session, temporal, caller, edition_id, "publish_final", {})


# -- signatures, the register, withdrawals ----------------------------------------------------
def _party(p: rows.FrameworkParty) -> dict[str, Any]:
    return {
        "hub_id": p.hub_id,
        "kind": p.kind,
        "signed_at": _iso(p.signed_at),
        "sha256": p.sha256,
        "notice_at": _iso(p.notice_at),
        "withdrawal_at": _iso(p.withdrawal_at),
        "withdrawn": p.withdrawn,
    }


@router.get("/{edition_id}/signatures", response_model=ItemList, responses=ERRORS)
def list_signatures(edition_id: str, session: SessionDep, caller: CallerDep) -> ItemList:
    _edition(session, edition_id)
    return ItemList(items=[_party(p) for p in rows.parties(session, edition_id)], next_cursor=None)


@router.post(
    "/{edition_id}/signatures", status_code=201, response_model=StepResult, responses=ERRORS
)
async def sign_final_version(
    edition_id: str,
    body: SignatureCreate,
    session: SessionDep,
    caller: CallerDep,
    temporal: TemporalDep,
) -> StepResult:
    """The hub's authorised representative signs the final version's SHA-256 (the same
    mandate rules as a case's signature: dates, scope, delegation). After entry into force
    this is an accession."""
    row = _edition(session, edition_id)
    _check(row, "sign", caller)
    principal = session.get(Principal, caller.principal_id)
    hub = session.get(Hub, caller.hub_id)
    assert principal is not None and hub is not None
    profile = HubProfile.model_validate(hub.profile)
    today = datetime.now(UTC).date()
    why = signing_authority(profile, principal.representative_id, FRAMEWORK_TEMPLATE, today)
    if why is not None:
        raise ApiError(
            403, f"cannot sign for {profile.name}: {why}", title="Not an authorised representative"
        )
    name = next(r.name for r in profile.representatives if r.id == principal.representative_id)
    request = FrameworkRequest(
        action="sign",
        actor=caller.actor,
        hub_id=caller.hub_id,
        body=body.model_dump(),
        representative_id=principal.representative_id or "",
        signer_name=name,
    )
    return await _send(temporal, session, row, request)


@router.get("/{edition_id}/register", response_model=ItemList, responses=ERRORS)
def register(edition_id: str, session: SessionDep, caller: CallerDep) -> ItemList:
    """Who is bound by the edition, since when, until when (public to every hub)."""
    row = _edition(session, edition_id)
    in_force = as_utc(row.in_force_at)
    bound = rows.bound_hub_ids(session, edition_id)
    items = []
    for p in rows.parties(session, edition_id):
        signed = as_utc(p.signed_at)
        since = max(signed, in_force) if signed and in_force else None  # type: ignore[type-var]
        items.append(
            {
                "hub_id": p.hub_id,
                "kind": p.kind,
                "signed_at": _iso(p.signed_at),
                "accession_date": _iso(p.signed_at) if p.kind == "accession" else None,
                "bound_since": since.isoformat() if since else None,
                "notice_at": _iso(p.notice_at),
                "bound_until": _iso(p.withdrawal_at),
                "bound": p.hub_id in bound,
            }
        )
    return ItemList(items=items, next_cursor=None)


@router.get("/{edition_id}/withdrawals", response_model=ItemList, responses=ERRORS)
def list_withdrawals(edition_id: str, session: SessionDep, caller: CallerDep) -> ItemList:
    _edition(session, edition_id)
    items = [
        {
            "hub_id": p.hub_id,
            "notice_at": _iso(p.notice_at),
            "effective_at": _iso(p.withdrawal_at),
            "effective": p.withdrawn,
        }
        for p in rows.parties(session, edition_id)
        if p.notice_at
    ]
    return ItemList(items=items, next_cursor=None)


@router.post(
    "/{edition_id}/withdrawals", status_code=201, response_model=StepResult, responses=ERRORS
)
async def give_notice(
    edition_id: str, session: SessionDep, caller: CallerDep, temporal: TemporalDep
) -> StepResult:
    """A bound hub's signatory gives notice; it takes effect after the notice period."""
    return await take_step(session, temporal, caller, edition_id, "give_notice", {})
