"""Korean calendar occasions: yearly windows, lunar holidays computed with `korean_lunar_calendar`."""

from __future__ import annotations

import calendar as stdlib_calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from korean_lunar_calendar import KoreanLunarCalendar

from recsys.catalog.schema import Occasion

Window = tuple[date, date]

# The library's lunar table ends in lunar 2050 (it starts in 1000; earlier than 1900 is of no use here).
FIRST_YEAR = 1900
LAST_YEAR = 2050

BIRTHDAY_LEAD_DAYS = 3
_LUNAR_MONTH_MAX_DAY = 30


@dataclass(frozen=True)
class Birthday:
    """A member's birthday, solar (양력) or lunar (음력, never a leap month)."""

    month: int
    day: int
    lunar: bool = False

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise ValueError(f"birthday month must be 1-12, got {self.month}")
        # Solar: checked against a leap year so that 2/29 is a valid birthday.
        last_day = _LUNAR_MONTH_MAX_DAY if self.lunar else stdlib_calendar.monthrange(2000, self.month)[1]
        if not 1 <= self.day <= last_day:
            raise ValueError(f"birthday day must be 1-{last_day} in month {self.month}, got {self.day}")


def _check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"year {year} is outside the supported calendar range {FIRST_YEAR}-{LAST_YEAR}")


@lru_cache(maxsize=4096)
def lunar_to_solar(year: int, month: int, day: int) -> date | None:
    """The solar date of a (non-leap) lunar date, or None when that lunar date does not exist."""
    converter = KoreanLunarCalendar()
    if not converter.setLunarDate(year, month, day, False):
        return None
    return date.fromisoformat(converter.SolarIsoFormat())


def _lunar_holiday(year: int, month: int, day: int) -> date:
    solar = lunar_to_solar(year, month, day)
    if solar is None:  # only outside the library's table, which _check_year rules out
        raise ValueError(f"lunar {year}-{month:02d}-{day:02d} cannot be converted")
    return solar


def _around(day: date, *, before: int, after: int) -> Window:
    return day - timedelta(days=before), day + timedelta(days=after)


def _third_thursday_of_november(year: int) -> date:
    first = date(year, 11, 1)
    first_thursday = first + timedelta(days=(3 - first.weekday()) % 7)
    return first_thursday + timedelta(weeks=2)


def _windows_starting_in(year: int) -> dict[Occasion, Window]:
    """Each occasion's window anchored in `year` (some end in the next year)."""
    return {
        Occasion.NEW_YEAR: (date(year, 12, 26), date(year + 1, 1, 7)),
        Occasion.SEOLLAL: _around(_lunar_holiday(year, 1, 1), before=7, after=2),
        Occasion.CHILDRENS_DAY: (date(year, 5, 1), date(year, 5, 5)),
        Occasion.PARENTS_DAY: (date(year, 5, 6), date(year, 5, 8)),
        Occasion.CHUSEOK: _around(_lunar_holiday(year, 8, 15), before=7, after=2),
        Occasion.CHRISTMAS: (date(year, 12, 15), date(year, 12, 25)),
        Occasion.SUMMER_VACATION: (date(year, 7, 20), date(year, 8, 20)),
        Occasion.WINTER_VACATION: (date(year, 12, 24), date(year + 1, 2, 20)),
        Occasion.SUNEUNG: _around(_third_thursday_of_november(year), before=14, after=0),
    }


@lru_cache(maxsize=256)
def _cached_windows(year: int) -> tuple[tuple[Occasion, tuple[Window, ...]], ...]:
    _check_year(year)
    first, last = date(year, 1, 1), date(year, 12, 31)
    # New year and winter vacation start in December, so last year's windows reach into this one.
    anchored = (_windows_starting_in(year - 1), _windows_starting_in(year))
    result: dict[Occasion, list[Window]] = {}
    for windows in anchored:
        for occasion, (start, end) in windows.items():
            if start <= last and end >= first:
                result.setdefault(occasion, []).append((start, end))
    return tuple((occasion, tuple(result[occasion])) for occasion in Occasion if occasion in result)


def occasion_windows(year: int) -> dict[Occasion, list[Window]]:
    """Every occasion's inclusive windows that touch `year` (whole, even where they cross into a neighbour)."""
    # The cache holds immutable tuples; each caller gets its own dict so no caller can edit another's.
    return {occasion: list(windows) for occasion, windows in _cached_windows(year)}


def _solar_birthday(birthday: Birthday, year: int) -> date:
    # 2/29 is celebrated on 2/28 in common years: it stays in February, as most families do.
    day = min(birthday.day, stdlib_calendar.monthrange(year, birthday.month)[1])
    return date(year, birthday.month, day)


def _lunar_birthday_in_lunar_year(birthday: Birthday, lunar_year: int) -> date | None:
    # A lunar 30th in a 29-day month that year is celebrated on the 29th.
    for day in (30, 29) if birthday.day == 30 else (birthday.day,):
        solar = lunar_to_solar(lunar_year, birthday.month, day)
        if solar is not None:
            return solar
    return None


def birthday_dates(birthday: Birthday, year: int) -> list[date]:
    """Every solar date in `year` on which the birthday falls (a lunar one may fall 0, 1 or 2 times)."""
    _check_year(year)
    if not birthday.lunar:
        return [_solar_birthday(birthday, year)]
    # Lunar year Y-1 runs into January/February of Y, and lunar year Y can run into Y+1.
    candidates = (_lunar_birthday_in_lunar_year(birthday, lunar_year) for lunar_year in (year - 1, year))
    return sorted(solar for solar in candidates if solar is not None and solar.year == year)


def birthday_date(birthday: Birthday, year: int) -> date | None:
    """The (first) solar date of the birthday in `year`; None when a lunar birthday skips that year."""
    dates = birthday_dates(birthday, year)
    return dates[0] if dates else None


def _birthday_is_near(birthday: Birthday, day: date) -> bool:
    # Look at next year too: a 1/2 birthday is already near on 12/30.
    for year in (day.year, day.year + 1):
        if year > LAST_YEAR:
            continue
        for when in birthday_dates(birthday, year):
            if when - timedelta(days=BIRTHDAY_LEAD_DAYS) <= day <= when:
                return True
    return False


def active_occasions(day: date, *, birthdays: Sequence[Birthday] = ()) -> frozenset[Occasion]:
    """The occasions whose window contains `day`; BIRTHDAY from 3 days before a member's birthday to the day."""
    active = {
        occasion
        for occasion, windows in occasion_windows(day.year).items()
        if any(start <= day <= end for start, end in windows)
    }
    if any(_birthday_is_near(birthday, day) for birthday in birthdays):
        active.add(Occasion.BIRTHDAY)
    return frozenset(active)
