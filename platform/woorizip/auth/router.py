"""`/v1/auth` (sign-up, login, refresh, logout) and `/v1/me` (profile, password, deletion).

Routes are plain `def`: FastAPI runs them in its thread pool, so password hashing, the rate limiter's
Redis round trips and the database never block the event loop.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from woorizip.auth import errors, service
from woorizip.auth.dependencies import Claims, CurrentUser, Deny, Hasher, Limiter, Tokens
from woorizip.auth.schemas import (
    AccountDeletion,
    Deleted,
    Login,
    PasswordChange,
    Profile,
    ProfileUpdate,
    RefreshRequest,
    SignedUp,
    SignUp,
)
from woorizip.auth.schemas import Tokens as TokensOut
from woorizip.auth.social.dependencies import social_settings_of
from woorizip.auth.social.service import revoke_provider_grants
from woorizip.dependencies import DbSession
from woorizip.openapi import ContractRoute, problems
from woorizip.problems import TOO_MANY_REQUESTS, ProblemError

auth_router = APIRouter(prefix="/v1/auth", tags=["accounts"], route_class=ContractRoute)
me_router = APIRouter(prefix="/v1/me", tags=["accounts"], route_class=ContractRoute)


@auth_router.post(
    "/signup", status_code=201, response_model=SignedUp,
    responses=problems(errors.EMAIL_TAKEN, errors.WEAK_PASSWORD, TOO_MANY_REQUESTS),
)  # fmt: skip
def sign_up(body: SignUp, request: Request, session: DbSession, hasher: Hasher, tokens: Tokens,
            limiter: Limiter) -> SignedUp:  # fmt: skip
    """Create an account with e-mail and password; signed in at once."""
    limiter.hit(limiter.limits.signup_ip, "signup-ip", limiter.client_ip(request))
    user = service.sign_up(
        session=session, hasher=hasher, email=body.email, password=body.password, display_name=body.display_name
    )
    return SignedUp(user=service.profile_of(user), tokens=service.issue_tokens(session=session, tokens=tokens,
                                                                             user_id=user.id))  # fmt: skip


@auth_router.post(
    "/login", response_model=TokensOut, responses=problems(errors.INVALID_CREDENTIALS, TOO_MANY_REQUESTS)
)
def log_in(body: Login, request: Request, session: DbSession, hasher: Hasher, tokens: Tokens,
           limiter: Limiter) -> TokensOut:  # fmt: skip
    """Sign in with e-mail and password."""
    account = body.email.lower()
    limiter.hit(limiter.limits.login_ip, "login-ip", limiter.client_ip(request))
    limiter.hit(limiter.limits.login_account, "login-account", account)
    limiter.check(limiter.limits.failed_login_account, "failed-login", account)
    try:
        user = service.log_in(session=session, hasher=hasher, email=body.email, password=body.password)
    except ProblemError as error:
        if error.problem is errors.INVALID_CREDENTIALS:
            limiter.hit(limiter.limits.failed_login_account, "failed-login", account)
        raise
    return service.issue_tokens(session=session, tokens=tokens, user_id=user.id)


@auth_router.post(
    "/refresh", response_model=TokensOut, responses=problems(errors.INVALID_REFRESH_TOKEN, TOO_MANY_REQUESTS)
)
def refresh_tokens(body: RefreshRequest, request: Request, session: DbSession, tokens: Tokens, deny_list: Deny,
                   limiter: Limiter) -> TokensOut:  # fmt: skip
    """A new access token and the next refresh token of the session; the one sent is spent."""
    limiter.hit(limiter.limits.refresh_ip, "refresh-ip", limiter.client_ip(request))
    return service.rotate_session(session=session, tokens=tokens, deny_list=deny_list, refresh_token=body.refresh_token)


@auth_router.post("/logout", status_code=204)
def log_out(claims: Claims, session: DbSession, deny_list: Deny) -> None:
    """End this session everywhere at once."""
    service.log_out(session=session, deny_list=deny_list, claims=claims)


@me_router.get("", response_model=Profile)
def get_my_profile(user: CurrentUser) -> Profile:
    """My account's profile."""
    return service.profile_of(user)


@me_router.patch("", response_model=Profile)
def update_my_profile(body: ProfileUpdate, user: CurrentUser, session: DbSession) -> Profile:
    """Change my display name."""
    user.display_name = body.display_name
    session.flush()
    return service.profile_of(user)


@me_router.post("/password", response_model=TokensOut, responses=problems(errors.WRONG_PASSWORD, errors.WEAK_PASSWORD))
def change_password(body: PasswordChange, user: CurrentUser, session: DbSession, hasher: Hasher, tokens: Tokens,
                    deny_list: Deny) -> TokensOut:  # fmt: skip
    """Change my password; every other session ends at once and this one continues with new tokens."""
    return service.change_password(
        session=session, hasher=hasher, tokens=tokens, deny_list=deny_list, user=user,
        current_password=body.current_password, new_password=body.new_password,
    )  # fmt: skip


@me_router.post("/deletion", response_model=Deleted, status_code=202, responses=problems(errors.WRONG_PASSWORD))
def delete_account(body: AccountDeletion, request: Request, user: CurrentUser, session: DbSession, hasher: Hasher,
                   deny_list: Deny) -> Deleted:  # fmt: skip
    """Delete my account (recoverable for 30 days); every session ends at once."""
    deleted = service.delete_account(
        session=session, hasher=hasher, deny_list=deny_list, user=user, password=body.password
    )
    # Apple requires revoking its grant when the account goes; Kakao is unlinked. A provider that is
    # down is logged and retried at purge: deletion itself never waits on it.
    revoke_provider_grants(session=session, user_id=user.id, settings=social_settings_of(request))
    return deleted
