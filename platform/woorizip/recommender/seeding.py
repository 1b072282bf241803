"""Live families with a simulated past, for the demo: created through the same services the API uses,
their history written through the event log's one writer, so every later step treats them as real."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import pandas as pd

from recsys.catalog.schema import Category
from recsys.events import Dataset
from woorizip.auth import service as auth_service
from woorizip.backends import Backends
from woorizip.family import service as family_service
from woorizip.family.schemas import FamilyCreate, ManagedMemberCreate, ManagedRole
from woorizip.recommender.store import graft_history, record_events


@dataclass(frozen=True)
class Seeded:
    family_ids: dict[str, str]  # simulated id -> live id
    events: int


def seed_live_families(*, backends: Backends, dataset: Dataset, hasher: auth_service.PasswordHasher) -> Seeded:
    """One live family (an owner account and managed profiles of the same ages) per simulated family."""
    family_map: dict[str, str] = {}
    member_map: dict[str, str] = {}
    quotas = family_service.Quotas()
    with backends.session_factory.begin() as session:
        for number, family in enumerate(dataset.families.itertuples(index=False)):
            people = dataset.members[dataset.members["family_id"] == family.family_id].reset_index(drop=True)
            owners = people[people["role"] == "owner"]
            owner = owners.iloc[0] if len(owners) else people.iloc[0]
            user = auth_service.sign_up(
                session=session, hasher=hasher, email=f"demo-family-{number}@woorizip.example.com",
                password=secrets.token_urlsafe(24), display_name=f"데모 가족 {number + 1}",
            )  # fmt: skip
            created = family_service.create_family(
                session=session, user=user, quotas=quotas,
                family_create=FamilyCreate(
                    name=f"데모 가족 {number + 1}", interests=[Category(c) for c in family.interests],
                    blocked_categories=[Category(c) for c in family.blocked_categories], birth_year=_year(owner),
                ),
            )  # fmt: skip
            family_map[str(family.family_id)] = created.id
            member_map[str(owner["member_id"])] = created.my_member_id
            found = family_service.active_membership(session=session, family_id=created.id, user_id=user.id)
            assert found is not None
            membership = family_service.Membership(family=found[0], member=found[1], user=user)
            for _, person in people.iterrows():
                if person["member_id"] == owner["member_id"]:
                    continue
                role = ManagedRole.CHILD if person["role"] == "child" else ManagedRole.MEMBER
                profile = ManagedMemberCreate(nickname="가족", birth_year=_year(person), role=role,
                                              guardian_consent=True)  # fmt: skip
                added = family_service.add_managed_member(
                    session=session, membership=membership, member_create=profile, quotas=quotas
                )
                member_map[str(person["member_id"])] = added.id
    events = graft_history(dataset, families=family_map, members=member_map)
    written = record_events(content=backends.content, events=events)
    return Seeded(family_ids=family_map, events=written)


def _year(row: pd.Series) -> int:
    return 1980 if pd.isna(row["birth_year"]) else int(row["birth_year"])
