"""Importing hubs on the back office's hub pages, in two steps, as ``dihflow hubs import``.

1. ``POST /hubs/import/preview`` (the upload, a ``.csv`` or ``.json`` file) reads every row,
   counts what importing would do (created, updated, unchanged) and lists every problem with
   its line and column. Nothing is saved but the file, kept by its SHA-256.
2. ``POST /hubs/import`` (the confirmation, naming that hash) imports the valid rows through
   ``store.registry.import_text``, the command's code path, and returns to the registry with
   the summary.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.deps import SessionDep, SettingsDep
from api.web.auth import BackOfficeDep, PageError
from api.web.render import page
from documents.files import store_file
from domain.digests import sha256_hex
from domain.registry import COLUMNS, kind_of
from store.matching import embedder, embedding_model
from store.registry import import_text

router = APIRouter(include_in_schema=False)
SHOWN_PROBLEMS = 200  # the page lists the first ones; the count says how many in all


def _staging(documents_dir: Path) -> Path:
    return documents_dir / "hub-imports"


def _staged(documents_dir: Path, digest: str, kind: str) -> str | None:
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        return None
    path = _staging(documents_dir) / digest[:2] / f"{digest}.{kind}"
    if kind not in ("csv", "json") or not path.is_file():
        return None
    content = path.read_bytes()
    return content.decode("utf-8") if sha256_hex(content) == digest else None


def _refuse(request: Request, message: str, status: int) -> HTMLResponse:
    return page(
        request,
        "hubs_import.html",
        {"error": message, "report": None, "columns": COLUMNS},
        status=status,
    )


@router.post("/hubs/import/preview", response_class=HTMLResponse)
async def preview(
    request: Request, session: SessionDep, settings: SettingsDep, staff: BackOfficeDep
) -> HTMLResponse:
    async with request.form(max_files=1, max_fields=5) as form:
        upload = form.get("file")
        content, filename = b"", ""
        if upload is not None and not isinstance(upload, str):
            filename = upload.filename or ""
            content = await upload.read(settings.upload_max_bytes + 1)
    kind = kind_of(filename)
    if not content:
        return _refuse(request, "Choose a .csv or .json file of hubs to upload.", 422)
    if len(content) > settings.upload_max_bytes:
        return _refuse(request, f"The file is larger than {settings.upload_max_bytes} bytes.", 413)
    if kind is None:
        return _refuse(request, f"{filename or 'The file'} is neither .csv nor .json.", 422)
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return _refuse(request, "The file is not UTF-8 text.", 422)
    report = import_text(session, text, kind, write=False)
    session.rollback()
    digest = sha256_hex(content)
    if report.counts.written:
        store_file(_staging(settings.documents_dir), digest, content, f".{kind}")
    return page(
        request,
        "hubs_import.html",
        {
            "error": "",
            "report": report,
            "problems": report.problems[:SHOWN_PROBLEMS],
            "filename": filename,
            "sha256": digest,
            "kind": kind,
            "columns": COLUMNS,
        },
        status=200,
    )


@router.post("/hubs/import", response_model=None)
async def confirm(
    request: Request, session: SessionDep, settings: SettingsDep, staff: BackOfficeDep
) -> HTMLResponse | RedirectResponse:
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    text = _staged(settings.documents_dir, fields.get("sha256", ""), fields.get("kind", ""))
    if text is None:
        raise PageError(
            422,
            "The uploaded file was not found: upload it again to check and import it.",
            "Upload again",
        )
    report = import_text(
        session, text, fields["kind"], embed=embedder(), embedding_model=embedding_model()
    )
    session.commit()
    counts = report.counts
    query = urlencode(
        {
            "imported": f"{counts.created},{counts.updated},{counts.unchanged},{report.rejected}",
        }
    )
    return RedirectResponse(f"/hubs?{query}", status_code=303)
