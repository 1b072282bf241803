"""One typed settings object: defaults, env prefix, .env, and no work at import time."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from pydantic import BaseModel, ValidationError

from woorizip.settings import (
    PROVIDER_NAMES,
    AppleSettings,
    GoogleSettings,
    KakaoSettings,
    NaverSettings,
    ProviderSettings,
    Settings,
    SocialSettings,
)


def test_defaults_are_the_embedded_installation() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.data_dir == Path("var")
    assert settings.resolved_database_url.startswith("sqlite:///")
    assert settings.resolved_database_url.endswith("var/woorizip.db")
    assert settings.mongo_url is None and settings.redis_url is None and settings.s3_bucket is None


def test_env_prefix_and_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("WOORIZIP_API_PORT=9001\nWOORIZIP_DATA_DIR=/srv/woorizip\n")
    monkeypatch.setenv("WOORIZIP_API_PORT", "9002")  # the environment wins over .env
    settings = Settings()
    assert settings.api_port == 9002
    assert settings.data_dir == Path("/srv/woorizip")


def _production(**overrides: Any) -> Settings:
    """A complete production configuration, with `overrides` taking items away."""
    values: dict[str, Any] = {
        "environment": "production",
        "auth_key_files": [Path("/etc/woorizip/keys/2026-01.pem")],
        "redis_url": "redis://cache.internal:6379/0",
        "social": SocialSettings(grant_encryption_key=Fernet.generate_key().decode()),
        "database_url": "postgresql+psycopg://woorizip@db.internal/woorizip",
        "internal_api_token": "support-token",
    }
    return Settings(_env_file=None, **(values | overrides))  # type: ignore[call-arg]


def test_a_complete_production_configuration_loads() -> None:
    settings = _production()
    assert settings.environment == "production" and settings.social.grant_encryption_key is not None


MISSING_IN_PRODUCTION: dict[str, dict[str, Any]] = {
    "WOORIZIP_AUTH_KEY_FILES": {"auth_key_files": []},
    "WOORIZIP_REDIS_URL": {"redis_url": None},
    "WOORIZIP_SOCIAL_GRANT_ENCRYPTION_KEY": {"social": SocialSettings(grant_encryption_key=None)},
    "WOORIZIP_DATABASE_URL": {"database_url": None},
    "WOORIZIP_INTERNAL_API_TOKEN": {"internal_api_token": None},
}


@pytest.mark.parametrize("variable", list(MISSING_IN_PRODUCTION))
def test_production_refuses_each_missing_item_by_name(variable: str) -> None:
    with pytest.raises(ValidationError) as refused:
        _production(**MISSING_IN_PRODUCTION[variable])
    message = str(refused.value)
    assert variable in message
    assert [other for other in MISSING_IN_PRODUCTION if other != variable and other in message] == []


@pytest.mark.parametrize("url", ["sqlite:////srv/woorizip/woorizip.db", "sqlite+pysqlite:///var/woorizip.db"])
def test_production_refuses_a_sqlite_database(url: str) -> None:
    with pytest.raises(ValidationError, match="WOORIZIP_DATABASE_URL, not SQLite"):
        _production(database_url=url)


def test_production_names_every_missing_item_at_once() -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None, environment="production", social=SocialSettings())  # type: ignore[call-arg]
    message = str(refused.value)
    assert [variable for variable in MISSING_IN_PRODUCTION if variable not in message] == []


def test_a_refusal_does_not_echo_secrets() -> None:
    with pytest.raises(ValidationError) as refused:
        _production(redis_url=None, internal_api_token="token-that-must-not-leak")
    assert "must-not-leak" not in str(refused.value)


def test_development_needs_none_of_it_and_there_is_no_secret_key() -> None:
    settings = Settings(_env_file=None, environment="development")  # type: ignore[call-arg]
    assert settings.auth_key_files == [] and settings.internal_api_token is None
    assert "secret_key" not in Settings.model_fields


def test_quotas_default_and_refuse_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (settings.max_families_per_user, settings.max_members_per_family) == (20, 16)
    assert settings.max_open_invitations_per_family == 20
    for name in ("max_families_per_user", "max_members_per_family", "max_open_invitations_per_family"):
        with monkeypatch.context() as env:
            env.setenv(f"WOORIZIP_{name.upper()}", "0")
            with pytest.raises(ValidationError, match=name):
                Settings(_env_file=None)  # type: ignore[call-arg]


def test_every_setting_is_described() -> None:
    models: list[type[BaseModel]] = [Settings, SocialSettings, ProviderSettings]
    fields = [(model, name, field) for model in models for name, field in model.model_fields.items()]
    # A provider's redefined field keeps ProviderSettings' description; its own fields need one.
    fields += [
        (provider, name, field)
        for provider in (GoogleSettings, AppleSettings, KakaoSettings, NaverSettings)
        for name, field in provider.model_fields.items()
        if name not in ProviderSettings.model_fields
    ]
    assert [f"{model.__name__}.{name}" for model, name, field in fields if not field.description] == []


def test_the_settings_layer_imports_no_domain_package() -> None:
    code = "import sys, woorizip.settings; print(sorted(m for m in sys.modules if m.startswith('woorizip')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == str(["woorizip", "woorizip.settings"])


def test_social_settings_live_in_the_settings_layer_only() -> None:
    from woorizip.auth.social import dependencies

    assert dependencies.social_settings_of.__module__ == "woorizip.auth.social.dependencies"
    assert not (Path(dependencies.__file__).parent / "settings.py").exists()
    assert PROVIDER_NAMES == ("google", "apple", "kakao", "naver")



def test_nothing_connects_at_import_or_app_creation(tmp_path: Path) -> None:
    # Unreachable backends everywhere: importing and building the app must still succeed at once.
    code = (
        "import os;"
        "os.environ.update(WOORIZIP_DATABASE_URL='postgresql+psycopg://nobody@127.0.0.1:1/x',"
        " WOORIZIP_MONGO_URL='mongodb://127.0.0.1:1', WOORIZIP_REDIS_URL='redis://127.0.0.1:1',"
        " WOORIZIP_QUEUE_URL='redis://127.0.0.1:1', WOORIZIP_S3_BUCKET='b', WOORIZIP_S3_ENDPOINT_URL='http://127.0.0.1:1');"
        "import woorizip.cli, woorizip.app, recsys;"
        "app = woorizip.app.create_app(); print('built', len(app.routes) > 0)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "built True"
    assert not (tmp_path / "var").exists()
