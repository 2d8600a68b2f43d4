"""`base.process.run_then_leave`: how the `dihflow` command and `python worker.py` end — the
command's own code, exit handlers run, buffered output written, without the interpreter's
finalization (where the SDK's core threads can abort the process)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(body: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    script = textwrap.dedent(
        f"""
        import atexit, sys
        from pathlib import Path
        from base.process import run_then_leave
        atexit.register(lambda: Path({str(tmp_path / "handler-ran")!r}).write_text("yes"))
        sys.stdout.write("buffered, no newline")
        """
    ) + textwrap.dedent(body)
    return subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("body", "code", "stderr"),
    [
        ("run_then_leave(lambda: 3)", 3, ""),
        ("run_then_leave(lambda: None)", 0, ""),
        ("def m():\n    raise SystemExit(2)\nrun_then_leave(m)", 2, ""),
        (
            "def m():\n    raise SystemExit('error: no such hub')\nrun_then_leave(m)",
            1,
            "error: no such hub",
        ),
        ("def m():\n    raise KeyError('lost')\nrun_then_leave(m)", 1, "KeyError: 'lost'"),
    ],
)
def test_the_process_ends_with_the_commands_code_after_its_exit_handlers(
    tmp_path: Path, body: str, code: int, stderr: str
) -> None:
    done = _run(body, tmp_path)
    assert done.returncode == code, done.stderr
    assert done.stdout == "buffered, no newline"
    assert (tmp_path / "handler-ran").read_text() == "yes"
    assert stderr in done.stderr
    if not stderr:
        assert done.stderr == ""


def test_the_installed_command_ends_through_it(tmp_path: Path) -> None:
    dihflow = Path(sys.executable).with_name("dihflow")
    assert "from dihflow.cli import run" in dihflow.read_text()
    done = subprocess.run(
        [str(dihflow), "no-such-command"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "invalid choice: 'no-such-command'" in done.stderr
