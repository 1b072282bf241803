"""`/v1/auth` (sign-up, login, refresh, logout) and `/v1/me` (profile, password, deletion, export)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from woorizip.auth import service
from woorizip.auth.dependencies import Claims, CurrentUser, DbSession, Deny, Hasher, Limiter, Tokens
from woorizip.auth.schemas import (
    AccountDeletion,
    Deleted,
    Export,
    Login,
    PasswordChange,
    Profile,
    ProfileUpdate,
    RefreshRequest,
    SignedUp,
    SignUp,
)
from woorizip.auth.schemas import Tokens as TokensOut
from woorizip.auth.social.service import revoke_provider_grants
from woorizip.auth.social.settings import social_settings_of
from woorizip.problems import ProblemError

auth_router = APIRouter(prefix="/v1/auth", tags=["accounts"])
me_router = APIRouter(prefix="/v1/me", tags=["accounts"])

Responses = dict[int | str, dict[str, Any]]
UNAUTHORIZED: Responses = {401: {"description": "Missing, invalid, expired or revoked access token"}}
LIMITED: Responses = {429: {"description": "Too many attempts (Retry-After says when to try again)"}}


@auth_router.post("/signup", status_code=201, response_model=SignedUp, responses={409: {}, 422: {}, **LIMITED})
async def sign_up(
    body: SignUp, request: Request, session: DbSession, hasher: Hasher, tokens: Tokens, limiter: Limiter
) -> SignedUp:
    limiter.hit(limiter.limits.signup_ip, "signup-ip", limiter.client_ip(request))
    user = await run_in_threadpool(
        service.sign_up, session=session, hasher=hasher, email=body.email, password=body.password,
        display_name=body.display_name,
    )  # fmt: skip
    issued = await run_in_threadpool(service.issue_tokens, session=session, tokens=tokens, user_id=user.id)
    return SignedUp(user=service.profile_of(user), tokens=issued)


@auth_router.post("/login", response_model=TokensOut, responses={401: {}, **LIMITED})
async def log_in(
    body: Login, request: Request, session: DbSession, hasher: Hasher, tokens: Tokens, limiter: Limiter
) -> TokensOut:
    account = body.email.lower()
    limiter.hit(limiter.limits.login_ip, "login-ip", limiter.client_ip(request))
    limiter.hit(limiter.limits.login_account, "login-account", account)
    limiter.check(limiter.limits.failed_login_account, "failed-login", account)
    try:
        user = await run_in_threadpool(
            service.log_in, session=session, hasher=hasher, email=body.email, password=body.password
        )
    except ProblemError:
        limiter.hit(limiter.limits.failed_login_account, "failed-login", account)
        raise
    return await run_in_threadpool(service.issue_tokens, session=session, tokens=tokens, user_id=user.id)


@auth_router.post("/refresh", response_model=TokensOut, responses={401: {}, **LIMITED})
async def refresh(
    body: RefreshRequest, request: Request, session: DbSession, tokens: Tokens, deny_list: Deny, limiter: Limiter
) -> TokensOut:
    limiter.hit(limiter.limits.refresh_ip, "refresh-ip", limiter.client_ip(request))
    return await run_in_threadpool(
        service.rotate_session, session=session, tokens=tokens, deny_list=deny_list, refresh_token=body.refresh_token
    )


@auth_router.post("/logout", status_code=204, responses=UNAUTHORIZED)
async def log_out(claims: Claims, session: DbSession, deny_list: Deny) -> Response:
    await run_in_threadpool(service.log_out, session=session, deny_list=deny_list, claims=claims)
    return Response(status_code=204)


@me_router.get("", response_model=Profile, responses=UNAUTHORIZED)
async def read_profile(user: CurrentUser) -> Profile:
    return service.profile_of(user)


@me_router.patch("", response_model=Profile, responses=UNAUTHORIZED)
async def update_profile(body: ProfileUpdate, user: CurrentUser, session: DbSession) -> Profile:
    user.display_name = body.display_name
    await run_in_threadpool(session.commit)
    return service.profile_of(user)


@me_router.post("/password", response_model=TokensOut, responses={**UNAUTHORIZED, 403: {}, 422: {}})
async def change_password(
    body: PasswordChange, user: CurrentUser, session: DbSession, hasher: Hasher, tokens: Tokens, deny_list: Deny
) -> TokensOut:
    return await run_in_threadpool(
        service.change_password, session=session, hasher=hasher, tokens=tokens, deny_list=deny_list, user=user,
        current_password=body.current_password, new_password=body.new_password,
    )  # fmt: skip


@me_router.post("/deletion", response_model=Deleted, status_code=202, responses={**UNAUTHORIZED, 403: {}})
async def delete_account(
    body: AccountDeletion, request: Request, user: CurrentUser, session: DbSession, hasher: Hasher, deny_list: Deny
) -> Deleted:
    deleted = await run_in_threadpool(
        service.delete_account, session=session, hasher=hasher, deny_list=deny_list, user=user,
        password=body.password,
    )  # fmt: skip
    # Apple requires revoking its grant when the account goes; Kakao is unlinked. A provider that is
    # down is logged and retried at purge: deletion itself never waits on it.
    await run_in_threadpool(
        revoke_provider_grants, session=session, user_id=user.id, settings=social_settings_of(request)
    )
    return deleted


@me_router.get("/export", response_model=Export, responses=UNAUTHORIZED)
async def export(user: CurrentUser, session: DbSession) -> Export:
    return await run_in_threadpool(service.export_account, session=session, user=user)
