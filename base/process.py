"""How a dihflow process that ran the Temporal SDK ends.

``leave`` is the last thing the ``dihflow`` command and ``python worker.py`` do. By the time
they call it, everything they started has stopped and said so; what may be left are the SDK
core's own threads (its log forwarding into Python logging, a worker that a dead engine kept
from finalizing). A core thread that reaches for the interpreter while it finalizes, or a core
object dropped by the finalizing interpreter, aborts the process (SIGABRT, exit 134;
sdk-python issue 300). ``gc.collect`` at exit made that rare, not impossible: `dihflow dev`,
giving up on an engine that died once more than it restarts, once ended with SIGABRT instead
of its exit 1.

So ``leave`` runs the exit handlers (``logging.shutdown`` flushes the logs among them),
flushes the standard streams and ends the process with ``os._exit``: the interpreter never
finalizes while a core thread runs, and the exit code is the one the command chose.
"""

from __future__ import annotations

import atexit
import gc
import os
import sys
from collections.abc import Callable
from typing import NoReturn


def leave(code: int) -> NoReturn:
    """End the process now with ``code``, after the exit handlers and a flush of the streams."""
    gc.collect()  # the SDK's objects freed while the interpreter is whole, as before
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be said
            pass
    os._exit(code)


def run_then_leave(main: Callable[[], int | None]) -> NoReturn:
    """``main()``, then ``leave`` with its code (a ``SystemExit`` from it, like argparse's usage
    error, gives its code too; any other exception is reported as Python would, then code 1)."""
    result: object
    try:
        result = main()
    except SystemExit as exc:
        result = exc.code
    except BaseException as exc:
        sys.excepthook(type(exc), exc, exc.__traceback__)
        leave(130 if isinstance(exc, KeyboardInterrupt) else 1)
    if result is None:
        leave(0)
    if isinstance(result, int):
        leave(result)
    sys.stderr.write(f"{result}\n")  # SystemExit("message"), as the interpreter prints it
    leave(1)
