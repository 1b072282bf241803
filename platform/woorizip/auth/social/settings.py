"""Settings of social sign-in: `Settings.social` of the one settings object, with its own env prefix.

Environment variables use the prefix `WOORIZIP_SOCIAL_` and `__` for nesting, e.g.
`WOORIZIP_SOCIAL_KAKAO__CLIENT_ID`, `WOORIZIP_SOCIAL_APPLE__PRIVATE_KEY`.
"""

from __future__ import annotations

from typing import Literal

from fastapi import Request
from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

ProviderName = Literal["google", "apple", "kakao", "naver"]
PROVIDER_NAMES: tuple[ProviderName, ...] = ("google", "apple", "kakao", "naver")


class ProviderSettings(BaseModel):
    """One provider: its endpoints, our client registration there, and which ID-token audiences we accept."""

    client_id: str = ""  # empty: the provider is switched off
    client_secret: SecretStr | None = None
    # The mobile apps' client ids (Google iOS/Android ids, Apple bundle id, Kakao native app key): ID tokens
    # minted for them carry that audience, not the web client id.
    app_client_ids: list[str] = Field(default_factory=list)
    issuers: list[str] = Field(default_factory=list)  # empty for Naver, which issues no ID tokens
    authorize_url: str = ""
    token_url: str = ""
    jwks_url: str | None = None
    userinfo_url: str | None = None
    revoke_url: str | None = None
    scope: str = "openid"
    token_auth_method: Literal["client_secret_post", "client_secret_basic"] = "client_secret_post"
    # Our callback as registered at the provider; unset derives it from the request (fine without a proxy).
    redirect_uri: str | None = None
    # Where the provider sends the code when a signed-in user links this provider from the web: a page of
    # ours that posts code and state, with the user's bearer token, to /v1/me/identities/{provider}.
    link_redirect_uri: str | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.client_id)

    @property
    def audiences(self) -> list[str]:
        return [self.client_id, *self.app_client_ids] if self.client_id else list(self.app_client_ids)


# Each provider is its own class with the real endpoints as defaults, so an environment variable for one
# field (WOORIZIP_SOCIAL_KAKAO__CLIENT_ID) merges with them instead of replacing the whole provider.


class GoogleSettings(ProviderSettings):
    issuers: list[str] = Field(default_factory=lambda: ["https://accounts.google.com", "accounts.google.com"])
    authorize_url: str = "https://accounts.google.com/o/oauth2/v2/auth"
    token_url: str = "https://oauth2.googleapis.com/token"
    jwks_url: str | None = "https://www.googleapis.com/oauth2/v3/certs"
    userinfo_url: str | None = "https://openidconnect.googleapis.com/v1/userinfo"
    revoke_url: str | None = "https://oauth2.googleapis.com/revoke"
    scope: str = "openid email profile"
    token_auth_method: Literal["client_secret_post", "client_secret_basic"] = "client_secret_basic"


class AppleSettings(ProviderSettings):
    """Apple has no static client secret: we sign a short ES256 JWT with the team's key for each request."""

    issuers: list[str] = Field(default_factory=lambda: ["https://appleid.apple.com"])
    authorize_url: str = "https://appleid.apple.com/auth/authorize"
    token_url: str = "https://appleid.apple.com/auth/token"
    jwks_url: str | None = "https://appleid.apple.com/auth/keys"
    revoke_url: str | None = "https://appleid.apple.com/auth/revoke"
    scope: str = "openid email name"
    team_id: str = ""
    key_id: str = ""
    private_key: SecretStr | None = None  # the .p8 PEM


class KakaoSettings(ProviderSettings):
    issuers: list[str] = Field(default_factory=lambda: ["https://kauth.kakao.com"])
    authorize_url: str = "https://kauth.kakao.com/oauth/authorize"
    token_url: str = "https://kauth.kakao.com/oauth/token"
    jwks_url: str | None = "https://kauth.kakao.com/.well-known/jwks.json"
    userinfo_url: str | None = "https://kapi.kakao.com/v2/user/me"
    revoke_url: str | None = "https://kapi.kakao.com/v1/user/unlink"
    scope: str = "openid profile_nickname account_email"
    # The admin key unlinks a user without their access token, which is all we have at account deletion.
    admin_key: SecretStr | None = None


class NaverSettings(ProviderSettings):
    authorize_url: str = "https://nid.naver.com/oauth2.0/authorize"
    token_url: str = "https://nid.naver.com/oauth2.0/token"
    userinfo_url: str | None = "https://openapi.naver.com/v1/nid/me"
    revoke_url: str | None = "https://nid.naver.com/oauth2.0/token"
    scope: str = ""


class SocialSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WOORIZIP_SOCIAL_", env_nested_delimiter="__", extra="ignore")

    google: GoogleSettings = Field(default_factory=GoogleSettings)
    apple: AppleSettings = Field(default_factory=AppleSettings)
    kakao: KakaoSettings = Field(default_factory=KakaoSettings)
    naver: NaverSettings = Field(default_factory=NaverSettings)
    # Kakao blocks clients that fetch its JWKS too often: keep keys an hour, and refetch for an unknown
    # kid at most once per cooldown so forged kids cannot make us hammer the provider.
    jwks_ttl_seconds: float = 3600.0
    jwks_refetch_cooldown_seconds: float = 30.0
    clock_leeway_seconds: int = 60
    state_ttl_seconds: int = 600
    http_timeout_seconds: float = 5.0
    # Fernet key (urlsafe base64, 32 bytes) for the provider refresh tokens we keep only to revoke them at
    # account deletion (Apple requires it); unset: they are not stored.
    grant_encryption_key: SecretStr | None = None

    def provider(self, name: str) -> ProviderSettings:
        return {"google": self.google, "apple": self.apple, "kakao": self.kakao, "naver": self.naver}[name]


def social_settings_of(request: Request) -> SocialSettings:
    """The instance tests put on `app.state.social_settings`, else the app settings' `social`."""
    preset = getattr(request.app.state, "social_settings", None)
    if isinstance(preset, SocialSettings):
        return preset
    settings: SocialSettings = request.app.state.settings.social
    return settings
