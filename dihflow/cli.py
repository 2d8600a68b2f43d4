"""The ``dihflow`` command for operators.

dihflow dev                      the embedded stack (dev server, worker, API)
dihflow worker                   a worker (needs DIHFLOW_TEMPORAL_ADDRESS)
dihflow api                      the API (needs DIHFLOW_TEMPORAL_ADDRESS)
dihflow seed                     load the demo network (idempotent)
dihflow keys create --role ROLE [--hub HUB]    print a new API key (shown once)
dihflow cases verify-dossier FILE [--expect-head HASH]  check a case dossier offline
dihflow templates check NAME [FILE] [--preview OUT.docx]   check an edited agreement template
dihflow outbox [--limit N]       what the outbox holds: counts by kind and status, unsent rows
dihflow users create --role ROLE USERNAME       a staff account (prints its password once)
dihflow users list | disable USERNAME | reset-password USERNAME
dihflow report --from DATE --to DATE [--format html|docx|pdf] [-o FILE]   the network's report
dihflow export kpis --from DATE --to DATE [-o FILE]   CSV for EDIH reporting
dihflow hubs import FILE.csv|FILE.json [--dry-run] | export [--format csv|json] [-o FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import gc
import sys

from base import logs
from base.process import run_then_leave
from base.settings import Settings, SettingsError
from dihflow import hubs_cli, reports
from domain.cases import Role


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dihflow", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    dev = sub.add_parser("dev", help="run the embedded stack")
    dev.add_argument("--temporal-port", type=int, default=7233)
    dev.add_argument("--no-ui", action="store_true", help="start the dev server without its Web UI")
    sub.add_parser("worker", help="run a worker")
    sub.add_parser("api", help="run the API")
    sub.add_parser("seed", help="load the demo network of 30 hubs")
    sub.add_parser("migrate", help="bring the store's schema to the newest migration")
    diagram = sub.add_parser("lifecycle", help="print a scenario's lifecycle as Graphviz DOT")
    diagram.add_argument(
        "scenario",
        choices=["joint_service", "co_development", "matchmaking", "framework_agreement"],
    )
    diagram.add_argument("--svg", action="store_true", help="render SVG with Graphviz's dot")
    outbox = sub.add_parser(
        "outbox", help="what the outbox holds: counts by kind and status, then the unsent rows"
    )
    outbox.add_argument("--limit", type=int, default=50, help="rows to list (default 50)")
    templates = sub.add_parser("templates", help="the agreement templates")
    templates_sub = templates.add_subparsers(dest="templates_command", required=True)
    check = templates_sub.add_parser(
        "check", help="check an edited template: tags, variables, and the example rendered"
    )
    check.add_argument("name", help="the template, e.g. specific_collaboration_agreement")
    check.add_argument("file", nargs="?", help="the edited .docx (default: the shipped one)")
    check.add_argument("--preview", help="write the example rendered with it to this .docx")
    documents = sub.add_parser("documents", help="generated documents")
    documents_sub = documents.add_subparsers(dest="documents_command", required=True)
    verify = documents_sub.add_parser(
        "verify", help="re-render a document and report any difference"
    )
    verify.add_argument("doc_id")
    privacy = sub.add_parser("privacy", help="data protection requests")
    privacy_sub = privacy.add_subparsers(dest="privacy_command", required=True)
    erase = privacy_sub.add_parser(
        "erase",
        help="replace an external contact's personal data by a pseudonym in ended cases",
    )
    erase.add_argument("--email", required=True, help="the contact's e-mail address")
    cases = sub.add_parser("cases", help="case files")
    cases_sub = cases.add_subparsers(dest="cases_command", required=True)
    dossier = cases_sub.add_parser(
        "verify-dossier",
        help="check a case dossier (zip) offline: hash chain, documents, signatures",
    )
    dossier.add_argument("file", help="the zip from GET /v1/cases/{id}/dossier")
    dossier.add_argument(
        "--expect-head",
        metavar="HASH",
        help="the case's timeline head hash as the API states it (head_hash of "
        "GET /v1/cases/{id}, or the dossier's X-Timeline-Head): a dossier whose timeline "
        "does not end there (cut short, rewritten) is refused",
    )
    keys = sub.add_parser("keys", help="manage API keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    create = keys_sub.add_parser("create", help="create a key and print it once")
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument("--hub", default=None, help="the hub of a hub_member or hub_signatory")
    create.add_argument("--label", default="", help="a note on whom the key is for")
    create.add_argument(
        "--representative",
        default=None,
        help="for hub_signatory: the representative (id in the hub registry) it signs as",
    )
    keys_sub.add_parser("list", help="list the keys (never the keys themselves)")
    revoke = keys_sub.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("id", help="the key's id (first column of `keys list`)")
    users = sub.add_parser("users", help="staff accounts for the web pages")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    user_create = users_sub.add_parser("create", help="create an account, print its password once")
    user_create.add_argument("--role", required=True, choices=["back_office", "legal"])
    user_create.add_argument("--name", default="", help="the name shown on the pages")
    user_create.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    user_create.add_argument("username")
    users_sub.add_parser("list", help="list the accounts")
    user_disable = users_sub.add_parser("disable", help="disable an account, end its sessions")
    user_disable.add_argument("username")
    user_reset = users_sub.add_parser("reset-password", help="set a new password, print it once")
    user_reset.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    user_reset.add_argument("username")
    reports.add_commands(sub)  # report, export kpis
    hubs_cli.add_parser(sub)
    return parser


def _users(settings: Settings, args: argparse.Namespace) -> int:
    from store.db import migrate, session_scope
    from store.staff import (
        StaffError,
        create_account,
        disable_account,
        list_accounts,
        reset_password,
    )

    migrate(settings.database_url)
    given = sys.stdin.readline().rstrip("\n") if getattr(args, "password_stdin", False) else ""
    try:
        with session_scope(settings.database_url) as session:
            if args.users_command == "list":
                for a in list_accounts(session):
                    state = "disabled" if a.disabled else "active"
                    last = f"{a.last_sign_in_at:%Y-%m-%d %H:%M}" if a.last_sign_in_at else "never"
                    _say(
                        f"{a.username:<20} {a.role:<12} {state:<9} "
                        f"last sign-in {last}  {a.display_name}"
                    )
            elif args.users_command == "create":
                account, password = create_account(
                    session, args.username, args.role, args.name, given
                )
                _say(f"created {account.username} ({account.role})")
                if not given:
                    _say(f"password (shown once): {password}")
            elif args.users_command == "disable":
                disable_account(session, args.username)
                _say(f"disabled {args.username}; its sessions are ended")
            else:
                password = reset_password(session, args.username, given)
                _say(f"new password set for {args.username}; its sessions are ended")
                if not given:
                    _say(f"password (shown once): {password}")
    except StaffError as exc:
        _say(f"error: {exc}")
        return 2
    return 0


def _verify_document(settings: Settings, doc_id: str) -> int:
    """Legal provenance: the document re-renders to the same SHA-256 from what was recorded."""
    from documents.library import TemplateProblem, verify
    from store.db import migrate, session_scope
    from store.models import Document

    migrate(settings.database_url)
    with session_scope(settings.database_url) as session:
        try:
            problems = verify(session, settings.documents_dir, doc_id)
        except TemplateProblem as exc:
            _say(f"error: {exc.detail}")
            return 2
        doc = session.get(Document, doc_id)
        assert doc is not None
    if problems:
        for problem in problems:
            _say(f"DIFFERENT: {problem}")
        return 1
    made_with = f"{doc.template} v{doc.template_version}"
    _say(f"verified: {doc_id} re-renders to SHA-256 {doc.sha256} ({made_with})")
    return 0


def _erase(settings: Settings, email: str) -> int:
    """``dihflow privacy erase``: 0 when every case of the contact is erased, 3 when some are
    still running (erase again once they have ended)."""
    from datetime import UTC, datetime

    from store.db import migrate, session_scope
    from store.privacy import erase_contact

    migrate(settings.database_url)
    with session_scope(settings.database_url) as session:
        done = erase_contact(session, email, datetime.now(UTC))
    mails = _erase_dev_mail(settings, email)
    _say(f"pseudonym: {done.pseudonym}")
    _say(f"erased in {len(done.erased)} ended case(s): {', '.join(done.erased) or '-'}")
    _say(f"signatures pseudonymised: {done.signatures}; outbox rows: {done.outbox_rows}")
    if mails:
        _say(f"dev outbox mails removed: {mails}")
    if done.kept_documents:
        _say("kept as signed evidence (not altered; their variables were pseudonymised):")
        for doc_id, case_id, template in done.kept_documents:
            _say(f"  {doc_id}  case {case_id}  {template}")
    if done.still_open:
        _say(
            "still running, not erased (their workflows hold the data until they end): "
            + ", ".join(done.still_open)
        )
        return 3
    return 0


def _erase_dev_mail(settings: Settings, email: str) -> int:
    """The dev outbox's copies of mail sent to ``email`` (files under DIHFLOW_OUTBOX_DIR)."""
    from activities.notify import read_outbox

    removed = 0
    for mail in read_outbox(settings.outbox_dir):
        if email.strip().lower() in mail["to"].lower():
            (settings.outbox_dir / mail["file"]).unlink(missing_ok=True)
            removed += 1
    return removed


def _verify_dossier(file: str, expect_head: str | None = None) -> int:
    """Offline: needs the zip only (no store, no engine); prints the head hash it checked."""
    from pathlib import Path

    from domain.dossier import dossier_head, verify_dossier

    try:
        content = Path(file).read_bytes()
    except OSError as exc:
        _say(f"error: cannot read {file}: {exc.strerror or exc}")
        return 2
    problems = verify_dossier(content, expect_head)
    for problem in problems:
        _say(problem)
    _say(f"timeline head: {dossier_head(content)}")
    if problems:
        return 1
    _say("verified")
    return 0


def _lifecycle(scenario: str, svg: bool) -> int:
    import shutil
    import subprocess

    from domain.diagrams import dot

    text = dot(scenario)
    if not svg:
        sys.stdout.write(text)
        return 0
    if shutil.which("dot") is None:
        _say("error: --svg needs Graphviz's `dot` (Debian package graphviz); without it, pipe DOT")
        return 2
    rendered = subprocess.run(
        ["dot", "-Tsvg"], input=text.encode(), capture_output=True, check=True
    )
    sys.stdout.write(rendered.stdout.decode())
    return 0


def _outbox(settings: Settings, limit: int) -> int:
    """Counts by kind and status, then the unsent rows (oldest due first) and the latest sent."""
    from store.db import as_utc, migrate, session_scope
    from store.outbox import listing, summary

    migrate(settings.database_url)
    with session_scope(settings.database_url) as session:
        for kind, counts in sorted(summary(session).items()):
            _say(f"{kind}: " + ", ".join(f"{s} {n}" for s, n in sorted(counts.items())))
        for row in listing(session, limit):
            when = as_utc(row.sent_at if row.status == "sent" else row.next_attempt_at)
            error = f"  ({row.last_error})" if row.last_error else ""
            _say(
                f"{row.id}  {row.kind:<7} {row.status:<7} attempts {row.attempts}  "
                f"{when.isoformat() if when else '-'}  case {row.case_id} seq {row.seq} "
                f"to {row.recipient}{error}"
            )
    return 0


def _check_template(name: str, file: str | None, preview: str | None) -> int:
    """Offline: needs the template and its example only (no store, no engine)."""
    from pathlib import Path

    from documents.template_check import check_template, template_file
    from domain.agreements import TEMPLATE_VARIABLES

    if name not in TEMPLATE_VARIABLES:
        _say(f"error: no template is named {name!r} ({', '.join(sorted(TEMPLATE_VARIABLES))})")
        return 2
    path = Path(file) if file else template_file(name)
    try:
        content = path.read_bytes()
    except OSError as exc:
        _say(f"error: cannot read {path}: {exc.strerror or exc}")
        return 2
    result = check_template(name, content)
    for problem in result.problems:
        _say(f"problem: {problem}")
    for note in result.notes:
        _say(f"note: {note}")
    if not result.ok:
        return 1
    if preview and result.preview is not None:
        Path(preview).write_bytes(result.preview)
        _say(f"the example rendered with it: {preview}")
    _say(f"ok: {path.name} can be used as {name}")
    return 0


def main(argv: list[str] | None = None) -> int:
    atexit.register(gc.collect)  # see TEMPORAL.md: avoids an abort at interpreter exit
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        _say(f"error: {exc}")
        return 2
    if args.command == "dev":
        from dihflow.devstack import EngineLost, run_dev

        if settings.temporal_address:
            _say("error: `dihflow dev` starts its own engine; unset DIHFLOW_TEMPORAL_ADDRESS")
            return 2
        logs.configure("text", settings.log_level)  # readable in a terminal
        logs.install_runtime(settings.worker_metrics_address)
        try:
            asyncio.run(run_dev(settings, args.temporal_port, _say, ui=not args.no_ui))
        except EngineLost as exc:
            _say(f"error: {exc}")
            return 1
        except asyncio.CancelledError:
            # a stop signal arrived while the worker was still shutting down: the stack has
            # stopped all the same (its engine too, in run_dev's finally)
            return 0
    elif args.command == "worker":
        from worker import run_worker

        if settings.embedded:
            _say("error: set DIHFLOW_TEMPORAL_ADDRESS (or use `dihflow dev`)")
            return 2
        logs.configure(settings.log_format, settings.log_level)
        logs.install_runtime(settings.worker_metrics_address)
        asyncio.run(run_worker(settings))
    elif args.command == "api":
        import uvicorn

        from api.app import create_app

        logs.configure(settings.log_format, settings.log_level)
        logs.install_runtime()
        uvicorn.run(
            create_app(settings),
            host=settings.api_host,
            port=settings.api_port,
            log_config=None,  # uvicorn's lines go through the process's own logging
        )
    elif args.command == "migrate":
        from store.db import migrate

        migrate(settings.database_url)
        _say("the store's schema is at the newest migration")
    elif args.command == "seed":
        from dihflow.seed import seed_demo_network

        _say(f"demo network: {seed_demo_network(settings.database_url)} new hubs")
    elif args.command == "documents":
        return _verify_document(settings, args.doc_id)
    elif args.command == "cases":
        return _verify_dossier(args.file, args.expect_head)
    elif args.command == "users":
        return _users(settings, args)
    elif args.command == "hubs":
        return hubs_cli.run(settings, args, _say)
    elif args.command == "lifecycle":
        return _lifecycle(args.scenario, args.svg)
    elif args.command == "outbox":
        return _outbox(settings, args.limit)
    elif args.command == "privacy":
        return _erase(settings, args.email)
    elif args.command == "templates":
        return _check_template(args.name, args.file, args.preview)
    elif args.command in ("report", "export"):
        return reports.run(settings, args, _say)
    elif args.command == "keys":
        from store.db import migrate
        from store.keys import create_key, list_keys, revoke_key

        migrate(settings.database_url)
        if args.keys_command == "list":
            for p in list_keys(settings.database_url):
                state = f"revoked {p.revoked_at:%Y-%m-%d}" if p.revoked_at else "active"
                hub = p.hub_id or "-"
                _say(f"{p.id}  {p.role:<14} {hub:<14} {p.key_prefix}…  {state}  {p.label}")
            return 0
        if args.keys_command == "revoke":
            if not revoke_key(settings.database_url, args.id):
                _say(f"error: no key with id {args.id!r}")
                return 2
            _say(f"revoked {args.id}")
            return 0
        try:
            key = create_key(
                settings.database_url, Role(args.role), args.hub, args.label, args.representative
            )
        except ValueError as exc:
            _say(f"error: {exc}")
            return 2
        _say(key)
    return 0


def run() -> None:
    """The installed ``dihflow`` command: ``main``, then the process ends by
    ``base.process.leave`` (tests call ``main`` in their own process)."""
    run_then_leave(main)


if __name__ == "__main__":
    run()
