"""``dihflow hubs import FILE`` and ``dihflow hubs export``: the hub registry in bulk.

Import reads a ``.csv`` or ``.json`` file (the format is ``domain.registry``'s), reports each
problem with its line and column, keeps the valid rows, is idempotent by hub id and ends with
a summary; a progress bar shows on a terminal for files over a thousand rows. Exit status: 0
when every row was imported, 1 when some were rejected, 2 when the file cannot be read.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from base.settings import Settings

PROGRESS_FROM = 1000  # rows


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    hubs = sub.add_parser("hubs", help="the hub registry in bulk (CSV or JSON)")
    hubs_sub = hubs.add_subparsers(dest="hubs_command", required=True)
    imp = hubs_sub.add_parser("import", help="import hubs from a .csv or .json file")
    imp.add_argument("file")
    imp.add_argument("--dry-run", action="store_true", help="check and count, write nothing")
    exp = hubs_sub.add_parser("export", help="write every hub to standard output or a file")
    exp.add_argument("--format", choices=["csv", "json"], default="csv")
    exp.add_argument("--output", "-o", help="a file (default: standard output)")


def run(settings: Settings, args: argparse.Namespace, say: Callable[[str], None]) -> int:
    from store.db import migrate, session_scope

    migrate(settings.database_url)
    if args.hubs_command == "export":
        return _export(settings, args.format, args.output)
    from domain.registry import count_rows, kind_of
    from store.matching import embedder, embedding_model
    from store.registry import import_text

    kind = kind_of(args.file)
    if kind is None:
        say(f"error: {args.file} is neither .csv nor .json")
        return 2
    try:
        text = Path(args.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        say(f"error: cannot read {args.file}: {exc}")
        return 2
    total = count_rows(text, kind)
    bar = None
    if total >= PROGRESS_FROM:
        from tqdm import tqdm

        bar = tqdm(total=total, unit="hub", file=sys.stderr, disable=None)
    with session_scope(settings.database_url) as session:
        report = import_text(
            session,
            text,
            kind,
            on_rows=bar.update if bar is not None else None,
            embed=embedder(),
            embedding_model=embedding_model(),
            write=not args.dry_run,
        )
        if not args.dry_run:
            session.commit()
    if bar is not None:
        bar.close()
    for problem in report.problems:
        say(f"{args.file}: {problem}")
    say(("dry run: " if args.dry_run else "") + report.summary())
    return 1 if report.problems else 0


def _export(settings: Settings, fmt: str, output: str | None) -> int:
    from domain.registry import to_csv, to_json
    from store.db import session_scope
    from store.registry import all_profiles

    out = open(output, "w", encoding="utf-8", newline="") if output else sys.stdout  # noqa: SIM115
    try:
        with session_scope(settings.database_url) as session:
            for chunk in (to_csv if fmt == "csv" else to_json)(all_profiles(session)):
                out.write(chunk)
    finally:
        if output:
            out.close()
    return 0
