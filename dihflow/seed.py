"""The demo network (30 hubs) and the dev API keys of the embedded default."""

from __future__ import annotations

import json
import os
from pathlib import Path

from domain.cases import Role
from domain.hubs import load_demo_network
from store.db import migrate, session_scope
from store.keys import create_key
from store.records import upsert_hub

# Hubs that get a member and a signatory key in the embedded default (complementary services).
DEMO_KEY_HUBS = ("tagus-ai", "po-valley-ai", "spree-trust", "vistula-ai")


def seed_demo_network(database_url: str) -> int:
    """Insert or refresh the 30 demo hubs; returns how many were new (0 on a second run)."""
    migrate(database_url)
    with session_scope(database_url) as session:
        return sum(upsert_hub(session, profile) for profile in load_demo_network())


DEV_STAFF = (
    ("backoffice", "back_office", "Back office (dev)"),
    ("legal", "legal", "Legal helpdesk (dev)"),
)


def ensure_dev_keys(database_url: str, path: Path) -> list[dict[str, str | None]]:
    """The embedded default's keys, and its two staff accounts for the pages: made once and
    kept in ``path`` (mode 0600). A staff entry has ``username`` and ``password`` in place of
    ``key``; a file from before the pages existed gets its staff accounts added."""
    if path.exists():
        keys: list[dict[str, str | None]] = json.loads(path.read_text())
        if not any("username" in k for k in keys):
            keys += _dev_staff(database_url)
            _write_private(path, keys)
        return keys
    keys = []
    for role in (Role.back_office, Role.legal):
        keys.append(
            {"role": role.value, "hub": None, "key": create_key(database_url, role, None, "dev")}
        )
    for hub in DEMO_KEY_HUBS:
        for role in (Role.hub_member, Role.hub_signatory):
            keys.append(
                {"role": role.value, "hub": hub, "key": create_key(database_url, role, hub, "dev")}
            )
    keys += _dev_staff(database_url)
    _write_private(path, keys)
    return keys


def _dev_staff(database_url: str) -> list[dict[str, str | None]]:
    from store.staff import create_account, find_account, reset_password

    made: list[dict[str, str | None]] = []
    with session_scope(database_url) as session:
        for username, role, name in DEV_STAFF:
            if find_account(session, username) is None:
                _, password = create_account(session, username, role, name)
            else:  # the file was lost: a new password, shown as a new key would be
                password = reset_password(session, username)
            made.append({"role": role, "hub": None, "username": username, "password": password})
    return made


def _write_private(path: Path, content: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(content, fh, indent=2)
