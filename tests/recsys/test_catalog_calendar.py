"""Korean calendar occasions: lunar holidays computed from the lunar calendar, windows and birthdays."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from korean_lunar_calendar import KoreanLunarCalendar

from recsys.catalog import Birthday, Occasion, active_occasions, birthday_date, occasion_windows
from recsys.catalog.calendar import birthday_dates


def _lunar(day: date) -> tuple[int, int, int, bool]:
    converter = KoreanLunarCalendar()
    assert converter.setSolarDate(day.year, day.month, day.day)
    return converter.lunarYear, converter.lunarMonth, converter.lunarDay, converter.isIntercalation


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


@pytest.mark.parametrize(
    ("occasion", "holiday"),
    [
        (Occasion.SEOLLAL, date(2025, 1, 29)),
        (Occasion.SEOLLAL, date(2026, 2, 17)),
        (Occasion.SEOLLAL, date(2027, 2, 7)),
        (Occasion.CHUSEOK, date(2025, 10, 6)),
        (Occasion.CHUSEOK, date(2026, 9, 25)),
    ],
)
def test_lunar_holidays_fall_on_their_known_dates(occasion: Occasion, holiday: date) -> None:
    assert occasion_windows(holiday.year)[occasion] == [(holiday - timedelta(days=7), holiday + timedelta(days=2))]


@settings(max_examples=50, deadline=None)
@given(year=st.integers(min_value=2000, max_value=2049))
def test_every_seollal_window_holds_lunar_new_year_and_every_window_is_ordered(year: int) -> None:
    windows = occasion_windows(year)
    ((start, end),) = windows[Occasion.SEOLLAL]
    assert [day for day in _days(start, end) if _lunar(day) == (year, 1, 1, False)] == [start + timedelta(days=7)]
    ((start, end),) = windows[Occasion.CHUSEOK]
    assert _lunar(start + timedelta(days=7)) == (year, 8, 15, False)
    assert set(windows) == set(Occasion) - {Occasion.BIRTHDAY}
    for spans in windows.values():
        for start, end in spans:
            assert start <= end
            assert start <= date(year, 12, 31) and end >= date(year, 1, 1)


def test_solar_windows_and_windows_that_cross_the_year() -> None:
    windows = occasion_windows(2025)
    assert windows[Occasion.NEW_YEAR] == [
        (date(2024, 12, 26), date(2025, 1, 7)),
        (date(2025, 12, 26), date(2026, 1, 7)),
    ]
    assert windows[Occasion.WINTER_VACATION] == [
        (date(2024, 12, 24), date(2025, 2, 20)),
        (date(2025, 12, 24), date(2026, 2, 20)),
    ]
    assert windows[Occasion.CHILDRENS_DAY] == [(date(2025, 5, 1), date(2025, 5, 5))]
    assert windows[Occasion.PARENTS_DAY] == [(date(2025, 5, 6), date(2025, 5, 8))]
    assert windows[Occasion.CHRISTMAS] == [(date(2025, 12, 15), date(2025, 12, 25))]
    assert windows[Occasion.SUMMER_VACATION] == [(date(2025, 7, 20), date(2025, 8, 20))]
    # The third Thursday of November 2023 was the 16th (1st was a Wednesday).
    assert occasion_windows(2023)[Occasion.SUNEUNG] == [(date(2023, 11, 2), date(2023, 11, 16))]


def test_callers_cannot_change_the_cached_windows() -> None:
    occasion_windows(2030)[Occasion.CHRISTMAS].clear()
    assert occasion_windows(2030)[Occasion.CHRISTMAS] == [(date(2030, 12, 15), date(2030, 12, 25))]


def test_years_outside_the_lunar_table_are_refused() -> None:
    with pytest.raises(ValueError, match="2051"):
        occasion_windows(2051)


def test_solar_birthdays_and_february_29() -> None:
    assert birthday_date(Birthday(3, 10), 2025) == date(2025, 3, 10)
    assert birthday_date(Birthday(2, 29), 2024) == date(2024, 2, 29)
    assert birthday_date(Birthday(2, 29), 2025) == date(2025, 2, 28)


def test_lunar_birthdays_are_converted_for_the_year() -> None:
    assert birthday_date(Birthday(8, 15, lunar=True), 2025) == date(2025, 10, 6)
    assert birthday_date(Birthday(1, 1, lunar=True), 2026) == date(2026, 2, 17)
    # Lunar 12/20 of lunar year 2024 is in January 2025: that is the 2025 birthday.
    assert birthday_date(Birthday(12, 20, lunar=True), 2025) == date(2025, 1, 19)
    # Lunar 1/30 does not exist in 2024 (a 29-day month): celebrated on 1/29.
    assert birthday_date(Birthday(1, 30, lunar=True), 2024) == date(2024, 3, 9)
    assert _lunar(date(2024, 3, 9)) == (2024, 1, 29, False)


def test_a_lunar_birthday_can_fall_twice_or_not_at_all_in_a_solar_year() -> None:
    # Lunar 11/25 is 2024-12-25 and then 2026-01-13 (2025 has a leap month): no 2025 birthday.
    assert birthday_dates(Birthday(11, 25, lunar=True), 2025) == []
    assert birthday_date(Birthday(11, 25, lunar=True), 2025) is None
    assert birthday_dates(Birthday(12, 1, lunar=True), 2024) == [date(2024, 1, 11), date(2024, 12, 31)]
    assert birthday_date(Birthday(12, 1, lunar=True), 2024) == date(2024, 1, 11)


@pytest.mark.parametrize(("month", "day", "lunar"), [(13, 1, False), (0, 1, False), (2, 30, False), (4, 31, False)])
def test_impossible_birthdays_are_refused(month: int, day: int, lunar: bool) -> None:
    with pytest.raises(ValueError, match="birthday"):
        Birthday(month, day, lunar)


def test_a_lunar_30th_is_a_valid_birthday() -> None:
    assert Birthday(2, 30, lunar=True).day == 30
    with pytest.raises(ValueError, match="birthday"):
        Birthday(2, 31, lunar=True)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2025, 1, 21), {Occasion.WINTER_VACATION}),
        (date(2025, 1, 22), {Occasion.WINTER_VACATION, Occasion.SEOLLAL}),
        (date(2025, 1, 31), {Occasion.WINTER_VACATION, Occasion.SEOLLAL}),
        (date(2025, 2, 1), {Occasion.WINTER_VACATION}),
        (date(2025, 2, 21), set()),
        (date(2025, 5, 5), {Occasion.CHILDRENS_DAY}),
        (date(2025, 5, 6), {Occasion.PARENTS_DAY}),
        (date(2025, 5, 9), set()),
        (date(2025, 12, 23), {Occasion.CHRISTMAS}),
        (date(2025, 12, 25), {Occasion.CHRISTMAS, Occasion.WINTER_VACATION}),
        (date(2025, 12, 26), {Occasion.NEW_YEAR, Occasion.WINTER_VACATION}),
        (date(2026, 1, 7), {Occasion.NEW_YEAR, Occasion.WINTER_VACATION}),
        (date(2026, 1, 8), {Occasion.WINTER_VACATION}),
        (date(2025, 11, 20), {Occasion.SUNEUNG}),
        (date(2025, 11, 21), set()),
    ],
)
def test_active_occasions_at_window_edges(day: date, expected: set[Occasion]) -> None:
    assert active_occasions(day) == frozenset(expected)


@pytest.mark.parametrize(
    ("day", "active"),
    [
        (date(2025, 3, 6), False),
        (date(2025, 3, 7), True),
        (date(2025, 3, 10), True),
        (date(2025, 3, 11), False),
    ],
)
def test_birthday_is_active_from_three_days_before_to_the_day(day: date, active: bool) -> None:
    occasions = active_occasions(day, birthdays=[Birthday(7, 1), Birthday(3, 10)])
    assert (Occasion.BIRTHDAY in occasions) is active


def test_birthday_lead_crosses_into_the_previous_year_and_lunar_birthdays_count() -> None:
    assert Occasion.BIRTHDAY in active_occasions(date(2025, 12, 30), birthdays=[Birthday(1, 2)])
    assert Occasion.BIRTHDAY not in active_occasions(date(2025, 12, 29), birthdays=[Birthday(1, 2)])
    lunar = [Birthday(8, 15, lunar=True)]  # 2025-10-06
    assert Occasion.BIRTHDAY in active_occasions(date(2025, 10, 3), birthdays=lunar)
    assert Occasion.BIRTHDAY not in active_occasions(date(2025, 10, 7), birthdays=lunar)
    assert Occasion.BIRTHDAY not in active_occasions(date(2025, 10, 3))
