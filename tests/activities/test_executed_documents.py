"""The executed copy and the certificate alone, made in one pass over the signed version
(``activities.executed.executed_documents``), read back with python-docx."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import docx
import pytest
from docx.oxml.ns import qn
from docx.shared import Pt

from activities.executed import COLUMNS, Certificate, SignerRow, executed_documents
from documents.rendering import render_docx, template_path
from documents.template_check import example_context

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
NAMES = ["Ana Ribeiro", "  padded  ", "tab\there", 'Zoë <&> "quoted"']


@pytest.fixture(scope="module")
def signed() -> bytes:
    name = "specific_collaboration_agreement"
    return render_docx(template_path(name), example_context(name), fixed_time=AT)


def _certificate() -> Certificate:
    return Certificate(
        case_id="c-1",
        title="Joint service & <more>",
        document_id="c-1-v2",
        version=2,
        document_sha256="a" * 64,
        head_hash="b" * 64,
        head_seq=17,
        executed_at=AT,
        signers=tuple(
            SignerRow(
                f"party-{i}",
                name,
                "hub signatory",
                f"Org {i}",
                "2026-03-02 09:30 UTC",
                "127.0.0.1",
                "Mozilla/5.0 (X11)",
            )
            for i, name in enumerate(NAMES)
        ),
    )


def _read(content: bytes) -> docx.document.Document:
    return docx.Document(io.BytesIO(content))


def test_the_copy_is_the_signed_agreement_then_the_certificate(signed: bytes) -> None:
    executed, _ = executed_documents(signed, _certificate())
    agreement, copy = _read(signed), _read(executed)
    before = [p.text for p in agreement.paragraphs]
    assert [p.text for p in copy.paragraphs][: len(before)] == before
    table = copy.tables[len(agreement.tables)]
    assert [c.text for c in table.rows[0].cells] == list(COLUMNS)
    assert [row.cells[1].text for row in table.rows[1:]] == NAMES  # as given, spaces and tab
    header, first = table.rows[0].cells[0].paragraphs[0].runs[0], table.rows[1].cells[0]
    assert header.bold is True and header.font.size == Pt(8)
    assert first.paragraphs[0].runs[0].bold is False
    assert first.paragraphs[0].runs[0].font.size == Pt(8)
    heading = copy.paragraphs[len(before)]
    breaks = heading._p.findall(f".//{qn('w:br')}")
    assert [b.get(qn("w:type")) for b in breaks] == ["page"]  # a page of its own


def test_the_certificate_alone_is_the_copys_last_page(signed: bytes) -> None:
    executed, alone = executed_documents(signed, _certificate())
    copy, cert = _read(executed), _read(alone)
    tail = [p.text for p in copy.paragraphs][-len(cert.paragraphs) :]
    assert [p.text for p in cert.paragraphs] == tail
    assert tail[0] == "Signature certificate"
    assert len(cert.tables) == 1
    assert [[c.text for c in r.cells] for r in cert.tables[0].rows] == [
        [c.text for c in r.cells] for r in copy.tables[-1].rows
    ]
    agreement_text = {p.text for p in _read(signed).paragraphs if p.text.strip()}
    assert not agreement_text & {p.text for p in cert.paragraphs}
    body = cert.element.body
    assert not [b for b in body.iter(qn("w:br")) if b.get(qn("w:type")) == "page"]
    # the agreement's page setup and footer (it names the agreement and its version)
    footer = " ".join(p.text for p in cert.sections[0].footer.paragraphs)
    assert "Specific Collaboration Agreement" in footer


def test_both_are_the_same_bytes_every_time(signed: bytes) -> None:
    first = executed_documents(signed, _certificate())
    assert executed_documents(signed, _certificate()) == first
    assert first[0] != first[1]
