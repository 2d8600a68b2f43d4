"""Rendering what the helpdesk uploaded, within limits.

A template uploaded through the API is rendered in jinja2's sandbox, but the sandbox does not
bound work: two nested loops over ``range(100000)`` render for ever. So a sandboxed render runs
in a child process (forked from a forkserver that has the renderer loaded) with a CPU-time limit
(``RLIMIT_CPU``), an address-space limit (``RLIMIT_AS``) and a wall-clock timeout, and a package
whose parts expand past a size limit (a zip bomb) is refused before anything parses it. Each
failure is a ``RenderError`` that says which limit was hit: a 422 at publication, a
non-retryable failure where a document is generated. Shipped templates (``templates/``) render
in process as before.
"""

from __future__ import annotations

import io
import multiprocessing
import resource
import zipfile
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

MAX_PACKAGE_BYTES = 50 * 1024 * 1024  # all parts of a .docx, uncompressed
MAX_PACKAGE_ENTRIES = 2000


@dataclass(frozen=True)
class Limits:
    cpu_seconds: int = 10
    memory_bytes: int = 1024 * 1024 * 1024
    wall_seconds: float = 30.0
    package_bytes: int = MAX_PACKAGE_BYTES


DEFAULT = Limits()
_context: Any = None


def check_package(data: bytes, limit: int = MAX_PACKAGE_BYTES) -> str | None:
    """Why a .docx package must not be opened (its parts expand past ``limit``), or None.

    Reads only the zip directory: the sizes it declares. A lying directory is caught as the
    parts are read (``zipfile`` stops at the declared size and checks the CRC)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            entries = package.infolist()
    except zipfile.BadZipFile:
        return None  # not a zip: the parser says so in its own words
    if len(entries) > MAX_PACKAGE_ENTRIES:
        return f"the package has {len(entries)} parts (at most {MAX_PACKAGE_ENTRIES})"
    total = sum(e.file_size for e in entries)
    if total > limit:
        return (
            f"the package expands to {total // (1024 * 1024)} MB "
            f"(at most {limit // (1024 * 1024)} MB)"
        )
    return None


def _child(
    conn: Connection, path: str, context: dict[str, Any], fixed_time: datetime, limits: Limits
) -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    from documents.rendering import RenderError, render_docx

    try:
        content = render_docx(
            Path(path), context, fixed_time=fixed_time, sandboxed=True, bounded=False
        )
    except RenderError as exc:
        conn.send(("error", str(exc)))
    except MemoryError:
        conn.send(("limit", f"rendering needed more than {limits.memory_bytes >> 20} MB"))
    except RecursionError:
        conn.send(("error", "the template recurses too deeply"))
    else:
        conn.send(("ok", content))
    finally:
        conn.close()


def _mp() -> Any:
    global _context
    if _context is None:
        _context = multiprocessing.get_context("forkserver")
        _context.set_forkserver_preload(["documents.rendering"])
    return _context


def render_bounded(
    path: Path, context: dict[str, Any], fixed_time: datetime, limits: Limits | None = None
) -> tuple[str, Any]:
    """(``"ok"``, bytes), (``"error"``, the renderer's message) or (``"limit"``, which limit)."""
    limits = limits or DEFAULT
    why = check_package(Path(path).read_bytes(), limits.package_bytes)
    if why is not None:
        return "limit", why
    mp = _mp()
    parent, child = mp.Pipe(duplex=False)
    process = mp.Process(
        target=_child, args=(child, str(path), context, fixed_time, limits), daemon=True
    )
    process.start()
    child.close()
    try:
        if not parent.poll(limits.wall_seconds):
            if process.is_alive():
                process.kill()
                process.join()
                return "limit", f"rendering took longer than {limits.wall_seconds:g} s"
        try:
            kind, value = parent.recv()
        except EOFError:  # the child died without a word: a limit the kernel enforced
            process.join()
            if process.exitcode in (-24, -9):  # SIGXCPU, or SIGKILL past the hard limit
                return "limit", f"rendering used more than {limits.cpu_seconds} s of CPU"
            return "limit", f"the renderer stopped (exit {process.exitcode})"
        process.join()
        return kind, value
    finally:
        parent.close()
        if process.is_alive():
            process.kill()
            process.join()
