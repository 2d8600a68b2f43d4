"""The legal helpdesk's template library and documents made outside any case."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from api.deps import CallerDep, SessionDep, SettingsDep
from api.idempotency import claim
from api.problems import ApiError
from api.routes.cases import DOCX
from api.uploads import is_multipart
from documents import library
from documents.files import files_for
from domain.cases import Role
from domain.digests import sha256_hex
from store.db import as_utc
from store.models import Document, IdempotencyRecord, TemplateVersion

router = APIRouter(tags=["templates and documents"])
MAX_VERSION = 1_000_000  # far past any real history, well inside the store's integers
STAFF = (Role.legal, Role.back_office)


class TemplateSummary(BaseModel):
    name: str
    description: str
    versions: list[int]
    latest: int


class TemplateList(BaseModel):
    items: list[TemplateSummary]


class TemplateDetail(BaseModel):
    name: str
    version: int
    description: str
    variables_schema: dict[str, Any]


class DocumentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    template: str = Field(min_length=1, max_length=80)
    version: int | None = Field(default=None, ge=1, le=MAX_VERSION)
    variables: dict[str, Any]


class DocumentInfo(BaseModel):
    id: str
    case_id: str | None
    template: str
    template_version: str
    template_sha256: str
    variables_sha256: str
    sha256: str
    size: int
    created_at: datetime
    download_url: str


class DocumentList(BaseModel):
    items: list[DocumentInfo]


def _problem(exc: library.TemplateProblem) -> ApiError:
    return ApiError(exc.status, exc.detail, errors=exc.errors or None)


def _legal_only(caller: Any) -> None:
    if caller.role != Role.legal:
        raise ApiError(403, "only the legal helpdesk does this")


def _info(doc: Document) -> DocumentInfo:
    return DocumentInfo(
        id=doc.id,
        case_id=doc.case_id,
        template=doc.template,
        template_version=doc.template_version,
        template_sha256=doc.template_sha256,
        variables_sha256=doc.variables_sha256,
        sha256=doc.sha256,
        size=doc.size,
        created_at=as_utc(doc.created_at),  # type: ignore[arg-type]
        download_url=f"/v1/documents/{doc.id}/file",
    )


@router.get("/v1/templates", response_model=TemplateList)
def list_templates(session: SessionDep, caller: CallerDep, settings: SettingsDep) -> TemplateList:
    """Every agreement template with its versions."""
    items = []
    for name in library.template_names():
        newest = library.resolve(session, settings.documents_dir, name)
        found = library.versions(session, name)
        items.append(
            TemplateSummary(
                name=name, description=newest.description, versions=found, latest=found[-1]
            )
        )
    return TemplateList(items=items)


@router.get("/v1/templates/{name}", response_model=TemplateDetail)
def get_template(
    name: str,
    session: SessionDep,
    caller: CallerDep,
    settings: SettingsDep,
    version: Annotated[int | None, Query(ge=1, le=MAX_VERSION)] = None,
) -> TemplateDetail:
    """A template's variables as JSON Schema (the newest version unless ``version`` is given)."""
    try:
        t = library.resolve(session, settings.documents_dir, name, version)
    except library.TemplateProblem as exc:
        raise _problem(exc) from None
    return TemplateDetail(
        name=t.name, version=t.version, description=t.description, variables_schema=t.schema
    )


@router.post(
    "/v1/templates/{name}/versions",
    status_code=201,
    response_model=TemplateDetail,
    openapi_extra={
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file", "schema", "example"],
                        "properties": {
                            "file": {"type": "string", "format": "binary"},
                            "schema": {"type": "string", "description": "JSON Schema (object)"},
                            "example": {
                                "type": "string",
                                "description": "example variables (JSON)",
                            },
                            "description": {"type": "string"},
                        },
                    }
                }
            }
        }
    },
)
async def publish_version(
    name: str,
    request: Request,
    session: SessionDep,
    caller: CallerDep,
    settings: SettingsDep,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> TemplateDetail:
    """Publish a new version (legal): accepted only if it renders in the sandbox with its
    example and uses no variable its schema does not declare. Earlier versions stay."""
    _legal_only(caller)
    if not is_multipart(request):
        raise ApiError(415, "send multipart/form-data with file, schema and example")
    async with request.form(max_files=1, max_fields=10) as form:
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise ApiError(
                422, "the .docx is missing", errors=[{"field": "file", "message": "required"}]
            )
        content = await upload.read(settings.upload_max_bytes + 1)
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
    if len(content) > settings.upload_max_bytes:
        raise ApiError(413, f"the template is larger than {settings.upload_max_bytes} bytes")
    parsed = {}
    for field in ("schema", "example"):
        try:
            parsed[field] = json.loads(fields.get(field, ""))
        except ValueError:
            raise ApiError(
                422, f"{field} is not JSON", errors=[{"field": field, "message": "invalid JSON"}]
            ) from None
        if not isinstance(parsed[field], dict):
            raise ApiError(
                422,
                f"{field} must be a JSON object",
                errors=[{"field": field, "message": "object"}],
            )
    identity = {
        "template": name,
        "file_sha256": sha256_hex(content),
        "schema": parsed["schema"],
        "example": parsed["example"],
        "description": fields.get("description", ""),
    }
    if idempotency_key:  # the same key and upload: the version published the first time
        done, _ = claim(
            session, caller.principal_id, idempotency_key, "template-versions", identity, ""
        )
        if done:
            first = session.get(TemplateVersion, (name, int(done)))
            if first is not None:
                return _detail(first)
    try:
        row = library.publish(
            session,
            settings.documents_dir,
            name,
            content,
            parsed["schema"],
            parsed["example"],
            fields.get("description", "")[:500],
            caller.principal_id,
        )
    except library.TemplateProblem as exc:
        raise _problem(exc) from None
    if idempotency_key:
        record = session.get(IdempotencyRecord, (caller.principal_id, idempotency_key))
        if record is not None:
            record.resource_id = str(row.version)
            session.add(record)
            session.commit()
    return _detail(row)


def _detail(row: TemplateVersion) -> TemplateDetail:
    return TemplateDetail(
        name=row.name,
        version=row.version,
        description=row.description,
        variables_schema=row.variables_schema,
    )


@router.post("/v1/documents", status_code=201, response_model=DocumentInfo)
def create_document(
    body: DocumentRequest,
    response: Response,
    session: SessionDep,
    caller: CallerDep,
    settings: SettingsDep,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> DocumentInfo:
    """Generate a document from a template outside any case (legal helpdesk)."""
    _legal_only(caller)
    doc_id = library.new_document_id()
    if idempotency_key:
        doc_id, _ = claim(
            session,
            caller.principal_id,
            idempotency_key,
            "documents",
            body.model_dump(mode="json"),
            doc_id,
        )
    doc = session.get(Document, doc_id)  # a replayed request finds the first document
    if doc is None:
        try:
            doc = library.generate(
                session,
                settings.documents_dir,
                body.template,
                body.version,
                body.variables,
                caller.principal_id,
                doc_id=doc_id,
            )
        except library.TemplateProblem as exc:
            raise _problem(exc) from None
    response.headers["Location"] = f"/v1/documents/{doc.id}"
    return _info(doc)


@router.get("/v1/documents", response_model=DocumentList)
def my_documents(session: SessionDep, caller: CallerDep) -> DocumentList:
    """The documents the caller generated outside cases (newest first)."""
    return DocumentList(
        items=[_info(d) for d in library.documents_by(session, caller.principal_id)]
    )


def _document(session: Any, caller: Any, doc_id: str) -> Document:
    doc = session.get(Document, doc_id)
    if (
        doc is None
        or doc.case_id is not None
        or (caller.role not in STAFF and doc.created_by != caller.principal_id)
    ):
        raise ApiError(404, f"no document {doc_id!r} (case documents are under their case)")
    return doc  # type: ignore[no-any-return]


@router.get("/v1/documents/{doc_id}", response_model=DocumentInfo)
def get_document_info(doc_id: str, session: SessionDep, caller: CallerDep) -> DocumentInfo:
    return _info(_document(session, caller, doc_id))


@router.get(
    "/v1/documents/{doc_id}/file",
    response_class=FileResponse,
    responses={200: {"content": {DOCX: {}}}},
)
def get_document_file(
    doc_id: str, session: SessionDep, caller: CallerDep, settings: SettingsDep
) -> FileResponse:
    doc = _document(session, caller, doc_id)
    return FileResponse(
        files_for(settings).local_path(doc.path),
        media_type=DOCX,
        filename=f"{doc.id}.docx",
        headers={"X-Document-SHA256": doc.sha256},
    )
