"""Staff accounts from the command line and the embedded default; the secret they rely on."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from base.settings import Settings, SettingsError
from dihflow.cli import main
from dihflow.seed import ensure_dev_keys, seed_demo_network
from store.db import session_scope
from store.models import StaffAccount
from store.staff import authenticate_staff, find_account


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DIHFLOW_DATABASE_URL", url)
    monkeypatch.setenv("DIHFLOW_VAR_DIR", str(tmp_path / "var"))
    return url


def _signs_in(url: str, username: str, password: str) -> bool:
    with session_scope(url) as session:
        found = authenticate_staff(session, username, password, "127.0.0.1", datetime.now(UTC))
        return isinstance(found, StaffAccount)


def test_users_create_list_reset_and_disable(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["users", "create", "--role", "legal", "--name", "Ana Legal", "ana"]) == 0
    out = capsys.readouterr().out
    password = out.split("password (shown once): ")[1].strip()
    assert _signs_in(database, "ana", password)
    with session_scope(database) as session:
        account = find_account(session, "ana")
        assert account is not None and password not in account.password_hash
    assert main(["users", "create", "--role", "legal", "ana"]) == 2
    assert "already an account" in capsys.readouterr().out

    assert main(["users", "list"]) == 0
    listed = capsys.readouterr().out
    assert "ana" in listed and "legal" in listed and "active" in listed and password not in listed

    assert main(["users", "reset-password", "ana"]) == 0
    new = capsys.readouterr().out.split("password (shown once): ")[1].strip()
    assert new != password and _signs_in(database, "ana", new)
    assert not _signs_in(database, "ana", password)

    assert main(["users", "disable", "ana"]) == 0
    assert not _signs_in(database, "ana", new)
    assert main(["users", "disable", "nobody"]) == 2


def test_users_create_reads_a_chosen_password(
    database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("a chosen long password\n"))
    assert main(["users", "create", "--role", "back_office", "--password-stdin", "bo"]) == 0
    assert "a chosen long password" not in capsys.readouterr().out
    assert _signs_in(database, "bo", "a chosen long password")
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["users", "reset-password", "--password-stdin", "bo"]) == 2
    assert "at least 12 characters" in capsys.readouterr().out


def test_the_embedded_default_makes_two_staff_accounts_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'dev.db'}"
    seed_demo_network(url)
    keys_file = tmp_path / "dev-keys.json"
    first = ensure_dev_keys(url, keys_file)
    staff = {k["role"]: k for k in first if "username" in k}
    assert set(staff) == {"back_office", "legal"}
    assert _signs_in(url, str(staff["legal"]["username"]), str(staff["legal"]["password"]))
    assert ensure_dev_keys(url, keys_file) == first  # the second start reads the file

    # a file written before the pages existed gets the accounts added
    keys_file.write_text(json.dumps([k for k in first if "key" in k]))
    again = ensure_dev_keys(url, keys_file)
    added = {k["role"]: k for k in again if "username" in k}
    assert _signs_in(url, "backoffice", str(added["back_office"]["password"]))


def test_a_short_or_missing_secret_is_refused_outside_the_embedded_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DIHFLOW_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("DIHFLOW_TEMPORAL_ADDRESS", "temporal.example:7233")
    with pytest.raises(SettingsError, match="DIHFLOW_SECRET_KEY"):
        Settings.from_env()
    monkeypatch.setenv("DIHFLOW_SECRET_KEY", "short")
    with pytest.raises(SettingsError, match="at least 32"):
        Settings.from_env()
    monkeypatch.setenv("DIHFLOW_SECRET_KEY", "k" * 32)
    assert Settings.from_env().secret_key == "k" * 32
    monkeypatch.delenv("DIHFLOW_TEMPORAL_ADDRESS")
    monkeypatch.delenv("DIHFLOW_SECRET_KEY")
    assert len(Settings.from_env().secret_key) == 64  # the embedded default makes one
