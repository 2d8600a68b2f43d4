"""Case routes: start, list, read, timeline, human steps, documents."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import threading
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import FileResponse
from temporalio.client import WithStartWorkflowOperation, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from activities.executed import make_pdf
from activities.pdf import MAX_CONVERTERS, PdfConversionError, PdfPool
from api.action_docs import action_body
from api.case_start import CaseCreate, first_facts, lead_hub_for, within_open_case_quota
from api.deps import CallerDep, SessionDep, SettingsDep, TemporalDep
from api.idempotency import claim
from api.metrics import count_step
from api.problems import ApiError, Problem
from api.steps import (
    UPDATE_TIMEOUT_SECONDS,
    perform_action,
    refusal,
    workflow_id,
)
from api.uploads import clean_file_name, is_multipart, read_form, read_json_body
from api.views import (
    CaseList,
    CaseView,
    Timeline,
    case_view,
    json_response,
    summary,
    timeline_view,
)
from base.search import SA_LEAD_HUB, SA_SCENARIO, SA_STATE
from documents.files import file_key, files_for
from domain.actions import ACTIONS, check_allowed, check_body, kebab, repeated_signature, snake
from domain.cases import CaseFacts, CaseStart, Scenario
from domain.errors import ActionRefused
from domain.lifecycle import ALL_STATES
from store.models import Document
from store.queries import CaseFilter, case_facts, list_cases, timeline, visible_case
from store.search import MAX_WORDS, SearchError, search_words
from workflows.case import CollaborationCaseWorkflow

log = logging.getLogger("dihflow.api")
router = APIRouter(prefix="/v1/cases", tags=["cases"])

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "content": {"application/problem+json": {}}}
    for code in (401, 403, 404, 409, 422, 503)
}
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@router.post("", status_code=201, response_model=CaseView, responses=ERRORS)
async def create_case(
    body: CaseCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    caller: CallerDep,
    settings: SettingsDep,
    client: TemporalDep,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> CaseView:
    """Start a case. Answers once the case and its first timeline event are in the store."""
    now = datetime.now(UTC)
    lead = lead_hub_for(session, caller, body, now.date())
    case_id = f"c-{secrets.token_hex(5)}"
    if idempotency_key:
        case_id, seen = claim(
            session,
            caller.principal_id,
            idempotency_key,
            "cases",
            body.model_dump(mode="json"),
            case_id,
        )
        # A retry (its first answer lost) of a start that took: answer from the store. Asking
        # the engine again would start a second run of a case that has ended meanwhile.
        started = visible_case(session, case_id, caller) if seen else None
        if started is not None:
            response.headers["Location"] = f"/v1/cases/{case_id}"
            return case_view(session, started, caller, settings)
    within_open_case_quota(session, lead, settings.open_cases_per_hub)
    facts = first_facts(case_id, lead, body, settings, now)
    start = CaseStart(
        facts=facts,
        invited_hub_ids=body.invited_hub_ids,
        requested_by=caller,
        activity_timeout_seconds=settings.activity_timeout_seconds,
    )
    session.close()  # no connection held while the engine works
    operation = WithStartWorkflowOperation(
        CollaborationCaseWorkflow.run,
        start,
        id=workflow_id(case_id),
        task_queue=settings.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        # a case id never runs twice; only a start the workflow refused may be tried again
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
        search_attributes=_search_attributes(facts),
    )
    try:
        _ = await asyncio.wait_for(
            (await client.get()).execute_update_with_start_workflow(
                CollaborationCaseWorkflow.open_case, start_workflow_operation=operation
            ),
            UPDATE_TIMEOUT_SECONDS,
        )
    except WorkflowUpdateFailedError as exc:  # refused for good: say why, do not ask to retry
        raise refusal(exc, facts, caller) from None
    except WorkflowAlreadyStartedError:  # the case ran and ended: it is read from the store
        pass
    except ApiError:
        raise
    except Exception as exc:
        raise ApiError(
            503, "the case could not be started now; retry with the same Idempotency-Key"
        ) from exc
    session.expire_all()
    case = visible_case(session, case_id, caller)
    if case is None:  # pragma: no cover - open_case returns after the projection
        raise ApiError(503, "the case was started but is not readable yet")
    response.headers["Location"] = f"/v1/cases/{case_id}"
    return case_view(session, case, caller, settings)


def _search_attributes(facts: CaseFacts) -> Any:
    from temporalio.common import SearchAttributePair, TypedSearchAttributes

    return TypedSearchAttributes(
        [
            SearchAttributePair(SA_SCENARIO, facts.scenario.value),
            SearchAttributePair(SA_STATE, facts.state),
            SearchAttributePair(SA_LEAD_HUB, facts.lead_hub_id),
        ]
    )


TEXT_DOC = (
    "Title search: every word given must begin a word of the title, in any order; case and "
    "accents are ignored. Words are runs of letters and digits: other characters (quotes, "
    "`*`, `-`, apostrophes) only separate words, and AND/OR/NOT are plain words. At most "
    f"{MAX_WORDS} words; a text with no letter or digit is a 422."
)


@router.get("", response_model=CaseList, responses=ERRORS)
def get_cases(
    session: SessionDep,
    caller: CallerDep,
    scenario: Scenario | None = None,
    state: Annotated[str | None, Query(max_length=20, pattern=r"^[a-z_]+$")] = None,
    hub: Annotated[str | None, Query(max_length=64)] = None,
    overdue: bool | None = None,
    text: Annotated[str | None, Query(min_length=1, max_length=200, description=TEXT_DOC)] = None,
    country: Annotated[
        str | None,
        Query(pattern=r"^[A-Z]{2}$", description="cases with a party hub in this country"),
    ] = None,
    sort: Literal["newest", "oldest"] = "newest",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """Cases from the read model, newest (or oldest) first; a hub sees only cases it is part
    of. The staff pages' list and CSV export run the same query."""
    flt = CaseFilter(
        scenario=scenario,
        state=state,
        hub=hub,
        overdue=overdue,
        text=text,
        country=country,
        sort=sort,
    )
    rows, next_cursor = filtered_cases(session, caller, flt, limit, cursor)
    return json_response(CaseList(items=[summary(c) for c in rows], next_cursor=next_cursor))


def filtered_cases(
    session: Any, caller: Any, flt: CaseFilter, limit: int, cursor: str | None
) -> tuple[list[Any], str | None]:
    """One page of a case list, its filter checked first (422 naming the field)."""
    state, text = flt.state, flt.text
    if state is not None and state not in ALL_STATES:
        raise ApiError(
            422,
            f"unknown state {state!r}",
            errors=[{"field": "state", "message": "one of: " + ", ".join(ALL_STATES)}],
        )
    if text is not None:
        try:
            search_words(text)
        except SearchError as exc:
            raise ApiError(422, str(exc), errors=[{"field": "text", "message": str(exc)}]) from None
    try:
        return list_cases(session, caller, flt, limit, cursor)
    except ValueError:
        raise ApiError(
            422,
            "the cursor is not one this API gave out",
            errors=[{"field": "cursor", "message": "invalid cursor"}],
        ) from None


def _case_or_404(session: Any, case_id: str, caller: Any, departed_ok: bool = False) -> Any:
    case = visible_case(session, case_id, caller, departed_ok=departed_ok)
    if case is None:
        raise ApiError(404, f"no case {case_id!r}")
    return case


@router.get("/{case_id}", response_model=CaseView, responses=ERRORS)
def get_case(
    case_id: str, session: SessionDep, caller: CallerDep, settings: SettingsDep
) -> Response:
    """One case with the actions the caller can take now (a hub that left it, its summary)."""
    case = _case_or_404(session, case_id, caller, departed_ok=True)
    return json_response(case_view(session, case, caller, settings))


@router.get("/{case_id}/timeline", response_model=Timeline, responses=ERRORS)
def get_timeline(case_id: str, session: SessionDep, caller: CallerDep) -> Timeline:
    """The case's events, oldest first, each with its hash and the previous one's."""
    case = _case_or_404(session, case_id, caller)
    return timeline_view(case, timeline(session, case_id))


async def take_action(
    case_id: str,
    action: str,
    request: Request,
    session: SessionDep,
    caller: CallerDep,
    settings: SettingsDep,
    client: TemporalDep,
) -> CaseView:
    """A human step, its body as JSON (``submit-deliverable`` also takes multipart/form-data
    with a ``file``). 409 lists the caller's allowed actions; 403 when not the caller's.

    Each action has its own documented path (``action_docs``); this route, left out of the
    OpenAPI document, takes the same requests and answers 404 for an unknown action."""
    case = _case_or_404(session, case_id, caller)
    # No pooled connection is held while the body arrives: a slow client would keep it, and
    # with the pool taken the next request's checkout blocks the event loop that the holders
    # need to give theirs back. The case stays readable (loaded); later reads reconnect.
    session.close()
    try:
        check_allowed(case_facts(case), snake(action), caller)  # 409/403 before the body
    except ActionRefused:
        if not await _repeated_signature(request, case, snake(action), caller):
            count_step(snake(action), "refused")  # perform_action counts the others
            raise
    if is_multipart(request):

        def check(fields: dict[str, Any]) -> None:  # 404/409/403/422 before storing a file
            check_body(case_facts(case), snake(action), caller, fields)
            if snake(action) != "submit_deliverable":
                raise ApiError(
                    422,
                    "only submit-deliverable takes a file",
                    errors=[{"field": "file", "message": "not accepted here"}],
                )

        body = await read_form(request, settings, check)
    else:
        body = await read_json_body(request)
    await perform_action(
        session,
        client,
        case,
        action,
        caller,
        body,
        ip=request.client.host if request.client else "",
        user_agent=request.headers.get("user-agent", "")[:300],
        allowed_checked=True,
    )
    session.expire_all()
    # the caller's own answer may take it out of the case (a declined invitation): its summary
    case = _case_or_404(session, case_id, caller, departed_ok=True)
    return case_view(session, case, caller, settings)


def _action_route(action: str) -> None:
    async def endpoint(
        case_id: str,
        request: Request,
        session: SessionDep,
        caller: CallerDep,
        settings: SettingsDep,
        client: TemporalDep,
    ) -> CaseView:
        return await take_action(case_id, action, request, session, caller, settings, client)

    router.add_api_route(
        f"/{{case_id}}/actions/{kebab(action)}",
        endpoint,
        methods=["POST"],
        response_model=CaseView,
        responses={**ERRORS, 413: ERRORS[422], 415: ERRORS[422]},
        openapi_extra=action_body(action),
        operation_id=action,
        summary=kebab(action).replace("-", " ").capitalize(),
        description=(
            f"The step `{kebab(action)}`, when the case's `allowed_actions` list it for the "
            "caller. 409 lists the caller's allowed actions; 403 when it is not the caller's; "
            "422 names the field."
        ),
        tags=["steps"],
    )


for _action in ACTIONS:
    _action_route(_action)
router.add_api_route(
    "/{case_id}/actions/{action}",
    take_action,
    methods=["POST"],
    response_model=CaseView,
    include_in_schema=False,
)


async def _repeated_signature(request: Request, case: Any, action: str, caller: Any) -> bool:
    """The same signature twice answers like the first (a 200 that records nothing), though
    the signer may no longer sign."""
    if action != "sign" or is_multipart(request):
        return False
    try:
        body = await read_json_body(request)
    except ApiError:
        return False
    return repeated_signature(case_facts(case), action, caller, body)


@router.get(
    "/{case_id}/documents/{doc_id}",
    response_class=FileResponse,
    responses={**ERRORS, 200: {"content": {DOCX: {}}}},
)
def get_document(
    case_id: str, doc_id: str, session: SessionDep, caller: CallerDep, settings: SettingsDep
) -> FileResponse:
    """Download a generated document (.docx)."""
    _case_or_404(session, case_id, caller)
    return document_file(session, settings, case_id, doc_id)


NO_SNIFF = {
    "X-Content-Type-Options": "nosniff"
}  # files are served as the type they were checked to be


def document_file(session: Any, settings: Any, case_id: str, doc_id: str) -> FileResponse:
    doc = session.get(Document, doc_id)
    if doc is None:
        doc = executed_pdf_on_demand(session, settings, case_id, doc_id)
    if doc is None or doc.case_id != case_id:
        raise ApiError(404, f"no document {doc_id!r} in case {case_id!r}")
    path = files_for(settings).local_path(doc.path)
    if not path.exists():
        raise ApiError(404, f"the file of document {doc_id!r} is missing from the document store")
    pdf = path.suffix == ".pdf"
    return FileResponse(
        path,
        media_type="application/pdf" if pdf else DOCX,
        filename=f"{doc_id}{'.pdf' if pdf else '.docx'}",
        headers={"X-Document-SHA256": doc.sha256, **NO_SNIFF},
    )


_pdf_pool: PdfPool | None = None
_pdf_pool_lock = threading.Lock()


def executed_pdf_on_demand(session: Any, settings: Any, case_id: str, doc_id: str) -> Any:
    """The executed copy's PDF, made now if the background converters have not made it yet
    (a few converters per API process, each a LibreOffice); None when there is no such
    executed copy or no converter here."""
    global _pdf_pool
    if not doc_id.endswith("-executed-pdf"):
        return None
    executed_id = doc_id.removesuffix("-pdf")
    executed = session.get(Document, executed_id)
    if executed is None or executed.case_id != case_id:
        return None
    with _pdf_pool_lock:
        if _pdf_pool is None:
            size = max(1, min(os.cpu_count() or 1, MAX_CONVERTERS))
            _pdf_pool = PdfPool(settings.pdf_converter, settings.pdf_python, size)
    try:
        with _pdf_pool.converter() as converter:
            why = make_pdf(settings, converter, executed_id)
    except PdfConversionError as exc:
        raise ApiError(503, f"the PDF could not be made now: {exc}") from None
    if why is not None:
        return None
    session.expire_all()
    return session.get(Document, doc_id)


@router.get(
    "/{case_id}/deliverables/{deliverable_id}/file", response_class=FileResponse, responses=ERRORS
)
def get_deliverable_file(
    case_id: str, deliverable_id: str, session: SessionDep, caller: CallerDep, settings: SettingsDep
) -> FileResponse:
    """Download the file attached to a submitted deliverable."""
    return deliverable_file(
        settings, case_facts(_case_or_404(session, case_id, caller)), deliverable_id
    )


def deliverable_file(settings: Any, facts: CaseFacts, deliverable_id: str) -> FileResponse:
    d = facts.deliverable_by_id(deliverable_id)
    if d is None or d.file is None:
        raise ApiError(404, f"deliverable {deliverable_id!r} has no file")
    path = files_for(settings).local_path(file_key(d.file.sha256, ".bin"))
    return FileResponse(
        path,
        media_type=d.file.content_type,
        filename=clean_file_name(d.file.name),  # names stored before they were cleaned
        headers=NO_SNIFF,
    )
