"""Accounts: sign-up, login, sessions, profile, password change, deletion and export.

Every function takes its collaborators by keyword and only flushes: the caller's unit of work commits
once. Writes to the cache that must follow the data (denying revoked sessions) wait for that commit
(`after_commit`), so a failure half-way changes nothing anywhere. One message for "no such e-mail"
and "wrong password".
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from functools import cache

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from woorizip.auth import errors, refresh
from woorizip.auth.denylist import DenyList
from woorizip.auth.models import RefreshToken, User
from woorizip.auth.passwords import PasswordHasher, PasswordPolicyError
from woorizip.auth.schemas import AccountExport, Deleted, ExportedSession, Profile, Tokens
from woorizip.auth.tokens import AccessClaims, TokenService
from woorizip.db.transaction import after_commit
from woorizip.problems import ProblemError

RECOVERABLE_FOR = timedelta(days=30)
SESSION_CLAIM = "sid"  # the refresh chain an access token belongs to (set in issue_tokens): logout ends it


def _policy(error: PasswordPolicyError) -> ProblemError:
    return errors.WEAK_PASSWORD.error(str(error))


def _bad_credentials() -> ProblemError:
    return errors.INVALID_CREDENTIALS.error("e-mail or password is wrong")


def _utc(moment: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; every stored moment is UTC.
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)


def profile_of(user: User) -> Profile:
    return Profile(id=user.id, email=user.email, display_name=user.display_name, created_at=_utc(user.created_at))


def issue_tokens(
    *, session: Session, tokens: TokenService, user_id: str, chain: refresh.IssuedRefresh | None = None
) -> Tokens:
    issued = chain or refresh.start_chain(session=session, user_id=user_id)
    access = tokens.issue_access(subject=user_id, sid=issued.chain_id)
    return Tokens(
        access_token=access,
        expires_in=int(tokens.access_ttl.total_seconds()),
        refresh_token=issued.token,
        refresh_expires_at=issued.chain_expires_at,
    )


def sign_up(*, session: Session, hasher: PasswordHasher, email: str, password: str, display_name: str) -> User:
    try:
        password_hash = hasher.hash(password, email=email)
    except PasswordPolicyError as error:
        raise _policy(error) from None
    user = User(
        id=uuid.uuid4().hex, email=email.lower(), password_hash=password_hash, display_name=display_name,
        created_at=datetime.now(UTC), deleted_at=None,
    )  # fmt: skip
    session.add(user)
    try:
        session.flush()
    except IntegrityError:
        raise errors.EMAIL_TAKEN.error("an account with this e-mail exists") from None
    return user


def log_in(*, session: Session, hasher: PasswordHasher, email: str, password: str) -> User:
    user = session.scalars(select(User).where(User.email == email.lower())).one_or_none()
    if user is None or user.password_hash is None or user.deleted_at is not None:
        hasher.verify(password, _dummy_hash(hasher))  # same work either way: no timing hint the e-mail exists
        raise _bad_credentials()
    verification = hasher.verify(password, user.password_hash)
    if not verification.ok:
        raise _bad_credentials()
    if verification.new_hash:
        user.password_hash = verification.new_hash
        session.flush()
    return user


def rotate_session(*, session: Session, tokens: TokenService, deny_list: DenyList, refresh_token: str) -> Tokens:
    try:
        issued = refresh.rotate(session=session, token=refresh_token)
    except refresh.RefreshError as error:
        if error.revoked_chain:
            # A replayed refresh token means it leaked: the session ends, and that refusal is kept.
            chain = error.revoked_chain
            after_commit(session, lambda: deny_list.deny_sessions([chain]))
        raise errors.INVALID_REFRESH_TOKEN.error(error.reason, keep_changes=error.revoked_chain is not None) from None
    user = session.get(User, issued.user_id)
    if user is None or user.deleted_at is not None:
        raise errors.INVALID_REFRESH_TOKEN.error("the account is deleted")
    return issue_tokens(session=session, tokens=tokens, user_id=user.id, chain=issued)


def log_out(*, session: Session, deny_list: DenyList, claims: AccessClaims) -> None:
    chain = claims.extra.get(SESSION_CLAIM)
    if isinstance(chain, str):
        refresh.revoke_chain(session=session, chain_id=chain)
        # every access token of this session, not only the one shown
        after_commit(session, lambda: deny_list.deny_sessions([chain]))
    after_commit(session, lambda: deny_list.deny(claims))


def change_password(
    *, session: Session, hasher: PasswordHasher, tokens: TokenService, deny_list: DenyList, user: User,
    current_password: str, new_password: str,
) -> Tokens:  # fmt: skip
    """Every other session ends at once; the caller gets a fresh one."""
    if user.password_hash is None or not hasher.verify(current_password, user.password_hash).ok:
        raise errors.WRONG_PASSWORD.error("the current password is wrong")
    try:
        user.password_hash = hasher.hash(new_password, email=user.email)
    except PasswordPolicyError as error:
        raise _policy(error) from None
    session.flush()
    ended = refresh.revoke_user(session=session, user_id=user.id)
    after_commit(session, lambda: deny_list.deny_sessions(ended))
    return issue_tokens(session=session, tokens=tokens, user_id=user.id)


def delete_account(
    *, session: Session, hasher: PasswordHasher, deny_list: DenyList, user: User, password: str | None
) -> Deleted:
    """Soft-delete (recoverable for 30 days, then purged); every session ends at once."""
    if user.password_hash is not None and (password is None or not hasher.verify(password, user.password_hash).ok):
        raise errors.WRONG_PASSWORD.error("confirm the deletion with your password")
    now = datetime.now(UTC)
    user.deleted_at = now
    session.flush()
    ended = refresh.revoke_user(session=session, user_id=user.id)
    after_commit(session, lambda: deny_list.deny_sessions(ended))
    return Deleted(deleted_at=now, recoverable_until=now + RECOVERABLE_FOR)


def export_account(*, session: Session, user: User) -> AccountExport:
    """What the accounts domain holds about the account (Korean privacy law's access right)."""
    chains = session.scalars(select(RefreshToken).where(RefreshToken.user_id == user.id)).all()
    sessions = [
        ExportedSession(
            session=token.chain_id,
            issued_at=_utc(token.issued_at),
            used_at=_utc(token.used_at),
            revoked_at=_utc(token.revoked_at),
        )
        for token in chains
    ]
    return AccountExport(profile=profile_of(user), sessions=sessions)


@cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    """A hash of a random string by this hasher: verifying against it costs what a real check costs."""
    return hasher.hash(uuid.uuid4().hex + "-unused-password")
