"""The PDF converter: a resident LibreOffice per process, replaced when it dies, gone with its
owner; one ``soffice`` per file as the fallback; off on request. Real LibreOffice, real PDFs
read back."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from activities.pdf import PdfConversionError, PdfConverter
from base.settings import Settings, SettingsError
from documents.rendering import render_docx, template_path
from domain.agreements import (
    SPECIFIC_AGREEMENT_TEMPLATE,
    AgreementParty,
    AgreementTask,
    SpecificAgreementVariables,
)
from tests.conftest import require_libreoffice

ROOT = Path(__file__).resolve().parents[2]
TITLE = "Predictive maintenance for ceramic kilns"


@pytest.fixture(scope="module")
def agreement() -> bytes:
    party = {"country": "Portugal"}
    variables = SpecificAgreementVariables(
        case_ref="PDF-1",
        version=1,
        issued_on=date(2026, 12, 1),
        title=TITLE,
        need="Predict kiln failures from sensor data.",
        scope="Data audit and a pilot model.",
        lead=AgreementParty(id="tagus-ai", name="Tagus AI Hub", role="lead", **party),
        partners=[AgreementParty(id="po-valley-ai", name="Po Valley AI", role="partner", **party)],
        client=AgreementParty(id="client", name="Cerâmica Exemplo", role="client", **party),
        tasks=[AgreementTask(party="Po Valley AI", description="Pilot model", cost_share_pct=100)],
        start_date=date(2027, 1, 1),
        end_date=date(2027, 6, 30),
        framework_reference="FCA 2026",
    ).to_context()
    fixed = datetime(2026, 12, 1, tzinfo=UTC)
    return render_docx(template_path(SPECIFIC_AGREEMENT_TEMPLATE), variables, fixed_time=fixed)


@pytest.fixture
def resident() -> Iterator[PdfConverter]:
    require_libreoffice()
    converter = PdfConverter("resident")
    yield converter
    converter.close()


def pdf_text(pdf: bytes) -> str:
    return " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).replace("\n", " ")


def office_pids(converter: PdfConverter) -> tuple[int, list[int]]:
    """The bridge's pid and every pid in its process group (bridge and soffice)."""
    assert converter._resident is not None
    bridge = converter._resident.proc.pid
    return bridge, group_members(bridge)


def group_members(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[2]) == pgid and stat[0] != "Z":
                members.append(int(entry.name))
    return members


def wait_gone(pgid: int, seconds: float = 20) -> list[int]:
    deadline = time.monotonic() + seconds
    while group_members(pgid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return group_members(pgid)


def test_resident_office_makes_a_readable_pdf_and_serves_every_conversion(
    resident: PdfConverter, agreement: bytes
) -> None:
    first = resident.convert(agreement)
    bridge, group = office_pids(resident)
    second = resident.convert(agreement)
    assert first.startswith(b"%PDF-") and second.startswith(b"%PDF-")
    assert TITLE in pdf_text(first) and "Cerâmica Exemplo" in pdf_text(second)
    assert office_pids(resident) == (bridge, group)  # the same office, not a new one
    assert len(group) == 2  # the bridge and one soffice


def test_a_dead_office_is_replaced_on_the_next_conversion(
    resident: PdfConverter, agreement: bytes
) -> None:
    resident.convert(agreement)
    bridge, _ = office_pids(resident)
    os.killpg(bridge, signal.SIGKILL)
    assert wait_gone(bridge) == []
    assert TITLE in pdf_text(resident.convert(agreement))
    assert office_pids(resident)[0] != bridge


def test_closing_the_converter_stops_its_office(resident: PdfConverter, agreement: bytes) -> None:
    resident.convert(agreement)
    bridge, group = office_pids(resident)
    assert group
    resident.close()
    assert wait_gone(bridge) == []


def test_a_conversion_past_its_time_limit_fails_and_the_next_starts_afresh(
    resident: PdfConverter, agreement: bytes
) -> None:
    resident.timeout = 0.05  # LibreOffice cannot even start in that time
    with pytest.raises(PdfConversionError, match="did not answer in time"):
        resident.convert(agreement)
    assert resident._resident is None  # the slow office was ended
    resident.timeout = 60
    assert TITLE in pdf_text(resident.convert(agreement))


def test_the_heartbeat_is_called_while_the_office_starts(
    resident: PdfConverter, agreement: bytes
) -> None:
    ticks: list[float] = []
    resident.tick_every = 0.005  # starting LibreOffice takes far longer than that
    resident.convert(agreement, tick=lambda: ticks.append(time.monotonic()))
    assert len(ticks) >= 2


def test_the_office_ends_when_its_owner_process_is_killed(tmp_path: Path, agreement: bytes) -> None:
    require_libreoffice()
    source = tmp_path / "agreement.docx"
    source.write_bytes(agreement)
    owner = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, time
                from pathlib import Path
                from activities.pdf import PdfConverter
                converter = PdfConverter("resident")
                converter.convert(Path({str(source)!r}).read_bytes())
                print(converter._resident.proc.pid, flush=True)
                time.sleep(300)
                """
            ),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert owner.stdout is not None
        bridge = int(owner.stdout.readline())
        assert len(group_members(bridge)) == 2
        owner.kill()  # as a worker killed with -9
        owner.wait()
        assert wait_gone(bridge) == []
    finally:
        owner.kill()
        owner.wait()
        if owner.stdout is not None:
            owner.stdout.close()


def test_process_mode_converts_with_one_soffice_per_document(agreement: bytes) -> None:
    require_libreoffice()
    converter = PdfConverter("process")
    assert TITLE in pdf_text(converter.convert(agreement))
    assert converter._resident is None


def test_resident_mode_without_uno_falls_back_to_one_soffice_per_document(
    tmp_path: Path, agreement: bytes
) -> None:
    require_libreoffice()
    no_uno = tmp_path / "python-without-uno"
    no_uno.write_text("#!/bin/sh\nexit 1\n")
    no_uno.chmod(0o755)
    converter = PdfConverter("resident", python=str(no_uno))
    assert TITLE in pdf_text(converter.convert(agreement))
    assert converter._resident is None


def test_off_mode_makes_no_pdf_and_says_so(agreement: bytes) -> None:
    converter = PdfConverter("off")
    assert converter.unavailable() == "no PDF: turned off (DIHFLOW_PDF_CONVERTER=off)"
    with pytest.raises(PdfConversionError, match="turned off"):
        converter.convert(agreement)


def test_an_unknown_converter_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="resident, process, off"):
        PdfConverter("fast")
    monkeypatch.setenv("DIHFLOW_PDF_CONVERTER", "fast")
    with pytest.raises(SettingsError, match="DIHFLOW_PDF_CONVERTER must be one of"):
        Settings.from_env()
    monkeypatch.setenv("DIHFLOW_PDF_CONVERTER", "Process")
    monkeypatch.setenv("DIHFLOW_VAR_DIR", str(Path(__file__).parent))
    monkeypatch.setenv("DIHFLOW_SECRET_KEY", "k" * 64)
    assert Settings.from_env().pdf_converter == "process"
