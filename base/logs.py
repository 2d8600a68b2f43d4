"""Logs: one JSON object per line from the API, the worker and its activities; readable lines in
``dihflow dev``; the same warning repeated (an engine that does not answer) collapsed into one
line with a count.

Each JSON line has ``at`` (UTC), ``level``, ``logger``, ``message`` and, when there is one,
``case_id`` and ``workflow_id``: taken from the activity a line comes from (the SDK's activity
logger attaches its workflow id), or from ``CASE_ID`` set by the API around a case's request.
The SDK's own core logs (connection retries, poll errors) are forwarded into Python logging
(logger ``temporalio.core``) so they are formatted and collapsed like the rest.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

CASE_ID: ContextVar[str | None] = ContextVar("dihflow_case_id", default=None)
CORE_LOGGER = "temporalio.core"
COLLAPSE_SECONDS = 60.0


def case_of(workflow_id: str | None) -> str | None:
    """``case-<id>`` is a case's workflow; other workflows belong to no one case."""
    if workflow_id and workflow_id.startswith("case-"):
        return workflow_id.removeprefix("case-")
    return None


def _ids(record: logging.LogRecord) -> tuple[str | None, str | None]:
    activity = getattr(record, "temporal_activity", None)
    workflow = getattr(record, "temporal_workflow", None)
    workflow_id = None
    for info in (activity, workflow):
        if isinstance(info, dict) and info.get("workflow_id"):
            workflow_id = str(info["workflow_id"])
    case_id = getattr(record, "case_id", None) or case_of(workflow_id) or CASE_ID.get()
    return case_id, workflow_id


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        case_id, workflow_id = _ids(record)
        line: dict[str, Any] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if case_id:
            line["case_id"] = case_id
        if workflow_id:
            line["workflow_id"] = workflow_id
        repeated = getattr(record, "repeated", 0)
        if repeated:
            line["repeated"] = repeated
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class ReadableFormatter(logging.Formatter):
    """``dihflow dev``: time, level, logger, message, the case when there is one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        case_id, _ = _ids(record)
        repeated = getattr(record, "repeated", 0)
        if case_id:
            text += f" [case {case_id}]"
        if repeated:
            text += f" (and {repeated} more like it)"
        return text


class Collapse(logging.Filter):
    """Warnings and errors: the first of a kind passes; the same one again within ``seconds``
    is counted, not written; the next after the window passes with ``repeated`` = the count.

    A kind is the logger, the level and the message's template (its arguments may differ:
    "retrying in 1 s", "retrying in 2 s" are one kind)."""

    def __init__(self, seconds: float = COLLAPSE_SECONDS, clock: Any = time.monotonic) -> None:
        super().__init__()
        self.seconds, self.clock = seconds, clock
        self.seen: dict[tuple[str, int, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        key = (record.name, record.levelno, _template(record))
        now = self.clock()
        first, count = self.seen.get(key, (None, 0))
        if first is not None and now - first < self.seconds:
            self.seen[key] = (first, count + 1)
            return False
        self.seen[key] = (now, 0)
        if count:
            record.repeated = count
        return True


def _template(record: logging.LogRecord) -> str:
    if record.name == CORE_LOGGER:  # core messages come formatted: drop their digits
        return "".join(c for c in record.getMessage() if not c.isdigit())[:200]
    return str(record.msg)


def configure(fmt: str = "json", level: str = "INFO") -> None:
    """The process's logging: one handler on stderr, formatted and collapsed."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else ReadableFormatter())
    handler.addFilter(Collapse())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())


def telemetry(metrics_address: str = "") -> Any:
    """The SDK runtime for this process: core logs forwarded into Python logging and, when
    ``metrics_address`` (host:port) is set, the SDK's own Prometheus metrics there (/metrics).
    Set as the default before the first client connects (``install_runtime``)."""
    from temporalio.runtime import (
        LogForwardingConfig,
        LoggingConfig,
        PrometheusConfig,
        Runtime,
        TelemetryConfig,
        TelemetryFilter,
    )

    return Runtime(
        telemetry=TelemetryConfig(
            logging=LoggingConfig(
                filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
                forwarding=LogForwardingConfig(logger=logging.getLogger(CORE_LOGGER)),
            ),
            metrics=(
                PrometheusConfig(bind_address=metrics_address, durations_as_seconds=True)
                if metrics_address
                else None
            ),
        )
    )


def install_runtime(metrics_address: str = "") -> None:
    from temporalio.runtime import Runtime

    Runtime.set_default(telemetry(metrics_address), error_if_already_set=False)
