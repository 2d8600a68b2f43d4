"""The notifier: mail templates, the outbox on disk and delivery to a real local SMTP server."""

from __future__ import annotations

import contextlib
import email.policy
import socket
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jinja2
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword

from activities.notify import (
    MAIL_TEMPLATES,
    MailRefused,
    Message,
    OutboxNotifier,
    SmtpNotifier,
    build_email,
    message_id,
    notifier_from_settings,
    read_outbox,
    render_body,
)

SENT_AT = datetime(2025, 6, 2, 9, 30, tzinfo=UTC)
SENDER = "dihflow <no-reply@dihflow.example>"
LONG_LINK = "http://127.0.0.1:8000/v1/links/" + "Ab3-_" * 20  # 131 characters: folded on disk

SAMPLE_CONTEXTS: dict[str, dict[str, str]] = {
    "invitation": {
        "hub_name": "AI Hub Tallinn",
        "lead_hub": "DIH Lombardia",
        "title": "Predictive maintenance for a bakery",
        "deadline": "16 June 2025",
    },
    "link": {
        "requested_by": "DIH Lombardia",
        "request": "sign the specific collaboration agreement",
        "title": "Predictive maintenance for a bakery",
        "expires_at": "16 June 2025, 09:30 UTC",
    },
    "reminder": {
        "title": "Predictive maintenance for a bakery",
        "waiting_for": "your signature on the specific collaboration agreement",
        "due_date": "16 June 2025",
    },
    "deadline": {
        "title": "Predictive maintenance for a bakery",
        "deadline_name": "the invitation to AI Hub Tallinn",
        "deadline": "16 June 2025",
        "outcome": "The invitation lapsed; the lead hub may invite another hub.",
    },
    "state_changed": {
        "title": "Predictive maintenance for a bakery",
        "previous_state": "legal review",
        "new_state": "signature",
    },
}


def _message(
    key: str = "c-1:link:sign",
    case_id: str = "c-1",
    template: str = "link",
    link: str | None = "http://127.0.0.1:8000/v1/links/tok1",
    action: str | None = "sign",
    **context: str,
) -> Message:
    return Message(
        key=key,
        case_id=case_id,
        to_name="Giulia Rossi",
        to_email="giulia@bakery.example",
        subject=f"[{case_id}] Please sign the agreement",
        template=template,
        context={**SAMPLE_CONTEXTS[template], **context},
        link=link,
        action=action,
    )


def free_port() -> int:
    # Not base.engine.free_port: that module imports the workflows, which this test needs not.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Collector:
    """An aiosmtpd handler keeping every envelope it accepts."""

    def __init__(self, refuse: set[str] | None = None):
        self.envelopes: list[Envelope] = []
        self.refuse = refuse or set()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


class Credentials:
    """An aiosmtpd authenticator accepting one login and remembering it."""

    def __init__(self) -> None:
        self.logins: list[tuple[bytes, bytes]] = []

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any):
        if isinstance(auth_data, LoginPassword) and auth_data.password == b"s3cret":
            self.logins.append((auth_data.login, auth_data.password))
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)


@contextlib.contextmanager
def running(handler: Collector, **kwargs: Any) -> Iterator[Controller]:
    """A real SMTP server on 127.0.0.1 (in a thread of its own) for the length of the block."""
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **kwargs)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[tuple[Controller, Collector]]:
    collector = Collector(refuse={"nobody@bakery.example"})
    with running(collector) as controller:
        yield controller, collector


@pytest.mark.parametrize("template", MAIL_TEMPLATES)
def test_template_renders_with_sample_context(template: str) -> None:
    body = render_body(_message(template=template))

    assert body.startswith("Hello Giulia Rossi,\n")
    assert "Predictive maintenance for a bakery" in body
    assert "(case c-1)" in body
    assert body.rstrip().splitlines()[-1].startswith("-- AI DIH Network")


@pytest.mark.parametrize("template", MAIL_TEMPLATES)
def test_template_raises_when_a_context_variable_is_missing(template: str) -> None:
    message = _message(template=template)
    without_title = {k: v for k, v in message.context.items() if k != "title"}

    with pytest.raises(jinja2.UndefinedError, match="title"):
        render_body(replace(message, context=without_title))


def test_link_template_raises_without_a_link() -> None:
    with pytest.raises(jinja2.UndefinedError, match="link"):
        render_body(_message(template="link", link=None))


def test_context_cannot_stand_in_for_the_message_link() -> None:
    message = _message(template="link", link=None, expires_at="soon")

    with pytest.raises(jinja2.UndefinedError, match="link"):
        render_body(replace(message, context={**message.context, "link": "http://evil.example"}))


def test_optional_link_is_shown_only_when_given() -> None:
    with_link = render_body(_message(template="reminder", link="http://x.example/l/1"))
    without = render_body(_message(template="reminder", link=None))

    assert "http://x.example/l/1" in with_link
    assert "http" not in without


def test_build_email_sets_headers_from_the_message() -> None:
    mail = build_email(_message(), SENDER, SENT_AT)

    assert mail["To"] == "Giulia Rossi <giulia@bakery.example>"
    assert mail["From"] == SENDER
    assert mail["Date"] == "Mon, 02 Jun 2025 09:30:00 +0000"
    assert mail["Message-ID"] == message_id("c-1:link:sign")
    assert len(mail["Message-ID"]) == len("<>@dihflow") + 32
    assert mail["X-Dihflow-Case"] == "c-1"
    assert mail["X-Dihflow-Key"] == "c-1:link:sign"
    assert mail["X-Dihflow-Action"] == "sign"
    assert mail["X-Dihflow-Link"] == "http://127.0.0.1:8000/v1/links/tok1"


def test_build_email_omits_action_and_link_headers_when_absent() -> None:
    mail = build_email(_message(template="state_changed", link=None, action=None), SENDER, SENT_AT)

    assert mail["X-Dihflow-Action"] is None
    assert mail["X-Dihflow-Link"] is None


def test_build_email_is_deterministic() -> None:
    assert bytes(build_email(_message(), SENDER, SENT_AT)) == bytes(
        build_email(_message(), SENDER, SENT_AT)
    )


def test_build_email_refuses_a_naive_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        build_email(_message(), SENDER, datetime(2025, 6, 2, 9, 30))


def test_message_refuses_an_empty_key() -> None:
    with pytest.raises(ValueError, match="idempotency key"):
        _message(key=" ")


def test_outbox_writes_one_file_per_key(tmp_path: Path) -> None:
    notifier = OutboxNotifier(tmp_path / "outbox", SENDER)

    where = notifier.send(_message(key="c-1:link:sign"), SENT_AT)
    notifier.send(_message(key="c-1:link:consent", action="consent"), SENT_AT)
    notifier.send(_message(key="c-1-link-sign"), SENT_AT)  # same readable name, other key

    assert where == "outbox"
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 3
    assert list((tmp_path / "outbox").glob("*.tmp")) == []


def test_outbox_send_twice_keeps_the_first_file(tmp_path: Path) -> None:
    notifier = OutboxNotifier(tmp_path, SENDER)
    notifier.send(_message(), SENT_AT)
    path = notifier.path_for("c-1:link:sign")
    first = path.read_bytes()

    notifier.send(_message(), SENT_AT + timedelta(minutes=5))

    assert list(tmp_path.glob("*.eml")) == [path]
    assert path.read_bytes() == first


def test_read_outbox_returns_long_link_and_action_unfolded(tmp_path: Path) -> None:
    OutboxNotifier(tmp_path, SENDER).send(_message(link=LONG_LINK), SENT_AT)

    raw = next(tmp_path.glob("*.eml")).read_text()
    header_lines = raw.split("\n\n", 1)[0].splitlines()

    [mail] = read_outbox(tmp_path)

    assert max(len(line) for line in header_lines) <= 78  # the link was folded on disk

    assert len(LONG_LINK) > 78
    assert mail["link"] == LONG_LINK
    assert mail["action"] == "sign"
    assert mail["key"] == "c-1:link:sign"
    assert mail["case_id"] == "c-1"
    assert mail["to"] == "Giulia Rossi <giulia@bakery.example>"
    assert mail["subject"] == "[c-1] Please sign the agreement"
    assert mail["sent_at"] == "2025-06-02T09:30:00+00:00"
    assert LONG_LINK in mail["body"]
    assert mail["file"] == OutboxNotifier(tmp_path).path_for("c-1:link:sign").name


def test_read_outbox_filters_by_case_newest_first(tmp_path: Path) -> None:
    notifier = OutboxNotifier(tmp_path, SENDER)
    notifier.send(_message(key="c-1:a", case_id="c-1"), SENT_AT)
    notifier.send(_message(key="c-2:a", case_id="c-2"), SENT_AT + timedelta(minutes=1))
    notifier.send(_message(key="c-1:b", case_id="c-1"), SENT_AT + timedelta(minutes=2))

    assert [m["key"] for m in read_outbox(tmp_path, "c-1")] == ["c-1:b", "c-1:a"]
    assert [m["key"] for m in read_outbox(tmp_path)] == ["c-1:b", "c-2:a", "c-1:a"]
    assert read_outbox(tmp_path, "c-3") == []


def test_read_outbox_of_a_missing_folder_is_empty(tmp_path: Path) -> None:
    assert read_outbox(tmp_path / "never-written") == []


def test_smtp_delivers_to_a_local_server(smtp_server: tuple[Controller, Collector]) -> None:
    controller, collector = smtp_server
    notifier = SmtpNotifier("127.0.0.1", controller.port, sender=SENDER)

    where = notifier.send(_message(link=LONG_LINK), SENT_AT)

    assert where == "smtp"
    [envelope] = collector.envelopes
    assert envelope.mail_from == "no-reply@dihflow.example"
    assert envelope.rcpt_tos == ["giulia@bakery.example"]
    mail = message_from_bytes(envelope.original_content or b"", policy=email.policy.default)
    assert str(mail["Subject"]) == "[c-1] Please sign the agreement"
    assert str(mail["X-Dihflow-Link"]) == LONG_LINK
    assert str(mail["Message-ID"]) == message_id("c-1:link:sign")
    assert "asks you to sign the specific collaboration agreement" in mail.get_content()


def test_smtp_logs_in_when_given_credentials() -> None:
    credentials, collector = Credentials(), Collector()
    # auth_require_tls=False: this test server has no certificate, so AUTH goes in the clear.
    with running(collector, authenticator=credentials, auth_require_tls=False) as controller:
        notifier = SmtpNotifier(
            "127.0.0.1", controller.port, SENDER, username="dihflow", password="s3cret"
        )
        notifier.send(_message(), SENT_AT)

    assert credentials.logins == [(b"dihflow", b"s3cret")]
    assert len(collector.envelopes) == 1


def test_smtp_raises_when_the_server_is_unreachable() -> None:
    notifier = SmtpNotifier("127.0.0.1", free_port(), SENDER, timeout=2)

    with pytest.raises(OSError):
        notifier.send(_message(), SENT_AT)


def test_smtp_raises_mail_refused_for_a_refused_recipient(
    smtp_server: tuple[Controller, Collector],
) -> None:
    controller, collector = smtp_server
    message = replace(_message(), to_email="nobody@bakery.example")

    with pytest.raises(MailRefused, match="nobody@bakery.example"):
        SmtpNotifier("127.0.0.1", controller.port, SENDER).send(message, SENT_AT)
    assert collector.envelopes == []


def test_notifier_from_settings_picks_smtp_when_a_host_is_set(tmp_path: Path) -> None:
    settings = SimpleNamespace(
        outbox_dir=tmp_path,
        smtp_host="mail.example",
        smtp_port=587,
        smtp_username="u",
        smtp_password="p",
        smtp_starttls=True,
    )

    notifier = notifier_from_settings(settings)

    assert isinstance(notifier, SmtpNotifier)
    assert (notifier.host, notifier.port, notifier.starttls) == ("mail.example", 587, True)
    assert (notifier.username, notifier.password) == ("u", "p")
    assert notifier.sender == SENDER


def test_notifier_from_settings_defaults_the_smtp_port_and_sender(tmp_path: Path) -> None:
    notifier = notifier_from_settings(SimpleNamespace(outbox_dir=tmp_path, smtp_host="mx"))

    assert isinstance(notifier, SmtpNotifier)
    assert (notifier.port, notifier.starttls, notifier.username) == (25, False, None)


def test_notifier_from_settings_picks_the_outbox_without_a_host(tmp_path: Path) -> None:
    notifier = notifier_from_settings(SimpleNamespace(outbox_dir=tmp_path, smtp_host=None))

    assert isinstance(notifier, OutboxNotifier)
    assert notifier.outbox_dir == tmp_path


def test_outbox_file_mtime_is_the_send_time(tmp_path: Path) -> None:
    notifier = OutboxNotifier(tmp_path, SENDER)
    notifier.send(_message(), SENT_AT)

    mtime = notifier.path_for("c-1:link:sign").stat().st_mtime

    assert mtime == pytest.approx(SENT_AT.timestamp())
