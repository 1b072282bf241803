"""JSON bodies that repeat an object key are refused before the app sees them; all else passes untouched."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import FastAPI, Request
from pydantic import BaseModel, ConfigDict
from starlette.types import Message, Receive, Scope, Send

from woorizip.json_body import DuplicateJsonKeysMiddleware, find_duplicate_key
from woorizip.middleware import BodySizeLimitMiddleware
from woorizip.problems import install_problem_handlers

PROBLEM = "application/problem+json"


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    details: list[dict[str, Any]] = []


def _app() -> tuple[FastAPI, list[bytes]]:
    app = FastAPI()
    install_problem_handlers(app)
    seen: list[bytes] = []

    @app.post("/items")
    async def create(item: Item, request: Request) -> Item:
        seen.append(await request.body())
        return item

    @app.post("/raw")
    async def raw(request: Request) -> dict[str, str]:
        body = await request.body()
        seen.append(body)
        return {"body": base64.b64encode(body).decode(), "content_type": request.headers.get("content-type", "")}

    @app.get("/ping")
    async def ping() -> dict[str, bool]:
        return {"ok": True}

    app.add_middleware(DuplicateJsonKeysMiddleware)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=4096)
    app.add_middleware(CorrelationIdMiddleware, header_name="X-Request-ID")
    return app, seen


def _request(app: FastAPI, method: str, path: str, **kwargs: Any) -> httpx.Response:
    async def call() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            return await client.request(method, path, **kwargs)

    return asyncio.run(call())


def _json(body: str, content_type: str = "application/json") -> dict[str, Any]:
    return {"content": body.encode(), "headers": {"content-type": content_type}}


def _assert_duplicate_problem(response: httpx.Response, key: str, path: str) -> None:
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["type"] == "https://docs.woorizip.app/problems/malformed-json"
    assert problem["title"] == "Bad Request" and problem["status"] == 400
    assert f'"{key}"' in problem["detail"]
    assert problem["instance"] == path
    assert problem["request_id"] == response.headers["x-request-id"]
    assert set(problem) == {"type", "title", "status", "detail", "instance", "request_id"}


def test_a_repeated_top_level_key_is_refused_before_the_app() -> None:
    app, seen = _app()
    response = _request(app, "POST", "/items", **_json('{"name": "엄마", "name": "아빠"}'))
    _assert_duplicate_problem(response, "name", "/items")
    assert seen == []


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ('{"name": "a", "details": [{"role": "member", "role": "owner"}]}', "role"),
        ('{"name": "a", "details": [{"x": {"y": 1, "z": {"deep": 1, "deep": 2}}}]}', "deep"),
        ('[{"ok": 1}, {"deep": 1, "deep": 1}]', "deep"),
        ('{"name": "a", "details": [{"deep": 1, "\\u0064eep": 2}]}', "deep"),  # one key, escaped differently
    ],
)
def test_a_repeated_nested_key_is_refused(body: str, key: str) -> None:
    app, seen = _app()
    _assert_duplicate_problem(_request(app, "POST", "/items", **_json(body)), key, "/items")
    assert seen == []


def test_valid_json_reaches_the_app_unchanged() -> None:
    app, seen = _app()
    body = '{"name": "우리집", "details": [{"a": 1}, {"a": 2}]}'
    response = _request(app, "POST", "/items", **_json(body, "application/json; charset=utf-8"))
    assert response.status_code == 200 and response.json() == {"name": "우리집", "details": [{"a": 1}, {"a": 2}]}
    assert seen == [body.encode()]


def test_invalid_json_still_reaches_the_app_which_reports_it() -> None:
    app, seen = _app()
    response = _request(app, "POST", "/items", **_json('{"name": "a",'))
    assert response.status_code == 400 and response.headers["content-type"] == PROBLEM
    assert response.json()["type"].endswith("/malformed-json") and "errors" in response.json()
    raw = _request(app, "POST", "/raw", **_json('{"name": "a", "name"'))
    assert base64.b64decode(raw.json()["body"]) == b'{"name": "a", "name"'
    assert seen == [b'{"name": "a", "name"']


def test_a_body_streamed_in_chunks_is_checked_whole_and_replayed_exactly() -> None:
    def chunks(*parts: bytes) -> AsyncIterator[bytes]:
        async def stream() -> AsyncIterator[bytes]:
            for part in parts:
                yield part

        return stream()

    app, seen = _app()
    headers = {"content-type": "application/json"}
    refused = _request(app, "POST", "/items", content=chunks(b'{"name": "a", "na', b"me", b'": "b"}'), headers=headers)
    _assert_duplicate_problem(refused, "name", "/items")
    parts = (b'{"name": "\xec\x9a', b"\xb0\xeb\xa6\xac", b'\xec\xa7\x91", "details": []}')  # UTF-8 split mid-character
    accepted = _request(app, "POST", "/raw", content=chunks(*parts), headers=headers)
    assert accepted.status_code == 200
    assert base64.b64decode(accepted.json()["body"]) == b"".join(parts)
    assert seen == [b"".join(parts)]


@pytest.mark.parametrize(
    "content_type", ["application/merge-patch+json", "Application/JSON", "application/json;charset=UTF-8"]
)
def test_every_json_media_type_is_checked(content_type: str) -> None:
    app, _ = _app()
    _assert_duplicate_problem(_request(app, "POST", "/raw", **_json('{"a": 1, "a": 2}', content_type)), "a", "/raw")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/jsonx", None])
def test_other_bodies_pass_untouched(content_type: str | None) -> None:
    app, seen = _app()
    headers = {"content-type": content_type} if content_type else {}
    response = _request(app, "POST", "/raw", content=b'{"a": 1, "a": 2}', headers=headers)
    assert response.status_code == 200
    assert seen == [b'{"a": 1, "a": 2}']


def test_bodiless_requests_pass_untouched() -> None:
    app, _ = _app()
    assert _request(app, "GET", "/ping").json() == {"ok": True}
    assert _request(app, "GET", "/ping", headers={"content-type": "application/json"}).json() == {"ok": True}
    empty = _request(app, "POST", "/raw", content=b"", headers={"content-type": "application/json"})
    assert empty.status_code == 200 and empty.json()["body"] == ""


def test_a_long_key_is_shown_truncated() -> None:
    app, _ = _app()
    key = "가" * 100
    response = _request(app, "POST", "/raw", **_json(f'{{"{key}": 1, "{key}": 2}}'))
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert f'"{"가" * 64}…"' in detail and "가" * 65 not in detail


def test_the_body_size_limit_outside_still_answers_413() -> None:
    app, seen = _app()
    response = _request(app, "POST", "/raw", **_json('{"a": "' + "x" * 5000 + '"}'))
    assert response.status_code == 413 and seen == []


def test_find_duplicate_key() -> None:
    assert find_duplicate_key(b'{"a": {"b": 1}, "c": {"b": 2}}') is None
    assert find_duplicate_key(b'{"a": {"b": 1, "b": 1}}') == "b"
    assert find_duplicate_key(b"[" * 100_000) is None  # too deep for json.loads: the app reports it
    assert find_duplicate_key(b"\xff\xfe") is None
    assert find_duplicate_key('{"a": 1, "a": 2}'.encode("utf-16")) == "a"  # json.loads detects UTF-16 too


def test_a_client_that_goes_away_mid_body_is_passed_on() -> None:
    received: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            received.append(message)
            if message["type"] == "http.disconnect":
                return

    incoming: list[Message] = [
        {"type": "http.request", "body": b'{"a": 1, "a"', "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        raise AssertionError("nothing should be sent")

    scope: Scope = {"type": "http", "method": "POST", "path": "/x", "headers": [(b"content-type", b"application/json")]}
    asyncio.run(DuplicateJsonKeysMiddleware(app)(scope, receive, send))
    assert received == [
        {"type": "http.request", "body": b'{"a": 1, "a"', "more_body": True},
        {"type": "http.disconnect"},
    ]
