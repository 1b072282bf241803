"""Redis cache for production and multi-process deployments."""

from __future__ import annotations

import math

import redis


class RedisCache:
    backend = "redis"

    def __init__(self, *, url: str, timeout_seconds: float = 2.0, prefix: str = "wz:") -> None:
        self._client = redis.Redis.from_url(url, socket_timeout=timeout_seconds, socket_connect_timeout=timeout_seconds)
        self._prefix = prefix

    def _key(self, key: str) -> str:
        return self._prefix + key

    def get(self, key: str) -> bytes | None:
        value = self._client.get(self._key(key))
        return bytes(value) if value is not None else None  # type: ignore[arg-type]

    def set(self, key: str, value: bytes, *, ttl_seconds: float | None = None) -> None:
        px = max(1, math.ceil(ttl_seconds * 1000)) if ttl_seconds is not None else None
        self._client.set(self._key(key), value, px=px)

    def delete(self, key: str) -> None:
        self._client.delete(self._key(key))

    def incr(self, key: str, *, ttl_seconds: float | None = None) -> int:
        full = self._key(key)
        pipe = self._client.pipeline()
        pipe.incr(full)
        if ttl_seconds is not None:
            # NX: the window starts with the first hit and is not extended by later ones.
            pipe.pexpire(full, max(1, math.ceil(ttl_seconds * 1000)), nx=True)
        return int(pipe.execute()[0])

    def ping(self) -> None:
        self._client.ping()

    def close(self) -> None:
        self._client.close()
