"""Mail to the people of a case: built from a template, delivered by SMTP or to the outbox.

Pure Python (no Temporal): an activity wraps ``Notifier.send``. Every message carries an
idempotency ``key``; it names the outbox file and seeds the Message-ID, so a retried send is
recognisable:

- ``OutboxNotifier`` (development, tests) writes ``<outbox>/<key>.eml`` once; a retry finds the
  file and leaves it as it is.
- ``SmtpNotifier`` keeps no state, so delivery is *at least once*: a send retried after the server
  accepted the mail delivers it again, with the same Message-ID, by which receivers can dedupe.

Bodies are plain text rendered from ``templates/mail/<template>.txt`` (see ``MAIL_TEMPLATES``).
Besides the message's ``context``, every template sees ``to_name`` and ``case_id``, and ``link``
and ``action`` when the message has them; a variable the template needs and nobody gave raises.
"""

from __future__ import annotations

import os
import re
import smtplib
import ssl
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.headerregistry import Address, BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any, Protocol

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from domain.cases import CONTROL_CHARACTERS
from domain.digests import sha256_hex

MAIL_TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates" / "mail"
MAIL_TEMPLATES = ("invitation", "link", "reminder", "deadline", "state_changed")
DEFAULT_SENDER = "dihflow <no-reply@dihflow.example>"
DEFAULT_SMTP_PORT = 25

_env = Environment(
    loader=FileSystemLoader(MAIL_TEMPLATES_DIR),
    undefined=StrictUndefined,
    autoescape=False,  # plain text: escaping would garble names such as "R&D Hub"
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


class _Headers(HeaderRegistry):
    """The standard header registry, each header's class made once: ``HeaderRegistry`` makes
    a new class for every header it parses (about a fifth of building a mail). Same classes,
    same bytes."""

    def __init__(self) -> None:
        super().__init__()
        self._made: dict[str, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        made = self._made.get(name.lower())
        if made is None:
            made = self._made[name.lower()] = super().__getitem__(name)
        return made


_POLICY = policy.default.clone(header_factory=_Headers())
_MESSAGE_FIELDS = frozenset({"to_name", "case_id", "link", "action"})
_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Message:
    """One mail to one person; ``key`` is unique per message (e.g. ``c-123:reminder:sign:2``)."""

    key: str
    case_id: str
    to_name: str
    to_email: str
    subject: str
    template: str
    context: dict[str, str] = field(default_factory=dict)
    link: str | None = None
    action: str | None = None  # kebab-case, the action the link asks for (e.g. "sign")
    message_id: str | None = None  # the outbox message id, when the outbox sends it

    def __post_init__(self) -> None:
        if not self.key.strip():
            raise ValueError(
                "Message.key must be a non-empty idempotency key, e.g. 'c-1:invite:h2'"
            )


class Notifier(Protocol):
    def send(self, message: Message, sent_at: datetime) -> str:
        """Deliver the message; return where it went (``"smtp"`` or ``"outbox"``)."""
        ...


class MailRefused(Exception):
    """The SMTP server refused the recipient for good (5xx): retrying will not help."""


def render_body(message: Message) -> str:
    """The plain-text body of the message, from its template and context."""
    # The message's own fields win over context entries of the same names, even when unset.
    variables = {k: v for k, v in message.context.items() if k not in _MESSAGE_FIELDS}
    variables.update(to_name=message.to_name, case_id=message.case_id)
    if message.link is not None:
        variables["link"] = message.link
    if message.action is not None:
        variables["action"] = message.action
    return _env.get_template(f"{message.template}.txt").render(variables)


def message_id(key: str) -> str:
    return f"<{sha256_hex(key.encode())[:32]}@dihflow>"


def one_line_text(value: str) -> str:
    """``value`` with every control character (line breaks included) made a space."""
    return " ".join(CONTROL_CHARACTERS.sub(" ", value).split())


def build_email(message: Message, sender: str, sent_at: datetime) -> EmailMessage:
    """The complete mail; the same message, sender and time always give the same bytes."""
    if sent_at.tzinfo is None:
        raise ValueError(
            "sent_at must be timezone-aware (e.g. workflow.now() or datetime.now(UTC))"
        )
    mail = EmailMessage(_POLICY)  # policy.default: long headers fold, unfold when parsed back
    # a line break in a header value is refused by the email package, every time: texts from
    # before names and titles were checked are made one line instead of failing for ever
    mail["To"] = Address(display_name=one_line_text(message.to_name), addr_spec=message.to_email)
    mail["From"] = sender
    mail["Subject"] = one_line_text(message.subject)
    mail["Date"] = format_datetime(sent_at)
    mail["Message-ID"] = (
        f"<{message.message_id}@dihflow>" if message.message_id else message_id(message.key)
    )
    mail["X-Dihflow-Case"] = message.case_id
    mail["X-Dihflow-Key"] = message.key
    if message.action is not None:
        mail["X-Dihflow-Action"] = message.action
    if message.link is not None:
        mail["X-Dihflow-Link"] = message.link
    mail.set_content(render_body(message))
    return mail


class OutboxNotifier:
    """The development outbox: one ``.eml`` per key, written atomically, first send wins."""

    def __init__(self, outbox_dir: Path, sender: str = DEFAULT_SENDER):
        self.outbox_dir = Path(outbox_dir)
        self.sender = sender

    def path_for(self, key: str) -> Path:
        # Readable part plus a hash of the whole key, so "a:b" and "a-b" never share a file.
        readable = _UNSAFE_FILE_CHARS.sub("-", key).strip(".-")[:100]
        digest = sha256_hex(key.encode())[:8]
        return self.outbox_dir / f"{readable or 'message'}.{digest}.eml"

    def send(self, message: Message, sent_at: datetime) -> str:
        path = self.path_for(message.key)
        if path.exists():  # a retry: the first send stands, Date and all
            return "outbox"
        content = bytes(build_email(message, self.sender, sent_at))
        self.outbox_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=self.outbox_dir, prefix=".", suffix=".tmp")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(content)
            # The file's mtime is the send time, so read_outbox orders by when mail was sent.
            stamp = sent_at.timestamp()
            os.utime(tmp, (stamp, stamp))
            tmp.replace(path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return "outbox"


class SmtpNotifier:
    """Delivers through an SMTP server; raises when it cannot, so the activity retries.

    Keeps no state: delivery is at least once (receivers dedupe by Message-ID). A recipient the
    server refuses permanently raises ``MailRefused``; anything else (connection, timeout, 4xx)
    raises the ``OSError`` or ``smtplib.SMTPException`` as it comes.
    """

    def __init__(
        self,
        host: str,
        port: int = DEFAULT_SMTP_PORT,
        sender: str = DEFAULT_SENDER,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout: float = 10,
    ):
        self.host = host
        self.port = port
        self.sender = sender
        self.username = username
        self.password = password
        self.starttls = starttls
        self.timeout = timeout

    def send(self, message: Message, sent_at: datetime) -> str:
        mail = build_email(message, self.sender, sent_at)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password or "")
            try:
                smtp.send_message(mail, to_addrs=[message.to_email])
            except smtplib.SMTPRecipientsRefused as exc:
                codes = [code for code, _ in exc.recipients.values()]
                if codes and all(code >= 500 for code in codes):
                    raise MailRefused(f"{message.to_email} refused: {exc.recipients}") from exc
                raise
        return "smtp"


def notifier_from_settings(settings: Any) -> Notifier:
    """SMTP when ``settings.smtp_host`` is set, else the outbox in ``settings.outbox_dir``."""
    sender = getattr(settings, "smtp_sender", None) or DEFAULT_SENDER
    host = getattr(settings, "smtp_host", None)
    if not host:
        return OutboxNotifier(Path(settings.outbox_dir), sender)
    return SmtpNotifier(
        host=host,
        port=int(getattr(settings, "smtp_port", None) or DEFAULT_SMTP_PORT),
        sender=sender,
        username=getattr(settings, "smtp_username", None) or None,
        password=getattr(settings, "smtp_password", None) or None,
        starttls=bool(getattr(settings, "smtp_starttls", False)),
    )


def read_outbox(outbox_dir: Path, case_id: str | None = None) -> list[dict[str, str]]:
    """Every mail in the outbox, newest first (file mtime, then name), optionally for one case.

    Absent headers read as ``""`` (older outbox files carry no key, action or date).
    """
    outbox_dir = Path(outbox_dir)
    if not outbox_dir.is_dir():
        return []
    paths = sorted(outbox_dir.glob("*.eml"), key=lambda p: (-p.stat().st_mtime_ns, p.name))
    found = []
    for path in paths:
        mail = message_from_bytes(path.read_bytes(), policy=policy.default)
        case = _header(mail, "X-Dihflow-Case")
        if case_id is not None and case != case_id:
            continue
        date = _header(mail, "Date")
        body = mail.get_body(preferencelist=("plain",))
        found.append(
            {
                "key": _header(mail, "X-Dihflow-Key"),
                "case_id": case,
                "to": _header(mail, "To"),
                "subject": _header(mail, "Subject"),
                "action": _header(mail, "X-Dihflow-Action"),
                "link": _header(mail, "X-Dihflow-Link"),
                "sent_at": parsedate_to_datetime(date).isoformat() if date else "",
                "body": body.get_content() if body is not None else "",
                "file": path.name,
            }
        )
    return found


def _header(mail: Any, name: str) -> str:
    value = mail[name]
    return "" if value is None else str(value).strip()
