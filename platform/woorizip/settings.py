"""One typed settings object for the whole installation (env prefix `WOORIZIP_`, `.env`)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from woorizip.auth.social.settings import SocialSettings

DEVELOPMENT_SECRET = "dev-only-secret-change-me"


class Settings(BaseSettings):
    """Every setting with its default; an unset URL means the embedded default for that concern."""

    model_config = SettingsConfigDict(
        env_prefix="WOORIZIP_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Field(default=Path("var"), description="where every embedded backend keeps its files")

    # relational: SQLite file under data_dir unless a URL is given (postgresql+psycopg://...)
    database_url: str | None = None
    # content: a local SecantusDB (MongoDB wire) server under data_dir unless a URL is given
    mongo_url: str | None = None
    mongo_database: str = "woorizip"
    # cache, deny-list, rate limits: in-process unless a Redis URL is given
    redis_url: str | None = None
    # job queue (huey): SQLite file under data_dir unless a Redis URL is given
    queue_url: str | None = None
    # media: local directory under data_dir unless a bucket is given
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None
    s3_region: str = "ap-northeast-2"
    # model registry and tracking: SQLite under data_dir, artifacts under models/, unless a URL is given
    mlflow_tracking_uri: str | None = None
    models_dir: Path = Path("models")
    # pipelines: snapshots go to the object store's `snapshots/` prefix too when a bucket is set
    dask_address: str | None = Field(default=None, description="Dask scheduler for batch scoring (tcp://host:8786)")
    schedule_timezone: str = "Asia/Seoul"
    retrain_cron: str = "0 3 * * *"
    batch_score_cron: str = "0 4 * * *"
    batch_chunk_families: int = Field(default=500, ge=1)
    promotion_metric: Literal["snips_completion", "ndcg_at_10"] = "snips_completion"
    promotion_margin: float = Field(default=0.005, ge=0, description="what a challenger must gain over the champion")
    # serving
    model_refresh_seconds: float = Field(default=30.0, gt=0, description="how often the api checks the champion alias")
    recommender_refresh_seconds: float = Field(default=300.0, gt=0, description="how often it re-reads the history")
    recommender_epsilon: float = Field(default=0.05, ge=0, le=1, description="exploration rate of served questions")

    # accounts: access tokens signed by the first key file (all verify); unset → one generated key under data_dir/keys
    auth_key_files: list[Path] = Field(default_factory=list)
    auth_issuer: str = "https://api.woorizip.app"
    auth_audience: str = "woorizip-app"
    # client IP from X-Forwarded-For only when the peer is one of these (addresses or CIDR networks)
    trusted_proxies: list[str] = Field(default_factory=list)
    limit_signup_per_ip: str = "20/hour"
    limit_login_per_ip: str = "60/minute"
    limit_login_per_account: str = "20/minute"
    limit_failed_logins_per_account: str = "100/hour"
    limit_refresh_per_ip: str = "120/minute"
    # Kakao, Naver, Google, Apple: endpoints, client registrations, keys (env WOORIZIP_SOCIAL_<PROVIDER>__<FIELD>)
    social: SocialSettings = Field(default_factory=SocialSettings)

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    cors_origins: list[str] = Field(default_factory=list)
    max_body_bytes: int = Field(default=1_048_576, ge=1024, description="requests above get 413")
    secret_key: SecretStr = SecretStr(DEVELOPMENT_SECRET)
    # the recommender's support routes want `X-Internal-Token: <this>` when set (required in production)
    internal_api_token: SecretStr | None = None
    log_level: str = "INFO"
    log_json: bool = True
    backend_timeout_seconds: float = Field(default=2.0, gt=0, description="readiness probe timeout")

    @model_validator(mode="after")
    def _no_default_secret_in_production(self) -> Settings:
        if self.environment == "production" and self.secret_key.get_secret_value() == DEVELOPMENT_SECRET:
            raise ValueError("WOORIZIP_SECRET_KEY must be set in production")
        if self.environment == "production" and self.internal_api_token is None:
            raise ValueError("WOORIZIP_INTERNAL_API_TOKEN must be set in production")
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
    def prefect_home(self) -> Path:
        return self.data_dir / "prefect"

    @property
    def mlflow_artifacts_dir(self) -> Path:
        return self.models_dir / "mlruns"

    @property
    def resolved_mlflow_tracking_uri(self) -> str:
        return self.mlflow_tracking_uri or f"sqlite:///{(self.data_dir / 'mlflow.db').resolve()}"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()
