"""Forged dossiers do not verify: a timeline re-chained or cut short (caught against the head
hash the API states), a certificate or an attached copy swapped, a chain taken from another case;
a dossier of chain version 1 (cases opened before) verifies as it always did."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dihflow.cli import main
from domain.dossier import (
    CERTIFICATE_TEMPLATE,
    EXECUTED_TEMPLATE,
    EXTERNAL_TEMPLATE,
    MANIFEST,
    TIMELINE,
    DossierDocument,
    build_dossier,
    verify_dossier,
)
from domain.timeline import GENESIS, chain_event
from tests.test_dossier import entries, inputs, rewrite, sha

CASE_ID = "c-0123456789"
AT = "2026-01-05T10:00:00+00:00"
DRAFT = b"agreement draft, version 1"
CERTIFICATE, EXECUTED = b"signature certificate", b"version 1 + signature certificate"
EXTERNAL = b"%PDF-1.7 signed with a qualified signature elsewhere"
FORGED = b"another signature certificate, other names and addresses"


def chain(specs: list[tuple[str, dict[str, Any]]], case_id: str | None) -> list[dict[str, Any]]:
    events, seq, head = [], 0, GENESIS
    for type_, data in specs:
        event = chain_event(seq, head, type_, "system", AT, data, case_id)
        seq, head = event.seq, event.hash
        events.append(event.model_dump())
    return events


SPECS: list[tuple[str, dict[str, Any]]] = [
    ("case_requested", {"lead_hub_id": "tagus-ai"}),
    ("draft_rendered", {"version": 1, "document_id": f"{CASE_ID}-v1", "sha256": sha(DRAFT)}),
    ("signed", {"party": "tagus-ai", "version": 1, "sha256": sha(DRAFT)}),
    ("agreement_executed", {"version": 1, "sha256": sha(DRAFT)}),
    (
        "executed_copy_produced",
        {
            "document_id": f"{CASE_ID}-v1-executed",
            "sha256": sha(EXECUTED),
            "pdf_sha256": None,
            "certificate_id": f"{CASE_ID}-v1-certificate",
            "certificate_sha256": sha(CERTIFICATE),
        },
    ),
    (
        "executed_copy_attached",
        {"document_id": f"{CASE_ID}-v1-external", "sha256": sha(EXTERNAL)},
    ),
]


def v2_inputs(
    specs: list[tuple[str, dict[str, Any]]] = SPECS,
    certificate: bytes = CERTIFICATE,
    external: bytes = EXTERNAL,
) -> tuple[dict[str, Any], dict[str, Any], list[DossierDocument]]:
    events = chain(specs, CASE_ID)
    head = events[-1]["hash"]
    timeline = {"case_id": CASE_ID, "head_hash": head, "chain": 2, "items": events}
    case = {
        "id": CASE_ID,
        "scenario": "joint_service",
        "state": "delivery",
        "outcome": None,
        "parties": [{"party": "tagus-ai", "name": "Tagus AI Hub", "role": "lead"}],
        "signatures": [{"party": "tagus-ai", "document_id": f"{CASE_ID}-v1", "sha256": sha(DRAFT)}],
        "head_hash": head,
        "seq": events[-1]["seq"],
        "chain": 2,
    }
    documents = [
        DossierDocument(f"{CASE_ID}-v1", "specific", 1, sha(DRAFT), ".docx", DRAFT),
        DossierDocument(
            f"{CASE_ID}-v1-certificate",
            CERTIFICATE_TEMPLATE,
            1,
            sha(certificate),
            ".docx",
            certificate,
        ),
        DossierDocument(
            f"{CASE_ID}-v1-executed", EXECUTED_TEMPLATE, 1, sha(EXECUTED), ".docx", EXECUTED
        ),
        DossierDocument(
            f"{CASE_ID}-v1-external", EXTERNAL_TEMPLATE, 1, sha(external), ".pdf", external
        ),
    ]
    return case, timeline, documents


GOOD_HEAD = v2_inputs()[1]["head_hash"]


def test_a_genuine_dossier_verifies_against_its_head() -> None:
    assert verify_dossier(build_dossier(*v2_inputs()), expect_head=GOOD_HEAD) == []


def test_a_dossier_of_chain_version_1_verifies_as_before() -> None:
    case, timeline, documents = inputs()
    assert "chain" not in timeline
    assert verify_dossier(build_dossier(case, timeline, documents)) == []
    assert verify_dossier(build_dossier(case, timeline, documents), timeline["head_hash"]) == []


def test_a_swapped_certificate_is_refused() -> None:
    # the forger swaps the file and fixes every hash the zip holds but the timeline's
    forged = build_dossier(*v2_inputs(certificate=FORGED))
    problems = verify_dossier(forged)
    assert any("signature certificate" in p and "timeline recorded" in p for p in problems)


def test_a_swapped_attached_copy_is_refused() -> None:
    # alone it no longer matches its event; with the event rewritten and the timeline
    # re-chained, it no longer ends at the head the API states
    assert any(
        f"{CASE_ID}-v1-external" in p
        for p in verify_dossier(build_dossier(*v2_inputs(external=FORGED)))
    )
    specs = [
        (t, d | {"sha256": sha(FORGED)} if t == "executed_copy_attached" else d) for t, d in SPECS
    ]
    forged = build_dossier(*v2_inputs(specs, external=FORGED))
    assert verify_dossier(forged) == []
    problems = verify_dossier(forged, expect_head=GOOD_HEAD)
    assert any("not at the expected head" in p for p in problems), problems


def test_a_rechained_timeline_is_refused_against_the_expected_head() -> None:
    # certificate, its event and every hash after it rewritten: consistent inside the zip
    specs = [
        (t, d | {"certificate_sha256": sha(FORGED)} if t == "executed_copy_produced" else d)
        for t, d in SPECS
    ]
    forged = build_dossier(*v2_inputs(specs, certificate=FORGED))
    assert verify_dossier(forged) == []  # the zip alone cannot tell
    problems = verify_dossier(forged, expect_head=GOOD_HEAD)
    assert any("not at the expected head" in p for p in problems), problems


def test_a_timeline_cut_short_is_refused() -> None:
    good = build_dossier(*v2_inputs())
    timeline = json.loads(entries(good)[TIMELINE])
    timeline["items"] = timeline["items"][:-1]
    timeline["head_hash"] = timeline["items"][-1]["hash"]
    manifest = json.loads(entries(good)[MANIFEST])
    manifest["head_hash"] = timeline["head_hash"]
    forged = rewrite(
        good,
        {TIMELINE: json.dumps(timeline).encode(), MANIFEST: json.dumps(manifest).encode()},
        rehash=True,
    )
    problems = verify_dossier(forged)
    assert any("events are missing" in p for p in problems), problems
    assert any("not at the expected head" in p for p in verify_dossier(forged, GOOD_HEAD))


def test_a_manifest_naming_another_head_or_case_is_refused() -> None:
    good = build_dossier(*v2_inputs())
    manifest = json.loads(entries(good)[MANIFEST])
    manifest |= {"head_hash": "f" * 64, "case_id": "c-other"}
    problems = verify_dossier(rewrite(good, {MANIFEST: json.dumps(manifest).encode()}))
    assert any("manifest head hash" in p for p in problems)
    assert any("manifest names case 'c-other'" in p for p in problems)


def test_a_chain_from_another_case_is_refused() -> None:
    case, timeline, documents = v2_inputs()
    other = chain(SPECS, "c-9999999999")  # the same events, chained for another case
    timeline = timeline | {"items": other, "head_hash": other[-1]["hash"]}
    case = case | {"head_hash": other[-1]["hash"]}
    problems = verify_dossier(build_dossier(case, timeline, documents))
    assert "timeline: event 1: content does not match its hash" in problems


def test_cli_prints_the_head_and_takes_an_expected_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DIHFLOW_VAR_DIR", str(tmp_path / "var"))
    path = tmp_path / "dossier.zip"
    path.write_bytes(build_dossier(*v2_inputs()))
    assert main(["cases", "verify-dossier", str(path), "--expect-head", GOOD_HEAD]) == 0
    assert capsys.readouterr().out == f"timeline head: {GOOD_HEAD}\nverified\n"
    assert main(["cases", "verify-dossier", str(path), "--expect-head", "0" * 64]) == 1
    assert "not at the expected head" in capsys.readouterr().out
