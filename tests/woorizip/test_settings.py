"""One typed settings object: defaults, env prefix, .env, and no work at import time."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from woorizip.settings import Settings


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


def test_production_refuses_the_development_secret() -> None:
    with pytest.raises(ValidationError, match="WOORIZIP_SECRET_KEY"):
        Settings(_env_file=None, environment="production")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="WOORIZIP_INTERNAL_API_TOKEN"):
        Settings(_env_file=None, environment="production", secret_key="a-real-secret")  # type: ignore[call-arg]
    Settings(  # type: ignore[call-arg]
        _env_file=None, environment="production", secret_key="a-real-secret", internal_api_token="support-token"
    )


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
