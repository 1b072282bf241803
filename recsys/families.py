"""Observable family attributes as arrays: who is in the family, ages, interests, blocks, birthdays."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from recsys.catalog.bank import CATEGORIES
from recsys.catalog.calendar import Birthday, birthday_date

CATEGORY_POSITION = {category.value: i for i, category in enumerate(CATEGORIES)}
MAX_MEMBERS = 16  # the app's members-per-family quota
DEFAULT_BIRTH_YEAR = 1980  # a member without a birth year counts as an adult
N_SEGMENTS = 3


@dataclass
class FamilyTable:
    """One row per family, built from the families and members frames of a dataset."""

    family_ids: np.ndarray  # (F,) str
    interests: np.ndarray  # (F, C) bool
    blocked: np.ndarray  # (F, C) bool
    member_ids: np.ndarray  # (M,) str, grouped by family
    member_family: np.ndarray  # (M,) family row
    member_birth_year: np.ndarray  # (M,)
    member_birthday: list[Birthday | None]
    created_day: np.ndarray  # (F,) ordinal of the creation day
    index: dict[str, int] = field(init=False)
    member_index: dict[str, int] = field(init=False)
    member_slots: np.ndarray = field(init=False)
    _birthday_cache: dict[int, np.ndarray] = field(init=False, default_factory=dict)
    _profile_cache: dict[int, np.ndarray] = field(init=False, default_factory=dict)
    _segment_cache: dict[int, np.ndarray] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.index = {family_id: row for row, family_id in enumerate(self.family_ids)}
        self.member_index = {member_id: i for i, member_id in enumerate(self.member_ids)}
        # (F, largest family) member positions per family, -1 padded: lets features take a min over members.
        counts = np.bincount(self.member_family, minlength=self.size)
        if counts.max(initial=0) > MAX_MEMBERS:
            raise ValueError(f"a family has more than {MAX_MEMBERS} members")
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        slot = np.arange(len(self.member_family)) - starts[self.member_family]
        self.member_slots = np.full((self.size, max(int(counts.max(initial=0)), 1)), -1, dtype=np.int64)
        self.member_slots[self.member_family, slot] = np.arange(len(self.member_family))

    @classmethod
    def from_frames(cls, families: pd.DataFrame, members: pd.DataFrame) -> FamilyTable:
        family_ids = families["family_id"].astype(str).to_numpy(dtype=object)
        index = {family_id: row for row, family_id in enumerate(family_ids)}
        interests = np.zeros((len(family_ids), len(CATEGORIES)), dtype=bool)
        blocked = np.zeros_like(interests)
        for row, (liked, refused) in enumerate(zip(families["interests"], families["blocked_categories"], strict=True)):
            interests[row, [CATEGORY_POSITION[c] for c in list(liked)]] = True
            blocked[row, [CATEGORY_POSITION[c] for c in list(refused)]] = True
        member_family = members["family_id"].astype(str).map(index).to_numpy(dtype=int)
        order = np.argsort(member_family, kind="stable")
        members = members.iloc[order]
        birthdays: list[Birthday | None] = [
            Birthday(month=int(month), day=int(day), lunar=bool(lunar))
            if not (pd.isna(month) or pd.isna(day))
            else None
            for month, day, lunar in zip(
                members["birth_month"], members["birth_day"], members["lunar_birthday"], strict=True
            )
        ]
        created = pd.to_datetime(families["created_at"], utc=True).dt.tz_convert("Asia/Seoul").dt.date
        return cls(
            family_ids=family_ids,
            interests=interests,
            blocked=blocked,
            member_ids=members["member_id"].astype(str).to_numpy(dtype=object),
            member_family=member_family[order],
            member_birth_year=members["birth_year"].fillna(DEFAULT_BIRTH_YEAR).to_numpy(dtype=int),
            member_birthday=birthdays,
            created_day=np.asarray([day.toordinal() for day in created], dtype=np.int64),
        )

    @property
    def size(self) -> int:
        return len(self.family_ids)

    def member_ages(self, day: date) -> np.ndarray:
        return day.year - self.member_birth_year

    def age_profile(self, day: date) -> np.ndarray:
        """(F, 6): size, children (<13), teens (13-18), seniors (65+), youngest age, oldest age (read-only)."""
        # Ages here are calendar-year ages, so one profile serves a whole year (and every request in it).
        if day.year not in self._profile_cache:
            self._profile_cache[day.year] = self._age_profile(day)
        return self._profile_cache[day.year]

    def _age_profile(self, day: date) -> np.ndarray:
        ages = self.member_ages(day)
        n = self.size
        profile = np.zeros((n, 6), dtype=np.float32)
        profile[:, 0] = np.bincount(self.member_family, minlength=n)
        profile[:, 1] = np.bincount(self.member_family, weights=ages < 13, minlength=n)
        profile[:, 2] = np.bincount(self.member_family, weights=(ages >= 13) & (ages < 19), minlength=n)
        profile[:, 3] = np.bincount(self.member_family, weights=ages >= 65, minlength=n)
        youngest = np.full(n, 200)
        oldest = np.zeros(n, dtype=int)
        np.minimum.at(youngest, self.member_family, ages)
        np.maximum.at(oldest, self.member_family, ages)
        profile[:, 4] = youngest
        profile[:, 5] = oldest
        profile.setflags(write=False)
        return profile

    def segment(self, day: date) -> np.ndarray:
        """(F,) 0 with a child under 13, 1 with a member 65+, 2 otherwise: families that answer alike."""
        if day.year not in self._segment_cache:
            profile = self.age_profile(day)
            self._segment_cache[day.year] = np.select([profile[:, 1] > 0, profile[:, 3] > 0], [0, 1], default=2)
        return self._segment_cache[day.year]

    def youngest_age(self, day: date) -> np.ndarray:
        return self.age_profile(day)[:, 4]

    def birthday_active(self, day: date, *, days_before: int = 3) -> np.ndarray:
        """(F,) True when a member's birthday (solar or lunar) is today or within `days_before` days."""
        ordinals = np.concatenate([self._birthday_ordinals(day.year), self._birthday_ordinals(day.year + 1)])
        member_family = np.concatenate([self.member_family, self.member_family])
        ahead = ordinals - day.toordinal()
        hit = (ahead >= 0) & (ahead <= days_before)
        active = np.zeros(self.size, dtype=bool)
        active[member_family[hit]] = True
        return active

    def _birthday_ordinals(self, year: int) -> np.ndarray:
        if year not in self._birthday_cache:
            values = []
            for birthday in self.member_birthday:
                when = birthday_date(birthday, year) if birthday else None
                values.append(when.toordinal() if when else -(10**9))
            self._birthday_cache[year] = np.asarray(values, dtype=np.int64)
        return self._birthday_cache[year]
