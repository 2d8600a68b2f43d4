"""The template library page: each agreement template's versions, variable schema and an
example; the legal helpdesk publishes a new version by upload in two steps.

1. ``POST /templates/{name}/preview`` (the upload) checks it with
   ``api.template_upload.check_upload`` and shows every problem found, or the variables the
   file uses and a successful render of the example in the sandbox. Nothing is published;
   the file is kept by its SHA-256 (where publishing would keep it anyway).
2. ``POST /templates/{name}/publish`` (the confirmation, naming that hash) publishes through
   ``documents.library.publish``, the JSON route's code path, which checks everything again.

The back office reads the library; publishing is the legal helpdesk's, as in the API.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel import Session, col, select

from api.deps import SessionDep, SettingsDep
from api.template_upload import check_upload, stage_upload, staged_upload
from api.web.auth import LegalDep, PageError, StaffDep
from api.web.render import page
from documents import library
from domain.digests import sha256_hex
from store.models import Document, TemplateVersion

router = APIRouter(include_in_schema=False)


def _latest_example(session: Session, name: str, version: int) -> dict[str, Any] | None:
    """A shipped version has no stored example: the variables of the newest document made
    from it stand in (None when there is none yet)."""
    doc = session.exec(
        select(Document)
        .where(Document.template == name, Document.template_version == str(version))
        .order_by(col(Document.created_at).desc())
        .limit(1)
    ).first()
    if doc is None or not doc.variables:
        return None
    return dict(doc.variables.get("context", {}))


def _resolve(session: Session, settings: Any, name: str, version: int | None) -> Any:
    try:
        return library.resolve(session, settings.documents_dir, name, version)
    except library.TemplateProblem as exc:
        raise PageError(exc.status, exc.detail, "Template not found") from None


@router.get("/templates", response_class=HTMLResponse)
def library_page(
    request: Request, session: SessionDep, settings: SettingsDep, staff: StaffDep
) -> HTMLResponse:
    items = []
    for name in library.template_names():
        newest = library.resolve(session, settings.documents_dir, name)
        items.append(
            {
                "name": name,
                "description": newest.description,
                "versions": library.versions(session, name),
                "variables": len(newest.schema.get("properties", {})),
            }
        )
    return page(request, "template_library.html", {"items": items})


def _detail(
    request: Request,
    session: Session,
    settings: Any,
    staff: Any,
    name: str,
    version: int | None,
    status: int = 200,
    **extra: Any,
) -> HTMLResponse:
    shown = _resolve(session, settings, name, version)
    rows = {
        row.version: row
        for row in session.exec(select(TemplateVersion).where(TemplateVersion.name == name))
    }
    shipped = library.resolve(session, settings.documents_dir, name, library.BUILTIN_VERSION)
    versions = [
        {
            "number": n,
            "row": rows.get(n),
            "shipped": n == library.BUILTIN_VERSION,
            "sha256": rows[n].sha256 if n in rows else sha256_hex(shipped.path.read_bytes()),
        }
        for n in reversed(library.versions(session, name))
    ]
    stored = rows.get(shown.version)
    example = stored.example if stored else _latest_example(session, name, shown.version)
    schema = shown.schema
    required = set(schema.get("required", []))
    properties = [
        {
            "name": prop,
            "type": spec.get("type") or ("object" if "$ref" in spec else "any"),
            "required": prop in required,
            "description": spec.get("description") or spec.get("title") or "",
        }
        for prop, spec in schema.get("properties", {}).items()
    ]
    context = {
        "name": name,
        "shown": shown,
        "versions": versions,
        "properties": properties,
        "schema_json": json.dumps(schema, indent=2, ensure_ascii=False),
        "example_json": json.dumps(example, indent=2, ensure_ascii=False) if example else "",
        "example_shipped": stored is None,
        "may_publish": staff.role == "legal",
        "published": request.query_params.get("published"),
        "upload": {"schema": "", "example": "", "description": ""},
        "upload_error": "",
        **extra,
    }
    return page(request, "template_detail.html", context, status=status)


@router.get("/templates/{name}", response_class=HTMLResponse)
def template_page(
    name: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    staff: StaffDep,
    version: int | None = None,
) -> HTMLResponse:
    if version is not None and version < 1:
        raise PageError(404, "Versions are numbered from 1.", "Template not found")
    return _detail(request, session, settings, staff, name, version)


@router.post("/templates/{name}/preview", response_class=HTMLResponse)
async def preview(
    name: str, request: Request, session: SessionDep, settings: SettingsDep, staff: LegalDep
) -> HTMLResponse:
    _resolve(session, settings, name, None)
    async with request.form(max_files=1, max_fields=10) as form:
        upload = form.get("file")
        content = b""
        if upload is not None and not isinstance(upload, str):
            content = await upload.read(settings.upload_max_bytes + 1)
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
    entered = {
        "schema": fields.get("schema", ""),
        "example": fields.get("example", ""),
        "description": fields.get("description", "")[:500],
    }
    if not content or len(content) > settings.upload_max_bytes:
        problem = (
            "choose the .docx file to upload"
            if not content
            else f"the file is larger than {settings.upload_max_bytes} bytes"
        )
        return _detail(
            request,
            session,
            settings,
            staff,
            name,
            None,
            upload=entered,
            upload_error=problem,
            status=422 if not content else 413,
        )
    result = check_upload(
        session, settings.documents_dir, name, content, entered["schema"], entered["example"]
    )
    if result.ok:
        stage_upload(settings.documents_dir, content)
    return page(
        request,
        "template_preview.html",
        {"name": name, "check": result, "upload": entered},
        status=200 if result.ok else 422,
    )


@router.post("/templates/{name}/publish", response_model=None)
async def publish(
    name: str, request: Request, session: SessionDep, settings: SettingsDep, staff: LegalDep
) -> HTMLResponse | RedirectResponse:
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    content = staged_upload(settings.documents_dir, fields.get("sha256", ""))
    if content is None:
        raise PageError(
            422,
            "The uploaded file was not found: upload it again to check and publish it.",
            "Upload again",
        )
    try:
        schema, example = json.loads(fields["schema"]), json.loads(fields["example"])
        row = library.publish(
            session,
            settings.documents_dir,
            name,
            content,
            schema,
            example,
            fields.get("description", "")[:500],
            staff.account_id,
        )
    except (KeyError, ValueError, AttributeError):
        raise PageError(422, "The confirmation form was incomplete: upload again.") from None
    except library.TemplateProblem as exc:
        result = check_upload(
            session,
            settings.documents_dir,
            name,
            content,
            fields.get("schema", ""),
            fields.get("example", ""),
        )
        if result.ok:  # what publish found that the preview did not (e.g. a 404)
            raise PageError(exc.status, exc.detail, "Not published") from None
        upload = {k: fields.get(k, "") for k in ("schema", "example", "description")}
        return page(
            request,
            "template_preview.html",
            {"name": name, "check": result, "upload": upload},
            status=422,
        )
    return RedirectResponse(
        f"/templates/{quote(name)}?version={row.version}&published={row.version}",
        status_code=303,
    )
