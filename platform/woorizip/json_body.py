"""Refuse JSON request bodies in which an object repeats a key.

`json.loads` keeps the last of repeated keys, so `{"role": "member", "role": "owner"}` would mean
one thing to us and possibly another to a proxy, a log reader or a client library that keeps the
first. RFC 8259 leaves the meaning open; we refuse such bodies with 400 problem+json instead.
"""

from __future__ import annotations

import email.message
import json
from collections import deque
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from woorizip.problems import MALFORMED_JSON, PROBLEM_MEDIA_TYPE, problem_body

KEY_SHOWN_CHARS = 64


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def find_duplicate_key(body: bytes) -> str | None:
    """The first key repeated within one object of the JSON `body`, at any depth; None if there is
    none or if `body` is not JSON at all (the app reports that itself)."""
    try:
        json.loads(body, object_pairs_hook=_unique_keys)
    except _DuplicateKey as duplicate:
        return duplicate.key
    except (ValueError, RecursionError):  # invalid JSON or encoding, or nested too deeply
        return None
    return None


def _is_json(scope: Scope) -> bool:
    """The test FastAPI applies before parsing a body as JSON: application/json or application/*+json."""
    value = next((v for k, v in scope.get("headers", ()) if k.lower() == b"content-type"), None)
    if not value:
        return False
    message = email.message.Message()
    message["content-type"] = value.decode("latin-1")
    if message.get_content_maintype() != "application":
        return False
    subtype = message.get_content_subtype()
    return subtype == "json" or subtype.endswith("+json")


def _declares_no_body(scope: Scope) -> bool:
    return any(k.lower() == b"content-length" and v.strip() == b"0" for k, v in scope.get("headers", ()))


class DuplicateJsonKeysMiddleware:
    """Answer 400 problem+json (`malformed-json`) to a JSON body with a repeated object key.

    Reads the whole body of requests whose content type is JSON, checks it, then hands the app the
    very messages it received. Other requests pass untouched. Put it inside the body size limit,
    which bounds what is buffered here, and inside CORS, so that its 400 carries the CORS headers:
    `app.add_middleware(DuplicateJsonKeysMiddleware)` before adding those two.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _is_json(scope) or _declares_no_body(scope):
            await self.app(scope, receive, send)
            return
        messages: deque[Message] = deque()
        chunks: list[bytes] = []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":  # the client went away: let the app see that
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                key = find_duplicate_key(b"".join(chunks))
                if key is not None:
                    await self._reject(scope, send, key)
                    return
                break

        async def replay() -> Message:
            if messages:
                return messages.popleft()
            return await receive()

        await self.app(scope, replay, send)

    async def _reject(self, scope: Scope, send: Send, key: str) -> None:
        shown = key if len(key) <= KEY_SHOWN_CHARS else key[:KEY_SHOWN_CHARS] + "…"
        detail = (
            f"The JSON body repeats the key {json.dumps(shown, ensure_ascii=False)} in one object; "
            "each key may appear only once."
        )
        body = json.dumps(
            problem_body(MALFORMED_JSON, detail=detail, instance=scope.get("path")), ensure_ascii=False
        ).encode()
        await send({"type": "http.response.start", "status": 400, "headers": [
            (b"content-type", PROBLEM_MEDIA_TYPE.encode()), (b"content-length", str(len(body)).encode()),
        ]})  # fmt: skip
        await send({"type": "http.response.body", "body": body})
