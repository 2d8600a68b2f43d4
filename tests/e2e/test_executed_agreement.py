"""The executed agreement, the case dossier and the executed copy signed elsewhere, end to end.

One joint-service case is driven to ``delivery`` over HTTP (real dev server, worker, API); the
last signature produces the executed copy (signed version + signature certificate, .docx and,
with LibreOffice installed, PDF). Without ``soffice`` the PDF test skips with the reason, unless
``DIHFLOW_REQUIRE_PDF`` is set (CI), which makes that a failure.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docx
import pytest
from docx.oxml.ns import qn
from pypdf import PdfReader

from domain.dossier import verify_dossier
from domain.timeline import TimelineEvent, verify_chain
from tests.conftest import Stack, require_libreoffice
from tests.e2e.helpers import (
    CLIENT,
    LEAD,
    PARTNER,
    act,
    link_token,
    read,
    start_case,
    wait_for_event,
)
from tests.test_dossier import flip_byte, rewrite

pytestmark = pytest.mark.e2e
LEAD_MEMBER, LEAD_SIGNATORY = f"hub_member:{LEAD}", f"hub_signatory:{LEAD}"
PARTNER_MEMBER, PARTNER_SIGNATORY = f"hub_member:{PARTNER}", f"hub_signatory:{PARTNER}"
OUTSIDER = "hub_member:vistula-ai"
SIGNER = "Ana Ribeiro"
PDF_BYTES = b"%PDF-1.7\n% an agreement signed with a qualified e-signature\n%%EOF\n"


@dataclass
class Executed:
    case_id: str
    case: dict[str, Any]
    draft: dict[str, Any]  # the signed version
    events: list[TimelineEvent]

    def event(self, type_: str) -> TimelineEvent:
        return next(e for e in self.events if e.type == type_)

    def document_by_id(self, doc_id: str) -> dict[str, Any]:
        return next(d for d in self.case["documents"] if d["id"] == doc_id)

    def document(self, template: str) -> dict[str, Any] | None:
        return next((d for d in self.case["documents"] if d["template"] == template), None)


async def timeline(stack: Stack, case_id: str) -> list[TimelineEvent]:
    r = await stack.http.get(f"/v1/cases/{case_id}/timeline", headers=stack.auth("back_office"))
    assert r.status_code == 200, r.text
    return [TimelineEvent(**e) for e in r.json()["items"]]


async def to_signing(stack: Stack) -> tuple[str, str]:
    cid = (await start_case(stack))["id"]
    r = await act(stack, PARTNER_MEMBER, cid, "accept-invitation")
    assert r.status_code == 200, r.text
    r = await act(stack, "legal", cid, "approve-draft")
    assert r.status_code == 200 and r.json()["state"] == "signing", r.text
    return cid, r.json()["draft"]["sha256"]


@pytest.fixture(scope="module")
async def executed(stack: Stack) -> Executed:
    """A joint-service case signed by the lead, the partner and the client (by its link)."""
    cid, sha = await to_signing(stack)
    sign = {"document_sha256": sha}
    for who in (LEAD_SIGNATORY, PARTNER_SIGNATORY):
        r = await act(stack, who, cid, "sign", sign)
        assert r.status_code == 200, r.text
    token = await link_token(stack, cid, "sign")
    r = await stack.http.post(f"/v1/links/{token}", json={**sign, "signer_name": SIGNER})
    assert r.status_code == 200 and r.json()["state"] == "delivery", r.text
    await wait_for_event(stack, cid, "executed_copy_produced")  # made once the step returned
    case = await read(stack, LEAD_MEMBER, cid)
    return Executed(cid, case, case["draft"], await timeline(stack, cid))


async def download(stack: Stack, doc: dict[str, Any], who: str = LEAD_MEMBER) -> bytes:
    r = await stack.http.get(doc["download_url"], headers=stack.auth(who))
    assert r.status_code == 200, r.text
    assert hashlib.sha256(r.content).hexdigest() == doc["sha256"]
    return r.content


def docx_lines(content: bytes) -> tuple[list[str], list[list[list[str]]]]:
    """Paragraph texts, and each table as rows of cell texts."""
    document = docx.Document(io.BytesIO(content))
    paragraphs = [p.text for p in document.paragraphs]
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in document.tables]
    return paragraphs, tables


# -- the executed copy ---------------------------------------------------------------------------
async def test_the_last_signature_produces_the_executed_copy(
    stack: Stack, executed: Executed
) -> None:
    templates = [d["template"] for d in executed.case["documents"]]
    assert {"specific_collaboration_agreement", "signature_certificate", "executed_agreement"} <= (
        set(templates)
    )
    types = [e.type for e in executed.events]
    assert types[-2:] == ["agreement_executed", "executed_copy_produced"]
    assert verify_chain(executed.events, executed.case_id) == []
    produced = executed.event("executed_copy_produced")
    copy = executed.document("executed_agreement")
    assert copy is not None
    certificate = executed.document("signature_certificate")
    assert certificate is not None
    assert produced.data == {  # the PDF is made after the step (see the PDF test)
        "document_id": copy["id"],
        "sha256": copy["sha256"],
        "pdf_sha256": None,
        "certificate_id": certificate["id"],  # chain version 2: the certificate by hash too
        "certificate_sha256": certificate["sha256"],
    }
    assert produced.actor == "system"
    # ids and hashes only in the chained content: no names, e-mails or addresses
    for e in executed.events:
        text = json.dumps(e.data)
        assert SIGNER not in text and CLIENT["email"] not in text and "127.0.0.1" not in text
    assert all(d["version"] == executed.draft["version"] for d in executed.case["documents"])


async def test_the_executed_docx_is_the_signed_agreement_plus_the_certificate(
    stack: Stack, executed: Executed
) -> None:
    signed = await download(stack, executed.document_by_id(executed.draft["document_id"]))
    assert hashlib.sha256(signed).hexdigest() == executed.draft["sha256"]
    copy = executed.document("executed_agreement")
    assert copy is not None
    content = await download(stack, copy, PARTNER_MEMBER)
    paragraphs, tables = docx_lines(content)
    original_paragraphs, original_tables = docx_lines(signed)

    # the agreement as signed comes first, unchanged
    assert paragraphs[: len(original_paragraphs)] == original_paragraphs
    assert tables[: len(original_tables)] == original_tables
    cells = [c for t in original_tables for row in t for c in row]
    assert any(CLIENT["name"] in p for p in original_paragraphs + cells)

    # then the certificate
    after = paragraphs[len(original_paragraphs) :]
    assert "Signature certificate" in after
    certificate = tables[len(original_tables)]
    assert certificate[0] == [
        "Party",
        "Signer name",
        "Role",
        "Hub / organisation",
        "Signed at (UTC)",
        "IP address",
        "User agent",
    ]
    rows = {row[0]: row for row in certificate[1:]}
    assert list(rows) == [LEAD, PARTNER, "client"]
    hub_names = {
        h: (await stack.http.get(f"/v1/hubs/{h}", headers=stack.auth("legal"))).json()["name"]
        for h in (LEAD, PARTNER)
    }
    assert rows[LEAD][2] == rows[PARTNER][2] == "hub signatory"
    assert rows[LEAD][3] == hub_names[LEAD] and rows[PARTNER][3] == hub_names[PARTNER]
    assert rows["client"][1:4] == [SIGNER, "client", CLIENT["name"]]
    for row in rows.values():
        assert row[4].endswith(" UTC") and row[5] == "127.0.0.1"
        assert row[6].startswith("python-httpx/")
    text = "\n".join(after)
    head_at_execution = executed.event("agreement_executed").hash
    assert f"Document SHA-256: {executed.draft['sha256']}" in text
    assert f"Case timeline head hash at execution: {head_at_execution}" in text
    assert "simple electronic signatures" in text and "eIDAS" in text

    # the certificate alone is the copy's last page, and nothing of the agreement
    cert = executed.document("signature_certificate")
    assert cert is not None
    cert_content = await download(stack, cert)
    cert_paragraphs, cert_tables = docx_lines(cert_content)
    assert cert_tables == [certificate]
    assert cert_paragraphs == after
    assert head_at_execution in "\n".join(cert_paragraphs)
    body = docx.Document(io.BytesIO(cert_content)).element.body
    assert not [br for br in body.iter(qn("w:br")) if br.get(qn("w:type")) == "page"]


async def test_the_executed_copy_says_where_its_pdf_is(executed: Executed) -> None:
    """The PDF is made when first asked for: the copy's entry names the URL to ask."""
    copy, cert = executed.document("executed_agreement"), executed.document("signature_certificate")
    assert copy is not None and cert is not None
    assert copy["pdf_url"] == f"/v1/cases/{executed.case_id}/documents/{copy['id']}-pdf"
    assert cert["pdf_url"] is None
    assert all(d["pdf_url"] is None for d in executed.case["documents"] if d is not copy)


async def test_the_executed_copy_is_also_a_pdf(stack: Stack, executed: Executed) -> None:
    """Made when first asked for (its ``pdf_url``), never on the step's path."""
    require_libreoffice()
    copy = executed.document("executed_agreement")
    assert copy is not None
    assert copy["pdf_url"] == f"/v1/cases/{executed.case_id}/documents/{copy['id']}-pdf"
    r = await stack.http.get(copy["pdf_url"], headers=stack.auth(LEAD_MEMBER))
    assert r.status_code == 200, r.text
    content = r.content
    assert content.startswith(b"%PDF-") and len(content) > 10_000
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    assert executed.case["title"] in text.replace("\n", " ")
    assert "Signature certificate" in text and "Ana Ribeiro" in text
    # never on the step's path: the event names the .docx, the PDF follows it
    assert executed.event("executed_copy_produced").data["pdf_sha256"] is None
    pdf = await executed_pdf(stack, executed.case_id)  # listed once made
    assert pdf is not None and pdf["id"] == f"{copy['id']}-pdf"
    assert pdf["sha256"] == r.headers["X-Document-SHA256"]
    assert await download(stack, pdf) == content


async def executed_pdf(stack: Stack, case_id: str) -> dict[str, Any] | None:
    case = await read(stack, LEAD_MEMBER, case_id)
    return next((d for d in case["documents"] if d["template"] == "executed_agreement_pdf"), None)


async def test_a_pdf_asked_for_before_the_converters_made_it_is_made_then(
    stack: Stack, executed: Executed
) -> None:
    require_libreoffice()
    from store.db import session_scope
    from store.models import Document

    copy = executed.document("executed_agreement")
    assert copy is not None
    pdf_id = f"{copy['id']}-pdf"
    with session_scope(stack.settings.database_url) as session:  # as if not made yet
        row = session.get(Document, pdf_id)
        if row is not None:
            session.delete(row)
    r = await stack.http.get(
        f"/v1/cases/{executed.case_id}/documents/{pdf_id}", headers=stack.auth(LEAD_MEMBER)
    )
    assert r.status_code == 200, r.text
    assert r.content.startswith(b"%PDF-") and r.headers["content-type"] == "application/pdf"
    made = await executed_pdf(stack, executed.case_id)
    assert made is not None and made["sha256"] == r.headers["X-Document-SHA256"]


# -- the dossier ---------------------------------------------------------------------------------
async def get_dossier(stack: Stack, case_id: str, who: str = PARTNER_MEMBER) -> bytes:
    r = await stack.http.get(f"/v1/cases/{case_id}/dossier", headers=stack.auth(who))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    return r.content


def verify_with_cli(path: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    command = Path(sys.executable).parent / "dihflow"
    env = {**os.environ, "DIHFLOW_VAR_DIR": str(tmp_path / "var")}
    return subprocess.run(
        [str(command), "cases", "verify-dossier", str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


async def test_the_dossier_holds_the_case_and_verifies_offline(
    stack: Stack, executed: Executed, tmp_path: Path
) -> None:
    content = await get_dossier(stack, executed.case_id)
    assert verify_dossier(content) == []
    with zipfile.ZipFile(io.BytesIO(content)) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    manifest = json.loads(files["manifest.json"])
    case = await read(stack, LEAD_MEMBER, executed.case_id)
    assert {(d["id"], d["sha256"]) for d in manifest["documents"]} == {
        (d["id"], d["sha256"]) for d in case["documents"]
    }
    for d in case["documents"]:
        suffix = ".pdf" if d["template"] == "executed_agreement_pdf" else ".docx"
        assert hashlib.sha256(files[f"documents/{d['id']}{suffix}"]).hexdigest() == d["sha256"]
    timeline_json = json.loads(files["timeline.json"])
    r = await stack.http.get(
        f"/v1/cases/{executed.case_id}/timeline", headers=stack.auth(PARTNER_MEMBER)
    )
    assert timeline_json == r.json()
    case_json = json.loads(files["case.json"])
    assert (case_json["id"], case_json["scenario"], case_json["state"]) == (
        executed.case_id,
        "joint_service",
        "delivery",
    )
    assert {s["party"] for s in case_json["signatures"]} == {LEAD, PARTNER, "client"}
    assert {p["party"] for p in case_json["parties"]} >= {LEAD, PARTNER, "client"}
    assert CLIENT["email"] not in files["case.json"].decode()

    path = tmp_path / "dossier.zip"
    path.write_bytes(content)
    done = verify_with_cli(path, tmp_path)
    head = timeline_json["head_hash"]
    assert (done.returncode, done.stdout) == (0, f"timeline head: {head}\nverified\n"), done.stderr


async def test_tampering_with_the_dossier_is_reported(
    stack: Stack, executed: Executed, tmp_path: Path
) -> None:
    content = await get_dossier(stack, executed.case_id, "back_office")
    with zipfile.ZipFile(io.BytesIO(content)) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    signed_id = executed.draft["document_id"]
    signed_name = f"documents/{signed_id}.docx"
    copy = executed.document("executed_agreement")
    assert copy is not None

    # one byte of a document
    name = f"documents/{copy['id']}.docx"
    problems = verify_dossier(rewrite(content, {name: flip_byte(files[name], 100)}))
    assert any(name in p for p in problems) and any(copy["id"] in p for p in problems)

    # one timeline event's data (the manifest rewritten to match: the chain still tells)
    timeline_json = json.loads(files["timeline.json"])
    signed_event = next(e for e in timeline_json["items"] if e["type"] == "signed")
    signed_event["data"]["party"] = "vistula-ai"
    forged = rewrite(content, {"timeline.json": json.dumps(timeline_json).encode()}, rehash=True)
    problems = verify_dossier(forged)
    assert f"timeline: event {signed_event['seq']}: content does not match its hash" in problems

    # the document a signature is over
    dropped = rewrite(content, {signed_name: None}, rehash=True)
    problems = verify_dossier(dropped)
    assert f"document {signed_id}: its file is missing from the dossier" in problems
    assert any(p.startswith("signature of client: no draft document") for p in problems)

    path = tmp_path / "tampered.zip"
    path.write_bytes(dropped)
    done = verify_with_cli(path, tmp_path)
    assert done.returncode == 1 and signed_id in done.stdout, (done.stdout, done.stderr)
    assert "verified" not in done.stdout


async def test_the_dossier_is_for_those_who_read_the_case(stack: Stack, executed: Executed) -> None:
    url = f"/v1/cases/{executed.case_id}/dossier"
    assert (await stack.http.get(url, headers=stack.auth(OUTSIDER))).status_code == 404
    assert (await stack.http.get(url)).status_code == 401
    assert (await stack.http.get(url, headers=stack.auth("legal"))).status_code == 200
    r = await stack.http.get("/v1/cases/c-nosuchcase/dossier", headers=stack.auth("back_office"))
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem")


# -- the executed copy signed elsewhere ------------------------------------------------------------
async def attach(
    stack: Stack, case_id: str, who: str, content: bytes, content_type: str = "application/pdf"
):  # type: ignore[no-untyped-def]
    return await stack.http.post(
        f"/v1/cases/{case_id}/executed-copy",
        files={"file": ("agreement-qes.pdf", content, content_type)},
        headers=stack.auth(who),
    )


async def test_the_lead_attaches_the_agreement_signed_elsewhere(
    stack: Stack, executed: Executed
) -> None:
    cid = executed.case_id
    r = await attach(stack, cid, PARTNER_SIGNATORY, PDF_BYTES)
    assert r.status_code == 403, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    r = await attach(stack, cid, LEAD_MEMBER, b"plain text", "text/plain")
    assert r.status_code == 415, r.text
    r = await attach(stack, cid, LEAD_MEMBER, b"not really a PDF")  # declared as one
    assert r.status_code == 415, r.text
    assert (await attach(stack, cid, OUTSIDER, PDF_BYTES)).status_code == 404

    r = await attach(stack, cid, LEAD_MEMBER, PDF_BYTES)
    assert r.status_code == 201, r.text
    sha = hashlib.sha256(PDF_BYTES).hexdigest()
    body = r.json()
    assert body["sha256"] == sha and body["template"] == "executed_agreement_external"
    assert r.headers["location"] == body["download_url"]
    assert (await attach(stack, cid, LEAD_SIGNATORY, PDF_BYTES)).status_code == 200
    other = await attach(stack, cid, LEAD_MEMBER, PDF_BYTES + b"% another\n")
    assert other.status_code == 409 and sha in other.json()["detail"]

    case = await read(stack, PARTNER_MEMBER, cid)
    assert (body["document_id"], sha) in {(d["id"], d["sha256"]) for d in case["documents"]}
    assert case["state"] == "delivery"  # a document attachment, not a step of the case
    events = await timeline(stack, cid)  # recorded once, though attached three times
    assert [e.type for e in events] == [e.type for e in executed.events] + [
        "executed_copy_attached"
    ]
    assert events[-1].actor.startswith("principal:") and verify_chain(events, cid) == []
    assert events[-1].data == {
        "document_id": body["document_id"],
        "sha256": sha,
        "version": executed.draft["version"],
    }

    content = await get_dossier(stack, cid)
    assert verify_dossier(content) == []
    with zipfile.ZipFile(io.BytesIO(content)) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        assert zf.read(f"documents/{body['document_id']}.pdf") == PDF_BYTES
    assert manifest["files"][f"documents/{body['document_id']}.pdf"] == sha


async def test_no_executed_copy_before_every_party_signed(stack: Stack) -> None:
    cid, _ = await to_signing(stack)
    r = await attach(stack, cid, LEAD_MEMBER, PDF_BYTES)
    assert r.status_code == 409, r.text
    assert "allowed_actions" in r.json()
    assert (await read(stack, LEAD_MEMBER, cid))["state"] == "signing"


async def test_the_executed_case_history_replays(stack: Stack, executed: Executed) -> None:
    """The new path (patch ``executed-agreement``) is deterministic: its own history replays."""
    from temporalio.contrib.pydantic import pydantic_data_converter
    from temporalio.worker import Replayer

    from base.engine import connect
    from worker import sandbox_runner
    from workflows import WORKFLOWS

    client = await connect(stack.settings)
    history = await client.get_workflow_handle(f"case-{executed.case_id}").fetch_history()
    replayer = Replayer(
        workflows=WORKFLOWS,
        data_converter=pydantic_data_converter,
        workflow_runner=sandbox_runner(strict=True),
    )
    await replayer.replay_workflow(history)
    assert any(
        e.marker_recorded_event_attributes.marker_name == "core_patch"
        for e in history.events
        if e.HasField("marker_recorded_event_attributes")
    )


async def test_producing_the_executed_copy_again_finds_or_remakes_the_same_files(
    stack: Stack, executed: Executed
) -> None:
    """Idempotent: a retried activity returns the rows it made, and re-rendering from the
    store gives the same bytes (deterministic .docx), so a retry never makes a second copy."""
    from activities.executed import (
        ExecutedActivities,
        _certificate,
        executed_documents,
    )
    from activities.payloads import ExecuteInput
    from store.db import session_scope
    from store.models import Case, Document
    from store.queries import case_facts

    at_execution = executed.event("agreement_executed")
    with session_scope(stack.settings.database_url) as session:
        row = session.get(Case, executed.case_id)
        assert row is not None
        facts = case_facts(row).model_copy(
            update={"seq": at_execution.seq, "head_hash": at_execution.hash}
        )
        signed = session.get(Document, executed.draft["document_id"])
        assert signed is not None
        cert = _certificate(session, facts, at_execution.at)
    root = stack.settings.documents_dir
    copy, cert_doc = (
        executed.document("executed_agreement"),
        executed.document("signature_certificate"),
    )
    assert copy is not None and cert_doc is not None
    remade, remade_cert = executed_documents((root / signed.path).read_bytes(), cert)
    assert hashlib.sha256(remade).hexdigest() == copy["sha256"]
    assert hashlib.sha256(remade_cert).hexdigest() == cert_doc["sha256"]

    again = ExecutedActivities(stack.settings).produce_executed_agreement(
        ExecuteInput(facts=facts, executed_at=at_execution.at, pdf=False)
    )
    produced = executed.event("executed_copy_produced").data
    assert (again.document_id, again.sha256) == (produced["document_id"], produced["sha256"])
    case = await read(stack, LEAD_MEMBER, executed.case_id)
    made = [d["template"] for d in case["documents"]]
    for template in ("executed_agreement", "signature_certificate", "executed_agreement_pdf"):
        assert made.count(template) <= 1, made


async def test_a_copy_that_cannot_be_made_is_recorded_and_the_case_goes_on(
    stack: Stack,
) -> None:
    """The signed file gone from the document store: no executed copy, an
    ``executed_copy_failed`` event, and the case in delivery all the same."""
    from store.db import session_scope
    from store.models import Document

    cid, sha = await to_signing(stack)
    sign = {"document_sha256": sha}
    for who in (LEAD_SIGNATORY, PARTNER_SIGNATORY):
        r = await act(stack, who, cid, "sign", sign)
        assert r.status_code == 200, r.text
    with session_scope(stack.settings.database_url) as session:
        draft = session.get(Document, f"{cid}-v1")
        assert draft is not None and draft.sha256 == sha
        (stack.settings.documents_dir / draft.path).unlink()  # this case's own file
    token = await link_token(stack, cid, "sign")
    r = await stack.http.post(f"/v1/links/{token}", json={**sign, "signer_name": SIGNER})
    assert r.status_code == 200 and r.json()["state"] == "delivery", r.text
    await wait_for_event(stack, cid, "executed_copy_failed")
    events = await timeline(stack, cid)
    assert [e.type for e in events][-2:] == ["agreement_executed", "executed_copy_failed"]
    assert events[-1].data == {"version": 1} and verify_chain(events, cid) == []
    case = await read(stack, LEAD_MEMBER, cid)
    assert [d["template"] for d in case["documents"]] == ["specific_collaboration_agreement"]
    assert "submit-deliverable" in (await read(stack, PARTNER_MEMBER, cid))["allowed_actions"]
    problems = verify_dossier(await get_dossier(stack, cid))
    assert f"document {cid}-v1: its file is missing from the dossier" in problems
