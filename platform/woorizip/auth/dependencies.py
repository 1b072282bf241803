"""FastAPI dependencies of the accounts domain: the token service, the deny-list, `CurrentUser`.

`CurrentUser` is the one place a bearer token becomes a user: signature, type, issuer, audience,
expiry, the deny-list, and an account that still exists. Any failure is 401 problem+json with
`WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750). It is declared as the `bearerAuth`
security scheme, so generated clients send the token and `/docs` has an Authorize button.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from woorizip.auth.denylist import DenyList
from woorizip.auth.limits import RateLimiter
from woorizip.auth.models import User
from woorizip.auth.passwords import PasswordHasher
from woorizip.auth.tokens import AccessClaims, InvalidToken, TokenService
from woorizip.dependencies import DbSession, app_state
from woorizip.problems import UNAUTHORIZED, ProblemError, raises

Tokens = Annotated[TokenService, Depends(app_state("tokens"))]
Deny = Annotated[DenyList, Depends(app_state("deny_list"))]
Hasher = Annotated[PasswordHasher, Depends(app_state("hasher"))]
Limiter = Annotated[RateLimiter, Depends(app_state("limiter"))]

# auto_error off: a missing token is our own 401 problem, not FastAPI's 403.
bearer = HTTPBearer(scheme_name="bearerAuth", bearerFormat="JWT", auto_error=False,
                    description="An access token from sign-up, login, refresh or social sign-in")  # fmt: skip


def _unauthorized(detail: str) -> ProblemError:
    return UNAUTHORIZED.error(detail, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


@raises(UNAUTHORIZED)
def access_claims(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)], tokens: Tokens, deny_list: Deny
) -> AccessClaims:
    if credentials is None or not credentials.credentials.strip():
        raise UNAUTHORIZED.error(
            "sign in: send Authorization: Bearer <access token>", headers={"WWW-Authenticate": "Bearer"}
        )
    try:
        claims = tokens.verify_access(credentials.credentials.strip())
    except InvalidToken as error:
        raise _unauthorized(f"access token refused: {error.reason}") from None
    if deny_list.is_denied(claims):
        raise _unauthorized("access token revoked: sign in again")
    return claims


Claims = Annotated[AccessClaims, Depends(access_claims)]


@raises(UNAUTHORIZED)
def current_user(claims: Claims, session: DbSession) -> User:
    user = session.get(User, claims.subject)
    if user is None or user.deleted_at is not None:
        raise _unauthorized("the account no longer exists")
    return user


CurrentUser = Annotated[User, Depends(current_user)]
