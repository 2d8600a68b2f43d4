"""One settings object, read from environment variables (all prefixed ``DIHFLOW_``).

The README has the table. An unset ``DIHFLOW_TEMPORAL_ADDRESS`` means "start the embedded
Temporal dev server" (only ``dihflow dev`` does that); every other process needs an address.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path

DEFAULT_VAR_DIR = Path("var")
MIN_SECRET_LENGTH = 32


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(f"DIHFLOW_{name}")
    return value if value not in (None, "") else default


def _int(name: str, default: int) -> int:
    raw = _env(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"DIHFLOW_{name} must be an integer, got {raw!r}") from exc


def _choice(name: str, allowed: tuple[str, ...], default: str) -> str:
    value = (_env(name, default) or default).lower()
    if value not in allowed:
        raise SettingsError(f"DIHFLOW_{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    var_dir: Path = DEFAULT_VAR_DIR
    temporal_address: str | None = None
    temporal_namespace: str = "default"
    temporal_tls: bool = False
    temporal_api_key: str | None = None
    temporal_tls_cert: Path | None = None
    temporal_tls_key: Path | None = None
    temporal_ui_port: int = 8233
    task_queue: str = "dihflow"
    database_url: str = ""
    documents_dir: Path = field(default=DEFAULT_VAR_DIR / "documents")
    outbox_dir: Path = field(default=DEFAULT_VAR_DIR / "outbox")
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    public_url: str = "http://127.0.0.1:8000"
    secret_key: str = ""
    link_ttl_days: int = 14
    partnering_days: int = 14
    invitation_days: int = 7
    signing_days: int = 30
    reminder_days: int = 7
    review_days: int = 30
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_sender: str = "dihflow <no-reply@dihflow.example>"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    upload_max_bytes: int = 20 * 1024 * 1024
    upload_types: tuple[str, ...] = (
        "application/pdf",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/zip",
        "text/plain",
        "text/csv",
        "image/png",
        "image/jpeg",
    )
    activity_timeout_seconds: int = 30
    outbox_lease_seconds: int = 120  # a taken outbox row is due again after this: longer than
    # any one send (a PDF conversion is bounded at 60 s), so only a dead dispatcher's rows are
    # taken again
    pdf_converter: str = "resident"  # resident | process | off (see activities/pdf.py)
    pdf_python: str | None = None  # a Python that imports LibreOffice's uno (auto when unset)
    max_cached_workflows: int = 1000  # workflows a worker keeps in memory (the SDK's default)
    rate_limit_per_minute: int = 600  # per API key, shared by every API process; 0: none
    body_max_bytes: int = 1024 * 1024  # JSON bodies (uploads have upload_max_bytes)
    dev_pages: bool = False  # the embedded default's extra pages (the dev outbox)
    session_idle_minutes: int = 30  # a staff session unused this long ends
    session_max_hours: int = 12  # a staff session ends this long after sign-in, used or not
    temporal_ui_url: str = ""  # the Temporal Web UI the case page links to ("": embedded one's)

    @property
    def embedded(self) -> bool:
        """True when this process may start its own Temporal dev server."""
        return self.temporal_address is None

    @classmethod
    def from_env(cls) -> Settings:
        var_dir = Path(_env("VAR_DIR", str(DEFAULT_VAR_DIR)) or DEFAULT_VAR_DIR)
        api_host = _env("API_HOST", "127.0.0.1") or "127.0.0.1"
        api_port = _int("API_PORT", 8000)
        tls_cert = _env("TEMPORAL_TLS_CERT")
        tls_key = _env("TEMPORAL_TLS_KEY")
        settings = cls(
            var_dir=var_dir,
            temporal_address=_env("TEMPORAL_ADDRESS"),
            temporal_namespace=_env("TEMPORAL_NAMESPACE", "default") or "default",
            temporal_tls=(_env("TEMPORAL_TLS", "false") or "").lower() in ("1", "true", "yes"),
            temporal_api_key=_env("TEMPORAL_API_KEY"),
            temporal_tls_cert=Path(tls_cert) if tls_cert else None,
            temporal_tls_key=Path(tls_key) if tls_key else None,
            temporal_ui_port=_int("TEMPORAL_UI_PORT", 8233),
            task_queue=_env("TASK_QUEUE", "dihflow") or "dihflow",
            database_url=_env("DATABASE_URL", f"sqlite:///{var_dir / 'dihflow.db'}") or "",
            documents_dir=Path(_env("DOCUMENTS_DIR", str(var_dir / "documents")) or ""),
            outbox_dir=Path(_env("OUTBOX_DIR", str(var_dir / "outbox")) or ""),
            api_host=api_host,
            api_port=api_port,
            public_url=_env("PUBLIC_URL", f"http://{api_host}:{api_port}") or "",
            secret_key=_env("SECRET_KEY", "") or "",
            link_ttl_days=_int("LINK_TTL_DAYS", 14),
            partnering_days=_int("PARTNERING_DAYS", 14),
            invitation_days=_int("INVITATION_DAYS", 7),
            signing_days=_int("SIGNING_DAYS", 30),
            reminder_days=_int("REMINDER_DAYS", 7),
            review_days=_int("REVIEW_DAYS", 30),
            smtp_host=_env("SMTP_HOST"),
            smtp_port=_int("SMTP_PORT", 25),
            smtp_sender=_env("SMTP_SENDER", cls.smtp_sender) or cls.smtp_sender,
            smtp_username=_env("SMTP_USERNAME"),
            smtp_password=_env("SMTP_PASSWORD"),
            smtp_starttls=(_env("SMTP_STARTTLS", "false") or "").lower() in ("1", "true", "yes"),
            upload_max_bytes=_int("UPLOAD_MAX_BYTES", 20 * 1024 * 1024),
            rate_limit_per_minute=_int("RATE_LIMIT_PER_MINUTE", 600),
            body_max_bytes=_int("BODY_MAX_BYTES", 1024 * 1024),
            upload_types=tuple(
                t.strip() for t in (_env("UPLOAD_TYPES", "") or "").split(",") if t.strip()
            )
            or cls.upload_types,
            activity_timeout_seconds=_int("ACTIVITY_TIMEOUT_SECONDS", 30),
            outbox_lease_seconds=_int("OUTBOX_LEASE_SECONDS", 120),
            max_cached_workflows=_int("MAX_CACHED_WORKFLOWS", 1000),
            pdf_converter=_choice("PDF_CONVERTER", ("resident", "process", "off"), "resident"),
            pdf_python=_env("PDF_PYTHON"),
            session_idle_minutes=_int("SESSION_IDLE_MINUTES", 30),
            session_max_hours=_int("SESSION_MAX_HOURS", 12),
            temporal_ui_url=_env("TEMPORAL_UI_URL", "") or "",
        )
        if not settings.embedded and len(settings.secret_key) < MIN_SECRET_LENGTH:
            # Outside the embedded default the secret signs staff sessions and derives link
            # tokens for every API and worker process: a key made on one machine would not
            # do, nor would a guessable one.
            raise SettingsError(
                f"DIHFLOW_SECRET_KEY must be set to at least {MIN_SECRET_LENGTH} characters "
                "when DIHFLOW_TEMPORAL_ADDRESS is set (e.g. `python -c 'import secrets; "
                "print(secrets.token_hex(32))'`)"
            )
        return settings.with_secret()

    @property
    def workflow_ui_url(self) -> str:
        """Base URL of the Temporal Web UI (the embedded dev server's when not set)."""
        return (self.temporal_ui_url or f"http://127.0.0.1:{self.temporal_ui_port}").rstrip("/")

    def with_secret(self) -> Settings:
        """Fill ``secret_key``: from the environment, else from ``var/secret.key`` (made once).

        The secret derives link tokens, so a retried activity finds the same token. A deployment
        with several machines must set ``DIHFLOW_SECRET_KEY`` to the same value everywhere.
        """
        if self.secret_key:
            return self
        path = self.var_dir / "secret.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process of the stack made it first
                pass
            else:
                with os.fdopen(fd, "w") as fh:
                    fh.write(secrets.token_hex(32))
        return replace(self, secret_key=path.read_text().strip())
