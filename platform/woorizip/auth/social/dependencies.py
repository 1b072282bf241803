"""Dependencies of social sign-in: its settings, the per-process JWKS cache and the state cache."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from woorizip.auth.social.providers import JwksCache
from woorizip.cache.base import Cache
from woorizip.settings import SocialSettings


def social_settings_of(request: Request) -> SocialSettings:
    """The instance tests put on `app.state.social_settings`, else the app settings' `social`."""
    preset = getattr(request.app.state, "social_settings", None)
    if isinstance(preset, SocialSettings):
        return preset
    settings: SocialSettings = request.app.state.settings.social
    return settings


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


Settings = Annotated[SocialSettings, Depends(social_settings_of)]
Jwks = Annotated[JwksCache, Depends(_jwks)]
StateCache = Annotated[Cache, Depends(_cache)]
