"""Families, members and invitations over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.woorizip.conftest import SettingsFactory
from tests.woorizip.family_client import Api, assert_problem, running_api, settings_for
from woorizip.db.engine import build_engine, build_session_factory
from woorizip.family import service
from woorizip.family.models import FamilyMember, Invitation


class Live:
    def __init__(self, api: Api, url: str) -> None:
        self.api = api
        self.engine = build_engine(url)

    def sql(self, statement: sa.Executable) -> None:
        with self.engine.begin() as connection:
            connection.execute(statement)


@pytest.fixture(params=["sqlite", "postgresql"])
def live(request: pytest.FixtureRequest, make_settings: SettingsFactory) -> Iterator[Live]:
    url = str(request.getfixturevalue("postgres_url")) if request.param == "postgresql" else None
    settings = settings_for(make_settings, url)
    with running_api(settings) as api:
        handle = Live(api, settings.resolved_database_url)
        try:
            yield handle
        finally:
            handle.engine.dispose()


def test_create_read_and_configure_a_family(live: Live) -> None:
    api = live.api
    mom = api.sign_up("엄마")
    created = api.ok(mom, "POST", "/v1/families", {"name": " 우리집 "}, status=201)
    assert created["name"] == "우리집" and created["timezone"] == "Asia/Seoul" and created["question_time"] == "08:00"
    assert created["my_role"] == "owner" and created["interests"] == [] and created["blocked_categories"] == []
    family = f"/v1/families/{created['id']}"
    assert api.ok(mom, "GET", family) == created
    abroad = {"name": "외갓집", "timezone": "America/Los_Angeles", "question_time": "19:30", "interests": ["memories"]}
    second = api.ok(mom, "POST", "/v1/families", abroad, status=201)
    assert (second["timezone"], second["question_time"], second["interests"]) == (
        "America/Los_Angeles",
        "19:30",
        ["memories"],
    )
    assert [f["id"] for f in api.ok(mom, "GET", "/v1/families")["items"]] == [created["id"], second["id"]]

    updated = api.ok(mom, "PATCH", family, {"name": "행복한 우리집", "timezone": "Europe/Berlin",
                                            "question_time": "21:05", "interests": ["dreams", "gratitude"],
                                            "blocked_categories": ["health_mind"]})  # fmt: skip
    assert (updated["name"], updated["timezone"], updated["question_time"]) == (
        "행복한 우리집",
        "Europe/Berlin",
        "21:05",
    )
    assert updated["interests"] == ["dreams", "gratitude"] and updated["blocked_categories"] == ["health_mind"]
    assert api.ok(mom, "GET", family) == updated

    # Liking a category that is still blocked: the stored lists count too.
    assert_problem(api.call(mom, "PATCH", family, {"interests": ["health_mind"]}), 422, "category-conflict")
    for bad in (
        {"timezone": "Mars/Olympus"}, {"timezone": "/etc/passwd"}, {"question_time": "8:00"},
        {"question_time": "24:00"}, {"interests": ["cooking"]}, {"blocked_categories": ["DREAMS"]},
        {"interests": ["daily"], "blocked_categories": ["daily"]}, {"name": ""}, {"name": "가" * 41},
        {"owner": "me"},
    ):  # fmt: skip
        assert_problem(api.call(mom, "PATCH", family, bad), 422, "validation-error")
    assert_problem(api.call(mom, "POST", "/v1/families", {"name": "x", "colour": "red"}), 422, "validation-error")
    assert_problem(api.call(mom, "POST", "/v1/families", {"name": "x", "interests": ["nope"]}), 422)
    assert_problem(api.call(None, "POST", "/v1/families", {"name": "x"}), 401, "unauthorized")
    assert api.ok(mom, "GET", family) == updated


def test_family_ids_never_reveal_other_families(live: Live) -> None:
    api = live.api
    mom, stranger = api.sign_up(), api.sign_up()
    family = api.family(mom)
    for path in (f"/v1/families/{family}", f"/v1/families/{family}/members"):
        assert_problem(api.call(stranger, "GET", path), 404, "family-not-found")
    assert_problem(api.call(stranger, "GET", f"/v1/families/{uuid.uuid4().hex}"), 404, "family-not-found")
    for malformed in ("123", family.upper(), family + "0", "g" * 32):
        assert_problem(api.call(mom, "GET", f"/v1/families/{malformed}"), 422, "validation-error")
    assert_problem(api.call(mom, "DELETE", f"/v1/families/{family}/members/not-an-id"), 422, "validation-error")
    assert_problem(
        api.call(mom, "DELETE", f"/v1/families/{family}/members/{uuid.uuid4().hex}"), 404, "member-not-found"
    )
    assert_problem(api.call(None, "GET", f"/v1/families/{family}"), 401, "unauthorized")
    assert api.ok(stranger, "GET", "/v1/families") == {"items": [], "next_cursor": None}


def test_invitations_from_creation_to_every_refusal(live: Live) -> None:
    api = live.api
    mom, dad, grandma, late = api.sign_up("엄마"), api.sign_up("아빠"), api.sign_up("할머니"), api.sign_up()
    family = api.family(mom)
    invites = f"/v1/families/{family}/invitations"
    invitation = api.ok(mom, "POST", invites, {}, status=201)
    code = invitation["code"]
    assert re.fullmatch(r"[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{8}", code)
    assert invitation["link"] == f"https://woorizip.app/invite/{code}"
    assert (invitation["role"], invitation["max_uses"], invitation["uses"]) == ("member", 1, 0)
    expires = datetime.fromisoformat(invitation["expires_at"]) - datetime.fromisoformat(invitation["created_at"])
    assert expires == timedelta(days=7)

    preview = api.ok(dad, "GET", f"/v1/invitations/{code.lower()}")
    assert preview["role"] == "member" and preview["family_name"] == "우리집"
    joined = api.ok(dad, "POST", f"/v1/invitations/{code.lower()}/accept", {"nickname": "아빠곰"}, status=201)
    assert joined["family"]["id"] == family and joined["family"]["my_role"] == "member"
    assert joined["member"]["nickname"] == "아빠곰" and joined["member"]["user_id"] == dad.id
    assert_problem(api.call(dad, "POST", f"/v1/invitations/{code}/accept"), 409, "already-member")
    assert_problem(api.call(mom, "POST", f"/v1/invitations/{code}/accept"), 409, "already-member")
    assert_problem(api.call(grandma, "POST", f"/v1/invitations/{code}/accept"), 410, "invitation-used-up")
    assert_problem(api.call(grandma, "POST", "/v1/invitations/ZZZZZZZZ/accept"), 404, "invitation-not-found")
    assert_problem(api.call(None, "POST", f"/v1/invitations/{code}/accept"), 401, "unauthorized")

    guardian_invite = api.ok(
        mom, "POST", invites, {"role": "guardian", "max_uses": 2, "expires_in_days": 30}, status=201
    )
    assert (
        api.ok(grandma, "POST", f"/v1/invitations/{guardian_invite['code']}/accept", status=201)["member"]["role"]
        == "guardian"
    )
    # A guardian invites and revokes too.
    revoked = api.ok(grandma, "POST", invites, {}, status=201)
    assert api.call(grandma, "DELETE", f"{invites}/{revoked['id']}").status_code == 204
    assert api.call(mom, "DELETE", f"{invites}/{revoked['id']}").status_code == 204  # idempotent
    assert_problem(api.call(late, "POST", f"/v1/invitations/{revoked['code']}/accept"), 410, "invitation-revoked")
    assert_problem(api.call(late, "GET", f"/v1/invitations/{revoked['code']}"), 410, "invitation-revoked")
    assert_problem(api.call(mom, "DELETE", f"{invites}/{uuid.uuid4().hex}"), 404, "invitation-not-found")

    expired = api.ok(mom, "POST", invites, {}, status=201)
    live.sql(sa.update(Invitation).where(Invitation.id == expired["id"])
             .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))  # fmt: skip
    assert_problem(api.call(late, "POST", f"/v1/invitations/{expired['code']}/accept"), 410, "invitation-expired")

    listed = {row["id"]: row for row in api.ok(mom, "GET", invites)["items"]}
    assert listed[invitation["id"]]["uses"] == 1 and listed[revoked["id"]]["revoked_at"] is not None
    assert_problem(api.call(dad, "GET", invites), 403, "forbidden-role")
    assert_problem(api.call(dad, "POST", invites, {}), 403, "forbidden-role")
    for bad in ({"role": "owner"}, {"role": "child"}, {"expires_in_days": 31}, {"expires_in_days": 0},
                {"max_uses": 21}, {"max_uses": 0}, {"code": "AAAAAAAA"}):  # fmt: skip
        assert_problem(api.call(mom, "POST", invites, bad), 422, "validation-error")
    assert_problem(api.call(late, "POST", f"/v1/invitations/{code}/accept", {"nickname": "x", "role": "owner"}), 422)


def test_members_managed_children_ownership_and_soft_removal(live: Live) -> None:
    api = live.api
    mom, dad, teen = api.sign_up("엄마"), api.sign_up("아빠"), api.sign_up("첫째")
    family = api.family(mom)
    base = f"/v1/families/{family}"
    dad_id = api.join(family, mom, dad)
    teen_id = api.join(family, mom, teen)

    # A young child without an account: consent is required under 14, and recorded.
    child = {
        "nickname": "막내",
        "birth_year": datetime.now(UTC).year - 5,
        "birthday": {"month": 8, "day": 15, "lunar": True},
    }
    assert_problem(api.call(mom, "POST", f"{base}/members", child), 422, "guardian-consent-required")
    assert_problem(api.call(mom, "POST", f"{base}/members", {**child, "birthday": {"month": 2, "day": 30}}), 422)
    assert_problem(api.call(dad, "POST", f"{base}/members", {**child, "guardian_consent": True}), 403, "forbidden-role")
    managed = api.ok(mom, "POST", f"{base}/members", {**child, "guardian_consent": True}, status=201)
    assert managed["managed"] and managed["user_id"] is None and managed["role"] == "child"
    assert managed["guardian_consent_at"] is not None and managed["birthday"] == {"month": 8, "day": 15, "lunar": True}
    grandpa = api.ok(
        mom, "POST", f"{base}/members", {"nickname": "할아버지", "birth_year": 1950, "role": "member"}, status=201
    )
    assert grandpa["guardian_consent_at"] is None
    with build_session_factory(live.engine)() as session:
        row = session.get(FamilyMember, managed["id"])
        assert row is not None and row.guardian_consent_by == mom.id

    # Profiles: my own via /members/me, anyone's (and roles) by the owner or a guardian.
    assert (
        api.ok(teen, "PATCH", f"{base}/members/me", {"nickname": "큰딸", "birthday": {"month": 2, "day": 29}})[
            "nickname"
        ]
        == "큰딸"
    )
    assert_problem(api.call(teen, "PATCH", f"{base}/members/me", {"role": "guardian"}), 422, "validation-error")
    assert_problem(api.call(teen, "PATCH", f"{base}/members/{dad_id}", {"nickname": "x"}), 403, "forbidden-role")
    assert api.ok(mom, "PATCH", f"{base}/members/{teen_id}", {"role": "child"})["role"] == "child"
    mom_id = api.member_id(family, mom)
    assert_problem(api.call(dad, "PATCH", f"{base}/members/{mom_id}", {"role": "member"}), 403, "forbidden-role")
    assert_problem(api.call(mom, "PATCH", f"{base}/members/{mom_id}", {"role": "member"}), 409, "owner-role-fixed")
    assert_problem(
        api.call(mom, "PATCH", f"{base}/members/{managed['id']}", {"role": "guardian"}), 409, "managed-profile"
    )

    # Exactly one owner: leave needs a transfer first; transfers go to people with accounts.
    assert_problem(api.call(mom, "POST", f"{base}/leave"), 409, "owner-must-transfer")
    assert_problem(api.call(dad, "POST", f"{base}/ownership", {"member_id": mom_id}), 403, "forbidden-role")
    assert_problem(api.call(mom, "POST", f"{base}/ownership", {"member_id": managed["id"]}), 409, "managed-profile")
    assert_problem(api.call(mom, "POST", f"{base}/ownership", {"member_id": mom_id}), 409, "already-owner")
    assert_problem(api.call(mom, "POST", f"{base}/ownership", {"member_id": "x"}), 422, "validation-error")
    transferred = api.ok(mom, "POST", f"{base}/ownership", {"member_id": dad_id})
    assert (transferred["owner"]["id"], transferred["owner"]["role"]) == (dad_id, "owner")
    assert (transferred["previous_owner"]["id"], transferred["previous_owner"]["role"]) == (mom_id, "guardian")
    assert_problem(api.call(mom, "DELETE", f"{base}/members/{dad_id}"), 409, "owner-cannot-be-removed")

    # Removal and leaving are soft, and the removed member's valid token stops working at once.
    assert api.call(mom, "DELETE", f"{base}/members/{teen_id}").status_code == 204
    assert_problem(api.call(teen, "GET", base), 404, "family-not-found")
    assert_problem(api.call(teen, "POST", f"{base}/leave"), 404, "family-not-found")
    assert api.ok(teen, "GET", "/v1/families")["items"] == []
    assert api.ok(teen, "GET", "/v1/me")["id"] == teen.id  # the account itself is fine
    assert api.call(mom, "POST", f"{base}/leave").status_code == 204
    assert_problem(api.call(mom, "GET", base), 404, "family-not-found")
    members = api.ok(dad, "GET", f"{base}/members")["items"]
    assert {m["nickname"] for m in members} == {"아빠", "막내", "할아버지"}
    assert [m["role"] for m in members if m["user_id"] == dad.id] == ["owner"]

    with build_session_factory(live.engine)() as session:
        rows = session.scalars(sa.select(FamilyMember).where(FamilyMember.family_id == family)).all()
        assert len(rows) == 5 and sum(row.removed_at is not None for row in rows) == 2
        exported = service.families_of(session=session, user_id=teen.id)
        assert [(e.family_id, e.removed_at is not None) for e in exported] == [(family, True)]
        assert len(service.active_members(session=session, family_id=family)) == 3

    # Back in by a new invitation: a new active membership, the old row stays.
    api.join(family, dad, teen)
    assert api.ok(teen, "GET", base)["my_role"] == "member"


def test_concurrent_accepts_never_exceed_max_uses(live: Live) -> None:
    api = live.api
    mom = api.sign_up()
    family = api.family(mom)
    invitation = api.ok(mom, "POST", f"/v1/families/{family}/invitations", {"max_uses": 3}, status=201)
    people = [api.sign_up() for _ in range(8)]

    def accept(person):  # type: ignore[no-untyped-def]
        return api.call(person, "POST", f"/v1/invitations/{invitation['code']}/accept")

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(accept, [*people, people[0], people[1]]))
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) == 3, [r.text for r in responses]
    for response in responses:
        if response.status_code != 201:
            assert response.status_code in (409, 410)
            assert_problem(response, response.status_code)
    listed = api.ok(mom, "GET", f"/v1/families/{family}/invitations")["items"]
    assert listed[0]["uses"] == 3
    assert len(api.ok(mom, "GET", f"/v1/families/{family}/members")["items"]) == 4
