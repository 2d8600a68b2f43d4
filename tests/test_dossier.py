"""The case dossier on small in-memory inputs: built, verified, and each kind of tampering found."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from dihflow.cli import main
from domain.dossier import (
    CERTIFICATE_TEMPLATE,
    EXECUTED_TEMPLATE,
    MANIFEST,
    TIMELINE,
    DossierDocument,
    build_dossier,
    verify_dossier,
)
from domain.timeline import GENESIS, chain_event

CASE_ID = "c-0123456789"
DRAFT_V1, DRAFT_V2 = b"agreement draft, version 1", b"agreement draft, version 2"
CERTIFICATE, EXECUTED = b"signature certificate", b"version 2 + signature certificate"
AT = "2026-01-05T10:00:00+00:00"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def inputs() -> tuple[dict[str, Any], dict[str, Any], list[DossierDocument]]:
    """A joint-service case signed on version 2 by the lead and the client."""
    specs: list[tuple[str, str, dict[str, Any]]] = [
        ("case_requested", "principal:p-lead", {"lead_hub_id": "tagus-ai"}),
        ("draft_rendered", "system", {"version": 1, "document_id": f"{CASE_ID}-v1"}),
        ("draft_rendered", "system", {"version": 2, "document_id": f"{CASE_ID}-v2"}),
        ("signed", "principal:p-sign", {"party": "tagus-ai", "version": 2}),
        ("signed", "link:client", {"party": "client", "version": 2}),
        ("agreement_executed", "system", {"version": 2, "sha256": sha(DRAFT_V2)}),
        (
            "executed_copy_produced",
            "system",
            {"document_id": f"{CASE_ID}-v2-executed", "sha256": sha(EXECUTED), "pdf_sha256": None},
        ),
    ]
    hashes = {1: sha(DRAFT_V1), 2: sha(DRAFT_V2)}
    events, seq, head = [], 0, GENESIS
    for type_, actor, data in specs:
        if type_ in ("draft_rendered", "signed"):
            data = {**data, "sha256": hashes[data["version"]]}
        event = chain_event(seq, head, type_, actor, AT, data)
        seq, head = event.seq, event.hash
        events.append(event.model_dump())
    timeline = {"case_id": CASE_ID, "head_hash": head, "items": events}
    signatures = [
        {"party": p, "document_id": f"{CASE_ID}-v2", "sha256": sha(DRAFT_V2), "signed_at": AT}
        for p in ("tagus-ai", "client")
    ]
    case = {
        "id": CASE_ID,
        "scenario": "joint_service",
        "state": "delivery",
        "outcome": None,
        "parties": [{"party": "tagus-ai", "name": "Tagus AI Hub", "role": "lead"}],
        "signatures": signatures,
    }
    documents = [
        DossierDocument(f"{CASE_ID}-v1", "specific", 1, sha(DRAFT_V1), ".docx", DRAFT_V1),
        DossierDocument(f"{CASE_ID}-v2", "specific", 2, sha(DRAFT_V2), ".docx", DRAFT_V2),
        DossierDocument(
            f"{CASE_ID}-v2-certificate",
            CERTIFICATE_TEMPLATE,
            2,
            sha(CERTIFICATE),
            ".docx",
            CERTIFICATE,
        ),
        DossierDocument(
            f"{CASE_ID}-v2-executed", EXECUTED_TEMPLATE, 2, sha(EXECUTED), ".docx", EXECUTED
        ),
    ]
    return case, timeline, documents


def entries(zip_bytes: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def rewrite(zip_bytes: bytes, changes: dict[str, bytes | None], *, rehash: bool = False) -> bytes:
    """The dossier with files replaced (``None`` drops one); ``rehash`` also updates the
    manifest's file hashes, as a careful forger would."""
    files = entries(zip_bytes)
    for name, data in changes.items():
        if data is None:
            files.pop(name, None)
        else:
            files[name] = data
    if rehash:
        manifest = json.loads(files[MANIFEST])
        manifest["files"] = {
            n: sha(d) for n, d in files.items() if n != MANIFEST and n in manifest["files"]
        }
        files[MANIFEST] = json.dumps(manifest).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return out.getvalue()


def flip_byte(data: bytes, at: int = 5) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


@pytest.fixture
def dossier() -> bytes:
    return build_dossier(*inputs())


def test_a_dossier_holds_every_file_with_its_hash_in_the_manifest(dossier: bytes) -> None:
    files = entries(dossier)
    assert set(files) == {
        "manifest.json",
        "case.json",
        "timeline.json",
        f"documents/{CASE_ID}-v1.docx",
        f"documents/{CASE_ID}-v2.docx",
        f"documents/{CASE_ID}-v2-certificate.docx",
        f"documents/{CASE_ID}-v2-executed.docx",
    }
    manifest = json.loads(files["manifest.json"])
    assert manifest["files"] == {n: sha(d) for n, d in files.items() if n != "manifest.json"}
    assert [(d["id"], d["version"], d["sha256"]) for d in manifest["documents"]][:2] == [
        (f"{CASE_ID}-v1", 1, sha(DRAFT_V1)),
        (f"{CASE_ID}-v2", 2, sha(DRAFT_V2)),
    ]
    assert json.loads(files["timeline.json"]) == inputs()[1]
    assert manifest["head_hash"] == inputs()[1]["head_hash"]


def test_a_built_dossier_verifies_and_is_reproducible(dossier: bytes) -> None:
    assert verify_dossier(dossier) == []
    assert build_dossier(*inputs()) == dossier


def test_a_changed_byte_in_a_document_is_reported(dossier: bytes) -> None:
    name = f"documents/{CASE_ID}-v1.docx"
    tampered = rewrite(dossier, {name: flip_byte(DRAFT_V1)})
    problems = verify_dossier(tampered)
    assert any(name in p and "manifest" in p for p in problems), problems
    assert any(f"document {CASE_ID}-v1:" in p for p in problems), problems
    # the manifest rewritten to match still leaves the document's recorded hash
    problems = verify_dossier(rewrite(dossier, {name: flip_byte(DRAFT_V1)}, rehash=True))
    assert problems and all(f"{CASE_ID}-v1" in p for p in problems), problems


def test_an_altered_timeline_event_breaks_the_chain(dossier: bytes) -> None:
    timeline = json.loads(entries(dossier)[TIMELINE])
    timeline["items"][3]["data"]["party"] = "po-valley-ai"
    tampered = rewrite(dossier, {TIMELINE: json.dumps(timeline).encode()}, rehash=True)
    problems = verify_dossier(tampered)
    assert "timeline: event 4: content does not match its hash" in problems
    assert any("timeline event 4 (signed by po-valley-ai)" in p for p in problems)


def test_a_dropped_signed_document_is_reported(dossier: bytes) -> None:
    tampered = rewrite(dossier, {f"documents/{CASE_ID}-v2.docx": None}, rehash=True)
    problems = verify_dossier(tampered)
    assert f"document {CASE_ID}-v2: its file is missing from the dossier" in problems
    assert any(
        p.startswith("signature of client: no draft document") and sha(DRAFT_V2) in p
        for p in problems
    )


def test_a_signature_over_something_other_than_a_draft_is_reported() -> None:
    case, timeline, documents = inputs()
    case["signatures"][0]["sha256"] = sha(CERTIFICATE)
    problems = verify_dossier(build_dossier(case, timeline, documents))
    assert any(p.startswith("signature of tagus-ai: no draft document") for p in problems)
    assert any("timeline event 4 (signed by tagus-ai)" in p for p in problems)


def test_a_signature_without_its_signed_event_is_reported() -> None:
    case, timeline, documents = inputs()
    case["signatures"].append(
        {"party": "po-valley-ai", "document_id": f"{CASE_ID}-v2", "sha256": sha(DRAFT_V2)}
    )
    problems = verify_dossier(build_dossier(case, timeline, documents))
    assert problems == [
        f"signature of po-valley-ai over {sha(DRAFT_V2)}: no signed event in the timeline"
    ]


def test_a_document_whose_file_is_missing_from_the_store_is_reported() -> None:
    case, timeline, documents = inputs()
    documents[3] = DossierDocument(
        documents[3].id, EXECUTED_TEMPLATE, 2, sha(EXECUTED), ".docx", None
    )
    assert verify_dossier(build_dossier(case, timeline, documents)) == [
        f"document {CASE_ID}-v2-executed: its file is missing from the dossier"
    ]


def test_an_event_naming_another_executed_copy_is_reported() -> None:
    case, timeline, documents = inputs()
    documents[3] = DossierDocument(
        documents[3].id, EXECUTED_TEMPLATE, 2, sha(b"other"), ".docx", b"other"
    )
    problems = verify_dossier(build_dossier(case, timeline, documents))
    assert any(p.startswith("timeline event 7 (executed_copy_produced)") for p in problems)


def test_what_is_not_a_dossier_says_so() -> None:
    assert verify_dossier(b"not a zip")[0].startswith("not a readable zip file")
    empty = io.BytesIO()
    zipfile.ZipFile(empty, "w").close()
    assert verify_dossier(empty.getvalue()) == [
        "manifest.json is missing",
        "timeline.json is missing",
        "case.json is missing",
    ]


def test_cli_verifies_a_dossier_offline(
    dossier: bytes,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DIHFLOW_VAR_DIR", str(tmp_path / "var"))
    good, bad = tmp_path / "good.zip", tmp_path / "bad.zip"
    good.write_bytes(dossier)
    name = f"documents/{CASE_ID}-v2-executed.docx"
    bad.write_bytes(rewrite(dossier, {name: flip_byte(EXECUTED)}))
    assert main(["cases", "verify-dossier", str(good)]) == 0
    head = json.loads(entries(dossier)[TIMELINE])["head_hash"]
    assert capsys.readouterr().out == f"timeline head: {head}\nverified\n"
    assert main(["cases", "verify-dossier", str(bad)]) == 1
    out = capsys.readouterr().out.splitlines()
    problems = [line for line in out if not line.startswith("timeline head: ")]
    assert problems and all(name in p or "-v2-executed" in p for p in problems), out
    assert main(["cases", "verify-dossier", str(tmp_path / "absent.zip")]) == 2
