"""`/v1/auth/social/{provider}` (app flow, web flow) and `/v1/me/identities` (list, link, unlink).

Routes are plain `def`: provider round trips and database work run in FastAPI's thread pool.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse

from woorizip.auth.dependencies import CurrentUser, Limiter, Tokens
from woorizip.auth.social import errors, service
from woorizip.auth.social.dependencies import Jwks, Settings, StateCache
from woorizip.auth.social.models import Identity
from woorizip.auth.social.providers import JwksCache, ProviderIdentity
from woorizip.auth.social.schemas import (
    AuthorizationUrl,
    IdentityList,
    IdentityRead,
    LinkProof,
    Provider,
    SocialProof,
    SocialSignIn,
)
from woorizip.dependencies import DbSession
from woorizip.openapi import ContractRoute, problems
from woorizip.problems import TOO_MANY_REQUESTS, VALIDATION_ERROR
from woorizip.settings import SocialSettings

router = APIRouter(tags=["social sign-in"], route_class=ContractRoute)

_SAFE_REDIRECT_MAX = 512
_PROOF_ERRORS = (errors.UNKNOWN_PROVIDER, errors.INVALID_ID_TOKEN, errors.INVALID_ACCESS_TOKEN,
                 errors.PROVIDER_UNAVAILABLE)  # fmt: skip
SIGN_IN_ERRORS = problems(*_PROOF_ERRORS, errors.ACCOUNT_DELETED, errors.LINK_REQUIRED, errors.SIGN_IN_CONFLICT,
                          TOO_MANY_REQUESTS)  # fmt: skip


def _identity_read(row: Identity) -> IdentityRead:
    return IdentityRead(
        provider=Provider(row.provider), subject=row.subject, email=row.email,
        created_at=service.identity_created_at(row),
    )  # fmt: skip


def _signed_in(result: service.SignedIn, redirect_after: str | None = None) -> SocialSignIn:
    return SocialSignIn(
        **result.tokens.model_dump(), user_id=result.user.id, new_account=result.new_account,
        redirect_after=redirect_after,
    )  # fmt: skip


def _safe_redirect(value: str | None) -> str | None:
    """Only paths on our own site: anything else would make sign-in an open redirector."""
    if value is None:
        return None
    if (
        len(value) > _SAFE_REDIRECT_MAX
        or not value.startswith("/")
        or value.startswith("//")
        or "\\" in value
        or any(ord(ch) < 0x20 for ch in value)
    ):
        raise errors.INVALID_REDIRECT.error("redirect_after must be a path on this site")
    return value


def _apple_first_login_name(raw: str | None) -> str | None:
    """Apple sends the name once, unsigned, in the first form_post: good enough for a display name, never more."""
    if not raw:
        return None
    try:
        name = json.loads(raw).get("name") or {}
        first, last = (
            value if isinstance(value, str) else "" for value in (name.get("firstName"), name.get("lastName"))
        )
    except (ValueError, AttributeError):
        return None
    # Korean names are written family name first and without a space (김민지); others "First Last".
    hangul = all("\uac00" <= ch <= "\ud7a3" for ch in first + last)
    full = f"{last}{first}" if hangul else f"{first} {last}"
    return full.strip()[:64] or None


def _callback_uri(request: Request, settings: SocialSettings, provider: str) -> str:
    configured = settings.provider(provider).redirect_uri
    return configured or str(request.url_for("social_callback", provider=provider))


def _prove(provider: str, body: SocialProof, settings: SocialSettings, jwks: JwksCache) -> ProviderIdentity:
    service.require_provider(settings=settings, provider=provider)
    if (body.id_token is None) == (body.access_token is None):
        raise VALIDATION_ERROR.error("send exactly one of id_token and access_token")
    if body.id_token is not None and not body.nonce:
        raise VALIDATION_ERROR.error("an id_token needs the nonce it was issued for")
    return service.verify_proof(
        settings=settings, jwks=jwks, provider=provider, id_token=body.id_token, nonce=body.nonce,
        access_token=body.access_token,
    )  # fmt: skip


# ---- sign-in ------------------------------------------------------------------------------------------


@router.post("/v1/auth/social/{provider}", response_model=SocialSignIn, responses=SIGN_IN_ERRORS)
def sign_in_with_provider(
    provider: Provider, body: SocialProof, request: Request, session: DbSession, tokens: Tokens, settings: Settings,
    jwks: Jwks, limiter: Limiter,
) -> SocialSignIn:  # fmt: skip
    """App flow: sign in (or up) with the proof the provider's mobile SDK gave the app."""
    # Same budget as password logins: each attempt costs us a provider round trip.
    limiter.hit(limiter.limits.login_ip, "social-ip", limiter.client_ip(request))
    identity = _prove(provider.value, body, settings, jwks)
    return _signed_in(service.sign_in(session=session, tokens=tokens, settings=settings, identity=identity))


@router.get(
    "/v1/auth/social/{provider}/authorize", status_code=302, response_class=RedirectResponse,
    responses={302: {"description": "To the provider's sign-in page"},
               **problems(errors.UNKNOWN_PROVIDER, errors.INVALID_REDIRECT)},
)  # fmt: skip
def authorize_with_provider(
    provider: Provider,
    request: Request,
    settings: Settings,
    cache: StateCache,
    redirect_after: Annotated[str | None, Query(max_length=_SAFE_REDIRECT_MAX)] = None,
) -> RedirectResponse:
    """Web flow: redirect to the provider's sign-in page (authorization code with PKCE)."""
    service.require_provider(settings=settings, provider=provider.value)
    url = service.start_authorization(
        cache=cache, settings=settings, provider=provider.value,
        redirect_uri=_callback_uri(request, settings, provider.value), redirect_after=_safe_redirect(redirect_after),
    )  # fmt: skip
    return RedirectResponse(url, status_code=302)


CALLBACK = "/v1/auth/social/{provider}/callback"
CALLBACK_ERRORS = problems(
    *_PROOF_ERRORS, errors.INVALID_STATE, errors.PROVIDER_DENIED, errors.INVALID_GRANT, errors.ACCOUNT_DELETED,
    errors.LINK_REQUIRED, errors.SIGN_IN_CONFLICT, TOO_MANY_REQUESTS,
)  # fmt: skip


async def _callback_params(request: Request) -> dict[str, str]:
    params = dict(request.query_params)
    if request.method == "POST":
        # Apple's response_mode=form_post; parsed by hand, so no multipart dependency for one form.
        params.update(parse_qsl((await request.body()).decode("utf-8", errors="replace"), keep_blank_values=True))
    return params


# One handler, two operations (Apple answers with a form POST).
@router.get(CALLBACK, name="social_callback", response_model=SocialSignIn, responses=CALLBACK_ERRORS)
@router.post(CALLBACK, name="social_form_callback", response_model=SocialSignIn, responses=CALLBACK_ERRORS)
async def social_callback(
    provider: Provider, request: Request, session: DbSession, tokens: Tokens, settings: Settings, jwks: Jwks,
    cache: StateCache, limiter: Limiter,
) -> SocialSignIn:  # fmt: skip
    """Web flow: the provider sends the person back here with a code (Apple with a form POST)."""
    params = await _callback_params(request)
    return await run_in_threadpool(_finish_callback, provider.value, params, session, tokens, settings, jwks, cache,
                                   limiter, request)  # fmt: skip


def _finish_callback(
    provider: str, params: dict[str, str], session: DbSession, tokens: Tokens, settings: SocialSettings,
    jwks: JwksCache, cache: StateCache, limiter: Limiter, request: Request,
) -> SocialSignIn:  # fmt: skip
    limiter.hit(limiter.limits.login_ip, "social-ip", limiter.client_ip(request))
    service.require_provider(settings=settings, provider=provider)
    grant, pending = service.finish_authorization(
        cache=cache, settings=settings, jwks=jwks, provider=provider, state=params.get("state"),
        code=params.get("code"), error=params.get("error"),
    )  # fmt: skip
    identity = grant.identity
    if provider == "apple" and identity.display_name is None:
        identity = replace(identity, display_name=_apple_first_login_name(params.get("user")))
    result = service.sign_in(
        session=session, tokens=tokens, settings=settings, identity=identity, refresh_token=grant.refresh_token
    )
    return _signed_in(result, pending.redirect_after)


# ---- identities of the signed-in user -----------------------------------------------------------------


@router.get("/v1/me/identities", response_model=IdentityList)
def list_my_identities(user: CurrentUser, session: DbSession) -> IdentityList:
    """The provider accounts linked to mine."""
    rows = service.list_identities(session=session, user_id=user.id)
    return IdentityList(items=[_identity_read(row) for row in rows])


@router.post(
    "/v1/me/identities/{provider}", status_code=201, response_model=IdentityRead,
    responses=problems(*_PROOF_ERRORS, errors.INVALID_STATE, errors.INVALID_GRANT, errors.IDENTITY_TAKEN,
                       errors.PROVIDER_ALREADY_LINKED),
)  # fmt: skip
def link_identity(
    provider: Provider, body: LinkProof, user: CurrentUser, session: DbSession, settings: Settings, jwks: Jwks,
    cache: StateCache,
) -> IdentityRead:  # fmt: skip
    """Link a provider account to mine: its SDK's proof, or the web flow's code and state."""
    if body.code is not None or body.state is not None:
        service.require_provider(settings=settings, provider=provider.value)
        if body.code is None or body.state is None or body.id_token is not None or body.access_token is not None:
            raise VALIDATION_ERROR.error("send code with state, and nothing else")
        row = service.link_with_code(
            session=session, cache=cache, settings=settings, jwks=jwks, user=user, provider=provider.value,
            code=body.code, state=body.state,
        )  # fmt: skip
        return _identity_read(row)
    proof = SocialProof(id_token=body.id_token, nonce=body.nonce, access_token=body.access_token)
    identity = _prove(provider.value, proof, settings, jwks)
    return _identity_read(service.link_identity(session=session, settings=settings, user=user, identity=identity))


@router.get(
    "/v1/me/identities/{provider}/authorize", response_model=AuthorizationUrl,
    responses=problems(errors.UNKNOWN_PROVIDER, errors.INVALID_REDIRECT),
)  # fmt: skip
def authorize_link(
    provider: Provider,
    request: Request,
    user: CurrentUser,
    settings: Settings,
    cache: StateCache,
    redirect_after: Annotated[str | None, Query(max_length=_SAFE_REDIRECT_MAX)] = None,
) -> AuthorizationUrl:
    """The web flow for linking: the provider returns to the link page, which posts code and state back to us."""
    service.require_provider(settings=settings, provider=provider.value)
    link_page = settings.provider(provider.value).link_redirect_uri
    if not link_page:
        raise errors.UNKNOWN_PROVIDER.error(f"linking {provider.value} from the web is not set up")
    url = service.start_authorization(
        cache=cache, settings=settings, provider=provider.value, redirect_uri=link_page,
        redirect_after=_safe_redirect(redirect_after), link_user_id=user.id,
    )  # fmt: skip
    return AuthorizationUrl(authorization_url=url)


@router.delete(
    "/v1/me/identities/{provider}", status_code=204,
    responses=problems(errors.IDENTITY_NOT_FOUND, errors.LAST_SIGN_IN_METHOD),
)  # fmt: skip
def unlink_identity(provider: Provider, user: CurrentUser, session: DbSession) -> None:
    """Unlink a provider account (not the account's last way to sign in)."""
    service.unlink_identity(session=session, user=user, provider=provider.value)
