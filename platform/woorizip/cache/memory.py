"""In-process cache for the embedded default: one process, no server."""

from __future__ import annotations

import threading
import time


class MemoryCache:
    backend = "memory"

    def __init__(self) -> None:
        self._items: dict[str, tuple[bytes, float | None]] = {}
        self._lock = threading.Lock()
        self._now = time.monotonic

    def _live(self, key: str) -> tuple[bytes, float | None] | None:
        item = self._items.get(key)
        if item is None:
            return None
        if item[1] is not None and item[1] <= self._now():
            del self._items[key]
            return None
        return item

    def get(self, key: str) -> bytes | None:
        with self._lock:
            item = self._live(key)
            return item[0] if item else None

    def set(self, key: str, value: bytes, *, ttl_seconds: float | None = None) -> None:
        expires = self._now() + ttl_seconds if ttl_seconds is not None else None
        with self._lock:
            self._items[key] = (value, expires)

    def delete(self, key: str) -> None:
        with self._lock:
            self._items.pop(key, None)

    def incr(self, key: str, *, ttl_seconds: float | None = None) -> int:
        with self._lock:
            item = self._live(key)
            if item is None:
                expires = self._now() + ttl_seconds if ttl_seconds is not None else None
                self._items[key] = (b"1", expires)
                return 1
            value = int(item[0]) + 1
            self._items[key] = (str(value).encode(), item[1])
            return value

    def ping(self) -> None:
        return None

    def close(self) -> None:
        with self._lock:
            self._items.clear()
