"""FastAPI dependencies of the accounts domain: the database session, the token service, `CurrentUser`.

`CurrentUser` is the one place a bearer token becomes a user: signature, type, issuer, audience,
expiry, the deny-list, and an account that still exists. Any failure is 401 problem+json with
`WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from woorizip.auth.denylist import DenyList
from woorizip.auth.limits import RateLimiter
from woorizip.auth.models import User
from woorizip.auth.passwords import PasswordHasher
from woorizip.auth.tokens import AccessClaims, InvalidToken, TokenService
from woorizip.problems import ProblemError
from woorizip.state import app_state


def get_session(request: Request) -> Iterator[Session]:
    session = request.app.state.backends.session_factory()
    try:
        yield session
    finally:
        session.close()


DbSession = Annotated[Session, Depends(get_session)]
Tokens = Annotated[TokenService, Depends(app_state("tokens"))]
Deny = Annotated[DenyList, Depends(app_state("deny_list"))]
Hasher = Annotated[PasswordHasher, Depends(app_state("hasher"))]
Limiter = Annotated[RateLimiter, Depends(app_state("limiter"))]


def _unauthorized(detail: str) -> ProblemError:
    return ProblemError(
        status=401, slug="unauthorized", detail=detail,
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )  # fmt: skip


async def access_claims(request: Request, tokens: Tokens, deny_list: Deny) -> AccessClaims:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ProblemError(
            status=401, slug="unauthorized", detail="sign in: send Authorization: Bearer <access token>",
            headers={"WWW-Authenticate": "Bearer"},
        )  # fmt: skip
    try:
        claims = tokens.verify_access(token.strip())
    except InvalidToken as error:
        raise _unauthorized(f"access token refused: {error.reason}") from None
    if await run_in_threadpool(deny_list.is_denied, claims):
        raise _unauthorized("access token revoked: sign in again")
    return claims


Claims = Annotated[AccessClaims, Depends(access_claims)]


def current_user(claims: Claims, session: DbSession) -> User:
    user = session.get(User, claims.subject)
    if user is None or user.deleted_at is not None:
        raise _unauthorized("the account no longer exists")
    return user


CurrentUser = Annotated[User, Depends(current_user)]
