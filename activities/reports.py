"""The network's collaboration report as a file, for the CLI (``dihflow report``) and the
API (``GET /v1/reports/network``): HTML, .docx, or PDF (the .docx converted by LibreOffice,
one ``soffice`` for the call, the way the settings choose, ``DIHFLOW_PDF_CONVERTER``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from activities.pdf import PdfConversionError, PdfConverter
from base.settings import Settings
from documents.report import Tick, build_report, report_docx, report_html

MEDIA_TYPES = {
    "html": "text/html; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}


class ReportUnavailable(Exception):
    """The report cannot be made in this format here (e.g. no LibreOffice for a PDF)."""


@dataclass
class ReportFile:
    content: bytes
    media_type: str
    filename: str


def network_report_file(
    session: Session,
    settings: Settings,
    start: datetime,
    end: datetime,
    fmt: str,
    tick: Tick | None = None,
) -> ReportFile:
    """The report of the cases that ended in ``[start, end)`` in format ``fmt``."""
    if fmt not in MEDIA_TYPES:
        raise ValueError(f"unknown report format {fmt!r}; one of: {', '.join(MEDIA_TYPES)}")
    converter = PdfConverter(
        "process" if settings.pdf_converter == "resident" else settings.pdf_converter
    )
    if fmt == "pdf" and (why := converter.unavailable()) is not None:
        raise ReportUnavailable(why)
    report = build_report(session, start, end, tick)
    last = report.last_day
    name = f"network-report-{start.date().isoformat()}-to-{last}.{fmt}"
    if fmt == "html":
        return ReportFile(report_html(report).encode(), MEDIA_TYPES[fmt], name)
    docx = report_docx(report)
    if fmt == "docx":
        return ReportFile(docx, MEDIA_TYPES[fmt], name)
    try:
        return ReportFile(converter.convert(docx), MEDIA_TYPES[fmt], name)
    except PdfConversionError as exc:
        raise ReportUnavailable(str(exc)) from exc
