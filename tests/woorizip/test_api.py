"""The API shell over real HTTP: health, readiness, metrics, problem+json, middleware."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator

import httpx
import pytest
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from tests.woorizip.conftest import SettingsFactory
from tests.woorizip.live import serve
from woorizip.app import create_app
from woorizip.db import migrate
from woorizip.settings import Settings

PROBLEM = "application/problem+json"


class EchoIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    nickname: str = Field(max_length=20)
    age: int = Field(ge=0, le=130)


class EchoOut(BaseModel):
    nickname: str
    age: int


def _with_probe_routes(settings: Settings):  # type: ignore[no-untyped-def]
    """The real app plus two routes that exercise body validation and the unexpected-error path."""
    app = create_app(settings)
    router = APIRouter(prefix="/_probe")

    @router.post("/echo", response_model=EchoOut)
    async def echo(body: EchoIn) -> EchoOut:
        return EchoOut(**body.model_dump())

    @router.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internal detail")

    @router.get("/big")
    async def big() -> dict[str, str]:
        return {"text": "우리집" * 2000}

    app.include_router(router)
    return app


@pytest.fixture
def api(make_settings: SettingsFactory) -> Iterator[str]:
    settings = make_settings(cors_origins=["https://app.woorizip.kr"], max_body_bytes=4096)
    migrate.upgrade(url=settings.resolved_database_url)
    with serve(_with_probe_routes(settings)) as base:
        yield base


def test_healthz(api: str) -> None:
    response = httpx.get(f"{api}/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_readyz_names_every_backend_and_is_green_on_embedded_defaults(api: str) -> None:
    response = httpx.get(f"{api}/readyz", timeout=10)
    body = response.json()
    assert response.status_code == 200, body
    # Every backend answers; no model is registered in this data dir, so the heuristic serves.
    assert body["status"] == "degraded: no model"
    assert body["model"] == {"source": "heuristic", "version": None, "problem": "no champion registered"}
    backends = {item["concern"]: item["backend"] for item in body["backends"]}
    assert backends == {
        "database": "sqlite",
        "content": "mongodb",
        "cache": "memory",
        "queue": "sqlite",
        "object_store": "local",
    }


def test_readyz_is_503_when_a_backend_is_down(make_settings: SettingsFactory) -> None:
    settings = make_settings(redis_url="redis://127.0.0.1:1", backend_timeout_seconds=1.0)
    migrate.upgrade(url=settings.resolved_database_url)
    with serve(create_app(settings)) as base:
        response = httpx.get(f"{base}/readyz", timeout=10)
    assert response.status_code == 503
    cache = next(item for item in response.json()["backends"] if item["concern"] == "cache")
    assert cache == cache | {"backend": "redis", "ok": False}


def test_readyz_reports_a_schema_behind_head(make_settings: SettingsFactory) -> None:
    with serve(create_app(make_settings())) as base:
        response = httpx.get(f"{base}/readyz", timeout=10)
    database = next(item for item in response.json()["backends"] if item["concern"] == "database")
    assert response.status_code == 503
    assert "woorizip db upgrade" in database["detail"]


def test_metrics_are_prometheus_text(api: str) -> None:
    httpx.get(f"{api}/healthz")
    response = httpx.get(f"{api}/metrics")
    assert response.status_code == 200
    assert 'http_requests_total{handler="/healthz"' in response.text


def test_request_id_is_generated_and_propagated(api: str) -> None:
    generated = httpx.get(f"{api}/healthz").headers["x-request-id"]
    assert len(generated) == 32
    given = "0123456789abcdef0123456789abcdef"
    response = httpx.get(f"{api}/nope", headers={"X-Request-ID": given})
    assert response.headers["x-request-id"] == given
    assert response.json()["request_id"] == given


def test_404_is_problem_json(api: str) -> None:
    response = httpx.get(f"{api}/v1/does-not-exist")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"].endswith("/not-found") and body["status"] == 404 and body["instance"] == "/v1/does-not-exist"


def test_405_is_problem_json_with_allow(api: str) -> None:
    response = httpx.delete(f"{api}/healthz")
    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["allow"] == "GET, HEAD"


def test_unexpected_error_is_500_problem_without_internals(api: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("ERROR", logger="woorizip.problems"):
        response = httpx.get(f"{api}/_probe/boom")
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM
    assert "secret internal detail" not in response.text
    assert response.json()["request_id"]
    # The log says what failed and where, never the message: messages of database errors carry user input.
    [record] = [r for r in caplog.records if r.name == "woorizip.problems"]
    assert "RuntimeError" in record.getMessage() and record.exc_info is None
    assert "secret internal detail" not in record.getMessage() + str(record.__dict__)


@pytest.mark.parametrize(
    ("body", "status", "slug"),
    [
        ('{"nickname": "엄마", "age": '.encode(), 400, "malformed-json"),
        (b"\xff\xfe not json", 400, "malformed-json"),
        ('{"nickname": "엄마", "age": "forty"}'.encode(), 422, "validation-error"),
        ('{"nickname": "엄마", "age": 40, "role": "admin"}'.encode(), 422, "validation-error"),
        ('{"nickname": "엄마"}'.encode(), 422, "validation-error"),
        (b"[]", 422, "validation-error"),
    ],
)
def test_bad_bodies_get_documented_problems(api: str, body: bytes, status: int, slug: str) -> None:
    response = httpx.post(f"{api}/_probe/echo", content=body, headers={"content-type": "application/json"})
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"].endswith("/" + slug)


def test_unknown_field_is_named_in_the_problem(api: str) -> None:
    response = httpx.post(f"{api}/_probe/echo", json={"nickname": "아빠", "age": 45, "role": "admin"})
    errors = response.json()["errors"]
    assert {"loc": ["body", "role"], "type": "extra_forbidden"}.items() <= errors[0].items()


def test_valid_body_round_trips(api: str) -> None:
    response = httpx.post(f"{api}/_probe/echo", json={"nickname": "할머니", "age": 72})
    assert response.status_code == 200
    assert response.json() == {"nickname": "할머니", "age": 72}


def test_oversized_declared_body_is_413(api: str) -> None:
    response = httpx.post(f"{api}/_probe/echo", content=b"x" * 5000, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM


def test_oversized_streamed_body_is_413(api: str) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b" " * 1000

    response = httpx.post(f"{api}/_probe/echo", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["type"].endswith("/payload-too-large")


def test_security_headers(api: str) -> None:
    headers = httpx.get(f"{api}/healthz").headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert "default-src 'none'" in headers["content-security-policy"]


def test_gzip_for_large_responses(api: str) -> None:
    with httpx.stream("GET", f"{api}/_probe/big", headers={"accept-encoding": "gzip"}) as response:
        raw = b"".join(response.iter_raw())
    assert response.headers["content-encoding"] == "gzip"
    assert json.loads(gzip.decompress(raw))["text"].startswith("우리집")


def test_cors_allow_list(api: str) -> None:
    allowed = httpx.options(
        f"{api}/healthz", headers={"Origin": "https://app.woorizip.kr", "Access-Control-Request-Method": "GET"}
    )
    assert allowed.headers["access-control-allow-origin"] == "https://app.woorizip.kr"
    denied = httpx.get(f"{api}/healthz", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in denied.headers


def test_openapi_docs(api: str) -> None:
    assert httpx.get(f"{api}/docs").status_code == 200
    spec = httpx.get(f"{api}/openapi.json").json()
    assert "/readyz" in spec["paths"]
