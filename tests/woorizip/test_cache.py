"""The cache contract, on the in-process backend and on the machine's Redis."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.woorizip.conftest import SettingsFactory
from woorizip.cache import Cache, build_cache


@pytest.fixture(params=["memory", "redis"])
def cache(request: pytest.FixtureRequest, make_settings: SettingsFactory) -> Iterator[Cache]:
    redis_url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    built = build_cache(make_settings(redis_url=redis_url))
    assert built.backend == request.param
    yield built
    built.close()


def test_set_get_delete(cache: Cache) -> None:
    assert cache.get("missing") is None
    cache.set("greeting", "안녕".encode())
    assert cache.get("greeting") == "안녕".encode()
    cache.delete("greeting")
    assert cache.get("greeting") is None


def test_ttl_expires(cache: Cache) -> None:
    cache.set("short", b"x", ttl_seconds=0.2)
    cache.set("long", b"y", ttl_seconds=30)
    assert cache.get("short") == b"x"
    time.sleep(0.35)
    assert cache.get("short") is None
    assert cache.get("long") == b"y"


def test_incr_counts_within_a_fixed_window(cache: Cache) -> None:
    assert [cache.incr("hits", ttl_seconds=0.3) for _ in range(3)] == [1, 2, 3]
    time.sleep(0.45)
    assert cache.incr("hits", ttl_seconds=0.3) == 1


def test_ping(cache: Cache) -> None:
    cache.ping()
