"""`/v1/auth/social/{provider}` (app flow, web flow) and `/v1/me/identities` (list, link, unlink)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ConfigDict, Field

from woorizip.auth.dependencies import CurrentUser, DbSession, Limiter, Tokens
from woorizip.auth.schemas import Tokens as TokensOut
from woorizip.auth.social import service
from woorizip.auth.social.models import Identity
from woorizip.auth.social.providers import JwksCache, ProviderIdentity
from woorizip.auth.social.settings import SocialSettings, social_settings_of
from woorizip.cache.base import Cache
from woorizip.problems import ProblemError

router = APIRouter(tags=["social sign-in"])

Responses = dict[int | str, dict[str, Any]]
SIGN_IN_ERRORS: Responses = {
    401: {"description": "The ID token, access token or code was refused (detail names the failed check)"},
    404: {"description": "Unknown or disabled provider"},
    409: {"description": "link-required: an account already has this e-mail; sign in and link explicitly"},
    502: {"description": "The provider could not be reached"},
}
ME_ERRORS: Responses = {401: {"description": "Missing or invalid access token"}}

_SAFE_REDIRECT_MAX = 512


class SocialProof(BaseModel):
    """What the mobile SDK hands the app: an ID token with the nonce the app generated, or an access token."""

    model_config = ConfigDict(extra="forbid")

    id_token: Annotated[str | None, Field(min_length=10, max_length=8192)] = None
    nonce: Annotated[str | None, Field(min_length=8, max_length=256)] = None
    access_token: Annotated[str | None, Field(min_length=10, max_length=4096)] = None


class LinkProof(SocialProof):
    """As for sign-in, or the code and state the provider sent to the link page (web flow)."""

    code: Annotated[str | None, Field(min_length=1, max_length=4096)] = None
    state: Annotated[str | None, Field(min_length=1, max_length=256)] = None


class SocialSignIn(TokensOut):
    """Our Tokens, plus who signed in and whether the account was just created."""

    user_id: str
    new_account: bool
    redirect_after: str | None = None


class IdentityRead(BaseModel):
    provider: str
    subject: str
    email: str | None
    created_at: datetime


class AuthorizationUrl(BaseModel):
    authorization_url: str


def _settings(request: Request) -> SocialSettings:
    return social_settings_of(request)


def _jwks(request: Request) -> JwksCache:
    jwks = getattr(request.app.state, "social_jwks", None)
    if not isinstance(jwks, JwksCache):
        # One per process: keys outlive requests, and Kakao throttles frequent JWKS fetches.
        jwks = JwksCache()
        request.app.state.social_jwks = jwks
    return jwks


def _cache(request: Request) -> Cache:
    cache: Cache = request.app.state.backends.cache
    return cache


Settings = Annotated[SocialSettings, Depends(_settings)]
Jwks = Annotated[JwksCache, Depends(_jwks)]
StateCache = Annotated[Cache, Depends(_cache)]


def _identity_read(row: Identity) -> IdentityRead:
    return IdentityRead(
        provider=row.provider, subject=row.subject, email=row.email, created_at=service.identity_created_at(row)
    )


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
        raise ProblemError(status=400, slug="invalid-redirect", detail="redirect_after must be a path on this site")
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


async def _prove(provider: str, body: SocialProof, settings: SocialSettings, jwks: JwksCache) -> ProviderIdentity:
    service.require_provider(settings=settings, provider=provider)
    if (body.id_token is None) == (body.access_token is None):
        raise ProblemError(status=422, slug="validation-error", detail="send exactly one of id_token and access_token")
    if body.id_token is not None and not body.nonce:
        raise ProblemError(status=422, slug="validation-error", detail="an id_token needs the nonce it was issued for")
    return await run_in_threadpool(
        service.verify_proof, settings=settings, jwks=jwks, provider=provider, id_token=body.id_token,
        nonce=body.nonce, access_token=body.access_token,
    )  # fmt: skip


# ---- sign-in ------------------------------------------------------------------------------------------


@router.post("/v1/auth/social/{provider}", response_model=SocialSignIn, responses=SIGN_IN_ERRORS)
async def sign_in(
    provider: str, body: SocialProof, request: Request, session: DbSession, tokens: Tokens, settings: Settings,
    jwks: Jwks, limiter: Limiter,
) -> SocialSignIn:  # fmt: skip
    # Same budget as password logins: each attempt costs us a provider round trip.
    limiter.hit(limiter.limits.login_ip, "social-ip", limiter.client_ip(request))
    identity = await _prove(provider, body, settings, jwks)
    result = await run_in_threadpool(
        service.sign_in, session=session, tokens=tokens, settings=settings, identity=identity
    )
    return _signed_in(result)


@router.get(
    "/v1/auth/social/{provider}/authorize", status_code=302, response_class=RedirectResponse,
    responses={302: {"description": "To the provider's sign-in page"}, 400: {}, 404: {}},
)  # fmt: skip
async def authorize(
    provider: str,
    request: Request,
    settings: Settings,
    cache: StateCache,
    redirect_after: Annotated[str | None, Query(max_length=_SAFE_REDIRECT_MAX)] = None,
) -> RedirectResponse:
    service.require_provider(settings=settings, provider=provider)
    url = await run_in_threadpool(
        service.start_authorization, cache=cache, settings=settings, provider=provider,
        redirect_uri=_callback_uri(request, settings, provider), redirect_after=_safe_redirect(redirect_after),
    )  # fmt: skip
    return RedirectResponse(url, status_code=302)


CALLBACK = "/v1/auth/social/{provider}/callback"
CALLBACK_RESPONSES: dict[int | str, dict[str, Any]] = {400: {"description": "Missing or unknown state"}}
CALLBACK_RESPONSES.update(SIGN_IN_ERRORS)


# One handler, two operations (Apple answers with a form POST): distinct operation ids keep the OpenAPI valid.
@router.get(CALLBACK, name="social_callback", operation_id="social_callback", response_model=SocialSignIn,
            responses=CALLBACK_RESPONSES)  # fmt: skip
@router.post(CALLBACK, name="social_callback_form_post", operation_id="social_callback_form_post",
             response_model=SocialSignIn, responses=CALLBACK_RESPONSES)  # fmt: skip
async def callback(
    provider: str, request: Request, session: DbSession, tokens: Tokens, settings: Settings, jwks: Jwks,
    cache: StateCache, limiter: Limiter,
) -> SocialSignIn:  # fmt: skip
    limiter.hit(limiter.limits.login_ip, "social-ip", limiter.client_ip(request))
    service.require_provider(settings=settings, provider=provider)
    params = dict(request.query_params)
    if request.method == "POST":
        # Apple's response_mode=form_post; parsed by hand, so no multipart dependency for one form.
        params.update(parse_qsl((await request.body()).decode("utf-8", errors="replace"), keep_blank_values=True))
    grant, pending = await run_in_threadpool(
        service.finish_authorization, cache=cache, settings=settings, jwks=jwks, provider=provider,
        state=params.get("state"), code=params.get("code"), error=params.get("error"),
    )  # fmt: skip
    identity = grant.identity
    if provider == "apple" and identity.display_name is None:
        identity = replace(identity, display_name=_apple_first_login_name(params.get("user")))
    result = await run_in_threadpool(
        service.sign_in, session=session, tokens=tokens, settings=settings, identity=identity,
        refresh_token=grant.refresh_token,
    )  # fmt: skip
    return _signed_in(result, pending.redirect_after)


# ---- identities of the signed-in user -----------------------------------------------------------------


@router.get("/v1/me/identities", response_model=list[IdentityRead], responses=ME_ERRORS)
async def list_identities(user: CurrentUser, session: DbSession) -> list[IdentityRead]:
    rows = await run_in_threadpool(service.list_identities, session=session, user_id=user.id)
    return [_identity_read(row) for row in rows]


@router.post(
    "/v1/me/identities/{provider}", status_code=201, response_model=IdentityRead,
    responses={**ME_ERRORS, 404: {}, 409: {"description": "Linked to another account, or another one is linked"}},
)  # fmt: skip
async def link(
    provider: str, body: LinkProof, user: CurrentUser, session: DbSession, settings: Settings, jwks: Jwks,
    cache: StateCache,
) -> IdentityRead:  # fmt: skip
    if body.code is not None or body.state is not None:
        service.require_provider(settings=settings, provider=provider)
        if body.code is None or body.state is None or body.id_token is not None or body.access_token is not None:
            raise ProblemError(status=422, slug="validation-error", detail="send code with state, and nothing else")
        row = await run_in_threadpool(
            service.link_with_code, session=session, cache=cache, settings=settings, jwks=jwks, user=user,
            provider=provider, code=body.code, state=body.state,
        )  # fmt: skip
        return _identity_read(row)
    proof = SocialProof(id_token=body.id_token, nonce=body.nonce, access_token=body.access_token)
    identity = await _prove(provider, proof, settings, jwks)
    row = await run_in_threadpool(
        service.link_identity, session=session, settings=settings, user=user, identity=identity
    )
    return _identity_read(row)


@router.get("/v1/me/identities/{provider}/authorize", response_model=AuthorizationUrl, responses={**ME_ERRORS, 404: {}})
async def authorize_link(
    provider: str,
    request: Request,
    user: CurrentUser,
    settings: Settings,
    cache: StateCache,
    redirect_after: Annotated[str | None, Query(max_length=_SAFE_REDIRECT_MAX)] = None,
) -> AuthorizationUrl:
    """The web flow for linking: the provider returns to the link page, which posts code and state back to us."""
    service.require_provider(settings=settings, provider=provider)
    link_page = settings.provider(provider).link_redirect_uri
    if not link_page:
        raise ProblemError(status=404, slug="unknown-provider", detail=f"linking {provider} from the web is not set up")
    url = await run_in_threadpool(
        service.start_authorization, cache=cache, settings=settings, provider=provider, redirect_uri=link_page,
        redirect_after=_safe_redirect(redirect_after), link_user_id=user.id,
    )  # fmt: skip
    return AuthorizationUrl(authorization_url=url)


@router.delete(
    "/v1/me/identities/{provider}", status_code=204, response_class=Response,
    responses={**ME_ERRORS, 404: {}, 409: {"description": "The last way to sign in"}},
)  # fmt: skip
async def unlink(provider: str, user: CurrentUser, session: DbSession) -> Response:
    await run_in_threadpool(service.unlink_identity, session=session, user=user, provider=provider)
    return Response(status_code=204)
