"""Bad input gets a clear 4xx problem and changes nothing, on SQLite and PostgreSQL alike; lists are pages."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from tests.conftest import postgres_schema
from tests.woorizip.conftest import SettingsFactory
from tests.woorizip.family_client import Api, assert_problem, running_api, settings_for


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, mongo_url: str) -> Iterator[Api]:
    from woorizip.settings import Settings

    data_dir = tmp_path_factory.mktemp("input")

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {"data_dir": data_dir, "mongo_url": mongo_url, "environment": "test", **overrides}
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    factory: SettingsFactory = make
    with ExitStack() as stack:
        database_url = None
        if request.param == "postgres":
            database_url = stack.enter_context(postgres_schema(request.getfixturevalue("postgres_server_url")))
        settings = settings_for(factory, database_url).model_copy(
            update={"max_families_per_user": 3, "max_members_per_family": 4, "max_open_invitations_per_family": 2}
        )
        yield stack.enter_context(running_api(settings))


BAD_TEXT = ["엄마\x00", "\u202e엄마", "엄마\x1b[31m", "\u200b\u200b", "줄\n바꿈", "   "]


@pytest.mark.parametrize("text", BAD_TEXT, ids=repr)
def test_control_bidi_and_invisible_text_is_refused_everywhere_text_is_stored(api: Api, text: str) -> None:
    mom = api.sign_up()
    family_id = api.family(mom)
    before = api.ok(mom, "GET", f"/v1/families/{family_id}")
    attempts = [
        ("PATCH", "/v1/me", {"display_name": text}),
        ("POST", "/v1/families", {"name": text}),
        ("PATCH", f"/v1/families/{family_id}", {"name": text}),
        ("PATCH", f"/v1/families/{family_id}/members/me", {"nickname": text}),
        ("POST", f"/v1/families/{family_id}/members", {"nickname": text, "birth_year": 2015, "guardian_consent": True}),
    ]
    for method, path, body in attempts:
        assert_problem(api.call(mom, method, path, body), 422, "validation-error")
    assert api.ok(mom, "GET", f"/v1/families/{family_id}") == before
    assert api.ok(mom, "GET", "/v1/families")["items"] == [before]


def test_a_nul_in_an_invitation_code_is_a_4xx(api: Api) -> None:
    mom = api.sign_up()
    for code in ("ABCD%00EF", "ABCDEFG%00", "%E2%80%AEABCDEFG"):
        response = api.call(mom, "GET", f"/v1/invitations/{code}")
        assert response.status_code == 422, response.text


def test_korean_text_and_emoji_are_kept_as_sent(api: Api) -> None:
    mom = api.sign_up()
    family = api.ok(mom, "POST", "/v1/families", {"name": "  우리집 👨‍👩‍👧  "}, status=201)
    assert family["name"] == "우리집 👨‍👩‍👧"


def test_duplicate_json_keys_are_refused(api: Api) -> None:
    mom = api.sign_up()
    response = api.http.post(
        "/v1/families", content=b'{"name": "a", "name": "b"}',
        headers={**mom.headers, "content-type": "application/json"},
    )  # fmt: skip
    body = assert_problem(response, 400, "malformed-json")
    assert "name" in body["detail"]
    assert api.ok(mom, "GET", "/v1/families")["items"] == []


@pytest.mark.parametrize(
    "body",
    [
        {"name": "집", "timezone": "Mars/Olympus"},
        {"name": "집", "timezone": "../../etc/passwd"},
        {"name": "집", "interests": ["memories", "memories"]},
        {"name": "집", "birth_year": 2045},
        {"name": "집", "birth_year": "1980"},
        {"name": "집", "birth_year": 1980.0},
    ],
)
def test_family_fields_are_checked_strictly(api: Api, body: dict[str, Any]) -> None:
    mom = api.sign_up()
    assert_problem(api.call(mom, "POST", "/v1/families", body), 422, "validation-error")
    assert api.ok(mom, "GET", "/v1/families")["items"] == []


@pytest.mark.parametrize("body", [{"max_uses": True}, {"max_uses": "2"}, {"expires_in_days": 1.5}])
def test_numbers_and_booleans_are_strict(api: Api, body: dict[str, Any]) -> None:
    mom = api.sign_up()
    family_id = api.family(mom)
    assert_problem(api.call(mom, "POST", f"/v1/families/{family_id}/invitations", body), 422, "validation-error")
    child = {"nickname": "아기", "birth_year": 2020, "guardian_consent": 1}
    assert_problem(api.call(mom, "POST", f"/v1/families/{family_id}/members", child), 422, "validation-error")


def test_quotas_on_families_members_and_open_invitations(api: Api) -> None:
    mom = api.sign_up()
    for _ in range(3):
        api.family(mom)
    assert_problem(api.call(mom, "POST", "/v1/families", {"name": "넷째 집"}), 409, "quota-exceeded")
    family_id = api.ok(mom, "GET", "/v1/families")["items"][0]["id"]
    invitations = f"/v1/families/{family_id}/invitations"
    first = api.ok(mom, "POST", invitations, {}, status=201)
    api.ok(mom, "POST", invitations, {}, status=201)
    assert_problem(api.call(mom, "POST", invitations, {}), 409, "quota-exceeded")
    api.ok(mom, "DELETE", f"{invitations}/{first['id']}", status=204)
    api.ok(mom, "POST", invitations, {}, status=201)  # a revoked one no longer counts
    for nickname in ("첫째", "둘째", "셋째"):
        api.child(family_id, mom, nickname)
    body = {"nickname": "넷째", "birth_year": 2020, "guardian_consent": True}
    assert_problem(api.call(mom, "POST", f"/v1/families/{family_id}/members", body), 409, "quota-exceeded")


def test_lists_are_pages_with_cursors(api: Api) -> None:
    mom = api.sign_up()
    created = [api.family(mom, name=f"집{i}") for i in range(3)]
    seen: list[str] = []
    cursor = None
    while True:
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = api.ok(mom, "GET", f"/v1/families{query}")
        seen += [family["id"] for family in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == created
    assert_problem(api.call(mom, "GET", "/v1/families?cursor=bm90LWEtY3Vyc29y"), 400, "invalid-cursor")
    assert_problem(api.call(mom, "GET", "/v1/families?limit=101"), 422, "validation-error")


def test_no_content_answers_carry_no_body_or_content_type(api: Api) -> None:
    mom = api.sign_up()
    family_id = api.family(mom)
    invitation = api.ok(mom, "POST", f"/v1/families/{family_id}/invitations", {}, status=201)
    response = api.call(mom, "DELETE", f"/v1/families/{family_id}/invitations/{invitation['id']}")
    assert response.status_code == 204
    assert response.content == b"" and "content-type" not in response.headers


def test_method_not_allowed_lists_every_method_of_the_path(api: Api) -> None:
    mom = api.sign_up()
    response = api.call(mom, "OPTIONS", "/v1/families")
    assert_problem(response, 405, "method-not-allowed")
    assert response.headers["allow"] == "GET, HEAD, POST"
    family_id = api.family(mom)
    response = api.call(mom, "PUT", f"/v1/families/{family_id}")
    assert response.headers["allow"] == "GET, HEAD, PATCH"
