"""``dihflow report`` and ``dihflow export kpis`` over the seeded history
(``tests/store/history.py``): files read back, the progress shown, the CSV's rows."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import docx
import pytest

from dihflow.cli import main
from store.db import migrate
from tests.store.history import seed_history
from tests.store.test_store import seed_hubs

JANUARY = ["--from", "2026-01-01", "--to", "2026-01-31"]


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DIHFLOW_DATABASE_URL", url)
    monkeypatch.setenv("DIHFLOW_VAR_DIR", str(tmp_path / "var"))
    migrate(url)
    seed_hubs(url)
    seed_history(url)
    return url


def test_report_docx_is_written_with_a_progress_bar(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.docx"
    assert main(["report", *JANUARY, "--format", "docx", "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert f"wrote {out}" in captured.out
    bars = [line for line in captured.err.splitlines() if line.startswith("[")]
    assert bars[0].startswith("[" + "." * 30 + "] 0/6") and bars[-1].startswith("[" + "#" * 30)
    text = "\n".join(p.text for p in docx.Document(out).paragraphs)
    assert "Cases that ended from 2026-01-01 to 2026-01-31: 8." in text


def test_report_html_names_itself_after_the_period(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["report", *JANUARY]) == 0
    html = (tmp_path / "network-report-2026-01-01-to-2026-01-31.html").read_text()
    assert html.count('src="data:image/png;base64,') == 4


@pytest.mark.skipif(
    shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed"
)
def test_report_pdf_is_converted_by_libreoffice(database: str, tmp_path: Path) -> None:
    from pypdf import PdfReader

    out = tmp_path / "report.pdf"
    assert main(["report", *JANUARY, "--format", "pdf", "-o", str(out)]) == 0
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(out).pages).split())
    assert "Collaboration report of the AI DIH Network" in text
    assert "2026-01-31: 8." in text


def test_report_refuses_a_period_that_ends_before_it_starts(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "--from", "2026-02-01", "--to", "2026-01-01"]) == 2
    assert "--to is before --from" in capsys.readouterr().out


def test_export_kpis_writes_one_row_per_service_and_per_collaboration(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "kpis", *JANUARY]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    kinds = [(r["record_type"], r["case_id"]) for r in rows]
    assert sorted(k for k in kinds if k[0] == "service") == [
        ("service", "J1"),
        ("service", "J2"),
        ("service", "J4"),
        ("service", "M1"),
    ]
    assert len([k for k in kinds if k[0] == "collaboration"]) == 5
    j1 = next(r for r in rows if r["case_id"] == "J1" and r["record_type"] == "service")
    assert (j1["service_functions"], j1["customer_size"], j1["rating"]) == (
        "test_before_invest",
        "small",
        "5",
    )
