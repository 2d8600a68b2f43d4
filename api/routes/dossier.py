"""The case dossier (one zip to check a case offline) and the executed copy signed elsewhere.

``GET /v1/cases/{id}/dossier``: anyone who can read the case. ``POST
/v1/cases/{id}/executed-copy``: the lead hub attaches the agreement signed outside dihflow (an
advanced or qualified e-signature, as PDF) once every party has signed here. That is a
document attachment, not a step of the case (the state stays): the file goes to the document
store, then the workflow records it on the timeline (``executed_copy_attached``, by id and
SHA-256, update ``attach_executed_copy``), and the dossier records its SHA-256.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from starlette.datastructures import UploadFile

from api.deps import CallerDep, SessionDep, SettingsDep, TemporalDep
from api.problems import ApiError
from api.routes.cases import ERRORS, executed_pdf_on_demand
from api.steps import record_external_copy
from api.uploads import CHUNK, is_multipart
from api.views import case_view, timeline_view
from base.settings import Settings
from documents.files import files_for, store_file
from domain.actions import allowed_actions, check_external_copy
from domain.cases import Caller
from domain.digests import sha256_hex
from domain.dossier import EXECUTED_TEMPLATE, EXTERNAL_TEMPLATE, DossierDocument, build_dossier
from store.db import as_utc
from store.models import Case, Document, Signature, TimelineEntry
from store.queries import case_facts, documents, signatures, timeline, visible_case

router = APIRouter(prefix="/v1/cases", tags=["cases"])

ZIP = "application/zip"
PDF = "application/pdf"

UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            }
        },
    }
}


class ExecutedCopyView(BaseModel):
    case_id: str
    document_id: str
    version: int
    template: str
    sha256: str
    size: int
    download_url: str


def _case_or_404(session: Session, case_id: str, caller: Caller) -> Case:
    case = visible_case(session, case_id, caller)
    if case is None:
        raise ApiError(404, f"no case {case_id!r}")
    return case


# -- the executed copy signed elsewhere ----------------------------------------------------------
@router.post(
    "/{case_id}/executed-copy",
    status_code=201,
    response_model=ExecutedCopyView,
    responses={
        **ERRORS,
        200: {"model": ExecutedCopyView, "description": "the same file was attached before"},
        413: ERRORS[422],
        415: ERRORS[422],
    },
    openapi_extra=UPLOAD_BODY,
)
async def attach_executed_copy(
    case_id: str,
    request: Request,
    response: Response,
    session: SessionDep,
    caller: CallerDep,
    settings: SettingsDep,
    temporal: TemporalDep,
) -> ExecutedCopyView:
    """The lead hub attaches the agreement signed elsewhere (advanced or qualified electronic
    signature) as the executed copy: multipart ``file``, a PDF. Once per signed version: the
    same file again answers 200, another file 409 naming the one attached."""
    case = _case_or_404(session, case_id, caller)
    facts = case_facts(case)
    check_external_copy(facts, caller, None)  # 409 not executed, 403 not the lead's: no body read
    content = await _read_pdf(request, settings)
    assert facts.draft is not None
    sha = sha256_hex(content)
    doc_id = f"{case_id}-v{facts.draft.version}-external"
    existing = session.get(Document, doc_id)
    if existing is None:
        path = store_file(settings.documents_dir, sha, content, ".pdf")
        row = Document(
            id=doc_id,
            case_id=case_id,
            version=facts.draft.version,
            template=EXTERNAL_TEMPLATE,
            template_version="1",
            template_sha256=facts.draft.sha256,  # the version all parties signed here
            variables_sha256=sha,
            sha256=sha,
            path=str(path.relative_to(settings.documents_dir)),
            size=len(content),
            variables=None,
            created_by=caller.principal_id,
        )
        session.add(row)
        try:
            session.commit()
        except IntegrityError:  # attached by a concurrent request
            session.rollback()
            existing = session.get(Document, doc_id)
        else:
            view = _view(row)
            session.close()  # no connection held while the engine works
            await record_external_copy(temporal, facts, caller, doc_id, sha)
            response.headers["Location"] = _download_url(case_id, doc_id)
            return view
    assert existing is not None
    if existing.sha256 != sha:
        raise ApiError(
            409,
            f"an executed copy is already attached for version {existing.version} "
            f"(SHA-256 {existing.sha256})",
            allowed_actions=allowed_actions(facts, caller),
        )
    view = _view(existing)
    session.close()
    # the same file again: recorded already (the workflow answers unchanged), or its first
    # sending did not reach the engine and this one records it
    await record_external_copy(temporal, facts, caller, doc_id, sha)
    response.status_code = 200
    return view


async def _read_pdf(request: Request, settings: Settings) -> bytes:
    if not is_multipart(request):
        raise ApiError(
            415, "send the PDF as multipart/form-data (field file)", title="Unsupported Media Type"
        )
    async with request.form(max_files=1, max_fields=5) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ApiError(
                422,
                "attach the executed copy as the file part",
                errors=[{"field": "file", "message": "a PDF file is required"}],
            )
        content_type = (upload.content_type or "").split(";")[0].strip().lower()
        chunks, size = [], 0
        while chunk := await upload.read(CHUNK):
            size += len(chunk)
            if size > settings.upload_max_bytes:
                raise ApiError(
                    413,
                    f"the file is larger than the limit of {settings.upload_max_bytes} bytes",
                    title="Payload Too Large",
                )
            chunks.append(chunk)
    content = b"".join(chunks)
    if content_type != PDF or not content.startswith(b"%PDF-"):
        raise ApiError(
            415,
            "the executed copy must be a PDF (application/pdf, starting with %PDF-)",
            title="Unsupported Media Type",
        )
    return content


def _download_url(case_id: str, doc_id: str) -> str:
    return f"/v1/cases/{case_id}/documents/{doc_id}"


def _view(row: Document) -> ExecutedCopyView:
    assert row.case_id is not None
    return ExecutedCopyView(
        case_id=row.case_id,
        document_id=row.id,
        version=row.version,
        template=row.template,
        sha256=row.sha256,
        size=row.size,
        download_url=_download_url(row.case_id, row.id),
    )


# -- the dossier ------------------------------------------------------------------------------
@router.get(
    "/{case_id}/dossier",
    response_class=Response,
    responses={**ERRORS, 200: {"content": {ZIP: {}}, "description": "the case dossier (zip)"}},
)
def get_dossier(
    case_id: str, session: SessionDep, caller: CallerDep, settings: SettingsDep
) -> Response:
    """One zip: ``timeline.json``, ``case.json``, ``documents/<id>.docx|.pdf`` (every draft
    version, the signature certificate, the executed copies) and ``manifest.json`` (each
    file's SHA-256, each document's metadata). Check it offline with
    ``dihflow cases verify-dossier FILE``."""
    _case_or_404(session, case_id, caller)
    _executed_pdfs(session, settings, case_id)
    case, rows, sigs, docs = _snapshot(session, case_id)
    view = case_view(session, case, caller, settings)
    facts = case_facts(case)
    parties: list[dict[str, Any]] = [
        {"party": p.hub_id, "name": p.name, "role": p.role} for p in view.parties
    ]
    for party in ("client", "local_player"):
        who = facts.external(party)
        if who is not None:  # the organisation only: its contact's details stay out
            parties.append({"party": party, "name": who.name, "role": party})
    case_json: dict[str, Any] = {
        "id": case.id,
        "scenario": case.scenario,
        "state": case.state,
        "outcome": case.outcome,
        "title": case.title,
        "lead_hub_id": case.lead_hub_id,
        "parties": parties,
        "signatures": [_signature(s) for s in sigs],
    }
    timeline_json = timeline_view(case, rows).model_dump(mode="json")
    if rows:  # the head of the events read, should a step land while the dossier is made
        timeline_json["head_hash"] = rows[-1].hash
    # the anchors the verifier checks against the timeline (domain.dossier)
    case_json |= {
        "head_hash": timeline_json["head_hash"],
        "seq": rows[-1].seq if rows else 0,
        "chain": timeline_json["chain"],
    }
    content = build_dossier(
        case_json,
        timeline_json,
        [_dossier_document(settings, d) for d in docs],
    )
    return Response(
        content,
        media_type=ZIP,
        headers={
            "Content-Disposition": f'attachment; filename="dossier-{case_id}.zip"',
            "X-Timeline-Head": timeline_json["head_hash"],
        },
    )


def _executed_pdfs(session: Session, settings: Settings, case_id: str) -> None:
    """The PDF of each executed copy, made now when the background converters have not."""
    executed = session.exec(
        select(Document.id).where(
            Document.case_id == case_id, Document.template == EXECUTED_TEMPLATE
        )
    ).all()
    for doc_id in executed:
        if session.get(Document, f"{doc_id}-pdf") is None:
            executed_pdf_on_demand(session, settings, case_id, f"{doc_id}-pdf")


def _snapshot(
    session: Session, case_id: str
) -> tuple[Case, list[TimelineEntry], list[Signature], list[Document]]:
    """Timeline, signatures and documents as of one case seq: read again when the worker
    recorded a step in between (a step's events, signatures and seq commit together, and its
    documents are stored before)."""
    for _ in range(5):
        session.expire_all()
        seq = _seq(session, case_id)
        rows = timeline(session, case_id)
        sigs = signatures(session, case_id)
        docs = documents(session, case_id)
        if _seq(session, case_id) == seq and (rows[-1].seq if rows else 0) == seq:
            break
    case = session.get(Case, case_id)
    assert case is not None  # cases are never deleted
    session.refresh(case)
    return case, rows, sigs, docs


def _seq(session: Session, case_id: str) -> int:
    return session.exec(select(Case.seq).where(Case.id == case_id)).one()


def _signature(s: Signature) -> dict[str, Any]:
    signed_at = as_utc(s.signed_at)
    return {
        "party": s.party,
        "document_id": s.document_id,
        "sha256": s.document_sha256,
        "signed_at": signed_at.isoformat() if signed_at else None,
    }


def _dossier_document(settings: Settings, doc: Document) -> DossierDocument:
    path = files_for(settings).local_path(doc.path)
    return DossierDocument(
        id=doc.id,
        template=doc.template,
        version=doc.version,
        sha256=doc.sha256,
        suffix=path.suffix or ".docx",
        content=path.read_bytes() if path.is_file() else None,
    )
