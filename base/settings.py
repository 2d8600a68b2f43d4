"""One settings object, read from environment variables (all prefixed ``DIHFLOW_``).

Declared once on pydantic-settings: each field's default is written here and nowhere else; an
empty variable counts as unset; a malformed one is a ``SettingsError`` naming the variable. Paths
and URLs left unset follow ``var_dir`` and the API's address (``_derived``). The README has the
table. An unset ``DIHFLOW_TEMPORAL_ADDRESS`` means "start the embedded Temporal dev server"
(only ``dihflow dev`` does that); every other process needs an address.

Constructing ``Settings(...)`` reads the environment too, as pydantic-settings does; what is
passed wins over it. ``Settings.from_env()`` adds the checks a running process needs (the
secret key) and fills the secret.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_VAR_DIR = Path("var")
MIN_SECRET_LENGTH = 32
ENV_PREFIX = "DIHFLOW_"


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_ignore_empty=True, frozen=True, extra="ignore"
    )

    var_dir: Path = DEFAULT_VAR_DIR
    temporal_address: str | None = None
    temporal_namespace: str = "default"
    temporal_tls: bool = False
    temporal_api_key: str | None = None
    temporal_tls_cert: Path | None = None
    temporal_tls_key: Path | None = None
    temporal_ui_port: int = 8233
    task_queue: str = "dihflow"
    database_url: str = ""  # "": sqlite in var_dir
    db_pool_size: int = 10  # PostgreSQL connections a process keeps
    db_max_overflow: int = 20  # and may open beyond them under load
    documents_dir: Path = DEFAULT_VAR_DIR / "documents"  # unset: var_dir/documents
    outbox_dir: Path = DEFAULT_VAR_DIR / "outbox"  # unset: var_dir/outbox
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    public_url: str = ""  # "": http://api_host:api_port
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
    upload_types: Annotated[tuple[str, ...], NoDecode] = (  # comma-separated in the env
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
    pdf_converter: Literal["resident", "process", "off"] = (
        "resident"  # resident | process | off (see activities/pdf.py)
    )
    pdf_python: str | None = None  # a Python that imports LibreOffice's uno (auto when unset)
    pdf_in_background: bool = False  # True: the outbox's converters make each executed copy's
    # PDF right after the copy; False: made when first asked for (a download, the dossier)
    max_cached_workflows: int = 1000  # workflows a worker keeps in memory (the SDK's default)
    rate_limit_per_minute: int = 600  # per API key, shared by every API process; 0: none
    body_max_bytes: int = 1024 * 1024  # JSON bodies (uploads have upload_max_bytes)
    dev_pages: bool = False  # the embedded default's extra pages (the dev outbox)
    session_idle_minutes: int = 30  # a staff session unused this long ends
    session_max_hours: int = 12  # a staff session ends this long after sign-in, used or not
    payload_keys: str = ""  # id:base64key,... : encrypt payloads on the engine (base/codec.py)
    log_format: Literal["json", "text"] = "json"  # `dihflow dev` writes text
    log_level: str = "INFO"
    metrics_token: str = ""  # /metrics: this bearer token, or (unset) loopback callers only
    otel_endpoint: str = ""  # OTLP/HTTP collector for traces ("": no tracing; base/tracing.py)
    worker_metrics_address: str = ""  # host:port of the SDK's Prometheus metrics ("": off)
    dev_engine_restarts: int = 3  # `dihflow dev` restarts a dead embedded engine this often
    webhook_targets: Literal["public", "any"] | None = None  # unset: public unless embedded
    webhook_secret_overlap_hours: int = 24  # a rotated secret still signs this long
    webhooks_per_hub: int = 10  # active webhooks a hub may have (422 past it)
    open_cases_per_hub: int = 200  # open cases a hub may lead (429 past it)
    temporal_ui_url: str = ""  # the Temporal Web UI the case page links to ("": embedded one's)

    @field_validator("upload_types", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(t.strip() for t in value.split(",") if t.strip())
        return value

    @field_validator("payload_keys")
    @classmethod
    def _ring(cls, value: str) -> str:
        from base.codec import parse_ring

        parse_ring(value)  # a KeyRingError (a ValueError) names what is wrong
        return value

    @field_validator("pdf_converter", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _derived(self) -> Settings:
        """Fill what follows from other fields when it was not given."""
        derived: dict[str, Any] = {}
        given = self.model_fields_set
        if not self.database_url:
            derived["database_url"] = f"sqlite:///{self.var_dir / 'dihflow.db'}"
        if "documents_dir" not in given:
            derived["documents_dir"] = self.var_dir / "documents"
        if "outbox_dir" not in given:
            derived["outbox_dir"] = self.var_dir / "outbox"
        if not self.public_url:
            derived["public_url"] = f"http://{self.api_host}:{self.api_port}"
        if not self.upload_types:
            derived["upload_types"] = type(self).model_fields["upload_types"].default
        for name, value in derived.items():
            object.__setattr__(self, name, value)
        return self

    @property
    def embedded(self) -> bool:
        """True when this process may start its own Temporal dev server."""
        return self.temporal_address is None

    @property
    def webhooks_public_only(self) -> bool:
        """Webhooks only to https URLs on public addresses (``domain/targets.py``)."""
        if self.webhook_targets is None:
            return not self.embedded and not self.dev_pages
        return self.webhook_targets == "public"

    @classmethod
    def from_env(cls) -> Settings:
        try:
            settings = cls()
        except ValidationError as exc:
            raise SettingsError(_explain(exc)) from None
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

    def replace(self, **changes: Any) -> Settings:
        """A copy with ``changes`` (validated like the environment's values)."""
        return type(self).model_validate(self.model_dump() | changes)

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
        return self.replace(secret_key=path.read_text().strip())


def _explain(exc: ValidationError) -> str:
    """One line per bad variable, named as it is set."""
    lines = []
    for error in exc.errors():
        name = ENV_PREFIX + "_".join(str(part) for part in error["loc"][:1]).upper()
        value = error.get("input")
        if error["type"] == "literal_error":
            allowed = error.get("ctx", {}).get("expected", "")
            lines.append(f"{name} must be one of {allowed}, got {value!r}")
        elif error["type"].startswith("int"):
            lines.append(f"{name} must be an integer, got {value!r}")
        elif any(word in name for word in ("KEY", "SECRET", "PASSWORD", "TOKEN")):
            lines.append(f"{name}: {error['msg']}")  # never echo a secret
        else:
            lines.append(f"{name}: {error['msg']}, got {value!r}")
    return "; ".join(lines)
