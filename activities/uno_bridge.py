"""A resident LibreOffice for PDF conversion, driven over UNO (run by ``activities.pdf``).

Runs under a Python that can import LibreOffice's ``uno`` module (on Debian the system
``python3`` with ``python3-uno``), never inside the project's virtualenv:

    python3 uno_bridge.py SOFFICE PROFILE_DIR PIPE_NAME

It starts one headless ``soffice`` with its own user profile, then answers requests on stdin,
one JSON object per line, ``{"source": "/in.docx", "target": "/out.pdf"}``, with one line on
stdout, ``{"ok": true}`` or ``{"ok": false, "error": "..."}``. The first line it writes is
``{"ready": true}`` once LibreOffice answers. It exits, and stops its soffice, when stdin
closes (the worker is gone), after ``IDLE_SECONDS`` without a request, or on SIGTERM; its
soffice is also told to die with it (``PR_SET_PDEATHSIG``), so nothing outlives a crash.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import uno  # type: ignore[import-not-found]  # LibreOffice's Python-UNO bridge
from com.sun.star.beans import PropertyValue  # type: ignore[import-not-found]

IDLE_SECONDS = 300
CONNECT_SECONDS = 60
PR_SET_PDEATHSIG = 1
RESTART_AFTER_PROFILE = 81  # soffice.bin's exit code after creating a new user profile


def _die_with_parent() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _prop(name: str, value: Any) -> Any:
    prop = PropertyValue()
    prop.Name, prop.Value = name, value
    return prop


def _reply(**fields: Any) -> None:
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def start_office(soffice: str, profile: Path, pipe: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            soffice,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--invisible",
            "--norestore",
            "--nolockcheck",
            "--nodefault",
            "--nologo",
            f"--accept=pipe,name={pipe};urp;",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "HOME": str(profile.parent)},
        preexec_fn=_die_with_parent,
    )


def connect(soffice: str, profile: Path, pipe: str) -> tuple[subprocess.Popen[bytes], Any]:
    """The running office and its Desktop, once its UNO pipe answers."""
    office = start_office(soffice, profile, pipe)
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local
    )
    deadline = time.monotonic() + CONNECT_SECONDS
    while True:
        try:
            ctx = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
            desktop = ctx.ServiceManager.createInstanceWithContext(
                "com.sun.star.frame.Desktop", ctx
            )
            return office, desktop
        except Exception:
            if office.poll() == RESTART_AFTER_PROFILE:  # it made its profile: start it again
                office = start_office(soffice, profile, pipe)
            elif office.poll() is not None or time.monotonic() > deadline:
                office.kill()
                raise
            time.sleep(0.1)


def convert(desktop: Any, source: str, target: str) -> None:
    document = desktop.loadComponentFromURL(
        Path(source).as_uri(), "_blank", 0, (_prop("Hidden", True), _prop("ReadOnly", True))
    )
    if document is None:
        raise RuntimeError(f"LibreOffice could not open {Path(source).name}")
    try:
        document.storeToURL(Path(target).as_uri(), (_prop("FilterName", "writer_pdf_Export"),))
    finally:
        document.close(True)


def serve(desktop: Any) -> None:
    """Answer requests until stdin closes or stays quiet for ``IDLE_SECONDS``."""
    while True:
        ready, _, _ = select.select([sys.stdin], [], [], IDLE_SECONDS)
        if not ready:
            return
        line = sys.stdin.readline()
        if not line:
            return
        try:
            request = json.loads(line)
            convert(desktop, request["source"], request["target"])
        except Exception as exc:  # noqa: BLE001 - every failure is answered, then we stop
            _reply(ok=False, error=f"{type(exc).__name__}: {exc}"[:300])
            return  # a failed office may be in any state: the worker starts a fresh one
        _reply(ok=True)


def main() -> int:
    soffice, profile, pipe = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    office: subprocess.Popen[bytes] | None = None
    desktop = None
    try:
        office, desktop = connect(soffice, profile, pipe)
        _reply(ready=True)
        serve(desktop)
    except Exception as exc:  # noqa: BLE001 - reported to the worker, which gives up the PDF
        _reply(ready=False, error=f"{type(exc).__name__}: {exc}"[:300])
        return 1
    finally:
        if desktop is not None:
            with contextlib.suppress(Exception):
                desktop.terminate()
        if office is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                office.wait(timeout=10)
            if office.poll() is None:
                office.kill()
                office.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
