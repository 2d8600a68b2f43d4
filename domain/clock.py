"""UTC helpers: every stored or printed time is UTC (DESIGN.md "Time").

Pure functions; the current time itself is passed in (``workflow.now()`` in workflows, the
caller's clock elsewhere), so code that uses these stays testable and deterministic.
"""

from __future__ import annotations

from datetime import UTC, datetime


def as_utc(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def utc_naive(moment: datetime) -> datetime:
    """The UTC wall-clock time to the second, without tzinfo: python-docx writes core-property
    and zip times that way (with a ``Z`` suffix)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.replace(microsecond=0)


def utc_text(moment: datetime) -> str:
    """``2025-03-03 09:00:00 UTC``: a time as a document prints it."""
    return utc_naive(moment).strftime("%Y-%m-%d %H:%M:%S UTC")
