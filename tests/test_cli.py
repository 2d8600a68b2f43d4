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


def test_hubs_import_reports_problems_by_line_keeps_valid_rows_and_is_idempotent(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from domain.hubs import load_demo_network
    from domain.registry import to_csv

    lines = "".join(to_csv(load_demo_network()[:3])).splitlines()
    lines[2] = lines[2].replace("pilot_production", "pilot_production;teleportation", 1)
    file = tmp_path / "hubs.csv"
    file.write_text("\n".join(lines) + "\n", encoding="utf-8")

    assert main(["hubs", "import", str(file)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (f"{file}: line 3, column 12 (services): unknown service code 'teleportation'")
    assert out[-1] == "3 rows read: 2 hubs created, 0 updated, 0 unchanged, 1 rows rejected"
    assert main(["hubs", "import", str(file)]) == 1
    assert capsys.readouterr().out.splitlines()[-1] == (
        "3 rows read: 0 hubs created, 0 updated, 2 unchanged, 1 rows rejected"
    )


def test_hubs_export_then_import_changes_nothing(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["seed"])
    for fmt in ("csv", "json"):
        file = tmp_path / f"all.{fmt}"
        assert main(["hubs", "export", "--format", fmt, "-o", str(file)]) == 0
        capsys.readouterr()
        assert main(["hubs", "import", str(file)]) == 0
        assert capsys.readouterr().out.strip() == (
            "30 rows read: 0 hubs created, 0 updated, 30 unchanged, 0 rows rejected"
        )


def test_hubs_import_refuses_a_file_of_another_kind(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "hubs.xlsx").write_bytes(b"PK")
    assert main(["hubs", "import", str(tmp_path / "hubs.xlsx")]) == 2
    assert "neither .csv nor .json" in capsys.readouterr().out
