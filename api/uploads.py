"""Request bodies of human steps: JSON, or multipart with a file for ``submit-deliverable``.

Files are checked against the size limit (413) and the allowed types (415) from settings,
then stored by content hash like documents; the step's body gets a ``file`` reference that
only the API can set (a JSON body naming ``file`` is refused).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
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
    content = b"".join(chunks)
    problem = content_mismatch(content_type, content)
    if problem is not None:
        raise ApiError(
            415,
            f"the file's content is not {content_type}: {problem}",
            title="Unsupported Media Type",
            errors=[{"field": "file", "message": problem}],
        )
    sha = digest.hexdigest()
    store_file(settings.documents_dir, sha, content, ".bin")
    name = clean_file_name(upload.filename or "")
    return FileRef(sha256=sha, name=name, size=size, content_type=content_type)


# The first bytes each accepted type starts with (its "magic number"); text types have none
# and are checked for what they must not hold instead.
MAGIC: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "application/zip": (b"PK\x03\x04", b"PK\x05\x06"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (b"PK\x03\x04",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (b"PK\x03\x04",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
}
OOXML_PART = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "word/",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xl/",
}
MARKUP = re.compile(rb"<\s*(!doctype|html|script|svg|iframe|object|body)\b", re.IGNORECASE)


def content_mismatch(content_type: str, content: bytes) -> str | None:
    """Why ``content`` is not what ``content_type`` declares (by its first bytes), or None.

    A file declared as one type but holding another (an HTML page sent as a PDF) would be
    served back under the declared type: browsers are told not to sniff (``nosniff``), and the
    content is checked here so the declared type is also the true one."""
    magic = MAGIC.get(content_type)
    if magic is not None:
        if not content.startswith(magic):
            return "its first bytes are those of another kind of file"
        part = OOXML_PART.get(content_type)
        if part is not None:
            try:
                with zipfile.ZipFile(io.BytesIO(content)) as zf:
                    names = zf.namelist()
            except (zipfile.BadZipFile, OSError, ValueError):
                return "not a readable Office Open XML package"
            if "[Content_Types].xml" not in names or not any(n.startswith(part) for n in names):
                return f"not an Office Open XML package with a {part} part"
        return None
    if content_type.startswith("text/"):
        if b"\x00" in content:
            return "binary content (NUL bytes) in a text file"
        try:
            content.decode("utf-8")
        except UnicodeDecodeError:
            return "not UTF-8 text"
        if MARKUP.search(content[:4096]):
            return "HTML markup in a plain text file"
    return None


SAFE_NAME = re.compile(r"[^\w.()+ -]+")


def clean_file_name(name: str, default: str = "deliverable") -> str:
    """A file name safe to show and to send back in Content-Disposition: its last path part,
    no control characters or quotes, no leading dots, at most 120 characters."""
    base = re.split(r"[/\\]", name)[-1]
    base = SAFE_NAME.sub("_", base).strip(" .")
    if len(base) > 120:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: 119 - len(ext)] + dot + ext) if dot and len(ext) <= 10 else base[:120]
    return base or default
