"""The case dossier: one zip with everything needed to check a case offline (pure logic).

A dossier holds

- ``timeline.json``: the case's events as ``GET /v1/cases/{id}/timeline`` returns them,
- ``case.json``: id, scenario, state, outcome, parties and signatures (party, document id,
  SHA-256, signed at),
- ``documents/<id>.docx|.pdf``: every document of the case (each draft version, the signature
  certificate, the executed copies: generated, PDF, attached from elsewhere),
- ``manifest.json``: file name → SHA-256 for every other file, and each document's metadata.

``verify_dossier`` needs nothing but the zip: the timeline's hash chain verifies (bound to the
case id from chain version 2), the manifest, ``case.json`` and the timeline name the same case
and the same head hash, every file matches the manifest and its document's recorded SHA-256,
every signature is over a draft in the dossier, every ``signed`` event matches a signature, and
the document ids and hashes the timeline names are the files in the dossier; from chain
version 2 the signature certificate is named by hash in the ``executed_copy_produced`` event,
so a certificate swapped in does not verify either.

The zip alone cannot tell a timeline rewritten whole (re-chained, or cut short) from the real
one: what anchors a dossier is the timeline head hash, which the API (``head_hash`` of the case,
``X-Timeline-Head`` of the dossier) and the back office state independently. Give it as
``expect_head`` (``dihflow cases verify-dossier --expect-head``) and a dossier whose timeline
does not end there is refused.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any

from domain.digests import sha256_hex
from domain.timeline import TimelineEvent, chain_key, verify_chain

MANIFEST, TIMELINE, CASE = "manifest.json", "timeline.json", "case.json"
DOCUMENTS_DIR = "documents/"

# Templates of the documents made after signature (everything else in a case is a draft).
EXECUTED_TEMPLATE = "executed_agreement"
CERTIFICATE_TEMPLATE = "signature_certificate"
EXECUTED_PDF_TEMPLATE = "executed_agreement_pdf"
EXTERNAL_TEMPLATE = "executed_agreement_external"
DERIVED_TEMPLATES = frozenset(
    {EXECUTED_TEMPLATE, CERTIFICATE_TEMPLATE, EXECUTED_PDF_TEMPLATE, EXTERNAL_TEMPLATE}
)

_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class DossierDocument:
    """One document of the case: its metadata as stored, and its file (None when the file is
    missing from the document store: the dossier then says so, and does not verify)."""

    id: str
    template: str
    version: int
    sha256: str
    suffix: str  # ".docx" or ".pdf"
    content: bytes | None


def _json_bytes(value: Any) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def document_file_name(doc_id: str, suffix: str) -> str:
    return f"{DOCUMENTS_DIR}{doc_id}{suffix}"


def build_dossier(
    case: dict[str, Any], timeline: dict[str, Any], documents: list[DossierDocument]
) -> bytes:
    """The dossier's zip bytes: the same inputs give the same bytes (fixed entry times)."""
    files: dict[str, bytes] = {CASE: _json_bytes(case), TIMELINE: _json_bytes(timeline)}
    metadata = []
    # by version, each draft before what was made from it
    for doc in sorted(documents, key=lambda d: (d.version, d.template in DERIVED_TEMPLATES, d.id)):
        name = document_file_name(doc.id, doc.suffix)
        entry: dict[str, Any] = {
            "id": doc.id,
            "template": doc.template,
            "version": doc.version,
            "sha256": doc.sha256,
            "file": name if doc.content is not None else None,
        }
        metadata.append(entry)
        if doc.content is not None:
            files[name] = doc.content
    manifest = {
        "case_id": case.get("id"),
        "head_hash": timeline.get("head_hash"),
        "files": {name: sha256_hex(data) for name, data in sorted(files.items())},
        "documents": metadata,
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in [(MANIFEST, _json_bytes(manifest)), *sorted(files.items())]:
            info = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    return out.getvalue()


def dossier_head(zip_bytes: bytes) -> str | None:
    """The head hash the dossier's timeline states (None when it cannot be read)."""
    try:
        with zipfile.ZipFile(io.BytesIO(zip_bytes)) as zf:
            head = json.loads(zf.read(TIMELINE)).get("head_hash")
    except Exception:
        return None
    return head if isinstance(head, str) else None


def verify_dossier(zip_bytes: bytes, expect_head: str | None = None) -> list[str]:
    """Every problem found, as readable messages; an empty list means the dossier verifies.
    ``expect_head``: the head hash the case has now, from the API (see the module's doc)."""
    try:
        with zipfile.ZipFile(io.BytesIO(zip_bytes)) as zf:
            files = {info.filename: zf.read(info) for info in zf.infolist() if not info.is_dir()}
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        return [f"not a readable zip file: {exc}"]
    except Exception as exc:  # a corrupted entry (bad CRC, broken deflate stream)
        return [f"the zip file is damaged: {exc.__class__.__name__}: {exc}"]

    problems: list[str] = []
    parsed: dict[str, Any] = {}
    for name in (MANIFEST, TIMELINE, CASE):
        if name not in files:
            problems.append(f"{name} is missing")
            continue
        try:
            parsed[name] = json.loads(files[name])
        except ValueError as exc:
            problems.append(f"{name} is not valid JSON: {exc}")
    if len(parsed) < 3:
        return problems
    manifest, timeline, case = parsed[MANIFEST], parsed[TIMELINE], parsed[CASE]
    try:
        problems += _check_files(files, manifest)
        documents = _check_documents(files, manifest)
        problems += _check_anchors(manifest, timeline, case, expect_head)
        events = _check_timeline(timeline, problems)
        if int(timeline.get("chain", 1)) >= 2:
            problems += _check_certificates(events, documents)
        problems += _check_signatures(case, documents, events)
        problems += _check_events_name_files(events, documents)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        problems.append(f"the dossier is not in the expected shape: {exc!r}")
        return problems
    problems += documents.problems
    return problems


def _check_files(files: dict[str, bytes], manifest: dict[str, Any]) -> list[str]:
    problems = []
    listed: dict[str, str] = manifest["files"]
    for name, data in sorted(files.items()):
        if name == MANIFEST:
            continue
        if name not in listed:
            problems.append(f"{name} is in the zip but not in the manifest")
        elif sha256_hex(data) != listed[name]:
            problems.append(f"{name}: SHA-256 {sha256_hex(data)} differs from the manifest's")
    for name in sorted(set(listed) - set(files)):
        problems.append(f"{name} is listed in the manifest but missing from the zip")
    return problems


@dataclass
class _Documents:
    by_id: dict[str, dict[str, Any]]
    problems: list[str]

    @property
    def draft_sha256s(self) -> dict[str, str]:
        """sha256 → id of the drafts whose file is present and matches."""
        return {
            d["sha256"]: d["id"]
            for d in self.by_id.values()
            if d["template"] not in DERIVED_TEMPLATES and d.get("_ok")
        }


def _check_documents(files: dict[str, bytes], manifest: dict[str, Any]) -> _Documents:
    problems = []
    by_id: dict[str, dict[str, Any]] = {}
    for meta in manifest["documents"]:
        doc = dict(meta)
        by_id[doc["id"]] = doc
        name = doc.get("file")
        if not name or name not in files:
            problems.append(f"document {doc['id']}: its file is missing from the dossier")
            continue
        actual = sha256_hex(files[name])
        if actual != doc["sha256"]:
            problems.append(
                f"document {doc['id']}: file SHA-256 {actual} differs from the recorded "
                f"{doc['sha256']}"
            )
            continue
        doc["_ok"] = True
    for name in files:
        if name.startswith(DOCUMENTS_DIR) and not any(
            d.get("file") == name for d in by_id.values()
        ):
            problems.append(f"{name} is not the file of any document in the manifest")
    return _Documents(by_id=by_id, problems=problems)


def _check_anchors(
    manifest: dict[str, Any],
    timeline: dict[str, Any],
    case: dict[str, Any],
    expect_head: str | None,
) -> list[str]:
    """One case and one head hash throughout: the manifest, case.json, the timeline, and the
    head hash expected from outside the zip."""
    problems = []
    ids = {"manifest": manifest.get("case_id"), "timeline": timeline.get("case_id")}
    for where, case_id in ids.items():
        if case_id != case["id"]:
            problems.append(f"{where} names case {case_id!r}, case.json {case['id']!r}")
    head = timeline.get("head_hash")
    if manifest.get("head_hash") != head:
        problems.append(
            f"manifest head hash {manifest.get('head_hash')} differs from the timeline's {head}"
        )
    if "head_hash" in case and case["head_hash"] != head:
        problems.append(f"case.json head hash {case['head_hash']} differs from the timeline's")
    items = timeline["items"]
    if "seq" in case and (items[-1]["seq"] if items else 0) != case["seq"]:
        problems.append(
            f"case.json says {case['seq']} events, the timeline ends at "
            f"{items[-1]['seq'] if items else 0}: events are missing"
        )
    if "chain" in case and case["chain"] != timeline.get("chain", 1):
        problems.append("case.json and the timeline differ on the chain version")
    if expect_head is not None and (head != expect_head or not items or items[-1]["hash"] != head):
        problems.append(
            f"the timeline ends at {head}, not at the expected head {expect_head}: its history "
            "was cut short or rewritten (or the case moved on since: fetch it again)"
        )
    return problems


def _check_timeline(timeline: dict[str, Any], problems: list[str]) -> list[TimelineEvent]:
    events = [TimelineEvent(**item) for item in timeline["items"]]
    key = chain_key(int(timeline.get("chain", 1)), timeline["case_id"])
    problems += [f"timeline: {p}" for p in verify_chain(events, key)]
    head = timeline.get("head_hash")
    if events and head != events[-1].hash:
        problems.append("timeline: the head hash is not the hash of the last event")
    return events


def _check_certificates(events: list[TimelineEvent], documents: _Documents) -> list[str]:
    """Chain version 2: each signature certificate is the one an ``executed_copy_produced``
    event names by id and SHA-256."""
    problems = []
    named = {
        e.data.get("certificate_id"): e.data.get("certificate_sha256")
        for e in events
        if e.type == "executed_copy_produced" and e.data.get("certificate_id")
    }
    for doc in documents.by_id.values():
        if doc["template"] != CERTIFICATE_TEMPLATE:
            continue
        if doc["id"] not in named:
            problems.append(f"signature certificate {doc['id']}: no timeline event names it")
        elif named[doc["id"]] != doc["sha256"]:
            problems.append(
                f"signature certificate {doc['id']}: SHA-256 {doc['sha256']} is not the "
                f"{named[doc['id']]} the timeline recorded"
            )
    return problems


def _check_signatures(
    case: dict[str, Any], documents: _Documents, events: list[TimelineEvent]
) -> list[str]:
    problems = []
    drafts = documents.draft_sha256s
    signatures = case["signatures"]
    for s in signatures:
        sha, doc_id = s["sha256"], s["document_id"]
        if sha not in drafts:
            problems.append(
                f"signature of {s['party']}: no draft document in the dossier has SHA-256 {sha}"
            )
        elif drafts[sha] != doc_id:
            problems.append(
                f"signature of {s['party']}: signed {sha}, which is document {drafts[sha]}, "
                f"not {doc_id}"
            )
    signed = {(s["party"], s["sha256"]) for s in signatures}
    for e in events:
        if e.type != "signed":
            continue
        if (e.data.get("party"), e.data.get("sha256")) not in signed:
            problems.append(
                f"timeline event {e.seq} (signed by {e.data.get('party')}): no signature over "
                f"{e.data.get('sha256')} in the dossier"
            )
    events_signed = {
        (e.data.get("party"), e.data.get("sha256")) for e in events if e.type == "signed"
    }
    for party, sha in sorted(signed - events_signed):
        problems.append(f"signature of {party} over {sha}: no signed event in the timeline")
    return problems


def _check_events_name_files(events: list[TimelineEvent], documents: _Documents) -> list[str]:
    """Events that name a document by id and SHA-256 (a rendered draft, the executed copy)
    name one that is in the dossier with that hash."""
    problems = []
    for e in events:
        doc_id, sha = e.data.get("document_id"), e.data.get("sha256")
        if not isinstance(doc_id, str) or not isinstance(sha, str):
            continue
        doc = documents.by_id.get(doc_id)
        if doc is None:
            problems.append(f"timeline event {e.seq} ({e.type}) names document {doc_id}: absent")
        elif doc["sha256"] != sha:
            problems.append(
                f"timeline event {e.seq} ({e.type}) names document {doc_id} with SHA-256 {sha}, "
                f"the dossier's has {doc['sha256']}"
            )
        pdf_sha = e.data.get("pdf_sha256")
        if e.type == "executed_copy_produced" and pdf_sha:
            if not any(
                d["template"] == EXECUTED_PDF_TEMPLATE and d["sha256"] == pdf_sha
                for d in documents.by_id.values()
            ):
                problems.append(
                    f"timeline event {e.seq} ({e.type}) names a PDF with SHA-256 {pdf_sha}: absent"
                )
    return problems
