"""Abuse limits over real HTTP: per client IP, per account, failed logins; X-Forwarded-For only from trusted proxies."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.woorizip.accounts import Api, assert_problem, running_api
from tests.woorizip.conftest import SettingsFactory


@pytest.fixture(params=["memory", "redis"])
def limited(request: pytest.FixtureRequest, make_settings: SettingsFactory) -> Iterator[Api]:
    overrides: dict[str, Any] = {
        "limit_login_per_account": "5/minute",
        "limit_failed_logins_per_account": "3/hour",
        "limit_signup_per_ip": "4/hour",
        "limit_refresh_per_ip": "3/minute",
        "trusted_proxies": ["127.0.0.1/32"],
    }
    if request.param == "redis":
        overrides["redis_url"] = request.getfixturevalue("redis_url")
    with running_api(make_settings(**overrides)) as api:
        yield api


def _login(api: Api, email: str, password: str, client_ip: str = "203.0.113.7") -> Any:
    return api.post("/v1/auth/login", json={"email": email, "password": password},
                    headers={"X-Forwarded-For": client_ip})  # fmt: skip


def test_failed_logins_per_account_are_capped_even_for_the_right_password(limited: Api) -> None:
    person = limited.sign_up()
    for attempt in range(3):
        assert_problem(_login(limited, person.email, "wrong password!", f"198.51.100.{attempt}"), 401,
                       "invalid-credentials")  # fmt: skip
    capped = _login(limited, person.email, person.password, "198.51.100.99")
    assert_problem(capped, 429, "too-many-requests")
    assert int(capped.headers["retry-after"]) > 0
    other = limited.sign_up()  # another account is not affected
    assert _login(limited, other.email, other.password).status_code == 200


def test_logins_per_account_are_limited_whatever_the_outcome(limited: Api) -> None:
    person = limited.sign_up()
    statuses = [_login(limited, person.email, person.password, f"192.0.2.{i}").status_code for i in range(6)]
    assert statuses == [200] * 5 + [429]


def test_sign_ups_are_limited_per_client_ip_taken_from_a_trusted_proxy(limited: Api) -> None:
    def sign_up(ip: str, n: int) -> int:
        body = {"email": f"kid{n}-{ip}@example.com", "password": "충분히 긴 비밀번호랍니다", "display_name": "아이"}
        return limited.post("/v1/auth/signup", json=body, headers={"X-Forwarded-For": f"{ip}, 127.0.0.1"}).status_code

    # The proxy (127.0.0.1, trusted) appended itself; the client is the hop before it.
    assert [sign_up("203.0.113.10", n) for n in range(5)] == [201] * 4 + [429]
    assert sign_up("203.0.113.11", 0) == 201  # another client behind the same proxy has its own budget


def test_forwarded_for_from_an_untrusted_peer_is_ignored(make_settings: SettingsFactory) -> None:
    with running_api(make_settings(limit_refresh_per_ip="2/minute")) as api:  # no trusted proxies
        statuses = [
            api.post(
                "/v1/auth/refresh", json={"refresh_token": "x" * 40}, headers={"X-Forwarded-For": f"203.0.113.{i}"}
            ).status_code
            for i in range(3)
        ]
    # Spoofed headers did not buy fresh budgets: all three count against the real peer.
    assert statuses == [401, 401, 429]
