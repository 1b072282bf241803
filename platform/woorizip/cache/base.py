"""The cache interface every backend implements."""

from __future__ import annotations

from typing import Protocol


class Cache(Protocol):
    """Bytes by key with optional time-to-live; `incr` is atomic within the backend."""

    backend: str

    def get(self, key: str) -> bytes | None: ...

    def set(self, key: str, value: bytes, *, ttl_seconds: float | None = None) -> None: ...

    def delete(self, key: str) -> None: ...

    def incr(self, key: str, *, ttl_seconds: float | None = None) -> int:
        """Add one to a counter; the TTL starts when the counter is created."""
        ...

    def ping(self) -> None:
        """Raise if the backend does not answer."""
        ...

    def close(self) -> None: ...
