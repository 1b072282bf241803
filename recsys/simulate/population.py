"""Synthetic families: members with ages and roles, latent tastes, onboarding interests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from recsys.catalog.bank import CATEGORIES
from recsys.events import Role
from recsys.simulate.params import SimulationParams

N_CATEGORIES = len(CATEGORIES)

# Rows: child (<13), teen (13-18), adult (19-64), senior (65+); columns in CATEGORIES order:
# memories, dreams, gratitude, daily, tastes, values, family_story, school_work, imagination, health_mind, seasons
AGE_GROUP_TASTE = np.array(
    [
        [-0.4, 0.3, -0.2, 0.3, 0.5, -0.5, -0.1, 0.0, 0.7, -0.3, 0.3],
        [-0.3, 0.5, -0.3, 0.1, 0.6, 0.0, -0.4, -0.5, 0.3, 0.0, 0.0],
        [0.1, 0.0, 0.2, 0.1, 0.0, 0.2, 0.1, 0.2, -0.2, 0.2, 0.0],
        [0.7, -0.3, 0.5, 0.0, -0.3, 0.3, 0.6, -0.2, -0.4, 0.3, 0.3],
    ]
)


def age_group_index(ages: np.ndarray) -> np.ndarray:
    """0 child, 1 teen, 2 adult, 3 senior."""
    return np.select([ages < 13, ages < 19, ages < 65], [0, 1, 2], default=3)


@dataclass(frozen=True)
class Population:
    """Families and members as arrays (observable part) plus their latent tastes (hidden part)."""

    family_ids: np.ndarray  # (F,) str
    member_ids: np.ndarray  # (M,) str
    member_family: np.ndarray  # (M,) family row, members sorted by family
    member_age: np.ndarray  # (M,) age in years at start
    member_role: np.ndarray  # (M,) Role values
    member_birth: np.ndarray  # (M, 3) month, day, lunar(0/1)
    interests: np.ndarray  # (F, C) bool
    blocked: np.ndarray  # (F, C) bool
    delivery_hour: np.ndarray  # (F,) local hour the question arrives
    # latent
    taste: np.ndarray  # (F, C)
    member_taste: np.ndarray  # (M, C)
    family_base: np.ndarray  # (F,)
    member_base: np.ndarray  # (M,)
    depth_preference: np.ndarray  # (F,) in [1, 3]

    @property
    def size(self) -> int:
        return len(self.family_ids)

    def families_frame(self, *, start_day: pd.Timestamp | datetime) -> pd.DataFrame:
        created = pd.Timestamp(start_day, tz=UTC) if not isinstance(start_day, pd.Timestamp) else start_day
        return pd.DataFrame(
            {
                "family_id": pd.array(self.family_ids, dtype="string"),
                "created_at": pd.Series([created] * self.size, dtype="datetime64[us, UTC]"),
                "timezone": pd.array(["Asia/Seoul"] * self.size, dtype="string"),
                "interests": [[CATEGORIES[c].value for c in np.flatnonzero(row)] for row in self.interests],
                "blocked_categories": [[CATEGORIES[c].value for c in np.flatnonzero(row)] for row in self.blocked],
            }
        )

    def members_frame(self, *, year: int) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "member_id": pd.array(self.member_ids, dtype="string"),
                "family_id": pd.array(self.family_ids[self.member_family], dtype="string"),
                "role": pd.array(self.member_role, dtype="string"),
                "birth_year": pd.array(year - self.member_age, dtype="Int64"),
                "birth_month": pd.array(self.member_birth[:, 0], dtype="Int64"),
                "birth_day": pd.array(self.member_birth[:, 1], dtype="Int64"),
                "lunar_birthday": self.member_birth[:, 2].astype(bool),
            }
        )


def generate_population(
    *, n_families: int, params: SimulationParams, rng: np.random.Generator, id_prefix: str = "fam"
) -> Population:
    """Draw `n_families` families; deterministic for a given generator state."""
    sizes = rng.choice(np.arange(2, 7), size=n_families, p=np.asarray(params.family_size_weights))
    ages: list[int] = []
    roles: list[str] = []
    member_family: list[int] = []
    for family, size in enumerate(sizes):
        family_ages, family_roles = _members(int(size), params=params, rng=rng)
        ages += family_ages
        roles += family_roles
        member_family += [family] * len(family_ages)
    member_family_array = np.asarray(member_family)
    n_members = len(ages)
    birth = np.column_stack(
        [rng.integers(1, 13, n_members), rng.integers(1, 29, n_members), rng.random(n_members) < 0.2]
    ).astype(int)

    taste = rng.normal(0.0, params.category_taste_sd, size=(n_families, N_CATEGORIES))
    favourites = np.argsort(rng.random((n_families, N_CATEGORIES)), axis=1)[:, : params.favourite_categories]
    np.put_along_axis(taste, favourites, np.take_along_axis(taste, favourites, axis=1) + params.favourite_boost, axis=1)
    noisy = taste + rng.normal(0.0, params.interest_noise_sd, size=taste.shape)
    interests = np.zeros_like(taste, dtype=bool)
    np.put_along_axis(interests, np.argsort(-noisy, axis=1)[:, : params.interests_chosen], True, axis=1)
    # A few families block the category they like least (e.g. no "values" talk at dinner).
    blocked = np.zeros_like(interests)
    blockers = rng.random(n_families) < 0.1
    blocked[np.flatnonzero(blockers), np.argmin(taste[blockers], axis=1)] = True

    ages_array = np.asarray(ages)
    youngest = np.full(n_families, 200)
    np.minimum.at(youngest, member_family_array, ages_array)
    depth = np.clip(rng.normal(2.0, 0.6, n_families) - 0.5 * (youngest < 10), 1.0, 3.0)
    member_base = np.where(ages_array < 13, 0.1, 0.0)
    member_base = member_base + np.where((ages_array >= 13) & (ages_array < 19), params.teen_offset, 0.0)
    member_base = member_base + np.where(ages_array >= 65, params.senior_offset, 0.0)
    member_base = member_base + rng.normal(0.0, 0.3, n_members)
    return Population(
        family_ids=np.asarray([f"{id_prefix}-{i:06d}" for i in range(n_families)], dtype=object),
        member_ids=np.asarray([f"{id_prefix}-{f:06d}-m{j}" for f, j in _member_numbers(member_family)], dtype=object),
        member_family=member_family_array,
        member_age=ages_array,
        member_role=np.asarray(roles, dtype=object),
        member_birth=birth,
        interests=interests,
        blocked=blocked,
        delivery_hour=rng.choice([7, 8, 12, 19, 20, 21], size=n_families),
        taste=taste,
        member_taste=params.age_taste_scale * AGE_GROUP_TASTE[age_group_index(ages_array)]
        + rng.normal(0.0, params.member_taste_sd, size=(n_members, N_CATEGORIES)),
        family_base=rng.normal(params.family_base_mean, params.family_base_sd, n_families),
        member_base=member_base,
        depth_preference=depth,
    )


def _member_numbers(member_family: list[int]) -> list[tuple[int, int]]:
    numbers: list[tuple[int, int]] = []
    previous, count = -1, 0
    for family in member_family:
        count = count + 1 if family == previous else 0
        previous = family
        numbers.append((family, count))
    return numbers


def _members(size: int, *, params: SimulationParams, rng: np.random.Generator) -> tuple[list[int], list[str]]:
    """Ages and roles for one family: parents, maybe children, maybe grandparents."""
    parent_age = int(rng.integers(30, 56))
    ages = [parent_age]
    roles = [Role.OWNER.value]
    if size >= 2:
        ages.append(int(np.clip(parent_age + rng.integers(-4, 5), 25, 70)))
        roles.append(Role.GUARDIAN.value)
    remaining = size - 2
    if remaining > 0 and rng.random() < params.share_with_grandparents:
        grandparents = min(remaining, int(rng.integers(1, 3)))
        for _ in range(grandparents):
            ages.append(int(parent_age + rng.integers(24, 32)))
            roles.append(Role.MEMBER.value)
        remaining -= grandparents
    for _ in range(remaining):
        young = rng.random() < params.share_with_children
        child_age = int(rng.integers(5, 13)) if young else int(rng.integers(13, 25))
        ages.append(min(child_age, parent_age - 20))
        roles.append(Role.CHILD.value if child_age < 14 else Role.MEMBER.value)
    return ages, roles
