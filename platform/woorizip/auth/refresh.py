"""Refresh tokens that rotate on every use, with reuse detection and an absolute chain lifetime.

Each refresh returns a new opaque token and retires the old one; a chain is one login. Presenting
a retired token again means it leaked: the whole chain is revoked (OWASP ASVS 10.4.5, 10.4.8).
Retiring is a conditional UPDATE, so of two simultaneous refreshes with one token exactly one wins.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from woorizip.auth.models import RefreshToken

CHAIN_LIFETIME = timedelta(days=30)


class RefreshError(Exception):
    """The refresh token cannot be used; `reason` is safe to show and log."""

    def __init__(self, reason: str, *, revoked_chain: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.revoked_chain = revoked_chain  # set when this attempt ended a session (reuse detected)


@dataclass(frozen=True)
class IssuedRefresh:
    token: str  # give to the client once; only its hash is stored
    user_id: str
    chain_id: str
    chain_expires_at: datetime


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything here is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _store(
    session: Session, *, user_id: str, chain_id: str, chain_expires_at: datetime, now: datetime
) -> IssuedRefresh:
    token = secrets.token_urlsafe(32)
    session.add(
        RefreshToken(
            id=uuid.uuid4().hex,
            user_id=user_id,
            chain_id=chain_id,
            token_hash=_digest(token),
            issued_at=now,
            chain_expires_at=chain_expires_at,
        )
    )
    return IssuedRefresh(token=token, user_id=user_id, chain_id=chain_id, chain_expires_at=chain_expires_at)


def start_chain(*, session: Session, user_id: str, now: datetime | None = None) -> IssuedRefresh:
    """A new chain for a fresh login (flushed; the caller commits)."""
    now = now or datetime.now(UTC)
    issued = _store(session, user_id=user_id, chain_id=uuid.uuid4().hex, chain_expires_at=now + CHAIN_LIFETIME, now=now)
    session.flush()
    return issued


def rotate(*, session: Session, token: str, now: datetime | None = None) -> IssuedRefresh:
    """Exchange a refresh token for the next one of its chain (flushed). Raises RefreshError.

    A RefreshError with `revoked_chain` has revoked that chain: the caller commits that revocation.
    """
    now = now or datetime.now(UTC)
    current = session.scalars(select(RefreshToken).where(RefreshToken.token_hash == _digest(token))).one_or_none()
    if current is None:
        raise RefreshError("unknown refresh token")
    if current.revoked_at is not None:
        raise RefreshError("refresh token revoked")
    if now >= _aware(current.chain_expires_at):
        raise RefreshError("session expired: sign in again")
    if current.used_at is not None:
        revoke_chain(session=session, chain_id=current.chain_id, now=now)
        raise RefreshError("refresh token reused: the session is revoked", revoked_chain=current.chain_id)
    claimed = session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == current.id, RefreshToken.used_at.is_(None), RefreshToken.revoked_at.is_(None))
        .values(used_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        # Another request used it between our read and our write: the same reuse, seen concurrently.
        revoke_chain(session=session, chain_id=current.chain_id, now=now)
        raise RefreshError("refresh token reused: the session is revoked", revoked_chain=current.chain_id)
    issued = _store(
        session,
        user_id=current.user_id,
        chain_id=current.chain_id,
        chain_expires_at=_aware(current.chain_expires_at),
        now=now,
    )
    session.flush()
    return issued


def revoke_chain(*, session: Session, chain_id: str, now: datetime | None = None) -> int:
    """Revoke every token of one chain (logout, reuse); returns how many rows it marked."""
    return _revoke(session, RefreshToken.chain_id == chain_id, now=now)


def revoke_user(*, session: Session, user_id: str, now: datetime | None = None) -> list[str]:
    """Revoke every chain of a user (password change, account deletion); returns the chains it ended."""
    chains = session.scalars(
        select(RefreshToken.chain_id).where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
    ).all()
    _revoke(session, RefreshToken.user_id == user_id, now=now)
    return sorted(set(chains))


def _revoke(session: Session, selection: ColumnElement[bool], *, now: datetime | None) -> int:
    result = session.execute(
        update(RefreshToken)
        .where(selection, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now or datetime.now(UTC))
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
