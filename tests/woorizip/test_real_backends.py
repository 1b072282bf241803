"""The whole app on production-shaped backends: PostgreSQL, Redis (cache and queue), MongoDB wire, S3."""

from __future__ import annotations

import httpx

from tests.woorizip.conftest import SettingsFactory
from tests.woorizip.live import serve
from woorizip.app import create_app
from woorizip.db import migrate


def test_readyz_green_on_real_backends(
    make_settings: SettingsFactory, postgres_url: str, redis_url: str, s3_bucket: str, s3_endpoint: str
) -> None:
    settings = make_settings(
        database_url=postgres_url,
        redis_url=redis_url,
        queue_url=redis_url,
        s3_bucket=s3_bucket,
        s3_endpoint_url=s3_endpoint,
    )
    migrate.upgrade(url=settings.resolved_database_url)
    with serve(create_app(settings)) as base:
        response = httpx.get(f"{base}/readyz", timeout=10)
    body = response.json()
    assert response.status_code == 200, body
    assert {item["concern"]: item["backend"] for item in body["backends"]} == {
        "database": "postgresql",
        "content": "mongodb",
        "cache": "redis",
        "queue": "redis",
        "object_store": "s3",
    }
