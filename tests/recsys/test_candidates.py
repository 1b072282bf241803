"""Eligibility rules as properties: age, repeats, blocked categories, occasion windows."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from recsys.candidates import DayCalendar, eligible_mask
from recsys.catalog import load_bank
from recsys.catalog.bank import CATEGORIES, OCCASIONS
from recsys.catalog.calendar import active_occasions
from recsys.catalog.schema import Occasion
from recsys.families import FamilyTable

BANK = load_bank()


def _family(
    *, birth_years: list[int], interests: list[str], blocked: list[str], birthday: tuple[int, int]
) -> FamilyTable:
    families = pd.DataFrame(
        {"family_id": ["f"], "created_at": [pd.Timestamp("2026-01-01", tz="UTC")], "timezone": ["Asia/Seoul"],
         "interests": [interests], "blocked_categories": [blocked]}
    )  # fmt: skip
    members = pd.DataFrame(
        {
            "member_id": [f"m{i}" for i in range(len(birth_years))],
            "family_id": ["f"] * len(birth_years),
            "role": ["owner"] + ["member"] * (len(birth_years) - 1),
            "birth_year": pd.array(birth_years, dtype="Int64"),
            "birth_month": pd.array([birthday[0]] * len(birth_years), dtype="Int64"),
            "birth_day": pd.array([birthday[1]] * len(birth_years), dtype="Int64"),
            "lunar_birthday": [False] * len(birth_years),
        }
    )
    return FamilyTable.from_frames(families, members)


categories = st.lists(st.sampled_from([c.value for c in CATEGORIES]), max_size=3, unique=True)


@settings(max_examples=60, deadline=None)
@given(
    ages=st.lists(st.integers(3, 90), min_size=2, max_size=6),
    blocked=categories,
    day=st.dates(min_value=date(2025, 1, 1), max_value=date(2030, 12, 31)),
    asked_share=st.floats(0, 0.5),
    birthday=st.tuples(st.integers(1, 12), st.integers(1, 28)),
    seed=st.integers(0, 1000),
)
def test_eligible_questions_follow_every_rule(
    ages: list[int], blocked: list[str], day: date, asked_share: float, birthday: tuple[int, int], seed: int
) -> None:
    table = _family(birth_years=[day.year - a for a in ages], interests=[], blocked=blocked, birthday=birthday)
    asked = np.random.default_rng(seed).random((1, len(BANK))) < asked_share
    calendar = DayCalendar.build(day, table)
    mask = eligible_mask(bank=BANK, families=table, family_rows=np.array([0]), asked=asked, calendar=calendar)[0]
    youngest = min(ages)
    open_now = active_occasions(day)
    birthday_soon = any(0 <= (date(y, *birthday) - day).days <= 3 for y in (day.year, day.year + 1))
    for position in np.flatnonzero(mask):
        question = BANK[position]
        assert not asked[0, position], "never asked twice"
        assert question.min_age <= youngest, "suitable for the youngest member"
        assert question.max_age is None or youngest <= question.max_age
        assert question.category.value not in blocked, "never a blocked category"
        if question.occasion is Occasion.BIRTHDAY:
            assert birthday_soon
        elif question.occasion is not None:
            assert question.occasion in open_now, "holiday questions only in their window"
    # And nothing that follows the rules is left out.
    expected = [
        i for i, q in enumerate(BANK)
        if not asked[0, i] and q.min_age <= youngest and (q.max_age is None or youngest <= q.max_age)
        and q.category.value not in blocked
        and (q.occasion is None or (q.occasion is Occasion.BIRTHDAY and birthday_soon)
             or (q.occasion is not Occasion.BIRTHDAY and q.occasion in open_now))
    ]  # fmt: skip
    assert np.flatnonzero(mask).tolist() == expected


def test_chuseok_questions_open_around_chuseok_only() -> None:
    table = _family(birth_years=[1980, 1982], interests=[], blocked=[], birthday=(1, 1))
    chuseok = [i for i, q in enumerate(BANK) if q.occasion is Occasion.CHUSEOK]
    assert chuseok
    asked = np.zeros((1, len(BANK)), dtype=bool)

    def open_on(day: date) -> bool:
        calendar = DayCalendar.build(day, table)
        mask = eligible_mask(bank=BANK, families=table, family_rows=np.array([0]), asked=asked, calendar=calendar)
        return bool(mask[0, chuseok].any())

    assert open_on(date(2026, 9, 25))  # 추석 2026
    assert open_on(date(2026, 9, 25) - timedelta(days=5))
    assert not open_on(date(2026, 11, 1))
    assert OCCASIONS.index(Occasion.CHUSEOK) >= 0
