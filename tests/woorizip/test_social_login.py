"""Social sign-in over real HTTP, against the loopback Google / Apple / Kakao / Naver identity provider."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography.fernet import Fernet

from tests.conftest import free_port, postgres_schema
from tests.support.idp import LoopbackIdP, form_post_fields, new_apple_team_key
from tests.woorizip.accounts import CHEAP_HASHER, Api, assert_problem
from tests.woorizip.live import serve
from woorizip.app import create_app
from woorizip.auth.social.providers import JwksCache
from woorizip.auth.social.service import revoke_provider_grants
from woorizip.db import migrate
from woorizip.settings import AppleSettings, GoogleSettings, KakaoSettings, NaverSettings, Settings, SocialSettings

CLIENTS = {"google": "google-web", "apple": "app.woorizip.web", "kakao": "kakao-rest", "naver": "naver-web"}
# What the mobile apps' SDKs put into `aud`: not the web client id.
APP_CLIENTS = {"google": "google-ios", "apple": "app.woorizip.ios", "kakao": "kakao-native"}
SECRETS = {"google": "g-secret", "kakao": "k-secret", "naver": "n-secret"}
APPLE_TEAM, APPLE_KID = "TEAM123456", "KEY1234567"
KAKAO_ADMIN_KEY = "kakao-admin-key"
OIDC = ("google", "apple", "kakao")


@dataclass
class Env:
    api: Api
    idp: LoopbackIdP
    settings: SocialSettings

    def sign_in(self, provider: str, **body: Any) -> httpx.Response:
        return self.api.post(f"/v1/auth/social/{provider}", json=body)


def _provider(idp: LoopbackIdP, provider: str) -> dict[str, Any]:
    urls = idp.endpoints(provider)
    return {
        "issuers": [urls["issuer"]] if urls["issuer"] else [],
        **{name: urls[name] for name in ("authorize_url", "token_url", "jwks_url", "userinfo_url", "revoke_url")},
    }


def _social_settings(idp: LoopbackIdP, apple_private: str, base: str) -> SocialSettings:
    link_page = base + "/link/{}"
    return SocialSettings(
        google=GoogleSettings(
            client_id=CLIENTS["google"], client_secret=SECRETS["google"], app_client_ids=[APP_CLIENTS["google"]],
            scope="openid email profile", token_auth_method="client_secret_basic",
            link_redirect_uri=link_page.format("google"), **_provider(idp, "google"),
        ),
        apple=AppleSettings(
            client_id=CLIENTS["apple"], app_client_ids=[APP_CLIENTS["apple"]], scope="openid email name",
            team_id=APPLE_TEAM, key_id=APPLE_KID, private_key=apple_private,
            link_redirect_uri=link_page.format("apple"), **_provider(idp, "apple"),
        ),
        kakao=KakaoSettings(
            client_id=CLIENTS["kakao"], client_secret=SECRETS["kakao"], app_client_ids=[APP_CLIENTS["kakao"]],
            admin_key=KAKAO_ADMIN_KEY, scope="openid", **_provider(idp, "kakao"),
        ),
        naver=NaverSettings(client_id=CLIENTS["naver"], client_secret=SECRETS["naver"], scope="",
                               **_provider(idp, "naver")),
        jwks_refetch_cooldown_seconds=0,
        grant_encryption_key=Fernet.generate_key().decode(),
    )  # fmt: skip


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, mongo_url: str) -> Iterator[Env]:
    with ExitStack() as stack:
        database_url = None
        if request.param == "postgres":
            database_url = stack.enter_context(postgres_schema(request.getfixturevalue("postgres_server_url")))
        yield stack.enter_context(_running_env(tmp_path_factory, mongo_url, database_url))


@contextmanager
def _running_env(tmp_path_factory: pytest.TempPathFactory, mongo_url: str, database_url: str | None) -> Iterator[Env]:
    data_dir = tmp_path_factory.mktemp("social") / "var"
    data_dir.mkdir()
    settings = Settings(_env_file=None, data_dir=data_dir, mongo_url=mongo_url, environment="test",
                        database_url=database_url, limit_login_per_ip="10000/minute")  # fmt: skip
    migrate.upgrade(url=settings.resolved_database_url)
    apple_private, apple_public = new_apple_team_key()
    with LoopbackIdP() as idp:
        app = create_app(settings)
        app.state.hasher = CHEAP_HASHER
        with serve(app) as base:
            app.state.social_settings = _social_settings(idp, apple_private, base)
            callback = base + "/v1/auth/social/{}/callback"
            for provider in ("google", "naver"):
                idp.register_client(
                    provider, client_id=CLIENTS[provider], client_secret=SECRETS[provider],
                    redirect_uris=[callback.format(provider), base + f"/link/{provider}"],
                )  # fmt: skip
            idp.register_client(
                "kakao", client_id=CLIENTS["kakao"], client_secret=SECRETS["kakao"],
                redirect_uris=[callback.format("kakao")], kakao_admin_key=KAKAO_ADMIN_KEY,
            )  # fmt: skip
            idp.register_client(
                "apple", client_id=CLIENTS["apple"], redirect_uris=[callback.format("apple"), base + "/link/apple"],
                apple_team_id=APPLE_TEAM, apple_key_id=APPLE_KID, apple_public_key=apple_public,
            )  # fmt: skip
            yield Env(Api(base, app), idp, app.state.social_settings)


def new_subject(env: Env, provider: str, *, email: str | None = None, verified: bool = True) -> str:
    subject = str(10**9 + secrets.randbelow(10**9)) if provider == "kakao" else uuid.uuid4().hex[:12]
    env.idp.add_user(provider, subject=subject, email=email, email_verified=verified, nickname="엄마")
    return subject


def id_token_proof(env: Env, provider: str, subject: str, **mint: Any) -> dict[str, str]:
    nonce = secrets.token_urlsafe(16)
    mint.setdefault("audience", APP_CLIENTS[provider])
    mint.setdefault("nonce", nonce)
    return {"id_token": env.idp.mint_id_token(provider, subject, **mint), "nonce": nonce}


def proof(env: Env, provider: str, subject: str) -> dict[str, str]:
    if provider == "naver":
        return {"access_token": env.idp.mint_access_token("naver", subject)}
    return id_token_proof(env, provider, subject)


def signed_in(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["token_type"] == "Bearer" and body["access_token"] and body["refresh_token"]
    return body


def bearer(body: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {body['access_token']}"}


def web_flow(env: Env, provider: str, subject: str, *, start: str | None = None, **headers: str) -> httpx.Response:
    """Drive the browser: our authorize → the provider (signed in as `subject`) → our callback."""
    env.idp.login_as(provider, subject)
    if start is None:
        started = httpx.get(env.api.base + f"/v1/auth/social/{provider}/authorize", params={"redirect_after": "/home"})
        assert started.status_code == 302, started.text
        start = started.headers["location"]
    query = parse_qs(urlsplit(start).query)
    assert query["code_challenge_method"] == ["S256"] and query["state"][0] and "code_verifier" not in query
    at_provider = httpx.get(start, timeout=10)
    if provider == "apple":
        action, fields = form_post_fields(at_provider.text)
        return httpx.post(action, data=fields, timeout=30)
    assert at_provider.status_code == 302, at_provider.text
    return httpx.get(at_provider.headers["location"], timeout=30)


# ---- app flow ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", ["google", "apple", "kakao", "naver"])
def test_app_flow_creates_an_account_once_and_signs_the_same_user_in_again(env: Env, provider: str) -> None:
    subject = new_subject(env, provider, email=f"{uuid.uuid4().hex[:8]}@example.com")
    first = signed_in(env.sign_in(provider, **proof(env, provider, subject)))
    again = signed_in(env.sign_in(provider, **proof(env, provider, subject)))
    assert first["new_account"] and not again["new_account"]
    assert first["user_id"] == again["user_id"]
    me = env.api.get("/v1/me", headers=bearer(again)).json()
    # Apple's ID token carries no name (only the first form_post does).
    assert me["id"] == first["user_id"] and me["display_name"] == ("우리집 가족" if provider == "apple" else "엄마")
    # Naver vouches for no e-mail, so none becomes the account's.
    assert (me["email"] is None) == (provider == "naver")
    identities = env.api.get("/v1/me/identities", headers=bearer(again)).json()["items"]
    assert [(i["provider"], i["subject"]) for i in identities] == [(provider, subject)]


def test_kakao_access_token_and_id_token_are_the_same_identity(env: Env) -> None:
    subject = new_subject(env, "kakao")
    by_id_token = signed_in(env.sign_in("kakao", **id_token_proof(env, "kakao", subject)))
    by_profile = signed_in(env.sign_in("kakao", access_token=env.idp.mint_access_token("kakao", subject)))
    assert by_profile["user_id"] == by_id_token["user_id"]


ATTACKS: dict[str, tuple[dict[str, Any], str]] = {
    "wrong-aud": ({"audience": "someone-elses-app"}, "wrong audience"),
    "wrong-iss": ({"issuer": "https://evil.example"}, "wrong issuer"),
    "expired": ({"expires_in": -600}, "expired"),
    "bad-signature": ({"sign_with": "foreign"}, "bad signature"),
    "unknown-kid": ({"kid": "no-such-key"}, "unknown key"),
    "alg-none": ({"sign_with": "none"}, "bad signature"),
    "hs256-confusion": ({"sign_with": "hs256"}, "bad signature"),
}


@pytest.mark.parametrize("provider", OIDC)
@pytest.mark.parametrize("attack", list(ATTACKS))
def test_forged_or_stale_id_tokens_are_refused_with_the_failed_check(env: Env, provider: str, attack: str) -> None:
    mint, reason = ATTACKS[attack]
    subject = new_subject(env, provider)
    body = assert_problem(env.sign_in(provider, **id_token_proof(env, provider, subject, **mint)), 401,
                          "invalid-id-token")  # fmt: skip
    assert body["detail"].startswith(reason), body


@pytest.mark.parametrize("provider", OIDC)
def test_nonce_must_match_and_is_required(env: Env, provider: str) -> None:
    subject = new_subject(env, provider)
    token = id_token_proof(env, provider, subject)
    other = assert_problem(env.sign_in(provider, id_token=token["id_token"], nonce="a-different-nonce"), 401,
                           "invalid-id-token")  # fmt: skip
    assert other["detail"] == "nonce mismatch"
    no_nonce_claim = id_token_proof(env, provider, subject, nonce=None)
    assert assert_problem(env.sign_in(provider, **no_nonce_claim), 401, "invalid-id-token")["detail"] == (
        "nonce mismatch"
    )
    assert_problem(env.sign_in(provider, id_token=token["id_token"]), 422, "validation-error")


@pytest.mark.parametrize("provider", ["kakao", "naver"])
def test_bad_and_expired_access_tokens_are_refused(env: Env, provider: str) -> None:
    subject = new_subject(env, provider)
    expired = env.idp.mint_access_token(provider, subject, expires_in=-1)
    for token in ("not-a-real-access-token", expired):
        assert_problem(env.sign_in(provider, access_token=token), 401, "invalid-access-token")


def test_garbage_and_unknown_providers_never_500(env: Env) -> None:
    assert_problem(env.sign_in("google", id_token="not.a.jwt-at-all", nonce="n" * 10), 401, "invalid-id-token")
    # A provider we do not know is not in the path's enum; one we know but did not set up is 404.
    assert_problem(env.sign_in("myspace", access_token="x" * 20), 422, "validation-error")
    assert_problem(env.sign_in("google", access_token="x" * 20), 401, "invalid-access-token")
    app = env.api.app
    app.state.social_settings = env.settings.model_copy(
        update={"kakao": env.settings.kakao.model_copy(update={"client_id": ""})}
    )
    try:
        assert_problem(env.sign_in("kakao", access_token="x" * 20), 404, "unknown-provider")
    finally:
        app.state.social_settings = env.settings


def test_provider_outage_is_a_502(env: Env) -> None:
    app = env.api.app
    dead = f"http://127.0.0.1:{free_port()}/v1/nid/me"
    app.state.social_settings = env.settings.model_copy(
        update={"naver": env.settings.naver.model_copy(update={"userinfo_url": dead})}
    )
    try:
        assert_problem(env.sign_in("naver", access_token="x" * 20), 502, "provider-unavailable")
    finally:
        app.state.social_settings = env.settings


# ---- JWKS caching and rotation ---------------------------------------------------------------------


def jwks_fetches(env: Env) -> int:
    return env.idp.requests.count(("GET", "/google/oauth2/v3/certs"))


def test_jwks_is_fetched_once_cached_and_refetched_after_rotation(env: Env) -> None:
    env.api.app.state.social_jwks = JwksCache()
    subject = new_subject(env, "google")
    before = jwks_fetches(env)
    for _ in range(3):
        signed_in(env.sign_in("google", **id_token_proof(env, "google", subject)))
    assert jwks_fetches(env) == before + 1
    env.idp.rotate_keys("google")
    signed_in(env.sign_in("google", **id_token_proof(env, "google", subject)))
    signed_in(env.sign_in("google", **id_token_proof(env, "google", subject)))
    assert jwks_fetches(env) == before + 2


def test_forged_kids_cannot_make_us_hammer_the_jwks(env: Env) -> None:
    app = env.api.app
    app.state.social_jwks = JwksCache()
    app.state.social_settings = env.settings.model_copy(update={"jwks_refetch_cooldown_seconds": 300})
    try:
        subject = new_subject(env, "google")
        before = jwks_fetches(env)
        for _ in range(3):
            forged = id_token_proof(env, "google", subject, kid=uuid.uuid4().hex)
            assert_problem(env.sign_in("google", **forged), 401, "invalid-id-token")
        assert jwks_fetches(env) == before + 1
    finally:
        app.state.social_settings = env.settings


# ---- web flow ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", ["google", "apple", "kakao", "naver"])
def test_web_flow_end_to_end(env: Env, provider: str) -> None:
    subject = new_subject(env, provider, email=f"{uuid.uuid4().hex[:8]}@example.com")
    answer = web_flow(env, provider, subject)
    assert answer.headers["cache-control"] == "no-store"
    first = signed_in(answer)
    assert first["new_account"] and first["redirect_after"] == "/home"
    again = signed_in(web_flow(env, provider, subject))
    assert again["user_id"] == first["user_id"] and not again["new_account"]


@pytest.mark.parametrize("provider", ["google", "apple", "kakao", "naver"])
def test_callback_without_a_known_state_is_refused(env: Env, provider: str) -> None:
    url = env.api.base + f"/v1/auth/social/{provider}/callback"
    for data in ({"code": "some-code"}, {"code": "some-code", "state": "made-up"}):
        # Apple answers with form_post; the others come back as a GET with a query.
        sent = httpx.post(url, data=data) if provider == "apple" else httpx.get(url, params=data)
        assert_problem(sent, 400, "invalid-state")


def test_a_state_is_single_use_and_bound_to_its_provider(env: Env) -> None:
    subject = new_subject(env, "google")
    env.idp.login_as("google", subject)
    start = httpx.get(env.api.base + "/v1/auth/social/google/authorize").headers["location"]
    landing = httpx.get(start).headers["location"]
    state = parse_qs(urlsplit(landing).query)["state"][0]
    wrong_provider = env.api.base + f"/v1/auth/social/kakao/callback?code=x&state={state}"
    assert_problem(httpx.get(wrong_provider), 400, "invalid-state")
    assert_problem(httpx.get(landing), 400, "invalid-state")  # the failed attempt spent it


def test_the_nonce_of_the_web_flow_is_checked(env: Env) -> None:
    subject = new_subject(env, "google")
    start = httpx.get(env.api.base + "/v1/auth/social/google/authorize").headers["location"]
    tampered = start.replace("nonce=", "nonce=x")
    body = assert_problem(web_flow(env, "google", subject, start=tampered), 401, "invalid-id-token")
    assert body["detail"] == "nonce mismatch"


def test_open_redirects_are_refused(env: Env) -> None:
    for target in ("https://evil.example/", "//evil.example", "/\\evil.example"):
        response = httpx.get(env.api.base + "/v1/auth/social/google/authorize", params={"redirect_after": target})
        assert_problem(response, 400, "invalid-redirect")


def test_provider_denial_is_a_401(env: Env) -> None:
    env.idp.login_as("kakao", None)
    start = httpx.get(env.api.base + "/v1/auth/social/kakao/authorize").headers["location"]
    landing = httpx.get(start).headers["location"]
    assert_problem(httpx.get(landing), 401, "provider-denied")


# ---- accounts: no merging by e-mail, explicit linking, unlinking --------------------------------------


def test_an_existing_email_is_never_merged_it_must_be_linked(env: Env) -> None:
    person = env.api.sign_up(email=f"{uuid.uuid4().hex[:8]}@example.com")
    subject = new_subject(env, "google", email=person.email.upper())
    assert_problem(env.sign_in("google", **id_token_proof(env, "google", subject)), 409, "link-required")
    linked = env.api.post("/v1/me/identities/google", json=id_token_proof(env, "google", subject), headers=person.auth)
    assert linked.status_code == 201, linked.text
    assert signed_in(env.sign_in("google", **id_token_proof(env, "google", subject)))["user_id"] == person.user_id
    # Linking again is a no-op; a second Google account is refused until the first is unlinked.
    again = env.api.post("/v1/me/identities/google", json=id_token_proof(env, "google", subject), headers=person.auth)
    assert again.status_code == 201
    other = new_subject(env, "google")
    second = env.api.post("/v1/me/identities/google", json=id_token_proof(env, "google", other), headers=person.auth)
    assert_problem(second, 409, "provider-already-linked")


def test_an_unverified_email_neither_collides_nor_lands_on_the_account(env: Env) -> None:
    person = env.api.sign_up(email=f"{uuid.uuid4().hex[:8]}@example.com")
    subject = new_subject(env, "google", email=person.email, verified=False)
    body = signed_in(env.sign_in("google", **id_token_proof(env, "google", subject)))
    assert body["user_id"] != person.user_id
    assert env.api.get("/v1/me", headers=bearer(body)).json()["email"] is None


def test_an_identity_linked_elsewhere_cannot_be_linked_again(env: Env) -> None:
    subject = new_subject(env, "kakao")
    signed_in(env.sign_in("kakao", **id_token_proof(env, "kakao", subject)))
    person = env.api.sign_up()
    taken = env.api.post("/v1/me/identities/kakao", json=id_token_proof(env, "kakao", subject), headers=person.auth)
    assert_problem(taken, 409, "identity-taken")
    forged = id_token_proof(env, "kakao", subject, audience="not-us")
    assert_problem(env.api.post("/v1/me/identities/kakao", json=forged, headers=person.auth), 401, "invalid-id-token")
    assert_problem(env.api.post("/v1/me/identities/kakao", json=forged), 401, "unauthorized")


def test_unlinking_never_removes_the_last_way_to_sign_in(env: Env) -> None:
    google = new_subject(env, "google")
    session = signed_in(env.sign_in("google", **id_token_proof(env, "google", google)))
    auth = bearer(session)
    assert_problem(httpx.delete(env.api.base + "/v1/me/identities/google", headers=auth), 409, "last-sign-in-method")
    naver = new_subject(env, "naver")
    linked = env.api.post("/v1/me/identities/naver", json=proof(env, "naver", naver), headers=auth)
    assert linked.status_code == 201, linked.text
    identities = env.api.get("/v1/me/identities", headers=auth).json()["items"]
    assert {i["provider"] for i in identities} == {"google", "naver"}
    assert httpx.delete(env.api.base + "/v1/me/identities/google", headers=auth).status_code == 204
    assert_problem(httpx.delete(env.api.base + "/v1/me/identities/google", headers=auth), 404, "identity-not-found")
    assert_problem(httpx.delete(env.api.base + "/v1/me/identities/naver", headers=auth), 409, "last-sign-in-method")
    # A password account may drop its only provider.
    person = env.api.sign_up()
    env.api.post("/v1/me/identities/kakao", json=proof(env, "kakao", new_subject(env, "kakao")), headers=person.auth)
    assert httpx.delete(env.api.base + "/v1/me/identities/kakao", headers=person.auth).status_code == 204


def provider_answer(env: Env, provider: str, subject: str, start: str) -> dict[str, str]:
    """The code and state the provider hands the link page (a 302's query, or Apple's form_post fields)."""
    env.idp.login_as(provider, subject)
    answer = httpx.get(start, timeout=10)
    if provider == "apple":
        return form_post_fields(answer.text)[1]
    return {name: values[0] for name, values in parse_qs(urlsplit(answer.headers["location"]).query).items()}


@pytest.mark.parametrize("provider", ["google", "apple"])
def test_linking_through_the_web_flow(env: Env, provider: str) -> None:
    person = env.api.sign_up()
    subject = new_subject(env, provider, email=f"{uuid.uuid4().hex[:8]}@example.com")
    started = env.api.get(f"/v1/me/identities/{provider}/authorize", headers=person.auth)
    assert started.status_code == 200, started.text
    answer = provider_answer(env, provider, subject, started.json()["authorization_url"])
    link = {"code": answer["code"], "state": answer["state"]}
    linked = env.api.post(f"/v1/me/identities/{provider}", json=link, headers=person.auth)
    assert linked.status_code == 201, linked.text
    assert linked.json()["subject"] == subject
    assert signed_in(env.sign_in(provider, **proof(env, provider, subject)))["user_id"] == person.user_id


def test_a_link_started_by_someone_else_is_refused(env: Env) -> None:
    attacker, victim = env.api.sign_up(), env.api.sign_up()
    subject = new_subject(env, "google")
    started = env.api.get("/v1/me/identities/google/authorize", headers=attacker.auth).json()["authorization_url"]
    answer = provider_answer(env, "google", subject, started)
    link = {"code": answer["code"], "state": answer["state"]}
    assert_problem(env.api.post("/v1/me/identities/google", json=link, headers=victim.auth), 400, "invalid-state")
    # Nor can a linking state be spent at the sign-in callback.
    started = env.api.get("/v1/me/identities/google/authorize", headers=attacker.auth).json()["authorization_url"]
    answer = provider_answer(env, "google", subject, started)
    callback = env.api.base + "/v1/auth/social/google/callback"
    assert_problem(httpx.get(callback, params=answer), 400, "invalid-state")


def test_apple_first_login_name_becomes_the_display_name(env: Env) -> None:
    subject = uuid.uuid4().hex[:12]
    env.idp.add_user("apple", subject=subject, email=f"{subject}@privaterelay.appleid.com", first_name="민지",
                     last_name="김")  # fmt: skip
    body = signed_in(web_flow(env, "apple", subject))
    assert env.api.get("/v1/me", headers=bearer(body)).json()["display_name"] == "김민지"


# ---- revocation at account deletion -----------------------------------------------------------------


def test_revoke_provider_grants_calls_apple_revoke_and_kakao_unlink(env: Env) -> None:
    apple = new_subject(env, "apple", email=f"{uuid.uuid4().hex[:8]}@privaterelay.appleid.com")
    body = signed_in(web_flow(env, "apple", apple))  # the code flow leaves us Apple's refresh token
    kakao = new_subject(env, "kakao")
    linked = env.api.post("/v1/me/identities/kakao", json=proof(env, "kakao", kakao), headers=bearer(body))
    assert linked.status_code == 201, linked.text
    env.idp.revoked.clear()
    with env.api.app.state.backends.session_factory() as session:
        revoked = revoke_provider_grants(session=session, user_id=body["user_id"], settings=env.settings)
    assert sorted(revoked) == ["apple", "kakao"]
    seen = {(r.provider, r.kind, r.subject) for r in env.idp.revoked}
    assert seen == {("apple", "revoke", apple), ("kakao", "unlink", kakao)}
    apple_call = next(r for r in env.idp.revoked if r.provider == "apple")
    assert apple_call.client_id == CLIENTS["apple"] and apple_call.token_type_hint == "refresh_token"


def test_deleting_the_account_revokes_apple_and_unlinks_kakao(env: Env) -> None:
    apple = new_subject(env, "apple", email=f"{uuid.uuid4().hex[:8]}@privaterelay.appleid.com")
    body = signed_in(web_flow(env, "apple", apple))
    kakao = new_subject(env, "kakao")
    linked = env.api.post("/v1/me/identities/kakao", json=proof(env, "kakao", kakao), headers=bearer(body))
    assert linked.status_code == 201, linked.text
    env.idp.revoked.clear()
    deleted = env.api.post("/v1/me/deletion", json={}, headers=bearer(body))  # no password: social-only account
    assert deleted.status_code == 202, deleted.text
    assert {(r.provider, r.subject) for r in env.idp.revoked} == {("apple", apple), ("kakao", kakao)}
    assert env.api.get("/v1/me", headers=bearer(body)).status_code == 401
