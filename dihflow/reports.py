"""``dihflow report`` and ``dihflow export kpis``: the network's collaboration report (HTML,
.docx or PDF, with a progress bar on the terminal) and the KPI export (CSV) for a period."""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TextIO

from base.settings import Settings

BAR = 30


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    report = sub.add_parser("report", help="the network's collaboration report for a period")
    _period(report)
    report.add_argument("--format", choices=["html", "docx", "pdf"], default="html")
    report.add_argument("--output", "-o", help="file to write (default: a name from the period)")
    export = sub.add_parser("export", help="exports for reporting")
    export_sub = export.add_subparsers(dest="export_command", required=True)
    kpis = export_sub.add_parser(
        "kpis", help="CSV for EDIH reporting: services delivered and hub collaborations"
    )
    _period(kpis)
    kpis.add_argument("--output", "-o", help="file to write (default: standard output)")


def _period(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--from",
        dest="start",
        required=True,
        type=date.fromisoformat,
        help="first day (YYYY-MM-DD)",
    )
    parser.add_argument(
        "--to",
        dest="end",
        required=True,
        type=date.fromisoformat,
        help="last day, included (YYYY-MM-DD)",
    )


def period(start: date, end: date) -> tuple[datetime, datetime]:
    return (
        datetime.combine(start, time(), UTC),
        datetime.combine(end + timedelta(days=1), time(), UTC),
    )


def progress_bar(stream: TextIO | None = None) -> Callable[[int, int, str], None]:
    """A one-line bar on standard error, redrawn in place on a terminal (one line per step
    otherwise)."""
    stream = stream or sys.stderr
    tty = stream.isatty()

    def tick(step: int, total: int, what: str) -> None:
        done = BAR * step // max(total, 1)
        line = f"[{'#' * done}{'.' * (BAR - done)}] {step}/{total} {what}"
        stream.write(("\r" + line.ljust(BAR + 40)) if tty else line + "\n")
        if tty and step >= total:
            stream.write("\n")
        stream.flush()

    return tick


def run(settings: Settings, args: argparse.Namespace, say: Callable[[str], None]) -> int:
    from store.db import migrate, session_scope

    if args.end < args.start:
        say("error: --to is before --from")
        return 2
    start, end = period(args.start, args.end)
    migrate(settings.database_url)
    if args.command == "report":
        from activities.reports import ReportUnavailable, network_report_file

        with session_scope(settings.database_url) as session:
            try:
                made = network_report_file(
                    session, settings, start, end, args.format, progress_bar()
                )
            except ReportUnavailable as exc:
                say(f"error: {exc}")
                return 2
        out = Path(args.output or made.filename)
        out.write_bytes(made.content)
        say(f"wrote {out} ({len(made.content):,} bytes)")
        return 0
    from store.indicators import Scope
    from store.kpis import COLUMNS, kpi_rows

    target = open(args.output, "w", newline="", encoding="utf-8") if args.output else sys.stdout
    try:
        writer = csv.DictWriter(target, fieldnames=COLUMNS)
        writer.writeheader()
        with session_scope(settings.database_url) as session:
            count = 0
            for row in kpi_rows(session, Scope(start, end)):
                writer.writerow(row)
                count += 1
    finally:
        if args.output:
            target.close()
    if args.output:
        say(f"wrote {args.output} ({count} rows)")
    return 0
