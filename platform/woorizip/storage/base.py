"""The object-store interface and the key rules both backends share."""

from __future__ import annotations

import re
from typing import Protocol

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/]{0,511}$")


class ObjectNotFound(KeyError):
    """No object under that key."""


def validate_key(key: str) -> str:
    """Keys are server-made; refuse anything that could escape a directory or bucket prefix."""
    if not _KEY.match(key) or ".." in key.split("/") or "//" in key:
        raise ValueError(f"invalid object key {key!r}")
    return key


class ObjectStore(Protocol):
    backend: str

    def put(self, key: str, data: bytes, *, content_type: str = "application/octet-stream") -> None: ...

    def get(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...

    def ping(self) -> None: ...
