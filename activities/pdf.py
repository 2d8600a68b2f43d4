"""Word to PDF with LibreOffice, for the executed agreement.

Two ways, chosen by ``DIHFLOW_PDF_CONVERTER``:

- ``resident`` (the default): one LibreOffice per worker process, started on the first
  conversion and kept, driven over UNO by ``activities/uno_bridge.py``. The bridge runs under
  a Python that can import LibreOffice's ``uno`` module (``DIHFLOW_PDF_PYTHON``; by default
  LibreOffice's own ``program/python`` or the system ``python3``, as Debian's ``python3-uno``
  provides). A conversion then costs about a tenth of a fresh ``soffice`` (no start-up, no
  profile to load). Conversions go one at a time; a failed or timed-out one ends the bridge
  and the next conversion starts a fresh one. The bridge stops when the worker goes away
  (its stdin closes) or after five idle minutes. Without ``uno``, ``process`` is used.
- ``process``: one ``soffice --headless --convert-to pdf`` per document.
- ``off``: no PDF (the executed copy is still made as .docx).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path

log = logging.getLogger("dihflow.pdf")

PDF_TIMEOUT_SECONDS = 60
MAX_CONVERTERS = 4  # LibreOffices per process at most (one per core up to this)
CONVERTERS = ("resident", "process", "off")
BRIDGE = Path(__file__).resolve().with_name("uno_bridge.py")
Tick = Callable[[], None]


class PdfConversionError(Exception):
    """LibreOffice did not make a PDF; the message says why."""


def find_soffice() -> str | None:
    return shutil.which("soffice")


def office_binary(soffice: str) -> str:
    """``soffice.bin`` beside the launcher script, when there is one: started directly it is
    one process instead of a launcher and a child (and dies with the bridge)."""
    program = Path(soffice).resolve().parent
    binary = program / "soffice.bin"
    return str(binary) if binary.exists() else soffice


@lru_cache(maxsize=4)
def uno_python(configured: str | None, soffice: str) -> str | None:
    """A Python that can import ``uno``: the configured one, LibreOffice's own, or the
    system's ``python3`` (outside any virtualenv); None when there is none."""
    program = Path(soffice).resolve().parent
    candidates: list[str | None] = [configured] if configured else []
    if not configured:
        candidates += [str(program / "python"), shutil.which("python3", path=os.defpath)]
    for candidate in candidates:
        if not candidate or not Path(candidate).exists():
            continue
        try:
            check = subprocess.run(
                [candidate, "-c", "import uno"], capture_output=True, timeout=30, check=False
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if check.returncode == 0:
            return candidate
    return None


class PdfConverter:
    """Converts .docx bytes to PDF bytes the configured way (thread-safe)."""

    def __init__(
        self,
        mode: str = "resident",
        python: str | None = None,
        timeout: float = PDF_TIMEOUT_SECONDS,
    ):
        if mode not in CONVERTERS:
            raise ValueError(f"unknown PDF converter {mode!r}; one of: {', '.join(CONVERTERS)}")
        self.mode, self.python, self.timeout = mode, python, timeout
        self._resident: ResidentOffice | None = None
        self._lock = threading.Lock()
        self.tick_every = 1.0  # seconds between calls of ``tick`` while waiting

    def unavailable(self) -> str | None:
        """Why no PDF can be made here, or None."""
        if self.mode == "off":
            return "no PDF: turned off (DIHFLOW_PDF_CONVERTER=off)"
        if find_soffice() is None:
            return "no PDF: LibreOffice (soffice) is not installed on the worker"
        return None

    def convert(self, content: bytes, tick: Tick | None = None) -> bytes:
        """The PDF of ``content``; ``tick`` is called every ``tick_every`` seconds while waiting
        (an activity's heartbeat). Raises PdfConversionError."""
        soffice = find_soffice()
        why = self.unavailable()
        if why or soffice is None:
            raise PdfConversionError(why or "no soffice")
        if self.mode == "resident":
            python = uno_python(self.python, soffice)
            if python is not None:
                return self._resident_convert(python, soffice, content, tick)
            log.warning("no Python with LibreOffice's uno module: one soffice per PDF instead")
        return docx_to_pdf(soffice, content, self.timeout)

    def _resident_convert(
        self, python: str, soffice: str, content: bytes, tick: Tick | None
    ) -> bytes:
        deadline = time.monotonic() + self.timeout
        # one conversion at a time per office
        while not self._lock.acquire(timeout=self.tick_every):
            if tick:
                tick()
            if time.monotonic() > deadline:
                raise PdfConversionError("LibreOffice stayed busy with other conversions")
        try:
            for attempt in (1, 2):  # a bridge that ended since (idle, crashed) is started anew
                if self._resident is None or not self._resident.alive():
                    self._resident = ResidentOffice(python, office_binary(soffice))
                try:
                    return self._resident.convert(content, deadline, tick, self.tick_every)
                except BrokenPipeError:
                    self._resident.close()
                    self._resident = None
                    if attempt == 2:
                        raise PdfConversionError("the LibreOffice bridge ended twice") from None
                except PdfConversionError:
                    self._resident.close()
                    self._resident = None
                    raise
            raise AssertionError("unreachable")
        finally:
            self._lock.release()

    def close(self) -> None:
        with self._lock:
            if self._resident is not None:
                self._resident.close()
                self._resident = None


class PdfPool:
    """Up to ``size`` converters (a LibreOffice each, started on first use) shared by threads:
    a conversion takes a free one or waits for one, so conversions run side by side on free
    cores instead of one at a time."""

    def __init__(self, mode: str, python: str | None, size: int):
        self.size = size
        self._free: queue.Queue[PdfConverter] = queue.Queue()
        self._all = [PdfConverter(mode, python) for _ in range(size)]
        for converter in self._all:
            self._free.put(converter)

    @contextlib.contextmanager
    def converter(self) -> Iterator[PdfConverter]:
        converter = self._free.get()
        try:
            yield converter
        finally:
            self._free.put(converter)

    def close(self) -> None:
        for converter in self._all:
            converter.close()


class ResidentOffice:
    """One bridge process (and its soffice), in a process group of their own."""

    def __init__(self, python: str, soffice: str):
        self.home = Path(tempfile.mkdtemp(prefix="dihflow-office-"))
        self.proc = subprocess.Popen(
            [
                python,
                str(BRIDGE),
                soffice,
                str(self.home / "profile"),
                f"dihflow-{os.getpid()}-{uuid.uuid4().hex[:8]}",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # a timeout kills the bridge and its soffice together
        )
        self._finalizer = weakref.finalize(self, _end, self.proc, self.home)
        self.ready = False

    def alive(self) -> bool:
        return self.proc.poll() is None

    def convert(
        self, content: bytes, deadline: float, tick: Tick | None, tick_every: float = 1.0
    ) -> bytes:
        with tempfile.TemporaryDirectory(prefix="dihflow-pdf-") as tmp:
            source, target = Path(tmp) / "executed.docx", Path(tmp) / "executed.pdf"
            source.write_bytes(content)
            started = time.monotonic()
            if not self.ready:
                self._expect(deadline, tick, tick_every, "ready")
                self.ready = True
            assert self.proc.stdin is not None
            request = {"source": str(source), "target": str(target)}
            self.proc.stdin.write((json.dumps(request) + "\n").encode())
            self.proc.stdin.flush()
            self._expect(deadline, tick, tick_every, "ok")
            if not target.exists():
                raise PdfConversionError("LibreOffice wrote no PDF")
            data = target.read_bytes()
        if not data.startswith(b"%PDF-"):
            raise PdfConversionError("LibreOffice wrote something that is not a PDF")
        log.info("converted to PDF in %.2f s (resident LibreOffice)", time.monotonic() - started)
        return data

    def _expect(self, deadline: float, tick: Tick | None, tick_every: float, key: str) -> None:
        """Wait for the bridge's next line and check its ``key`` is true."""
        assert self.proc.stdout is not None
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise PdfConversionError(f"LibreOffice did not answer in time ({key})")
            ready, _, _ = select.select([self.proc.stdout], [], [], min(tick_every, left))
            if ready:
                break
            if tick:
                tick()
            if not self.alive():
                raise BrokenPipeError("the LibreOffice bridge ended")
        line = self.proc.stdout.readline()
        if not line:
            raise BrokenPipeError("the LibreOffice bridge ended")
        answer = json.loads(line)
        if not answer.get(key):
            raise PdfConversionError(f"LibreOffice failed: {answer.get('error', answer)}")

    def close(self) -> None:
        self._finalizer()


def _end(proc: subprocess.Popen[bytes], home: Path) -> None:
    """Stop a bridge and its soffice: close its stdin (it stops its office), then make sure."""
    with contextlib.suppress(OSError, ValueError):
        if proc.stdin:
            proc.stdin.close()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)
    for stream in (proc.stdout,):
        with contextlib.suppress(OSError, ValueError):
            if stream:
                stream.close()
    shutil.rmtree(home, ignore_errors=True)


# -- one soffice per document ---------------------------------------------------------------
_PROFILE_LOCK = threading.Lock()


def docx_to_pdf(soffice: str, content: bytes, timeout: float = PDF_TIMEOUT_SECONDS) -> bytes:
    """Convert with ``soffice --headless --convert-to pdf`` in a temporary directory.

    One LibreOffice user profile per process, reused (about 1 s faster than a fresh one) by
    one conversion at a time; a conversion that finds it busy uses a throwaway profile, since
    two instances must never share one. The whole process group is killed after ``timeout``.
    """
    shared = Path(tempfile.gettempdir()) / f"dihflow-soffice-{os.getuid()}-{os.getpid()}"
    with tempfile.TemporaryDirectory(prefix="dihflow-pdf-") as tmp:
        work = Path(tmp)
        source = work / "executed.docx"
        source.write_bytes(content)
        if _PROFILE_LOCK.acquire(blocking=False):
            try:
                return _convert(soffice, source, shared, timeout)
            finally:
                _PROFILE_LOCK.release()
        return _convert(soffice, source, work / "profile", timeout)


def _convert(soffice: str, source: Path, profile: Path, timeout: float) -> bytes:
    out_dir = source.parent / "out"
    command = [
        soffice,
        f"-env:UserInstallation={profile.as_uri()}",
        "--headless",
        "--norestore",
        "--nolockcheck",
        "--convert-to",
        "pdf",
        "--outdir",
        str(out_dir),
        str(source),
    ]
    started = time.monotonic()
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: a timeout kills soffice.bin too
        env={**os.environ, "HOME": str(source.parent)},
    )
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise PdfConversionError(f"LibreOffice did not convert within {timeout:.0f} s") from None
    pdf = out_dir / "executed.pdf"
    if proc.returncode != 0 or not pdf.exists():
        tail = output.decode(errors="replace").strip()[-300:]
        raise PdfConversionError(f"LibreOffice failed (exit {proc.returncode}): {tail}")
    data = pdf.read_bytes()
    if not data.startswith(b"%PDF-"):
        raise PdfConversionError("LibreOffice wrote something that is not a PDF")
    log.info("converted to PDF in %.1f s", time.monotonic() - started)
    return data
