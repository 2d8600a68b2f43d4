"""Staff accounts (back office, legal helpdesk), their sessions and the sign-in throttle.

- Passwords are hashed with argon2id (``argon2-cffi``'s defaults); a hash made with older
  parameters is upgraded at the next good sign-in.
- A session id is 32 random bytes, sent to the browser in a signed cookie (``api.web.auth``)
  and stored only as its SHA-256, with its CSRF token, when it was last used and when it ends
  whatever happens (absolute expiry); an idle session ends ``idle`` after its last use.
- Failed sign-ins are rows, counted per username and per address over ``THROTTLE_WINDOW``: past
  ``MAX_FAILURES_PER_ACCOUNT`` (or ``MAX_FAILURES_PER_ADDRESS``) further tries are refused
  until the oldest counted failure leaves the window, without checking the password.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete
from sqlmodel import Session, col, select

from store.db import as_utc
from store.models import SignInFailure, StaffAccount, StaffSession

STAFF_ROLES = ("back_office", "legal")
THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20  # an office behind one address has several people
LAST_SEEN_STEP = timedelta(seconds=60)  # a session's last use is written at most this often

_hasher = PasswordHasher()  # argon2id


class StaffError(ValueError):
    """A staff account operation that cannot be done; the message says why."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_password() -> str:
    return secrets.token_urlsafe(15)


def _check_password(password: str) -> None:
    if len(password) < 12:
        raise StaffError("a password needs at least 12 characters")
    if len(password) > 200:
        raise StaffError("a password has at most 200 characters")


# -- accounts ------------------------------------------------------------------------------
def create_account(
    session: Session, username: str, role: str, display_name: str = "", password: str = ""
) -> tuple[StaffAccount, str]:
    """A new account and its password (generated unless given), to be shown once."""
    username = username.strip().lower()
    if role not in STAFF_ROLES:
        raise StaffError(f"a staff role is one of: {', '.join(STAFF_ROLES)}")
    if (
        not username
        or len(username) > 80
        or not username.replace(".", "").replace("-", "").replace("_", "").isalnum()
    ):
        raise StaffError("a username is 1-80 letters, digits, '.', '-' or '_'")
    if find_account(session, username) is not None:
        raise StaffError(f"there is already an account {username!r}")
    password = password or new_password()
    _check_password(password)
    account = StaffAccount(
        id=f"staff-{uuid.uuid4().hex[:12]}",
        username=username,
        display_name=display_name.strip() or username,
        role=role,
        password_hash=hash_password(password),
    )
    session.add(account)
    return account, password


def find_account(session: Session, username: str) -> StaffAccount | None:
    return session.exec(
        select(StaffAccount).where(StaffAccount.username == username.strip().lower())
    ).first()


def list_accounts(session: Session) -> list[StaffAccount]:
    return list(session.exec(select(StaffAccount).order_by(col(StaffAccount.username))))


def disable_account(session: Session, username: str) -> StaffAccount:
    """Disable an account and end its sessions at once."""
    account = _existing(session, username)
    account.disabled = True
    session.add(account)
    session.exec(delete(StaffSession).where(col(StaffSession.account_id) == account.id))  # type: ignore[call-overload]
    return account


def reset_password(session: Session, username: str, password: str = "") -> str:
    """A new password (generated unless given); every session of the account ends."""
    account = _existing(session, username)
    password = password or new_password()
    _check_password(password)
    account.password_hash = hash_password(password)
    session.add(account)
    session.exec(delete(StaffSession).where(col(StaffSession.account_id) == account.id))  # type: ignore[call-overload]
    return password


def _existing(session: Session, username: str) -> StaffAccount:
    account = find_account(session, username)
    if account is None:
        raise StaffError(f"no account {username!r} (see `dihflow users list`)")
    return account


# -- signing in ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Throttled:
    """Too many failed sign-ins: refuse for ``retry_after`` seconds."""

    retry_after: int


def throttled(session: Session, username: str, address: str, now: datetime) -> Throttled | None:
    since = now - THROTTLE_WINDOW
    waits = []
    for column, value, limit in (
        (SignInFailure.username, username.strip().lower(), MAX_FAILURES_PER_ACCOUNT),
        (SignInFailure.address, address, MAX_FAILURES_PER_ADDRESS),
    ):
        times = session.exec(
            select(SignInFailure.at)
            .where(column == value, col(SignInFailure.at) > since)
            .order_by(col(SignInFailure.at).desc())
            .limit(limit)
        ).all()
        if len(times) >= limit:
            oldest = as_utc(times[-1])
            assert oldest is not None
            waits.append(int((oldest + THROTTLE_WINDOW - now).total_seconds()) + 1)
    return Throttled(max(waits)) if waits else None


def record_failure(session: Session, username: str, address: str, now: datetime) -> None:
    session.add(SignInFailure(username=username.strip().lower()[:80], address=address, at=now))
    # failures older than the window count for nothing: drop them as new ones come
    session.exec(delete(SignInFailure).where(col(SignInFailure.at) < now - THROTTLE_WINDOW))  # type: ignore[call-overload]


def authenticate_staff(
    session: Session, username: str, password: str, address: str, now: datetime
) -> StaffAccount | Throttled | None:
    """The account for a good username and password (never a disabled one), a ``Throttled``
    while too many tries failed, or None (the failure is counted)."""
    wait = throttled(session, username, address, now)
    if wait is not None:
        return wait
    account = find_account(session, username)
    if account is None:
        password_matches(_DUMMY_HASH, password)  # the same work: no timing hint of who exists
    elif not account.disabled and password_matches(account.password_hash, password):
        if _hasher.check_needs_rehash(account.password_hash):
            account.password_hash = hash_password(password)
        account.last_sign_in_at = now
        session.add(account)
        session.exec(
            delete(SignInFailure).where(col(SignInFailure.username) == account.username)  # type: ignore[call-overload]
        )
        return account
    record_failure(session, username, address, now)
    return None


_DUMMY_HASH = hash_password(secrets.token_hex(16))


# -- sessions ------------------------------------------------------------------------------
def _id_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def open_session(
    session: Session, account: StaffAccount, now: datetime, lifetime: timedelta
) -> tuple[str, StaffSession]:
    """A new session for ``account``: its id (for the cookie, returned once) and its row."""
    session_id = secrets.token_urlsafe(32)
    row = StaffSession(
        id_hash=_id_hash(session_id),
        account_id=account.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
        expires_at=now + lifetime,
    )
    session.add(row)
    return session_id, row


def live_session(
    session: Session, session_id: str, now: datetime, idle: timedelta
) -> tuple[StaffSession, StaffAccount] | None:
    """The session and its account while both are good; an ended session is deleted. One
    query (a join) on the way of every page."""
    found = session.exec(
        select(StaffSession, StaffAccount)
        .join(StaffAccount, col(StaffAccount.id) == col(StaffSession.account_id), isouter=True)
        .where(col(StaffSession.id_hash) == _id_hash(session_id))
    ).first()
    if found is None:
        return None
    row, account = found
    last_seen, expires = as_utc(row.last_seen_at), as_utc(row.expires_at)
    assert last_seen is not None and expires is not None
    if account is None or account.disabled or now >= expires or now - last_seen >= idle:
        session.delete(row)
        return None
    if now - last_seen >= LAST_SEEN_STEP:
        row.last_seen_at = now
        session.add(row)
    return row, account


def close_session(session: Session, session_id: str) -> None:
    session.exec(delete(StaffSession).where(col(StaffSession.id_hash) == _id_hash(session_id)))  # type: ignore[call-overload]


def drop_ended_sessions(session: Session, now: datetime) -> None:
    """Delete sessions past their absolute expiry (an idle one also goes when next shown)."""
    session.exec(delete(StaffSession).where(col(StaffSession.expires_at) <= now))  # type: ignore[call-overload]
