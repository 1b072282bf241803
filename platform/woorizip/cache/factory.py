"""Pick the cache backend from settings."""

from __future__ import annotations

from woorizip.cache.base import Cache
from woorizip.cache.memory import MemoryCache
from woorizip.cache.redis import RedisCache
from woorizip.settings import Settings


def build_cache(settings: Settings) -> Cache:
    if settings.redis_url:
        return RedisCache(url=settings.redis_url, timeout_seconds=settings.backend_timeout_seconds)
    return MemoryCache()
