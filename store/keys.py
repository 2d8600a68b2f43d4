"""API keys: made (the raw key shown once), listed and revoked. The CLI's ``dihflow keys``
and the embedded default's dev keys both come here."""

from __future__ import annotations

from sqlmodel import col, select

from domain.cases import Role
from store.db import session_scope
from store.models import Hub, Principal, utcnow
from store.records import create_principal


def create_key(
    database_url: str,
    role: Role,
    hub_id: str | None,
    label: str = "",
    representative: str | None = None,
) -> str:
    """A new key, printed once. A hub_signatory key belongs to one representative of its hub
    (``representative``; the hub's first listed one when not given)."""
    if role in (Role.hub_member, Role.hub_signatory) and not hub_id:
        raise ValueError(f"a {role.value} key needs --hub")
    if role in (Role.back_office, Role.legal) and hub_id:
        raise ValueError(f"a {role.value} key belongs to no hub; drop --hub")
    if representative and role != Role.hub_signatory:
        raise ValueError("--representative is for hub_signatory keys")
    with session_scope(database_url) as session:
        hub = session.get(Hub, hub_id) if hub_id else None
        if hub_id and hub is None:
            raise ValueError(f"unknown hub {hub_id!r} (see GET /v1/hubs or run `dihflow seed`)")
        if role == Role.hub_signatory and hub is not None:
            people = [r["id"] for r in hub.profile.get("representatives", [])]
            representative = representative or (people[0] if people else None)
            if representative not in people:
                raise ValueError(
                    f"{representative!r} is not a representative of {hub_id} "
                    f"(its representatives: {', '.join(people) or 'none'})"
                )
        _, raw = create_principal(session, role.value, hub_id, label, representative)
        return raw


def list_keys(database_url: str) -> list[Principal]:
    with session_scope(database_url) as session:
        return list(session.exec(select(Principal).order_by(col(Principal.created_at))))


def revoke_key(database_url: str, principal_id: str) -> bool:
    """Revoke a key; False when there is no such key. Revoking twice keeps the first time."""
    with session_scope(database_url) as session:
        principal = session.get(Principal, principal_id)
        if principal is None:
            return False
        if principal.revoked_at is None:
            principal.revoked_at = utcnow()
            session.add(principal)
        return True
