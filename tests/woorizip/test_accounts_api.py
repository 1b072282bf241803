"""Accounts over real HTTP: sign-up, login, refresh rotation, revocation, deletion, export, JWT attacks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.woorizip.accounts import Api, assert_problem, running_api
from tests.woorizip.conftest import SettingsFactory


@pytest.fixture(params=["sqlite", "postgres"])
def api(request: pytest.FixtureRequest, make_settings: SettingsFactory) -> Iterator[Api]:
    overrides: dict[str, Any] = {}
    if request.param == "postgres":
        overrides["database_url"] = request.getfixturevalue("postgres_url")
    with running_api(make_settings(**overrides)) as running:
        yield running


@pytest.fixture(params=["memory", "redis"])
def cache_api(request: pytest.FixtureRequest, make_settings: SettingsFactory) -> Iterator[Api]:
    """The deny-list on the embedded in-process cache and on the machine's Redis."""
    overrides = {"redis_url": request.getfixturevalue("redis_url")} if request.param == "redis" else {}
    with running_api(make_settings(**overrides)) as running:
        yield running


def test_sign_up_profile_and_a_long_korean_passphrase(api: Api) -> None:
    passphrase = "가" * 64  # 192 bytes in UTF-8: beyond bcrypt's 72, fine for argon2id
    person = api.sign_up(email="Mom@Example.com", password=passphrase)
    profile = api.get("/v1/me", headers=person.auth).json()
    assert profile["email"] == "mom@example.com" and profile["display_name"] == "엄마"
    assert profile["created_at"].endswith("Z")
    person.email = "MOM@example.com"
    assert api.log_in(person).status_code == 200
    person.password = "가" * 63 + "나"  # differs only in the last character, past byte 72
    assert_problem(api.log_in(person), 401, "invalid-credentials")
    renamed = httpx.patch(api.base + "/v1/me", json={"display_name": " 엄마 곰 "}, headers=person.auth)
    assert renamed.status_code == 200 and renamed.json()["display_name"] == "엄마 곰"


@pytest.mark.parametrize(
    ("body", "status", "slug"),
    [
        ({"email": "a@example.com", "password": "짧다", "display_name": "아빠"}, 422, "validation-error"),
        ({"email": "a@example.com", "password": "12345678", "display_name": "아빠"}, 422, "validation-error"),
        ({"email": "a@example.com", "password": "eleven char", "display_name": "아빠"}, 422, "validation-error"),
        ({"email": "a@example.com", "password": "a@example.com", "display_name": "아빠"}, 422, "weak-password"),
        ({"email": "dad.kim@example.com", "password": "DAD.KIM@EXAMPLE.COM", "display_name": "아빠"}, 422,
         "weak-password"),
        ({"email": "a@example.com", "password": "password1234", "display_name": "아빠"}, 422, "weak-password"),
        ({"email": "a@example.com", "password": "Qwertyuiop123", "display_name": "아빠"}, 422, "weak-password"),
        ({"email": "not-an-email", "password": "long enough pass", "display_name": "아빠"}, 422, "validation-error"),
        ({"email": "a@example.com", "password": "long enough pass", "display_name": ""}, 422, "validation-error"),
        ({"email": "a@example.com", "password": "long enough pass", "display_name": "아빠", "role": "admin"}, 422,
         "validation-error"),
    ],
)  # fmt: skip
def test_bad_sign_ups_are_refused(api: Api, body: dict[str, str], status: int, slug: str) -> None:
    assert_problem(api.post("/v1/auth/signup", json=body), status, slug)


def test_one_account_per_email_and_one_message_for_every_bad_login(api: Api) -> None:
    person = api.sign_up(email="dad@example.com")
    again = {"email": "DAD@example.com", "password": "엄마 아빠 사랑해요 정말로", "display_name": "a"}
    duplicate = api.post("/v1/auth/signup", json=again)
    assert_problem(duplicate, 409, "email-taken")
    wrong = api.post("/v1/auth/login", json={"email": person.email, "password": "wrong password!"})
    unknown = api.post("/v1/auth/login", json={"email": "nobody@example.com", "password": "wrong password!"})
    assert assert_problem(wrong, 401, "invalid-credentials")["detail"] == assert_problem(
        unknown, 401, "invalid-credentials"
    )["detail"]


def test_refresh_rotates_and_a_reused_token_revokes_the_whole_chain(api: Api) -> None:
    person = api.sign_up()
    first = person.refresh
    rotated = api.post("/v1/auth/refresh", json={"refresh_token": first})
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()["refresh_token"]
    assert second != first
    assert api.get("/v1/me", headers={"Authorization": f"Bearer {rotated.json()['access_token']}"}).status_code == 200
    assert_problem(api.post("/v1/auth/refresh", json={"refresh_token": first}), 401, "invalid-refresh-token")
    # The thief replayed the old token: the legitimate holder's newer token is dead too.
    assert_problem(api.post("/v1/auth/refresh", json={"refresh_token": second}), 401, "invalid-refresh-token")


def test_two_simultaneous_refreshes_with_one_token_let_exactly_one_win(api: Api) -> None:
    person = api.sign_up()
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(lambda _: api.post("/v1/auth/refresh", json={"refresh_token": person.refresh}),
                                range(2)))  # fmt: skip
    assert sorted(answer.status_code for answer in answers) == [200, 401]


def test_logout_revokes_the_access_token_at_once_and_ends_the_session(cache_api: Api) -> None:
    api = cache_api
    person = api.sign_up()
    other = api.sign_up()
    assert api.post("/v1/auth/logout", headers=person.auth).status_code == 204
    assert_problem(api.get("/v1/me", headers=person.auth), 401, "unauthorized")
    assert_problem(api.post("/v1/auth/refresh", json={"refresh_token": person.refresh}), 401, "invalid-refresh-token")
    assert api.get("/v1/me", headers=other.auth).status_code == 200  # only that token
    assert api.log_in(person).status_code == 200 and api.get("/v1/me", headers=person.auth).status_code == 200


def test_a_password_change_ends_every_other_session_at_once(cache_api: Api) -> None:
    api = cache_api
    person = api.sign_up()
    # The same person signed in on a second device:
    laptop_login = api.post("/v1/auth/login", json={"email": person.email, "password": person.password}).json()
    laptop = {"Authorization": f"Bearer {laptop_login['access_token']}"}
    new = "새 비밀번호는 더 길어요"
    wrong = httpx.post(api.base + "/v1/me/password", headers=person.auth,
                       json={"current_password": "not my password", "new_password": new})  # fmt: skip
    assert_problem(wrong, 403, "wrong-password")
    changed = httpx.post(api.base + "/v1/me/password", headers=person.auth,
                         json={"current_password": person.password, "new_password": new})  # fmt: skip
    assert changed.status_code == 200, changed.text
    assert_problem(api.get("/v1/me", headers=laptop), 401, "unauthorized")
    assert_problem(api.get("/v1/me", headers=person.auth), 401, "unauthorized")
    stale = api.post("/v1/auth/refresh", json={"refresh_token": laptop_login["refresh_token"]})
    assert_problem(stale, 401, "invalid-refresh-token")
    fresh = {"Authorization": f"Bearer {changed.json()['access_token']}"}
    assert api.get("/v1/me", headers=fresh).status_code == 200


def test_deletion_revokes_everything_and_export_lists_what_we_hold(api: Api) -> None:
    person = api.sign_up()
    created = api.post("/v1/families", json={"name": "우리집"}, headers=person.auth)
    assert created.status_code == 201, created.text
    export = api.get("/v1/me/export", headers=person.auth)
    assert export.status_code == 200
    body = export.json()
    assert body["account"]["profile"]["email"] == person.email and len(body["account"]["sessions"]) == 1
    assert [(f["family_name"], f["membership"]["role"]) for f in body["families"]] == [("우리집", "owner")]
    refused = httpx.post(api.base + "/v1/me/deletion", headers=person.auth, json={"password": "wrong password!"})
    assert_problem(refused, 403, "wrong-password")
    deleted = httpx.post(api.base + "/v1/me/deletion", headers=person.auth, json={"password": person.password})
    assert deleted.status_code == 202 and deleted.json()["recoverable_until"] > deleted.json()["deleted_at"]
    assert_problem(api.get("/v1/me", headers=person.auth), 401, "unauthorized")
    assert_problem(api.log_in(person), 401, "invalid-credentials")
    assert_problem(api.post("/v1/auth/refresh", json={"refresh_token": person.refresh}), 401, "invalid-refresh-token")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _forge(header: dict[str, Any], payload: dict[str, Any], sign: Any) -> str:
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    return f"{signing_input}.{_b64(sign(signing_input.encode()))}"


def test_jwt_attacks_get_401_problem_details(api: Api) -> None:
    person = api.sign_up()
    header = jwt.get_unverified_header(person.access)
    claims = jwt.decode(person.access, options={"verify_signature": False})
    public_pem = api.app.state.tokens._public[header["kid"]].public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    attacker = Ed25519PrivateKey.generate()
    attacker_jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(attacker.public_key()))
    parts = person.access.split(".")
    tampered_claims = {**claims, "sub": "0" * 32}
    forged = {
        "alg none": _forge({**header, "alg": "none"}, claims, lambda _: b""),
        "HS256 keyed with the public key": _forge(
            {**header, "alg": "HS256"}, claims, lambda data: hmac.new(public_pem, data, hashlib.sha256).digest()
        ),
        "attacker jwk header": _forge({**header, "jwk": attacker_jwk}, claims, attacker.sign),
        "attacker jku header": _forge({**header, "jku": "https://evil.example/jwks"}, claims, attacker.sign),
        "tampered payload": f"{parts[0]}.{_b64(json.dumps(tampered_claims).encode())}.{parts[2]}",
        "wrong type": _forge({**header, "typ": "JWT"}, claims, attacker.sign),
        "unknown kid": _forge({**header, "kid": "nope"}, claims, attacker.sign),
        "expired": api.app.state.tokens.issue_access(subject=person.user_id, now=_long_ago()),
        "garbage": "not.a.jwt",
    }
    for name, token in forged.items():
        response = api.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
        body = assert_problem(response, 401, "unauthorized")
        assert response.headers["www-authenticate"].startswith("Bearer"), name
        assert token not in body["detail"], name
    assert_problem(api.get("/v1/me"), 401, "unauthorized")
    assert_problem(api.get("/v1/me", headers={"Authorization": f"Basic {person.access}"}), 401, "unauthorized")


def _long_ago() -> Any:
    from datetime import UTC, datetime, timedelta

    return datetime.now(UTC) - timedelta(hours=2)


def test_a_password_change_that_fails_half_way_changes_nothing(
    cache_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The new hash is written and the other sessions revoked, then starting the new session fails."""
    import woorizip.auth.service as auth_service

    api = cache_api
    person = api.sign_up()
    laptop = api.post("/v1/auth/login", json={"email": person.email, "password": person.password}).json()

    def broken_chain(**_: Any) -> Any:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(auth_service.refresh, "start_chain", broken_chain)
    change = {"current_password": person.password, "new_password": "새 비밀번호는 더 길어요"}
    failed = httpx.post(api.base + "/v1/me/password", headers=person.auth, json=change)
    assert_problem(failed, 500, "internal-error")
    monkeypatch.undo()
    # The old password still signs in, and every session, this one and the laptop's, still works.
    assert api.get("/v1/me", headers=person.auth).status_code == 200
    assert api.get("/v1/me", headers={"Authorization": f"Bearer {laptop['access_token']}"}).status_code == 200
    assert api.post("/v1/auth/refresh", json={"refresh_token": laptop["refresh_token"]}).status_code == 200
    assert api.log_in(person).status_code == 200
