"""Deliverable uploads are what they say they are: checked by their first bytes against the
declared type, their names cleaned, and served back with ``nosniff``."""

from __future__ import annotations

import hashlib
import io
import zipfile

import httpx
import pytest
from starlette.datastructures import Headers, UploadFile

from api.problems import ApiError
from api.uploads import clean_file_name, store_upload
from base.settings import Settings
from documents.files import store_file
from domain.cases import Deliverable, FileRef, Role
from store.keys import create_key
from tests.api.test_departed_hubs import LEAD, store_case

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def docx_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


def upload(content: bytes, content_type: str, name: str = "report") -> UploadFile:
    return UploadFile(
        io.BytesIO(content), filename=name, headers=Headers({"content-type": content_type})
    )


HTML = b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>"


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (HTML, "application/pdf"),
        (HTML, "image/png"),
        (b"\x89PNG\r\n\x1a\n....", "image/jpeg"),
        (b"PK\x03\x04 not a package at all", DOCX),
        (HTML, "text/plain"),
        (b"col\x00umn", "text/csv"),
    ],
    ids=["html-as-pdf", "html-as-png", "png-as-jpeg", "broken-docx", "html-as-text", "nul-csv"],
)
async def test_a_spoofed_upload_is_415(
    api_settings: Settings, content: bytes, content_type: str
) -> None:
    with pytest.raises(ApiError) as refused:
        await store_upload(upload(content, content_type), api_settings)
    assert refused.value.status == 415 and "content" in refused.value.detail
    assert not list(api_settings.documents_dir.glob("*/*.bin"))  # nothing stored


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"%PDF-1.7\n%%EOF\n", "application/pdf"),
        (docx_bytes(), DOCX),
        (b"\x89PNG\r\n\x1a\n....", "image/png"),
        ("Résumé, données\n1,2\n".encode(), "text/csv"),
    ],
    ids=["pdf", "docx", "png", "csv"],
)
async def test_a_genuine_upload_is_stored(
    api_settings: Settings, content: bytes, content_type: str
) -> None:
    ref = await store_upload(upload(content, content_type), api_settings)
    assert ref.sha256 == hashlib.sha256(content).hexdigest() and ref.size == len(content)


@pytest.mark.parametrize(
    ("given", "cleaned"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\ana\\report.pdf", "report.pdf"),
        ('a"b\r\nX: y.pdf', "a_b_X_ y.pdf"),
        ("...hidden", "hidden"),
        ("", "deliverable"),
        ("x" * 300 + ".pdf", "x" * 116 + ".pdf"),
    ],
)
def test_file_names_are_cleaned(given: str, cleaned: str) -> None:
    assert clean_file_name(given) == cleaned


async def test_a_deliverable_file_is_served_with_nosniff(
    api: httpx.AsyncClient, api_settings: Settings
) -> None:
    content = b"%PDF-1.7\n%%EOF\n"
    sha = hashlib.sha256(content).hexdigest()
    store_file(api_settings.documents_dir, sha, content, ".bin")
    ref = FileRef(
        sha256=sha, name='evil"\r\nname.pdf', size=len(content), content_type="application/pdf"
    )
    deliverable = Deliverable(hub_id=LEAD, status="submitted", id="d1", file=ref)
    store_case(api_settings.database_url, "c-files", deliverables=[deliverable])
    key = {
        "Authorization": f"Bearer {create_key(api_settings.database_url, Role.hub_member, LEAD)}"
    }
    r = await api.get("/v1/cases/c-files/deliverables/d1/file", headers=key)
    assert r.status_code == 200 and r.content == content
    assert r.headers["x-content-type-options"] == "nosniff"
    assert (
        "\r" not in r.headers["content-disposition"]
        and "evil_name.pdf" in r.headers["content-disposition"]
    )
