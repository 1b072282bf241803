"""Social sign-in: prove a provider account, then find, create or link our account by (provider, subject).

Accounts are never merged by e-mail: a first sign-in whose verified e-mail already belongs to an account is
refused with `link-required`, and linking happens only from a signed-in session. Every failure is a
ProblemError; functions take their collaborators by keyword and only flush (the caller commits).
"""

from __future__ import annotations

import json
import logging
import secrets
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from woorizip.auth.models import User
from woorizip.auth.schemas import Tokens
from woorizip.auth.service import issue_tokens
from woorizip.auth.social import errors, providers
from woorizip.auth.social.models import Identity
from woorizip.auth.social.providers import CodeGrant, JwksCache, ProviderIdentity
from woorizip.auth.tokens import TokenService
from woorizip.cache.base import Cache
from woorizip.problems import VALIDATION_ERROR, ProblemError
from woorizip.settings import SocialSettings

logger = logging.getLogger(__name__)

DEFAULT_DISPLAY_NAME = "우리집 가족"
_STATE_PREFIX = "social:state:"


def _utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; every stored moment is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def require_provider(*, settings: SocialSettings, provider: str) -> None:
    try:
        enabled = settings.provider(provider).enabled
    except KeyError:
        enabled = False
    if not enabled:
        raise errors.UNKNOWN_PROVIDER.error(f"sign-in with {provider!r} is not offered")


def _unavailable(provider: str, error: Exception) -> ProblemError:
    logger.warning("identity provider unavailable", extra={"provider": provider, "error": str(error)})
    return errors.PROVIDER_UNAVAILABLE.error(f"{provider} could not be reached; try again")


# ---- proofs -----------------------------------------------------------------------------------------


def verify_proof(
    *,
    settings: SocialSettings,
    jwks: JwksCache,
    provider: str,
    id_token: str | None,
    nonce: str | None,
    access_token: str | None,
) -> ProviderIdentity:
    """An ID token (with the nonce the app generated) or, for Kakao and Naver, an access token."""
    try:
        if id_token is not None:
            return providers.verify_id_token(
                provider=provider, settings=settings, jwks=jwks, id_token=id_token, nonce=nonce or ""
            )
        if access_token is not None:
            return providers.fetch_profile(provider=provider, settings=settings, access_token=access_token)
    except providers.InvalidIdToken as error:
        raise errors.INVALID_ID_TOKEN.error(error.reason) from None
    except providers.InvalidAccessToken as error:
        raise errors.INVALID_ACCESS_TOKEN.error(error.reason) from None
    except providers.ProviderUnavailable as error:
        raise _unavailable(provider, error) from None
    raise VALIDATION_ERROR.error("send id_token (with nonce) or access_token")


# ---- accounts -----------------------------------------------------------------------------------------


def _seal(settings: SocialSettings, provider: str, token: str | None) -> str | None:
    # Only where revocation needs it (Apple): every stored provider token is one more thing to leak.
    if token is None or settings.grant_encryption_key is None or provider not in providers.REVOKED_BY_REFRESH_TOKEN:
        return None
    return Fernet(settings.grant_encryption_key.get_secret_value().encode()).encrypt(token.encode()).decode()


def _unseal(settings: SocialSettings, sealed: str | None) -> str | None:
    if sealed is None or settings.grant_encryption_key is None:
        return None
    try:
        return Fernet(settings.grant_encryption_key.get_secret_value().encode()).decrypt(sealed.encode()).decode()
    except InvalidToken:
        logger.warning("a stored provider grant could not be decrypted (was the key rotated?)")
        return None


def _find_identity(session: Session, identity: ProviderIdentity) -> Identity | None:
    query = select(Identity).where(Identity.provider == identity.provider, Identity.subject == identity.subject)
    return session.scalars(query).one_or_none()


def _new_identity(*, user_id: str, identity: ProviderIdentity, grant: str | None) -> Identity:
    return Identity(
        id=uuid.uuid4().hex, user_id=user_id, provider=identity.provider, subject=identity.subject,
        email=identity.email, grant_token=grant, created_at=datetime.now(UTC),
    )  # fmt: skip


@dataclass(frozen=True)
class SignedIn:
    user: User
    tokens: Tokens
    new_account: bool


def sign_in(
    *,
    session: Session,
    tokens: TokenService,
    settings: SocialSettings,
    identity: ProviderIdentity,
    refresh_token: str | None = None,
) -> SignedIn:
    """The account this provider account is linked to, or a new one if its e-mail is nobody's yet."""
    user, created = _account_for(session=session, settings=settings, identity=identity, refresh_token=refresh_token)
    issued = issue_tokens(session=session, tokens=tokens, user_id=user.id)
    return SignedIn(user=user, tokens=issued, new_account=created)


def _account_for(
    *, session: Session, settings: SocialSettings, identity: ProviderIdentity, refresh_token: str | None
) -> tuple[User, bool]:
    for _attempt in range(2):
        linked = _find_identity(session, identity)
        if linked is not None:
            user = session.get(User, linked.user_id)
            if user is None or user.deleted_at is not None:
                raise errors.ACCOUNT_DELETED.error("the linked account is deleted")
            sealed = _seal(settings, identity.provider, refresh_token)
            if sealed is not None:
                linked.grant_token = sealed
                session.flush()
            return user, False
        email = identity.trusted_email
        if email is not None and session.scalars(select(User.id).where(User.email == email)).first() is not None:
            raise errors.LINK_REQUIRED.error(
                "an account has this e-mail: sign in to it, then link this provider under /v1/me/identities"
            )
        user = User(
            id=uuid.uuid4().hex, email=email, password_hash=None,
            display_name=(identity.display_name or DEFAULT_DISPLAY_NAME).strip()[:64] or DEFAULT_DISPLAY_NAME,
            created_at=datetime.now(UTC), deleted_at=None,
        )  # fmt: skip
        try:
            with session.begin_nested():
                session.add(user)
                session.flush()  # the user row first: the identity's foreign key points at it
                session.add(
                    _new_identity(
                        user_id=user.id, identity=identity, grant=_seal(settings, identity.provider, refresh_token)
                    )
                )
        except IntegrityError:
            # A concurrent first sign-in of the same provider account won; the next pass finds its link.
            continue
        return user, True
    raise errors.SIGN_IN_CONFLICT.error("the account is being created by another request")


def link_identity(
    *,
    session: Session,
    settings: SocialSettings,
    user: User,
    identity: ProviderIdentity,
    refresh_token: str | None = None,
) -> Identity:
    """Attach a proven provider account to a signed-in user (idempotent for the same account)."""
    existing = _find_identity(session, identity)
    if existing is not None:
        if existing.user_id == user.id:
            return existing
        raise errors.IDENTITY_TAKEN.error("this provider account is linked to another account")
    if _user_identity(session, user_id=user.id, provider=identity.provider) is not None:
        raise errors.PROVIDER_ALREADY_LINKED.error(f"another {identity.provider} account is linked: unlink it first")
    row = _new_identity(user_id=user.id, identity=identity, grant=_seal(settings, identity.provider, refresh_token))
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        raise errors.IDENTITY_TAKEN.error("this provider account is linked to another account") from None
    return row


def _user_identity(session: Session, *, user_id: str, provider: str) -> Identity | None:
    query = select(Identity).where(Identity.user_id == user_id, Identity.provider == provider)
    return session.scalars(query).one_or_none()


def list_identities(*, session: Session, user_id: str) -> list[Identity]:
    query = select(Identity).where(Identity.user_id == user_id).order_by(Identity.created_at, Identity.provider)
    return list(session.scalars(query))


def unlink_identity(*, session: Session, user: User, provider: str) -> None:
    """Remove a link, unless it is the account's last way to sign in."""
    row = _user_identity(session, user_id=user.id, provider=provider)
    if row is None:
        raise errors.IDENTITY_NOT_FOUND.error(f"no {provider} account is linked")
    others = session.scalar(
        select(func.count()).select_from(Identity).where(Identity.user_id == user.id, Identity.id != row.id)
    )
    if user.password_hash is None and not others:
        raise errors.LAST_SIGN_IN_METHOD.error(
            "this is the only way to sign in: set a password or link another provider first"
        )
    session.delete(row)
    session.flush()


def revoke_provider_grants(*, session: Session, user_id: str, settings: SocialSettings) -> list[str]:
    """Revoke our app's grants at the providers (Apple /auth/revoke, Kakao unlink) for a user being deleted.

    Returns the providers revoked. A provider that fails is logged and skipped, keeping its stored grant so
    a later purge can retry: deletion must not hang on a provider outage.
    """
    revoked: list[str] = []
    for row in list_identities(session=session, user_id=user_id):
        try:
            done = providers.revoke_grant(
                provider=row.provider, settings=settings, subject=row.subject,
                refresh_token=_unseal(settings, row.grant_token),
            )  # fmt: skip
        except providers.ProviderUnavailable as error:
            logger.warning("revoking a provider grant failed", extra={"provider": row.provider, "error": str(error)})
            continue
        if done:
            row.grant_token = None
            revoked.append(row.provider)
    session.flush()
    return revoked


# ---- the web flow (authorization code + PKCE) ---------------------------------------------------------


@dataclass(frozen=True)
class PendingAuthorization:
    """What the callback needs and only the server may know: kept in the cache under the state."""

    provider: str
    code_verifier: str
    nonce: str
    redirect_uri: str
    redirect_after: str | None
    link_user_id: str | None = None


def start_authorization(
    *,
    cache: Cache,
    settings: SocialSettings,
    provider: str,
    redirect_uri: str,
    redirect_after: str | None,
    link_user_id: str | None = None,
) -> str:
    """A provider authorize URL; state, nonce and PKCE verifier stay server-side for a short while."""
    state = secrets.token_urlsafe(32)
    pending = PendingAuthorization(
        provider=provider, code_verifier=secrets.token_urlsafe(48), nonce=secrets.token_urlsafe(24),
        redirect_uri=redirect_uri, redirect_after=redirect_after, link_user_id=link_user_id,
    )  # fmt: skip
    cache.set(_STATE_PREFIX + state, json.dumps(asdict(pending)).encode(), ttl_seconds=settings.state_ttl_seconds)
    return providers.authorization_url(
        provider=provider, settings=settings, redirect_uri=redirect_uri, state=state, nonce=pending.nonce,
        code_verifier=pending.code_verifier,
    )  # fmt: skip


def _invalid_state(detail: str) -> ProblemError:
    return errors.INVALID_STATE.error(detail)


def _take_pending(*, cache: Cache, settings: SocialSettings, provider: str, state: str | None) -> PendingAuthorization:
    if not state:
        raise _invalid_state("the state parameter is missing")
    key = _STATE_PREFIX + state
    raw = cache.get(key)
    if raw is None:
        raise _invalid_state("unknown or expired state: start the sign-in again")
    # incr is atomic on every cache backend: of two callbacks racing with one state, only the first wins.
    if cache.incr(key + ":spent", ttl_seconds=settings.state_ttl_seconds) != 1:
        raise _invalid_state("this sign-in was already completed: start again")
    cache.delete(key)
    try:
        pending = PendingAuthorization(**json.loads(raw))
    except (TypeError, ValueError):
        raise _invalid_state("unreadable state") from None
    if pending.provider != provider:
        raise _invalid_state("the state belongs to another provider")
    return pending


def link_with_code(
    *,
    session: Session,
    cache: Cache,
    settings: SocialSettings,
    jwks: JwksCache,
    user: User,
    provider: str,
    code: str,
    state: str,
) -> Identity:
    """The web flow's link: the state must have been started by this same user.

    Binding the state to the user stops link CSRF: an attacker who starts a link and lures a victim through
    the provider cannot attach the victim's provider account to the attacker's account.
    """
    pending = _take_pending(cache=cache, settings=settings, provider=provider, state=state)
    if pending.link_user_id is None or not secrets.compare_digest(pending.link_user_id, user.id):
        raise _invalid_state("this state was not started by you for linking")
    grant = _exchange(provider=provider, settings=settings, jwks=jwks, pending=pending, code=code)
    return link_identity(
        session=session, settings=settings, user=user, identity=grant.identity, refresh_token=grant.refresh_token
    )


def finish_authorization(
    *,
    cache: Cache,
    settings: SocialSettings,
    jwks: JwksCache,
    provider: str,
    state: str | None,
    code: str | None,
    error: str | None,
) -> tuple[CodeGrant, PendingAuthorization]:
    """Check the state (single use), exchange the code with the stored verifier, verify the nonce."""
    pending = _take_pending(cache=cache, settings=settings, provider=provider, state=state)
    if pending.link_user_id is not None:
        raise _invalid_state("a linking state cannot sign in")
    if error or not code:
        raise errors.PROVIDER_DENIED.error(f"{provider} did not authorize the sign-in: {error or 'no code'}")
    return _exchange(provider=provider, settings=settings, jwks=jwks, pending=pending, code=code), pending


def _exchange(
    *, provider: str, settings: SocialSettings, jwks: JwksCache, pending: PendingAuthorization, code: str
) -> CodeGrant:
    try:
        grant = providers.exchange_code(
            provider=provider, settings=settings, jwks=jwks, redirect_uri=pending.redirect_uri, code=code,
            code_verifier=pending.code_verifier, nonce=pending.nonce,
        )  # fmt: skip
    except providers.InvalidIdToken as failure:
        raise errors.INVALID_ID_TOKEN.error(failure.reason) from None
    except providers.GrantRefused as failure:
        raise errors.INVALID_GRANT.error(f"{provider} refused the code: {failure}") from None
    except providers.ProviderUnavailable as failure:
        raise _unavailable(provider, failure) from None
    return grant


def identity_created_at(row: Identity) -> datetime:
    return _utc(row.created_at)
