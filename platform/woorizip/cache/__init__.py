"""Cache, token deny-list and counters: in-process by default, Redis in production."""

from woorizip.cache.base import Cache
from woorizip.cache.factory import build_cache

__all__ = ["Cache", "build_cache"]
