"""The operator command line: seed and keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from dihflow.cli import main
from store.db import session_scope
from store.records import principal_for_key


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DIHFLOW_DATABASE_URL", url)
    monkeypatch.setenv("DIHFLOW_VAR_DIR", str(tmp_path / "var"))
    return url


def test_seed_is_idempotent(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["seed"]) == 0
    assert "30 new hubs" in capsys.readouterr().out
    assert main(["seed"]) == 0
    assert "0 new hubs" in capsys.readouterr().out


def test_keys_create_prints_a_working_key_once(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["seed"])
    capsys.readouterr()
    assert main(["keys", "create", "--role", "hub_signatory", "--hub", "spree-trust"]) == 0
    key = capsys.readouterr().out.strip()
    with session_scope(database) as session:
        principal = principal_for_key(session, key)
        assert principal is not None
        assert (principal.role, principal.hub_id) == ("hub_signatory", "spree-trust")
        assert key not in principal.key_hash


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "hub_member"], "needs --hub"),
        (["--role", "legal", "--hub", "tagus-ai"], "belongs to no hub"),
        (["--role", "hub_member", "--hub", "atlantis"], "unknown hub"),
    ],
)
def test_keys_create_refuses_a_wrong_hub(
    database: str, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    main(["seed"])
    capsys.readouterr()
    assert main(["keys", "create", *args]) == 2
    assert message in capsys.readouterr().out


def test_keys_list_shows_prefixes_and_revoke_stops_a_key(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["seed"])
    main(["keys", "create", "--role", "legal", "--label", "helpdesk desk 2"])
    key = capsys.readouterr().out.strip().splitlines()[-1]
    assert main(["keys", "list"]) == 0
    listing = capsys.readouterr().out
    assert key not in listing and key[:12] in listing and "helpdesk desk 2" in listing
    principal_id = listing.split()[0]
    assert main(["keys", "revoke", principal_id]) == 0
    with session_scope(database) as session:
        assert principal_for_key(session, key) is None
    assert main(["keys", "revoke", "nope"]) == 2
