"""The loopback IdP over real HTTP: the protocol shapes our sign-in code will meet, and the refusals."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest

from tests.support.idp import LoopbackIdP, form_post_fields, new_apple_team_key, pkce_pair

REDIRECT = "https://app.example/auth/{provider}/callback"
CLIENTS = {"google": "woorizip-web.apps.googleusercontent.com", "apple": "com.woorizip.web", "kakao": "rest-api-key"}
CLIENTS["naver"] = "naver-client-id"
SECRETS = {"google": "google-secret", "kakao": "kakao-secret", "naver": "naver-secret"}
APPLE_TEAM, APPLE_KID = "TEAM123456", "KEY1234567"
USERS = {
    "google": "109876543210987654321",
    "apple": "001234.5e201aec537347aeb79d23cbc345170a.0123",
    "kakao": "4012345678",
    "naver": "Hk3xNvT9qLm2bYc8Rw5dZf1gJp7sUa0eOi4Kt6Ey",
}
OIDC = ("google", "apple", "kakao")


@dataclass
class Env:
    idp: LoopbackIdP
    apple_private_pem: str
    apple_public_pem: str

    def apple_secret(
        self,
        *,
        team: str = APPLE_TEAM,
        sub: str = CLIENTS["apple"],
        aud: str | None = None,
        kid: str = APPLE_KID,
        lifetime: int = 3600,
        key: str | None = None,
    ) -> str:
        now = int(time.time())
        claims = {"iss": team, "iat": now, "exp": now + lifetime, "aud": aud or self.idp.issuer("apple"), "sub": sub}
        return jwt.encode(claims, key or self.apple_private_pem, algorithm="ES256", headers={"kid": kid})

    def client_auth(self, provider: str) -> dict[str, Any]:
        """httpx kwargs that authenticate our client the way each real provider expects."""
        if provider == "google":
            return {"auth": (CLIENTS["google"], SECRETS["google"])}
        if provider == "apple":
            return {"data": {"client_id": CLIENTS["apple"], "client_secret": self.apple_secret()}}
        return {"data": {"client_id": CLIENTS[provider], "client_secret": SECRETS[provider]}}


@pytest.fixture(scope="module")
def env() -> Iterator[Env]:
    apple_private, apple_public = new_apple_team_key()
    with LoopbackIdP() as idp:
        for provider in ("google", "kakao", "naver"):
            idp.register_client(
                provider,
                client_id=CLIENTS[provider],
                client_secret=SECRETS[provider],
                redirect_uris=[REDIRECT.format(provider=provider)],
            )
        idp.register_client(
            "apple",
            client_id=CLIENTS["apple"],
            redirect_uris=[REDIRECT.format(provider="apple")],
            apple_team_id=APPLE_TEAM,
            apple_key_id=APPLE_KID,
            apple_public_key=apple_public,
        )
        idp.register_client("kakao", client_id="kakao-admin-app", kakao_admin_key="kakao-admin-key")
        idp.add_user("google", subject=USERS["google"], email="mom@gmail.com", nickname="김엄마", picture="https://p/1")
        idp.add_user(
            "apple",
            subject=USERS["apple"],
            email="x1y2z3@privaterelay.appleid.com",
            first_name="민지",
            last_name="김",
            real_user_status=2,
        )
        idp.add_user("kakao", subject=USERS["kakao"], email="dad@kakao.com", nickname="아빠", picture="https://k/1")
        idp.add_user(
            "naver", subject=USERS["naver"], email="grandma@naver.com", nickname="할머니", name="박순자", gender="F"
        )
        for provider, subject in USERS.items():
            idp.login_as(provider, subject)
        yield Env(idp, apple_private, apple_public)


def authorize_params(provider: str, challenge: str, **overrides: str | None) -> dict[str, str]:
    params: dict[str, str | None] = {
        "response_type": "code",
        "client_id": CLIENTS[provider],
        "redirect_uri": REDIRECT.format(provider=provider),
        "state": f"state-{provider}",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "nonce": f"nonce-{provider}",
        "scope": {"google": "openid email profile", "apple": "name email", "kakao": "openid", "naver": None}[provider],
    }
    if provider == "apple":
        params["response_mode"] = "form_post"
    params.update(overrides)
    return {name: value for name, value in params.items() if value is not None}


def redirect_fields(response: httpx.Response) -> dict[str, str]:
    """What reached our callback: the query of a 302, or the fields an Apple form_post page submits."""
    if response.status_code == 302:
        location = response.headers["location"]
        return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}
    assert response.status_code == 200 and "text/html" in response.headers["content-type"]
    _, fields = form_post_fields(response.text)
    return fields


def authorize(
    env: Env, provider: str, verifier_challenge: tuple[str, str] | None = None, **overrides: str | None
) -> httpx.Response:
    _, challenge = verifier_challenge or pkce_pair()
    url = env.idp.endpoints(provider)["authorize_url"]
    assert url is not None
    return httpx.get(url, params=authorize_params(provider, challenge, **overrides))


def get_code(env: Env, provider: str) -> tuple[str, str]:
    verifier, challenge = pkce_pair()
    fields = redirect_fields(authorize(env, provider, (verifier, challenge)))
    assert fields["state"] == f"state-{provider}"
    return fields["code"], verifier


def exchange(env: Env, provider: str, code: str, verifier: str, **overrides: str) -> httpx.Response:
    auth = env.client_auth(provider)
    data = {"grant_type": "authorization_code", "code": code, "code_verifier": verifier, **auth.pop("data", {})}
    if provider != "naver":
        data["redirect_uri"] = REDIRECT.format(provider=provider)
    data.update(overrides)
    url = env.idp.endpoints(provider)["token_url"]
    assert url is not None
    return httpx.post(url, data=data, **auth)


def verify(env: Env, provider: str, token: str, *, audience: str | None = None) -> dict[str, Any]:
    """Verify as our app will: key from the JWKS by kid, RS256 only, iss and aud pinned."""
    jwks_url = env.idp.endpoints(provider)["jwks_url"]
    assert jwks_url is not None
    key = jwt.PyJWKClient(jwks_url, cooldown_duration=0).get_signing_key_from_jwt(token)
    claims: dict[str, Any] = jwt.decode(
        token, key, algorithms=["RS256"], audience=audience or CLIENTS[provider], issuer=env.idp.issuer(provider)
    )
    return claims


def profile(env: Env, provider: str, access_token: str) -> httpx.Response:
    url = env.idp.endpoints(provider)["userinfo_url"]
    assert url is not None
    return httpx.get(url, headers={"Authorization": f"Bearer {access_token}"})


# ---- discovery and keys ------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", OIDC)
def test_discovery_documents_point_at_the_server(env: Env, provider: str) -> None:
    urls = env.idp.endpoints(provider)
    assert urls["discovery_url"] is not None
    document = httpx.get(urls["discovery_url"]).json()
    assert document["issuer"] == env.idp.issuer(provider) == f"{env.idp.base_url}/{provider}"
    assert document["authorization_endpoint"] == urls["authorize_url"]
    assert document["token_endpoint"] == urls["token_url"]
    assert document["jwks_uri"] == urls["jwks_url"]
    assert document["id_token_signing_alg_values_supported"] == ["RS256"]
    assert document["code_challenge_methods_supported"] == ["S256"]
    jwks = httpx.get(document["jwks_uri"]).json()
    assert [key["kid"] for key in jwks["keys"]] == env.idp.kids(provider)
    assert all(key["kty"] == "RSA" and key["alg"] == "RS256" and "d" not in key for key in jwks["keys"])


def test_endpoint_paths_follow_the_real_providers(env: Env) -> None:
    paths = {p: {k: urlsplit(v).path for k, v in env.idp.endpoints(p).items() if v} for p in ("apple", "kakao")}
    assert paths["apple"]["jwks_url"] == "/apple/auth/keys" and paths["apple"]["revoke_url"] == "/apple/auth/revoke"
    assert "userinfo_url" not in paths["apple"]
    assert paths["kakao"]["jwks_url"] == "/kakao/.well-known/jwks.json"
    assert paths["kakao"]["userinfo_url"] == "/kakao/v2/user/me"
    assert paths["kakao"]["revoke_url"] == "/kakao/v1/user/unlink"
    naver = env.idp.endpoints("naver")
    assert naver["issuer"] is None and naver["jwks_url"] is None
    assert naver["userinfo_url"] == f"{env.idp.base_url}/naver/v1/nid/me"
    assert httpx.get(f"{env.idp.base_url}/naver/.well-known/openid-configuration").status_code == 404


@pytest.mark.parametrize("provider", OIDC)
def test_jwks_verifies_a_minted_token(env: Env, provider: str) -> None:
    token = env.idp.mint_id_token(provider, USERS[provider], audience="the-app", nonce="n-123")
    assert jwt.get_unverified_header(token)["kid"] == env.idp.active_kid(provider)
    claims = verify(env, provider, token, audience="the-app")
    assert claims["sub"] == USERS[provider] and claims["nonce"] == "n-123"
    assert claims["exp"] - claims["iat"] == 600


def test_jwks_is_fetched_once_by_a_caching_client(env: Env) -> None:
    jwks_path = urlsplit(env.idp.endpoints("google")["jwks_url"] or "").path
    before = env.idp.requests.count(("GET", jwks_path))
    client = jwt.PyJWKClient(env.idp.endpoints("google")["jwks_url"] or "")
    for nonce in ("a", "b", "c"):
        token = env.idp.mint_id_token("google", USERS["google"], audience="x", nonce=nonce)
        client.get_signing_key_from_jwt(token)
    assert env.idp.requests.count(("GET", jwks_path)) == before + 1


# ---- the web flow: code + PKCE + state + nonce ---------------------------------------------------------


@pytest.mark.parametrize("provider", ["google", "apple", "kakao", "naver"])
def test_code_flow_end_to_end(env: Env, provider: str) -> None:
    code, verifier = get_code(env, provider)
    response = exchange(env, provider, code, verifier)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"].lower() == "bearer" and body["refresh_token"]
    if provider == "naver":
        assert body["expires_in"] == "3600"  # Naver's string, not a number
        assert "id_token" not in body
    else:
        assert isinstance(body["expires_in"], int)
        claims = verify(env, provider, body["id_token"])
        assert claims["sub"] == USERS[provider] and claims["nonce"] == f"nonce-{provider}"
        assert claims["aud"] == CLIENTS[provider] and "auth_time" in claims
    if provider == "google":
        assert claims["email"] == "mom@gmail.com" and claims["email_verified"] is True
        assert claims["azp"] == CLIENTS["google"] and claims["at_hash"]
        info = profile(env, provider, body["access_token"]).json()
        assert info == {
            "sub": USERS["google"],
            "email": "mom@gmail.com",
            "email_verified": True,
            "name": "김엄마",
            "picture": "https://p/1",
        }
    elif provider == "apple":
        # Apple's quirks: string booleans, private relay flag, nonce_supported; and no userinfo endpoint.
        assert claims["email_verified"] == "true" and claims["is_private_email"] == "true"
        assert claims["nonce_supported"] is True and claims["real_user_status"] == 2
        assert "first_name" not in claims
    elif provider == "kakao":
        assert claims["nickname"] == "아빠" and claims["email"] == "dad@kakao.com"
        assert body["refresh_token_expires_in"] > 0
        me = profile(env, provider, body["access_token"]).json()
        assert me["id"] == int(USERS["kakao"])  # a JSON number, unlike the ID token's string sub
        account = me["kakao_account"]
        assert account["email"] == "dad@kakao.com" and account["is_email_verified"] is True
        assert account["is_email_valid"] is True and account["profile"]["nickname"] == "아빠"
        assert account["profile"]["profile_image_url"] == "https://k/1"
        assert me["connected_at"].endswith("Z")
    else:
        me = profile(env, provider, body["access_token"]).json()
        assert me["resultcode"] == "00" and me["message"] == "success"
        assert me["response"] == {
            "id": USERS["naver"],
            "nickname": "할머니",
            "email": "grandma@naver.com",
            "name": "박순자",
            "gender": "F",
        }


def test_apple_form_post_carries_id_token_and_the_user_only_once(env: Env) -> None:
    verifier, challenge = pkce_pair()
    env.idp.register_client(
        "apple",
        client_id="com.woorizip.first-login",
        redirect_uris=["https://app.example/apple"],
        apple_team_id=APPLE_TEAM,
        apple_key_id=APPLE_KID,
        apple_public_key=env.apple_public_pem,
    )
    params = authorize_params(
        "apple",
        challenge,
        client_id="com.woorizip.first-login",
        redirect_uri="https://app.example/apple",
        response_type="code id_token",
    )
    url = env.idp.endpoints("apple")["authorize_url"] or ""
    page = httpx.get(url, params=params)
    action, fields = form_post_fields(page.text)
    assert action == "https://app.example/apple" and 'onload="document.forms[0].submit()"' in page.text
    assert set(fields) == {"code", "state", "id_token", "user"}
    assert json.loads(fields["user"]) == {
        "name": {"firstName": "민지", "lastName": "김"},
        "email": "x1y2z3@privaterelay.appleid.com",
    }
    claims = verify(env, "apple", fields["id_token"], audience="com.woorizip.first-login")
    assert claims["nonce"] == "nonce-apple" and claims["c_hash"]
    token_url = env.idp.endpoints("apple")["token_url"] or ""
    form = {"grant_type": "authorization_code", "code": fields["code"], "code_verifier": verifier}
    form |= {"redirect_uri": "https://app.example/apple", "client_id": "com.woorizip.first-login"}
    tokens = httpx.post(token_url, data={**form, "client_secret": env.apple_secret(sub="com.woorizip.first-login")})
    assert tokens.status_code == 200, tokens.text
    assert (
        verify(env, "apple", tokens.json()["id_token"], audience="com.woorizip.first-login")["nonce"] == "nonce-apple"
    )
    _, again = form_post_fields(httpx.get(url, params={**params, "code_challenge": pkce_pair()[1]}).text)
    assert "user" not in again


def test_apple_refuses_name_and_email_without_form_post(env: Env) -> None:
    fields = redirect_fields(authorize(env, "apple", response_mode=None))
    assert fields["error"] == "invalid_request" and fields["state"] == "state-apple"


@pytest.mark.parametrize(
    "overrides",
    [{"code_challenge_method": "plain"}, {"code_challenge_method": None}, {"code_challenge": None}],
    ids=["plain", "no-method", "no-challenge"],
)
@pytest.mark.parametrize("provider", ["google", "kakao", "naver"])
def test_pkce_other_than_s256_is_refused_at_authorize(env: Env, provider: str, overrides: dict[str, None]) -> None:
    response = authorize(env, provider, **overrides)
    assert response.status_code == 302
    fields = redirect_fields(response)
    assert fields["error"] == "invalid_request" and fields["state"] == f"state-{provider}"
    assert "code" not in fields


def test_state_is_required(env: Env) -> None:
    fields = redirect_fields(authorize(env, "google", state=None))
    assert fields["error"] == "invalid_request" and "code" not in fields


def test_unregistered_redirect_uri_is_never_redirected_to(env: Env) -> None:
    response = authorize(env, "kakao", redirect_uri="https://evil.example/cb")
    assert response.status_code == 400 and "location" not in response.headers
    assert response.json()["error_code"] == "KOE006"


def test_a_cancelled_login_comes_back_as_the_providers_error(env: Env) -> None:
    try:
        env.idp.login_as("google", None)
        env.idp.login_as("apple", None)
        assert redirect_fields(authorize(env, "google"))["error"] == "access_denied"
        assert redirect_fields(authorize(env, "apple"))["error"] == "user_cancelled_authorize"
    finally:
        env.idp.login_as("google", USERS["google"])
        env.idp.login_as("apple", USERS["apple"])


# ---- token endpoint refusals ---------------------------------------------------------------------------


def test_wrong_code_verifier_is_refused(env: Env) -> None:
    code, _ = get_code(env, "google")
    response = exchange(env, "google", code, pkce_pair()[0])
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_naver_reports_token_errors_in_a_200_body(env: Env) -> None:
    code, _ = get_code(env, "naver")
    response = exchange(env, "naver", code, pkce_pair()[0])
    assert response.status_code == 200
    assert response.json()["error"] == "invalid_grant" and "access_token" not in response.json()


def test_a_reused_code_is_refused_and_costs_the_first_tokens(env: Env) -> None:
    code, verifier = get_code(env, "kakao")
    first = exchange(env, "kakao", code, verifier)
    assert first.status_code == 200
    assert profile(env, "kakao", first.json()["access_token"]).status_code == 200
    again = exchange(env, "kakao", code, verifier)
    assert again.status_code == 400
    assert again.json() | {"error_description": ""} == {
        "error": "invalid_grant",
        "error_description": "",
        "error_code": "KOE320",
    }
    assert profile(env, "kakao", first.json()["access_token"]).json() == {
        "msg": "this access token does not exist",
        "code": -401,
    }


def test_an_expired_code_is_refused(env: Env) -> None:
    code, verifier = get_code(env, "google")
    env.idp.advance_clock(301)
    try:
        response = exchange(env, "google", code, verifier)
    finally:
        env.idp.advance_clock(-301)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_redirect_uri_must_repeat_the_authorize_one(env: Env) -> None:
    code, verifier = get_code(env, "google")
    response = exchange(env, "google", code, verifier, redirect_uri="https://app.example/other")
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    ("provider", "how", "status"),
    [("google", "basic", 401), ("google", "post", 401), ("kakao", "post", 401), ("naver", "post", 200)],
)
def test_a_wrong_client_secret_is_refused(env: Env, provider: str, how: str, status: int) -> None:
    code, verifier = get_code(env, provider)
    url = env.idp.endpoints(provider)["token_url"] or ""
    data = {"grant_type": "authorization_code", "code": code, "code_verifier": verifier}
    data["redirect_uri"] = REDIRECT.format(provider=provider)
    if how == "basic":
        response = httpx.post(url, data=data, auth=(CLIENTS[provider], "wrong"))
    else:
        response = httpx.post(url, data={**data, "client_id": CLIENTS[provider], "client_secret": "wrong"})
    assert response.status_code == status and response.json()["error"] == "invalid_client"


def test_kakao_takes_the_secret_in_the_form_only(env: Env) -> None:
    code, verifier = get_code(env, "kakao")
    data = {"grant_type": "authorization_code", "code": code, "code_verifier": verifier}
    data["redirect_uri"] = REDIRECT.format(provider="kakao")
    url = env.idp.endpoints("kakao")["token_url"] or ""
    response = httpx.post(url, data=data, auth=(CLIENTS["kakao"], SECRETS["kakao"]))
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"
    assert "client_secret_post" in response.json()["error_description"]


@pytest.mark.parametrize(
    "bad",
    [
        {"team": "OTHERTEAM1"},
        {"sub": "com.someone.else"},
        {"aud": "https://appleid.apple.com"},
        {"lifetime": -10},
        {"lifetime": 15_777_001},
        {"kid": "OTHERKEY12"},
        {"key": "other"},
    ],
    ids=["iss", "sub", "aud", "expired", "over-six-months", "kid", "foreign-key"],
)
def test_the_apple_client_secret_jwt_is_checked(env: Env, bad: dict[str, Any]) -> None:
    if bad.get("key") == "other":
        bad = {"key": new_apple_team_key()[0]}
    code, verifier = get_code(env, "apple")
    response = exchange(env, "apple", code, verifier, client_secret=env.apple_secret(**bad))
    assert response.status_code == 400 and response.json()["error"] == "invalid_client"


def test_apple_rejects_a_plain_string_secret(env: Env) -> None:
    code, verifier = get_code(env, "apple")
    response = exchange(env, "apple", code, verifier, client_secret="not-a-jwt")
    assert response.status_code == 400 and response.json()["error"] == "invalid_client"


def test_refresh_grant_issues_a_new_access_token_without_nonce(env: Env) -> None:
    code, verifier = get_code(env, "google")
    tokens = exchange(env, "google", code, verifier).json()
    url = env.idp.endpoints("google")["token_url"] or ""
    auth = (CLIENTS["google"], SECRETS["google"])
    refreshed = httpx.post(
        url, data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}, auth=auth
    )
    assert refreshed.status_code == 200, refreshed.text
    body = refreshed.json()
    assert body["access_token"] != tokens["access_token"] and "refresh_token" not in body
    assert "nonce" not in verify(env, "google", body["id_token"])
    assert profile(env, "google", body["access_token"]).status_code == 200
    bogus = httpx.post(url, data={"grant_type": "refresh_token", "refresh_token": "nope"}, auth=auth)
    assert bogus.status_code == 400 and bogus.json()["error"] == "invalid_grant"


# ---- profile endpoints: the app flow's access tokens, and their refusals -------------------------------


def test_profile_endpoints_accept_minted_access_tokens(env: Env) -> None:
    token = env.idp.mint_access_token("naver", USERS["naver"])
    assert profile(env, "naver", token).json()["response"]["id"] == USERS["naver"]
    token = env.idp.mint_access_token("kakao", USERS["kakao"])
    assert profile(env, "kakao", token).json()["id"] == int(USERS["kakao"])


def test_profile_endpoints_refuse_bad_tokens_in_each_providers_shape(env: Env) -> None:
    assert profile(env, "kakao", "bogus").json() == {"msg": "this access token does not exist", "code": -401}
    expired = env.idp.mint_access_token("kakao", USERS["kakao"], expires_in=-1)
    response = profile(env, "kakao", expired)
    assert response.status_code == 401
    assert response.json() == {"msg": "this access token is already expired", "code": -401}
    response = profile(env, "naver", "bogus")
    assert response.status_code == 401 and response.json()["resultcode"] == "024"
    response = profile(env, "google", "bogus")
    assert response.status_code == 401 and response.json()["error"] == "invalid_request"
    assert "invalid_token" in response.headers["www-authenticate"]
    # A token from another provider is as good as none.
    naver_token = env.idp.mint_access_token("naver", USERS["naver"])
    assert profile(env, "kakao", naver_token).status_code == 401


# ---- revocation ---------------------------------------------------------------------------------------


def test_apple_revoke_is_recorded_and_ends_the_grant(env: Env) -> None:
    code, verifier = get_code(env, "apple")
    tokens = exchange(env, "apple", code, verifier).json()
    data = {"client_id": CLIENTS["apple"], "client_secret": env.apple_secret()}
    revoke_url = env.idp.endpoints("apple")["revoke_url"] or ""
    data |= {"token": tokens["refresh_token"], "token_type_hint": "refresh_token"}
    response = httpx.post(revoke_url, data=data)
    assert response.status_code == 200 and response.content == b""
    record = env.idp.revoked[-1]
    assert (record.provider, record.kind, record.subject) == ("apple", "revoke", USERS["apple"])
    assert record.token_type_hint == "refresh_token"
    refresh = {
        "grant_type": "refresh_token",
        "refresh_token": tokens["refresh_token"],
        **env.client_auth("apple")["data"],
    }
    assert httpx.post(env.idp.endpoints("apple")["token_url"] or "", data=refresh).json()["error"] == "invalid_grant"
    bad = httpx.post(revoke_url, data={**data, "client_secret": env.apple_secret(team="WRONGTEAM0")})
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_client"


def test_kakao_unlink_by_user_token_and_by_admin_key(env: Env) -> None:
    token = env.idp.mint_access_token("kakao", USERS["kakao"])
    unlink_url = env.idp.endpoints("kakao")["revoke_url"] or ""
    response = httpx.post(unlink_url, headers={"Authorization": f"Bearer {token}"})
    assert response.json() == {"id": int(USERS["kakao"])}
    assert env.idp.revoked[-1].kind == "unlink" and env.idp.revoked[-1].subject == USERS["kakao"]
    assert profile(env, "kakao", token).status_code == 401
    response = httpx.post(
        unlink_url,
        headers={"Authorization": "KakaoAK kakao-admin-key"},
        data={"target_id_type": "user_id", "target_id": USERS["kakao"]},
    )
    assert response.json() == {"id": int(USERS["kakao"])}
    assert env.idp.revoked[-1].client_id == "kakao-admin-app"
    wrong = httpx.post(unlink_url, headers={"Authorization": "KakaoAK nope"}, data={"target_id_type": "user_id"})
    assert wrong.status_code == 401 and wrong.json()["code"] == -401


def test_naver_deletes_tokens_through_its_token_endpoint(env: Env) -> None:
    code, verifier = get_code(env, "naver")
    access = exchange(env, "naver", code, verifier).json()["access_token"]
    url = env.idp.endpoints("naver")["revoke_url"] or ""
    params = {"grant_type": "delete", "access_token": access, "service_provider": "NAVER"}
    response = httpx.post(url, data={**params, **env.client_auth("naver")["data"]})
    assert response.json() == {"access_token": access, "result": "success"}
    assert env.idp.revoked[-1].kind == "delete" and profile(env, "naver", access).status_code == 401


# ---- minted attack tokens, as PyJWT sees them ------------------------------------------------------------


def test_attack_tokens_fail_verification(env: Env) -> None:
    mint = env.idp.mint_id_token
    subject = USERS["google"]
    with pytest.raises(jwt.InvalidSignatureError):
        verify(env, "google", mint("google", subject, audience="a", sign_with="foreign"), audience="a")
    with pytest.raises(jwt.PyJWKClientError):
        verify(env, "google", mint("google", subject, audience="a", kid="unknown"), audience="a")
    unsigned = mint("google", subject, audience="a", sign_with="none")
    assert unsigned.endswith(".") and jwt.get_unverified_header(unsigned)["alg"] == "none"
    with pytest.raises(jwt.InvalidAlgorithmError):
        verify(env, "google", unsigned, audience="a")
    with pytest.raises(jwt.InvalidAlgorithmError):
        verify(env, "google", mint("google", subject, audience="a", sign_with="hs256"), audience="a")
    with pytest.raises(jwt.ExpiredSignatureError):
        verify(env, "google", mint("google", subject, audience="a", expires_in=-60), audience="a")
    with pytest.raises(jwt.InvalidIssuerError):
        verify(env, "google", mint("google", subject, audience="a", issuer="https://accounts.google.com"), audience="a")
    with pytest.raises(jwt.InvalidAudienceError):
        verify(env, "google", mint("google", subject, audience="someone-else"), audience="a")
    no_exp = mint("google", subject, audience="a", extra_claims={"exp": None})
    key = jwt.PyJWKClient(env.idp.endpoints("google")["jwks_url"] or "").get_signing_key_from_jwt(no_exp)
    with pytest.raises(jwt.MissingRequiredClaimError):
        jwt.decode(no_exp, key, algorithms=["RS256"], audience="a", options={"require": ["exp"]})


def test_apple_id_tokens_for_the_app_flow_carry_apple_claims(env: Env) -> None:
    token = env.idp.mint_id_token("apple", USERS["apple"], audience="com.woorizip.ios", nonce="hashed-nonce")
    claims = verify(env, "apple", token, audience="com.woorizip.ios")
    assert claims["email_verified"] == "true" and claims["nonce"] == "hashed-nonce"


def test_rotation_publishes_both_kids_until_old_ones_are_dropped(env: Env) -> None:
    old_kid = env.idp.active_kid("kakao")
    old_token = env.idp.mint_id_token("kakao", USERS["kakao"], audience="a")
    new_kid = env.idp.rotate_keys("kakao")
    jwks_url = env.idp.endpoints("kakao")["jwks_url"] or ""
    assert [key["kid"] for key in httpx.get(jwks_url).json()["keys"]] == [old_kid, new_kid]
    new_token = env.idp.mint_id_token("kakao", USERS["kakao"], audience="a")
    assert jwt.get_unverified_header(new_token)["kid"] == new_kid
    assert verify(env, "kakao", old_token, audience="a")["sub"] == verify(env, "kakao", new_token, audience="a")["sub"]
    assert env.idp.drop_old_keys("kakao") == [old_kid]
    assert [key["kid"] for key in httpx.get(jwks_url).json()["keys"]] == [new_kid]
    with pytest.raises(jwt.PyJWKClientError):
        verify(env, "kakao", old_token, audience="a")
