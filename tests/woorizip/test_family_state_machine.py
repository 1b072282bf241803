"""A Hypothesis state machine over families, driven over real HTTP against a model of who is where.

Each step's status is predicted from the model; after each step the invariants are read back from
the API: exactly one owner per family, invitation uses never above their maximum, and a removed
member's still-valid token answers 404 for that family at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.woorizip.conftest import SettingsFactory
from tests.woorizip.family_client import Api, Person, assert_problem, running_api, settings_for

PEOPLE = 4
MANAGERS = ("owner", "guardian")


@dataclass
class Invite:
    id: str
    code: str
    role: str
    max_uses: int
    uses: int = 0
    revoked: bool = False


@dataclass
class FamilyModel:
    id: str
    members: dict[int, tuple[str, str]] = field(default_factory=dict)  # person → (member id, role)
    managed: list[str] = field(default_factory=list)
    invites: list[Invite] = field(default_factory=list)
    removed: set[int] = field(default_factory=set)  # people once in, now out

    def role(self, person: int) -> str | None:
        return self.members[person][1] if person in self.members else None


class Families(RuleBasedStateMachine):
    api: ClassVar[Api]

    def __init__(self) -> None:
        super().__init__()
        self.people: list[Person] = []
        self.families: list[FamilyModel] = []

    @initialize()
    def fresh_people(self) -> None:
        # Fresh accounts per example, and a family that already has a guardian and a member, so
        # short programs reach the interesting rules.
        self.people = [self.api.sign_up() for _ in range(PEOPLE)]
        self.create_family(0)
        model = self.families[0]
        for person, role in ((1, "guardian"), (2, "member")):
            member_id = self.api.join(model.id, self.people[0], self.people[person], role=role)
            model.members[person] = (member_id, role)

    def _actor(self, model: FamilyModel, pick: int) -> int:
        """Mostly a current member (any role), sometimes anyone (outsiders and removed members)."""
        members = sorted(model.members)
        return members[pick % len(members)] if pick < 6 else pick % PEOPLE

    def _expect(self, response: Any, status: int, slug: str | None = None) -> Any:
        if status >= 400:
            assert_problem(response, status, slug)
            return None
        assert response.status_code == status, response.text
        return response.json() if response.content else None

    def _family(self, index: int) -> FamilyModel:
        return self.families[index % len(self.families)]

    def _gate(self, family: FamilyModel, person: int, roles: tuple[str, ...]) -> tuple[int, str | None]:
        """The status the dependencies give before the route's own rules: 404, 403 or 0 (let through)."""
        role = family.role(person)
        if role is None:
            return 404, "family-not-found"
        if role not in roles:
            return 403, "forbidden-role"
        return 0, None

    @precondition(lambda self: len(self.families) < 3)
    @rule(person=st.integers(0, PEOPLE - 1))
    def create_family(self, person: int) -> None:
        body = self._expect(self.api.call(self.people[person], "POST", "/v1/families", {"name": "우리집"}), 201)
        model = FamilyModel(body["id"])
        model.members[person] = (body["my_member_id"], "owner")
        self.families.append(model)

    @rule(family=st.integers(0, 9), by=st.integers(0, 7), role=st.sampled_from(["member", "guardian"]),
          max_uses=st.integers(1, 3))  # fmt: skip
    def invite(self, family: int, by: int, role: str, max_uses: int) -> None:
        model = self._family(family)
        by = self._actor(model, by)
        response = self.api.call(
            self.people[by], "POST", f"/v1/families/{model.id}/invitations", {"role": role, "max_uses": max_uses}
        )
        status, slug = self._gate(model, by, MANAGERS)
        body = self._expect(response, status or 201, slug)
        if body:
            model.invites.append(Invite(body["id"], body["code"], role, max_uses))

    @precondition(lambda self: any(f.invites for f in self.families))
    @rule(family=st.integers(0, 9), invite=st.integers(0, 9), person=st.integers(0, PEOPLE - 1),
          lower=st.booleans())  # fmt: skip
    def accept(self, family: int, invite: int, person: int, lower: bool) -> None:
        model = self._family(family)
        if not model.invites:
            return
        invitation = model.invites[invite % len(model.invites)]
        code = invitation.code.lower() if lower else invitation.code
        response = self.api.call(self.people[person], "POST", f"/v1/invitations/{code}/accept")
        if person in model.members:
            self._expect(response, 409, "already-member")
        elif invitation.revoked:
            self._expect(response, 410, "invitation-revoked")
        elif invitation.uses >= invitation.max_uses:
            self._expect(response, 410, "invitation-used-up")
        else:
            body = self._expect(response, 201)
            invitation.uses += 1
            model.members[person] = (body["member"]["id"], invitation.role)
            model.removed.discard(person)

    @rule(family=st.integers(0, 9), by=st.integers(0, 7), to=st.integers(0, 7))
    def transfer_ownership(self, family: int, by: int, to: int) -> None:
        model = self._family(family)
        by, to = self._actor(model, by), self._actor(model, to)
        if to not in model.members:
            return  # a target needs a member id; unknown ids are covered by the API tests
        response = self.api.call(
            self.people[by], "POST", f"/v1/families/{model.id}/ownership", {"member_id": model.members[to][0]}
        )
        status, slug = self._gate(model, by, ("owner",))
        if status:
            self._expect(response, status, slug)
        elif to == by:
            self._expect(response, 409, "already-owner")
        else:
            self._expect(response, 200)
            model.members[by] = (model.members[by][0], "guardian")
            model.members[to] = (model.members[to][0], "owner")

    @rule(family=st.integers(0, 9), person=st.integers(0, 7))
    def leave(self, family: int, person: int) -> None:
        model = self._family(family)
        person = self._actor(model, person)
        response = self.api.call(self.people[person], "POST", f"/v1/families/{model.id}/leave")
        status, slug = self._gate(model, person, ("guardian", "member", "child"))
        if status == 403:
            self._expect(response, 409, "owner-must-transfer")
        elif status:
            self._expect(response, status, slug)
        else:
            self._expect(response, 204)
            del model.members[person]
            model.removed.add(person)

    @rule(family=st.integers(0, 9), by=st.integers(0, 7), which=st.integers(0, 20))
    def remove(self, family: int, by: int, which: int) -> None:
        model = self._family(family)
        by = self._actor(model, by)
        targets = [(person, member_id, role) for person, (member_id, role) in model.members.items()]
        targets += [(None, member_id, "child") for member_id in model.managed]
        person, member_id, role = targets[which % len(targets)]
        response = self.api.call(self.people[by], "DELETE", f"/v1/families/{model.id}/members/{member_id}")
        status, slug = self._gate(model, by, MANAGERS)
        if status:
            self._expect(response, status, slug)
        elif role == "owner":
            self._expect(response, 409, "owner-cannot-be-removed")
        else:
            self._expect(response, 204)
            if person is None:
                model.managed.remove(member_id)
            else:
                del model.members[person]
                model.removed.add(person)

    @precondition(lambda self: any(f.invites for f in self.families))
    @rule(family=st.integers(0, 9), invite=st.integers(0, 9), by=st.integers(0, 7))
    def revoke(self, family: int, invite: int, by: int) -> None:
        model = self._family(family)
        if not model.invites:
            return
        invitation = model.invites[invite % len(model.invites)]
        by = self._actor(model, by)
        response = self.api.call(self.people[by], "DELETE", f"/v1/families/{model.id}/invitations/{invitation.id}")
        status, slug = self._gate(model, by, MANAGERS)
        self._expect(response, status or 204, slug)
        if not status:
            invitation.revoked = True

    @rule(family=st.integers(0, 9), by=st.integers(0, 7), consent=st.booleans())
    def add_managed_child(self, family: int, by: int, consent: bool) -> None:
        model = self._family(family)
        by = self._actor(model, by)
        body = {"nickname": "막내", "birth_year": 2021, "guardian_consent": consent}
        response = self.api.call(self.people[by], "POST", f"/v1/families/{model.id}/members", body)
        status, slug = self._gate(model, by, MANAGERS)
        if status:
            self._expect(response, status, slug)
        elif not consent:
            self._expect(response, 422, "guardian-consent-required")
        else:
            model.managed.append(self._expect(response, 201)["id"])

    @invariant()
    def exactly_one_owner_and_the_model_matches(self) -> None:
        for model in self.families:
            owner = next(person for person, (_, role) in model.members.items() if role == "owner")
            members = self.api.ok(self.people[owner], "GET", f"/v1/families/{model.id}/members")["items"]
            assert [m["role"] for m in members].count("owner") == 1
            by_id = {m["id"]: m["role"] for m in members}
            expected = dict(model.members.values())
            expected.update(dict.fromkeys(model.managed, "child"))
            assert by_id == expected

    @invariant()
    def invitation_uses_never_exceed_the_maximum(self) -> None:
        for model in self.families:
            if not model.invites:
                continue
            owner = next(person for person, (_, role) in model.members.items() if role == "owner")
            for row in self.api.ok(self.people[owner], "GET", f"/v1/families/{model.id}/invitations")["items"]:
                assert 0 <= row["uses"] <= row["max_uses"]

    @invariant()
    def removed_members_are_shut_out_at_once(self) -> None:
        for model in self.families:
            for person in model.removed:
                response = self.api.call(self.people[person], "GET", f"/v1/families/{model.id}")
                assert_problem(response, 404, "family-not-found")


@pytest.fixture(params=["sqlite", "postgres"])
def api(request: pytest.FixtureRequest, make_settings: SettingsFactory) -> Iterator[Api]:
    database_url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    with running_api(settings_for(make_settings, database_url)) as served:
        yield served


def test_family_rules_hold_over_any_sequence(api: Api) -> None:
    Families.api = api
    run_state_machine_as_test(
        Families,
        settings=settings(
            max_examples=15, stateful_step_count=12, deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much], database=None,
        ),
    )  # fmt: skip
