"""Every family-scoped route × role × (own family, other family, removed member, no family), over HTTP.

The routes are read from `app.routes`: a new route under /v1/families/{family_id} fails this test
until its expected statuses are added to EXPECTED.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import postgres_schema
from tests.woorizip.conftest import SettingsFactory
from tests.woorizip.family_client import PROBLEM, PROBLEM_BASE, Api, Person, running_api, settings_for

ROLES = ("guardian", "member", "child", "owner")  # the owner last: its transfer changes the family


@dataclass
class Family:
    id: str
    owner: Person
    member_id: str  # an account holder who is not the owner (transfer target)
    managed_id: str
    invitation_id: str


@dataclass
class World:
    own: Family  # callers' family
    other: Family  # someone else's family
    former: Family  # a family whose former owner transferred and left
    callers: dict[str, Person]  # by role, in `own`
    removed: dict[str, Person]  # by role, removed from `own` (the owner: from `former`)
    nobody: Person


def _family(api: Api, owner: Person, *, member: Person | None = None) -> Family:
    family_id = api.family(owner)
    member_id = api.join(family_id, owner, member) if member else api.member_id(family_id, owner)
    invitation = api.ok(owner, "POST", f"/v1/families/{family_id}/invitations", {}, status=201)
    return Family(family_id, owner, member_id, api.child(family_id, owner), invitation["id"])


def build_world(api: Api) -> World:
    owner, guardian, member, child = (api.sign_up() for _ in range(4))
    own = _family(api, owner, member=member)
    api.join(own.id, owner, guardian, role="guardian")
    child_id = api.join(own.id, owner, child)
    api.ok(owner, "PATCH", f"/v1/families/{own.id}/members/{child_id}", {"role": "child"})
    removed = {role: api.sign_up() for role in ("guardian", "member", "child", "owner")}
    for role in ("guardian", "member", "child"):
        member_id = api.join(own.id, owner, removed[role], role="guardian" if role == "guardian" else "member")
        if role == "child":
            api.ok(owner, "PATCH", f"/v1/families/{own.id}/members/{member_id}", {"role": "child"})
        if role == "member":
            api.ok(removed[role], "POST", f"/v1/families/{own.id}/leave", status=204)
        else:
            api.ok(owner, "DELETE", f"/v1/families/{own.id}/members/{member_id}", status=204)
    successor = api.sign_up()
    former = _family(api, removed["owner"], member=successor)
    api.ok(removed["owner"], "POST", f"/v1/families/{former.id}/ownership", {"member_id": former.member_id})
    api.ok(removed["owner"], "POST", f"/v1/families/{former.id}/leave", status=204)
    former.owner = successor
    other = _family(api, api.sign_up(), member=api.sign_up())
    callers = {"owner": owner, "guardian": guardian, "member": member, "child": child}
    return World(own, other, former, callers, removed, api.sign_up())


Request = tuple[str, Any]  # (path after /v1/families/{family_id}, JSON body or None)
Build = Callable[[Api, Family], Request]


def by_role(*, owner: int, guardian: int, member: int, child: int) -> dict[str, int]:
    return {"owner": owner, "guardian": guardian, "member": member, "child": child}


def _fresh_child(api: Api, family: Family) -> Request:
    return f"/members/{api.child(family.id, family.owner)}", None


EXPECTED: dict[tuple[str, str], tuple[Build, dict[str, int]]] = {
    ("GET", ""): (lambda api, f: ("", None), by_role(owner=200, guardian=200, member=200, child=200)),
    ("PATCH", ""): (lambda api, f: ("", {"name": "새 이름"}), by_role(owner=200, guardian=200, member=403, child=403)),
    ("GET", "/members"): (lambda api, f: ("/members", None), by_role(owner=200, guardian=200, member=200, child=200)),
    ("POST", "/members"): (
        lambda api, f: ("/members", {"nickname": "아기", "birth_year": 2024, "guardian_consent": True}),
        by_role(owner=201, guardian=201, member=403, child=403),
    ),
    ("PATCH", "/members/me"): (
        lambda api, f: ("/members/me", {"nickname": "나"}),
        by_role(owner=200, guardian=200, member=200, child=200),
    ),
    ("PATCH", "/members/{member_id}"): (
        lambda api, f: (f"/members/{f.managed_id}", {"nickname": "둘째"}),
        by_role(owner=200, guardian=200, member=403, child=403),
    ),
    ("DELETE", "/members/{member_id}"): (_fresh_child, by_role(owner=204, guardian=204, member=403, child=403)),
    ("POST", "/leave"): (lambda api, f: ("/leave", None), by_role(owner=409, guardian=204, member=204, child=204)),
    ("POST", "/ownership"): (
        lambda api, f: ("/ownership", {"member_id": f.member_id}),
        by_role(owner=200, guardian=403, member=403, child=403),
    ),
    ("POST", "/invitations"): (
        lambda api, f: ("/invitations", {}),
        by_role(owner=201, guardian=201, member=403, child=403),
    ),
    ("GET", "/invitations"): (
        lambda api, f: ("/invitations", None),
        by_role(owner=200, guardian=200, member=403, child=403),
    ),
    ("DELETE", "/invitations/{invitation_id}"): (
        lambda api, f: (f"/invitations/{f.invitation_id}", None),
        by_role(owner=204, guardian=204, member=403, child=403),
    ),
}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def api(request: pytest.FixtureRequest, make_settings_module: SettingsFactory) -> Iterator[Api]:
    with ExitStack() as stack:
        database_url = None
        if request.param == "postgres":
            database_url = stack.enter_context(postgres_schema(request.getfixturevalue("postgres_server_url")))
        yield stack.enter_context(running_api(settings_for(make_settings_module, database_url)))


@pytest.fixture(scope="module")
def make_settings_module(tmp_path_factory: pytest.TempPathFactory, mongo_url: str) -> SettingsFactory:
    from woorizip.settings import Settings

    data_dir = tmp_path_factory.mktemp("matrix")

    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {"data_dir": data_dir, "mongo_url": mongo_url, "environment": "test", **overrides}
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return build


def family_routes(api: Api) -> set[tuple[str, str]]:
    """(method, path below the family) of every route under /v1/families/{family_id}."""
    assert api.app is not None
    # The OpenAPI document, not `app.routes`: FastAPI 0.150 keeps included routers lazily, so
    # `app.routes` no longer lists their APIRoutes; the document always does.
    prefix = "/v1/families/{family_id}"
    return {
        (method.upper(), path.removeprefix(prefix))
        for path, operations in api.app.openapi()["paths"].items()
        if path == prefix or path.startswith(prefix + "/")
        for method in operations
    }


def test_every_family_route_is_in_the_matrix(api: Api) -> None:
    assert family_routes(api) == set(EXPECTED)


@pytest.mark.parametrize("route", sorted(EXPECTED), ids=lambda r: f"{r[0]} {r[1] or '/'}")
def test_route_by_role_and_family(api: Api, route: tuple[str, str]) -> None:
    method, _ = route
    build, expected = EXPECTED[route]
    world = build_world(api)
    failures: list[str] = []

    def check(context: str, who: Person, family: Family, want: int) -> None:
        path, body = build(api, family)
        response = api.call(who, method, f"/v1/families/{family.id}{path}", body)
        if response.status_code != want:
            failures.append(f"{context}: {response.status_code} != {want}: {response.text[:200]}")
        elif want >= 400:
            slug = "family-not-found" if want == 404 else None
            problem = response.json()
            if not response.headers["content-type"].startswith(PROBLEM) or (
                slug and problem["type"] != PROBLEM_BASE + slug
            ):
                failures.append(f"{context}: not the expected problem+json: {response.text[:200]}")

    for role in ROLES:
        check(f"{role} in own family", world.callers[role], world.own, expected[role])
    for role in ROLES:
        check(f"{role} on another family", world.callers[role], world.other, 404)
        if role == "owner":
            check("former owner", world.removed["owner"], world.former, 404)
        else:
            check(f"removed {role}", world.removed[role], world.own, 404)
    check("user in no family", world.nobody, world.own, 404)
    check("user in no family, other family", world.nobody, world.other, 404)
    assert not failures, "\n".join(failures)
