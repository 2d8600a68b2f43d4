"""Taking a human step: pre-check against the store, send the update, map the outcome.

Used by the hub-facing action route and by the link routes for external parties, so both
answer with the same statuses (DESIGN.md's precedence) and the same bodies.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.case_start import hub_errors
from api.deps import TemporalClients
from api.metrics import count_step
from api.problems import ApiError
from base.logs import CASE_ID
from domain.actions import (
    allowed_actions,
    check_action,
    check_body,
    repeated_signature,
    signer_name,
    snake,
)
from domain.cases import ActionRequest, ActionResult, AttachCopyRequest, Caller, CaseFacts, Role
from domain.errors import ActionRefused, DomainError
from domain.hubs import HubProfile
from store.models import Case, Hub, Principal
from store.queries import case_facts

UPDATE_TIMEOUT_SECONDS = 60


def workflow_id(case_id: str) -> str:
    return f"case-{case_id}"


async def perform_action(
    session: Session,
    temporal: TemporalClients,
    case: Case,
    action_name: str,
    caller: Caller,
    body: dict[str, Any] | None,
    ip: str = "",
    user_agent: str = "",
    *,
    allowed_checked: bool = False,
) -> ActionResult:
    """``_perform_action``, counted in ``dihflow_steps_total`` by action and result (a 4xx is
    ``refused``, anything else that fails ``failed``), with the case id on its log lines."""
    action = snake(action_name)
    token = CASE_ID.set(case.id)
    try:
        result = await _perform_action(
            session,
            temporal,
            case,
            action,
            caller,
            body,
            ip,
            user_agent,
            allowed_checked=allowed_checked,
        )
    except (ApiError, DomainError) as exc:
        count_step(action, "refused" if 400 <= exc.status < 500 else "failed")
        raise
    except BaseException:
        count_step(action, "failed")
        raise
    finally:
        CASE_ID.reset(token)
    count_step(action, "done")
    return result


async def _perform_action(
    session: Session,
    temporal: TemporalClients,
    case: Case,
    action_name: str,
    caller: Caller,
    body: dict[str, Any] | None,
    ip: str = "",
    user_agent: str = "",
    *,
    allowed_checked: bool = False,
) -> ActionResult:
    """Check the step against the store, then send it as the update of the same name.

    ``allowed_checked``: the route has already run ``check_allowed`` on this case (before
    reading the body), so only the body is checked here. Beyond this pre-check the workflow
    checks the step twice more, each for a reason: its validator (against the workflow's own
    facts, which may be ahead of the store; a refusal leaves no trace in history) and its
    handler inside the case's lock (another step may have run since the validator).
    """
    action = snake(action_name)
    body = body or {}
    facts = case_facts(case)
    if repeated_signature(facts, action, caller, body):
        return ActionResult(state=facts.state, outcome=facts.outcome, seq=facts.seq, changed=False)
    if allowed_checked:
        check_body(facts, action, caller, body)  # 422, from the store
    else:
        check_action(facts, action, caller, body)  # 404 unknown / 409 / 403 / 422, from the store
    asked = body
    if action in ("sign", "decline_to_sign") and caller.role == Role.hub_signatory:
        body = body | _representative(session, facts, caller, action)
    if action in ("invite_partners", "select_candidates"):
        errors = hub_errors(session, "hub_ids", body.get("hub_ids", []))
        if errors:
            raise ApiError(422, "unknown hubs", errors=errors)
    request = ActionRequest(caller=caller, body=body, ip=ip, user_agent=user_agent)
    session.close()  # give the connection back while the engine works (reopens on next use)
    client = await temporal.get()
    handle = client.get_workflow_handle(workflow_id(case.id))
    try:
        result = await asyncio.wait_for(
            handle.execute_update(action, request, result_type=ActionResult),
            UPDATE_TIMEOUT_SECONDS,
        )
    except WorkflowUpdateFailedError as exc:
        if refused_by_lifecycle(exc) and store_allows(session, case.id, action, caller, asked):
            # The store is ahead of the workflow: a step's projection is stored but the engine
            # has not yet heard that the activity finished (a worker or the engine went away
            # just then; its retry will find the work done). Refusing would contradict the
            # case the caller reads.
            raise ApiError(
                503, "the case is still completing its previous step; retry in a moment"
            ) from None
        raise refusal(exc, facts, caller) from None
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            if "completed" in str(exc).lower():
                raise ApiError(
                    409, "the case has ended", allowed_actions=allowed_actions(facts, caller)
                ) from None
            raise ApiError(404, f"case {case.id} has no running workflow") from None
        # Unreachable (or gone away while the step was on its way): whether it was taken is
        # unknown until the engine is back, and retrying is safe (a repeat is refused or, for a
        # signature, answered as the first).
        raise ApiError(
            503, "the workflow engine is not reachable now; read the case, then retry the step"
        ) from None
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        # our wait ran out, or the engine's own wait for the update did (the SDK raises its
        # error in place of the cancellation): the step may still be taken
        raise ApiError(504, "the step was sent but not confirmed in time; read the case") from None
    return result  # type: ignore[no-any-return]


async def record_external_copy(
    temporal: TemporalClients,
    facts: CaseFacts,
    caller: Caller,
    document_id: str,
    sha256: str,
) -> None:
    """Have the case's workflow record the executed copy signed elsewhere on the timeline.

    A case whose workflow has ended keeps the copy (stored, listed with the documents, in the
    dossier) without a timeline event: its chain is closed.
    """
    client = await temporal.get()
    handle = client.get_workflow_handle(workflow_id(facts.case_id))
    request = AttachCopyRequest(caller=caller, document_id=document_id, sha256=sha256)
    try:
        await asyncio.wait_for(
            handle.execute_update("attach_executed_copy", request, result_type=ActionResult),
            UPDATE_TIMEOUT_SECONDS,
        )
    except WorkflowUpdateFailedError as exc:
        raise refusal(exc, facts, caller) from None
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND and "completed" in str(exc).lower():
            return
        raise ApiError(
            503, "the workflow engine is not reachable now; send the same file again"
        ) from None
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        raise ApiError(504, "the copy is stored but not yet recorded; send it again") from None


def _representative(
    session: Session, facts: CaseFacts, caller: Caller, action: str
) -> dict[str, Any]:
    """Only a hub's authorised representative signs for it, within the mandate's dates and
    scope (and a delegate only while its delegator's mandate holds); 403 naming why not."""
    principal = session.get(Principal, caller.principal_id)
    hub = session.get(Hub, caller.hub_id)
    assert principal is not None and hub is not None and facts.draft is not None
    profile = HubProfile.model_validate(hub.profile)
    today = datetime.now(UTC).date()
    name = signer_name(profile, principal.representative_id, facts.draft.template, today, action)
    return {"signer_name": name} if action == "sign" else {}


def store_allows(
    session: Session, case_id: str, action: str, caller: Caller, body: dict[str, Any]
) -> bool:
    """Whether the case as stored now lets ``caller`` take ``action``."""
    session.expire_all()
    case = session.get(Case, case_id)
    if case is None:
        return False
    try:
        check_action(case_facts(case), action, caller, body)
    except DomainError:
        return False
    return True


def _application_error(exc: WorkflowUpdateFailedError) -> ApplicationError | None:
    cause: BaseException | None = exc.cause
    while cause is not None and not isinstance(cause, ApplicationError):
        cause = cause.__cause__
    return cause


def refused_by_lifecycle(exc: WorkflowUpdateFailedError) -> bool:
    """The workflow refused the step by its own facts (not a failure applying it)."""
    cause = _application_error(exc)
    return cause is not None and cause.type == "ActionRefused"


def refusal(exc: WorkflowUpdateFailedError, facts: CaseFacts, caller: Caller) -> DomainError:
    cause: BaseException | None = _application_error(exc)
    if isinstance(cause, ApplicationError) and cause.type == "ActionRefused" and cause.details:
        return ActionRefused.from_dict(dict(cause.details[0]))
    return ActionRefused(
        "Action refused",
        str(cause or exc),
        status=409,
        allowed_actions=allowed_actions(facts, caller),
    )
