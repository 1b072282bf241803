"""Which questions a family may get on a day: never asked before, suitable for the youngest member,
not in a blocked category, and occasion questions only inside their window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from recsys.catalog.bank import OCCASIONS, QuestionBank
from recsys.catalog.calendar import active_occasions
from recsys.catalog.schema import Occasion
from recsys.families import FamilyTable

BIRTHDAY_INDEX = OCCASIONS.index(Occasion.BIRTHDAY)


@dataclass(frozen=True)
class DayCalendar:
    """The occasions open on one day: global ones and, per family, a member's birthday."""

    day: date
    global_active: np.ndarray  # (n_occasions,) bool
    birthday_active: np.ndarray  # (F,) bool

    @classmethod
    def build(cls, day: date, families: FamilyTable) -> DayCalendar:
        active = np.zeros(len(OCCASIONS), dtype=bool)
        for occasion in active_occasions(day):
            active[OCCASIONS.index(occasion)] = True
        return cls(day=day, global_active=active, birthday_active=families.birthday_active(day))

    def question_occasion_active(self, occasion_index: np.ndarray, family_rows: np.ndarray) -> np.ndarray:
        """Broadcast: True where the question's occasion is open for that family today."""
        has = occasion_index >= 0
        open_globally = self.global_active[np.where(has, occasion_index, 0)] & has
        birthday = (occasion_index == BIRTHDAY_INDEX) & self.birthday_active[family_rows]
        return open_globally | birthday


def eligible_mask(
    *,
    bank: QuestionBank,
    families: FamilyTable,
    family_rows: np.ndarray,
    asked: np.ndarray,
    calendar: DayCalendar,
) -> np.ndarray:
    """(B, Q) bool: the eligible questions for each family row in `family_rows`."""
    rows = family_rows[:, None]
    youngest = families.youngest_age(calendar.day)[rows]
    suitable = (bank.min_age[None, :] <= youngest) & (youngest <= bank.max_age[None, :])
    not_blocked = ~families.blocked[rows, bank.category_index[None, :]]
    occasion = bank.occasion_index[None, :]
    in_window = (occasion < 0) | calendar.question_occasion_active(occasion, rows)
    # Birthday questions are only for birthdays; holiday questions only in their window.
    return suitable & not_blocked & in_window & ~asked[family_rows]
