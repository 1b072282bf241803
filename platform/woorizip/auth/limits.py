"""Abuse limits on sign-up, login and refresh, per client IP and per account (the `limits` library).

Counters live in Redis when it is configured (shared by every api process) and in process memory
on the embedded default. A refused request gets 429 with `Retry-After`.
"""

from __future__ import annotations

import ipaddress
import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter
from starlette.requests import Request

from woorizip.problems import TOO_MANY_REQUESTS, ProblemError
from woorizip.settings import Settings


@dataclass(frozen=True)
class Limits:
    signup_ip: RateLimitItem
    login_ip: RateLimitItem
    login_account: RateLimitItem
    failed_login_account: RateLimitItem
    refresh_ip: RateLimitItem


class RateLimiter:
    def __init__(self, settings: Settings) -> None:
        storage = storage_from_string(settings.redis_url or "memory://")
        self._limiter = SlidingWindowCounterRateLimiter(storage)
        self.limits = Limits(
            signup_ip=parse(settings.limit_signup_per_ip),
            login_ip=parse(settings.limit_login_per_ip),
            login_account=parse(settings.limit_login_per_account),
            failed_login_account=parse(settings.limit_failed_logins_per_account),
            refresh_ip=parse(settings.limit_refresh_per_ip),
        )
        self._trusted = [ipaddress.ip_network(proxy, strict=False) for proxy in settings.trusted_proxies]

    def client_ip(self, request: Request) -> str:
        """The peer address; X-Forwarded-For is believed only when the peer is a trusted proxy."""
        peer = request.client.host if request.client else "unknown"
        forwarded = request.headers.get("x-forwarded-for")
        if not forwarded or not self._is_trusted(peer):
            return peer
        # Walk from the nearest hop back: the first address not ours is the client.
        for hop in reversed([part.strip() for part in forwarded.split(",") if part.strip()]):
            if not self._is_trusted(hop):
                return hop
        return peer

    def _is_trusted(self, address: str) -> bool:
        try:
            parsed = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(parsed in network for network in self._trusted)

    def hit(self, item: RateLimitItem, *key: str) -> None:
        """Count one attempt; raise 429 when the window is full."""
        if not self._limiter.hit(item, *key):
            raise self._refusal(item, *key)

    def check(self, item: RateLimitItem, *key: str) -> None:
        """Refuse without counting (e.g. an account whose failed logins are used up)."""
        if not self._limiter.test(item, *key):
            raise self._refusal(item, *key)

    def _refusal(self, item: RateLimitItem, *key: str) -> ProblemError:
        reset = self._limiter.get_window_stats(item, *key).reset_time
        retry = max(1, math.ceil(reset - time.time()))
        return TOO_MANY_REQUESTS.error(
            f"too many attempts: try again in {retry} s", headers={"Retry-After": str(retry)}
        )
