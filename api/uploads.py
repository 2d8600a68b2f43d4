"""Request bodies of human steps: JSON, or multipart with a file for ``submit-deliverable``.

Files are checked against the size limit (413) and the allowed types (415) from settings,
then stored by content hash like documents; the step's body gets a ``file`` reference that
only the API can set (a JSON body naming ``file`` is refused).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from fastapi import Request
from starlette.datastructures import UploadFile

from api.problems import ApiError
from base.settings import Settings
from documents.files import store_file
from domain.cases import FileRef

CHUNK = 1 << 16


async def read_json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise ApiError(
            422, "the body is not valid JSON", errors=[{"field": "body", "message": "invalid JSON"}]
        ) from None
    if not isinstance(data, dict):
        raise ApiError(
            422, "the body must be a JSON object", errors=[{"field": "body", "message": "object"}]
        )
    if "file" in data:
        raise ApiError(
            422,
            "attach a file as multipart/form-data, not in JSON",
            errors=[{"field": "file", "message": "upload the file as a multipart part"}],
        )
    return data


def is_multipart(request: Request) -> bool:
    return request.headers.get("content-type", "").startswith("multipart/form-data")


async def read_form(
    request: Request, settings: Settings, check: Callable[[dict[str, Any]], None]
) -> dict[str, Any]:
    """The form's fields, and the ``file`` part stored once ``check`` (the action's own
    pre-check on the fields) has passed; the size is checked early, the parts closed after."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > settings.upload_max_bytes + CHUNK:
        raise _too_large(settings)
    async with request.form(max_files=1, max_fields=20) as form:
        fields: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
        upload = form.get("file")
        if isinstance(upload, UploadFile):
            check(fields)
            fields["file"] = (await store_upload(upload, settings)).model_dump()
    return fields


def _too_large(settings: Settings) -> ApiError:
    limit = settings.upload_max_bytes
    return ApiError(
        413, f"the file is larger than the limit of {limit} bytes", title="Payload Too Large"
    )


async def store_upload(upload: UploadFile, settings: Settings) -> FileRef:
    content_type = (upload.content_type or "application/octet-stream").split(";")[0].strip()
    if content_type not in settings.upload_types:
        raise ApiError(
            415,
            f"files of type {content_type!r} are not accepted; allowed: "
            + ", ".join(settings.upload_types),
            title="Unsupported Media Type",
        )
    digest, size, chunks = hashlib.sha256(), 0, []
    while chunk := await upload.read(CHUNK):
        size += len(chunk)
        if size > settings.upload_max_bytes:
            raise _too_large(settings)
        digest.update(chunk)
        chunks.append(chunk)
    sha = digest.hexdigest()
    store_file(settings.documents_dir, sha, b"".join(chunks), ".bin")
    name = (upload.filename or "deliverable").replace("/", "_").replace("\\", "_")[:200]
    return FileRef(sha256=sha, name=name, size=size, content_type=content_type)
