"""One typed settings object for the whole installation (env prefix `WOORIZIP_`, `.env`).

This is the settings layer: it imports no domain package. Social sign-in has its own nested
settings (`Settings.social`, env prefix `WOORIZIP_SOCIAL_`, `__` for nesting, e.g.
`WOORIZIP_SOCIAL_KAKAO__CLIENT_ID`, `WOORIZIP_SOCIAL_APPLE__PRIVATE_KEY`).
`docs/settings.md` lists every setting; `python -m woorizip.settings_reference` regenerates it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ProviderName = Literal["google", "apple", "kakao", "naver"]
PROVIDER_NAMES: tuple[ProviderName, ...] = ("google", "apple", "kakao", "naver")


class ProviderSettings(BaseModel):
    """One provider: its endpoints, our client registration there, and which ID-token audiences we accept."""

    client_id: str = Field(default="", description="our (web) client id at the provider; empty switches it off")
    client_secret: SecretStr | None = Field(default=None, description="our client secret at the provider")
    app_client_ids: list[str] = Field(
        default_factory=list,
        description="the mobile apps' client ids (Google iOS/Android ids, Apple bundle id, Kakao native app key): "
        "ID tokens minted for them carry that audience, not the web client id",
    )
    issuers: list[str] = Field(
        default_factory=list, description="accepted ID-token issuers (none for Naver, which issues no ID tokens)"
    )
    authorize_url: str = Field(default="", description="the provider's authorization endpoint")
    token_url: str = Field(default="", description="the provider's token endpoint")
    jwks_url: str | None = Field(default=None, description="the provider's signing keys (JWKS) for ID tokens")
    userinfo_url: str | None = Field(default=None, description="the provider's user-info endpoint")
    revoke_url: str | None = Field(default=None, description="where we revoke the grant when an account is deleted")
    scope: str = Field(default="openid", description="the scopes we ask for")
    token_auth_method: Literal["client_secret_post", "client_secret_basic"] = Field(
        default="client_secret_post", description="how we authenticate at the token endpoint"
    )
    redirect_uri: str | None = Field(
        default=None,
        description="our callback as registered at the provider; unset derives it from the request "
        "(fine without a proxy)",
    )
    link_redirect_uri: str | None = Field(
        default=None,
        description="where the provider sends the code when a signed-in user links this provider from the web: "
        "a page of ours that posts code and state, with the user's bearer token, to /v1/me/identities/{provider}",
    )

    @property
    def enabled(self) -> bool:
        return bool(self.client_id)

    @property
    def audiences(self) -> list[str]:
        return [self.client_id, *self.app_client_ids] if self.client_id else list(self.app_client_ids)


# Each provider is its own class with the real endpoints as defaults, so an environment variable for one
# field (WOORIZIP_SOCIAL_KAKAO__CLIENT_ID) merges with them instead of replacing the whole provider.
# A redefined field keeps its description in ProviderSettings (the reference reads it from there).


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
    team_id: str = Field(default="", description="Apple only: the developer team id that signs the client secret")
    key_id: str = Field(default="", description="Apple only: the id of the Sign in with Apple key")
    private_key: SecretStr | None = Field(
        default=None, description="Apple only: that key's .p8 PEM, which signs a short ES256 client secret"
    )


class KakaoSettings(ProviderSettings):
    issuers: list[str] = Field(default_factory=lambda: ["https://kauth.kakao.com"])
    authorize_url: str = "https://kauth.kakao.com/oauth/authorize"
    token_url: str = "https://kauth.kakao.com/oauth/token"
    jwks_url: str | None = "https://kauth.kakao.com/.well-known/jwks.json"
    userinfo_url: str | None = "https://kapi.kakao.com/v2/user/me"
    revoke_url: str | None = "https://kapi.kakao.com/v1/user/unlink"
    scope: str = "openid profile_nickname account_email"
    admin_key: SecretStr | None = Field(
        default=None,
        description="Kakao only: the admin key unlinks a user without their access token, which is all we have "
        "at account deletion",
    )


class NaverSettings(ProviderSettings):
    authorize_url: str = "https://nid.naver.com/oauth2.0/authorize"
    token_url: str = "https://nid.naver.com/oauth2.0/token"
    userinfo_url: str | None = "https://openapi.naver.com/v1/nid/me"
    revoke_url: str | None = "https://nid.naver.com/oauth2.0/token"
    scope: str = ""


class SocialSettings(BaseSettings):
    """Social sign-in (Kakao, Naver, Google, Apple): `Settings.social`, read with its own env prefix."""

    model_config = SettingsConfigDict(
        env_prefix="WOORIZIP_SOCIAL_", env_nested_delimiter="__", extra="ignore", hide_input_in_errors=True
    )

    google: GoogleSettings = Field(default_factory=GoogleSettings, description="Google sign-in")
    apple: AppleSettings = Field(default_factory=AppleSettings, description="Sign in with Apple")
    kakao: KakaoSettings = Field(default_factory=KakaoSettings, description="Kakao login")
    naver: NaverSettings = Field(default_factory=NaverSettings, description="Naver login")
    jwks_ttl_seconds: float = Field(
        default=3600.0,
        description="how long a provider's signing keys are kept (Kakao blocks clients that fetch its JWKS too often)",
    )
    jwks_refetch_cooldown_seconds: float = Field(
        default=30.0,
        description="an unknown kid refetches the keys at most once per cooldown, so forged kids cannot make "
        "us hammer the provider",
    )
    clock_leeway_seconds: int = Field(default=60, description="clock skew tolerated on ID-token times")
    state_ttl_seconds: int = Field(default=600, description="how long a sign-in may take from redirect to callback")
    http_timeout_seconds: float = Field(default=5.0, description="timeout of each call to a provider")
    grant_encryption_key: SecretStr | None = Field(
        default=None,
        description="Fernet key (urlsafe base64, 32 bytes) for the provider refresh tokens we keep only to "
        "revoke them at account deletion (Apple requires it); unset: they are not stored (required in production)",
    )

    def provider(self, name: str) -> ProviderSettings:
        return {"google": self.google, "apple": self.apple, "kakao": self.kakao, "naver": self.naver}[name]


class Settings(BaseSettings):
    """Every setting with its default; an unset URL means the embedded default for that concern."""

    # A refusal must not echo the values it was given: they include secrets.
    model_config = SettingsConfigDict(
        env_prefix="WOORIZIP_", env_file=".env", env_file_encoding="utf-8", extra="ignore", hide_input_in_errors=True
    )

    environment: Literal["development", "test", "production"] = Field(
        default="development",
        description="production refuses to load without what a deployment of several replicas needs "
        "(PRODUCTION_REQUIREMENTS, below) and sends HSTS",
    )
    data_dir: Path = Field(default=Path("var"), description="where every embedded backend keeps its files")

    # storage and backing services
    database_url: str | None = Field(
        default=None,
        description="relational database (postgresql+psycopg://...); unset: a SQLite file under data_dir "
        "(a server required in production)",
    )
    mongo_url: str | None = Field(
        default=None,
        description="content store (MongoDB wire); unset: a local SecantusDB server under data_dir",
    )
    mongo_database: str = Field(default="woorizip", description="the database of the content store")
    redis_url: str | None = Field(
        default=None,
        description="cache, token deny-list and rate-limit counters; unset: in process memory (required in production)",
    )
    queue_url: str | None = Field(
        default=None, description="job queue (huey) on Redis; unset: a SQLite file under data_dir"
    )
    s3_bucket: str | None = Field(
        default=None,
        description="object store for media (and pipeline snapshots under `snapshots/`); unset: a local "
        "directory under data_dir",
    )
    s3_endpoint_url: str | None = Field(default=None, description="S3-compatible endpoint; unset: AWS S3 of s3_region")
    s3_region: str = Field(default="ap-northeast-2", description="region of the bucket")

    # model registry, tracking and pipelines
    mlflow_tracking_uri: str | None = Field(
        default=None,
        description="model registry and tracking; unset: SQLite under data_dir, artifacts under models_dir",
    )
    models_dir: Path = Field(
        default=Path("models"), description="MLflow artifacts (mlruns/) and the champion's card (CHAMPION.md)"
    )
    dask_address: str | None = Field(
        default=None,
        description="Dask scheduler for batch scoring, the training snapshot's export and training "
        "(tcp://host:8786; its workers write the snapshot's parts under data_dir, so they must see it); "
        "unset: in process",
    )
    schedule_timezone: str = Field(
        default="Asia/Seoul", description="time zone of the schedules and of the families' calendar day"
    )
    retrain_cron: str = Field(default="0 3 * * *", description="when `woorizip schedule` retrains (cron)")
    batch_score_cron: str = Field(
        default="0 4 * * *", description="when `woorizip schedule` precomputes tomorrow's questions (cron)"
    )
    batch_chunk_families: int = Field(default=500, ge=1, description="families per batch-scoring task")
    batch_workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="processes batch scoring uses on this machine when no Dask scheduler is set (one per core "
        "for the fastest run; 1: chunks run on threads of the flow's process)",
    )
    training_window_days: int = Field(
        default=90,
        ge=1,
        description="days of events the training snapshot of the live stores holds: the days before the "
        "snapshot day (the day in progress is left out)",
    )
    training_chunk_families: int = Field(
        default=500, ge=1, description="families per task of the training snapshot's export (its memory grows with it)"
    )
    promotion_metric: Literal["snips_completion", "ndcg_at_10"] = Field(
        default="snips_completion", description="the metric a challenger must improve to be promoted"
    )
    promotion_margin: float = Field(default=0.005, ge=0, description="what a challenger must gain over the champion")

    # serving the recommender
    model_refresh_seconds: float = Field(
        default=30.0, gt=0, description="how often the api checks the champion alias and the published global state"
    )
    recommender_epsilon: float = Field(default=0.05, ge=0, le=1, description="exploration rate of served questions")

    # accounts
    auth_key_files: list[Path] = Field(
        default_factory=list,
        description="PEM files of the access-token signing keys: the first signs, all verify (JSON list); "
        "unset: one generated key under data_dir/keys (required in production)",
    )
    auth_issuer: str = Field(default="https://api.woorizip.app", description="`iss` of the access tokens")
    auth_audience: str = Field(default="woorizip-app", description="`aud` of the access tokens")
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="addresses or CIDR networks whose X-Forwarded-For gives the client IP (JSON list)",
    )
    limit_signup_per_ip: str = Field(default="20/hour", description="sign-ups per client IP")
    limit_login_per_ip: str = Field(default="60/minute", description="logins per client IP")
    limit_login_per_account: str = Field(default="20/minute", description="logins per account")
    limit_failed_logins_per_account: str = Field(default="100/hour", description="failed logins per account")
    limit_refresh_per_ip: str = Field(default="120/minute", description="token refreshes per client IP")
    social: SocialSettings = Field(
        default_factory=SocialSettings,
        description="Kakao, Naver, Google, Apple: endpoints, client registrations, keys",
    )

    # quotas
    max_families_per_user: int = Field(default=20, ge=1, description="families one user may belong to")
    max_members_per_family: int = Field(default=16, ge=1, description="members of one family")
    max_open_invitations_per_family: int = Field(
        default=20, ge=1, description="invitations of one family not yet accepted, declined or expired"
    )

    # the api process
    api_host: str = Field(default="127.0.0.1", description="address `woorizip serve` binds")
    api_port: int = Field(default=8000, description="port `woorizip serve` listens on")
    cors_origins: list[str] = Field(
        default_factory=list, description="browser origins allowed by CORS (JSON list); empty: no CORS"
    )
    max_body_bytes: int = Field(default=1_048_576, ge=1024, description="requests above get 413")
    internal_api_token: SecretStr | None = Field(
        default=None,
        description="the recommender's support routes want `X-Internal-Token: <this>` when set "
        "(required in production)",
    )
    log_level: str = Field(default="INFO", description="log level of `woorizip serve` and `woorizip worker`")
    log_json: bool = Field(
        default=True,
        description="`woorizip serve` and `woorizip worker` log one JSON object per line; false: plain text "
        "(other commands always log plain text, warnings only unless -v)",
    )
    backend_timeout_seconds: float = Field(
        default=2.0,
        gt=0,
        description="timeout of the readiness probe and of the Redis, MongoDB and S3 clients",
    )

    @model_validator(mode="after")
    def _production_checklist(self) -> Settings:
        """Refuse a production configuration that would break with several replicas, naming every gap."""
        if self.environment != "production":
            return self
        missing = [requirement for requirement, holds in PRODUCTION_REQUIREMENTS if not holds(self)]
        if missing:
            raise ValueError("production needs: " + "; ".join(missing))
        return self

    @property
    def resolved_database_url(self) -> str:
        """The SQLAlchemy URL in use."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'woorizip.db').resolve()}"

    @property
    def content_dir(self) -> Path:
        return self.data_dir / "content"

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @property
    def queue_file(self) -> Path:
        return self.data_dir / "queue.db"

    @property
    def snapshots_dir(self) -> Path:
        return self.data_dir / "snapshots"

    @property
    def compiled_models_dir(self) -> Path:
        """Models compiled to native code for batch scoring, by content (a cache: safe to delete)."""
        return self.data_dir / "compiled-models"

    @property
    def prefect_home(self) -> Path:
        return self.data_dir / "prefect"

    @property
    def mlflow_artifacts_dir(self) -> Path:
        return self.models_dir / "mlruns"

    @property
    def resolved_mlflow_tracking_uri(self) -> str:
        return self.mlflow_tracking_uri or f"sqlite:///{(self.data_dir / 'mlflow.db').resolve()}"


def _is_sqlite(url: str) -> bool:
    """`sqlite://...` and `sqlite+driver://...`: the dialect is the part before `+` and `://`."""
    return url.split(":", 1)[0].split("+", 1)[0].strip().lower() == "sqlite"


# What `environment=production` requires, each with why; the validator names every one that fails.
PRODUCTION_REQUIREMENTS: tuple[tuple[str, Callable[[Settings], bool]], ...] = (
    (
        "WOORIZIP_AUTH_KEY_FILES (otherwise each replica generates its own signing key)",
        lambda s: bool(s.auth_key_files),
    ),
    (
        "WOORIZIP_REDIS_URL (otherwise the token deny-list and the rate limits are per process)",
        lambda s: bool(s.redis_url),
    ),
    (
        "WOORIZIP_SOCIAL_GRANT_ENCRYPTION_KEY (otherwise provider grants are not kept, so they cannot be "
        "revoked at account deletion)",
        lambda s: s.social.grant_encryption_key is not None,
    ),
    (
        "WOORIZIP_DATABASE_URL, not SQLite (otherwise each replica has its own database)",
        lambda s: bool(s.database_url) and not _is_sqlite(s.database_url or ""),
    ),
    (
        "WOORIZIP_INTERNAL_API_TOKEN (otherwise the recommender's support routes are open)",
        lambda s: s.internal_api_token is not None,
    ),
)


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()
