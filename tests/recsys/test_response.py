"""The Bayesian answer model: it learns the right way, ignores arrival order and folds point in time."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from recsys.families import FamilyTable
from recsys.features.response import SETTLE_DAYS, ResponseModel
from recsys.features.state import HistoryState, cutoff
from recsys.simulate.history import SimulatedHistory


@pytest.fixture
def families(small_history: SimulatedHistory) -> FamilyTable:
    return small_history.families


def _outcomes(families: FamilyTable, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Random members answering random questions of one category: question 0 always, question 1 never."""
    members = rng.integers(0, len(families.member_family), n)
    questions = rng.integers(0, 2, n)
    return {
        "families": families.member_family[members],
        "members": members,
        "questions": questions,
        "category": np.zeros(n, dtype=np.int64),
        "depth": np.ones(n, dtype=np.int64),
        "answered": questions == 0,
    }


def _family_answers_everything(model: ResponseModel, families: FamilyTable, *, category: int, depth: int) -> None:
    """Six days on which every member of family 0 answers, each day another question of `category`."""
    members = np.flatnonzero(families.member_family == 0)
    n = len(members)
    for day in range(6):
        model.observe(
            families=np.zeros(n, dtype=np.int64),
            members=members,
            questions=np.full(n, day),
            category=np.full(n, category),
            depth=np.full(n, depth),
            answered=np.ones(n, dtype=bool),
        )


def test_answers_raise_the_appeal_and_silence_lowers_it(families: FamilyTable) -> None:
    model = ResponseModel(families=families, n_questions=5, n_categories=11)
    prior_variance = model.appeal.variance.copy()
    model.observe(**_outcomes(families, np.random.default_rng(0), 400))
    assert model.appeal.mean[0] > 0.5 > -0.5 > model.appeal.mean[1]
    assert model.appeal.mean[2] == 0.0 and model.appeal.variance[2] == prior_variance[2]  # never served
    assert model.appeal.variance[0] < prior_variance[0] / 3  # 200 outcomes: far more certain


def test_a_familys_answers_in_one_category_raise_its_taste_for_it(families: FamilyTable) -> None:
    model = ResponseModel(families=families, n_questions=50, n_categories=11)
    before = model.log_completion(
        families=np.array([0, 0]), questions=np.array([10, 20]), category=np.array([3, 4]), depth=np.array([1, 1])
    )
    _family_answers_everything(model, families, category=3, depth=1)  # category 3, medium depth
    after = model.log_completion(
        families=np.array([0, 0]), questions=np.array([10, 20]), category=np.array([3, 4]), depth=np.array([1, 1])
    )
    assert after[0] - before[0] > after[1] - before[1] > 0.0  # the category most, the family's level a little


def test_answering_deep_questions_is_a_lean_that_also_speaks_about_light_ones(families: FamilyTable) -> None:
    model = ResponseModel(families=families, n_questions=50, n_categories=11)
    unseen = {"families": np.zeros(3, dtype=np.int64), "questions": np.array([10, 11, 12]),
              "category": np.full(3, 4), "depth": np.array([0, 1, 2])}  # fmt: skip
    before = model.log_completion(**unseen)
    _family_answers_everything(model, families, category=3, depth=2)  # deep questions
    light, medium, deep = model.log_completion(**unseen) - before
    assert model.depth_lean.mean[0] > 0.0 and np.all(model.depth_lean.mean[1:] == 0.0)
    assert deep > medium > light  # the lean lifts deep questions and, by as much, holds light ones back


def test_the_order_of_outcomes_within_a_day_does_not_matter(families: FamilyTable) -> None:
    outcomes = _outcomes(families, np.random.default_rng(1), 300)
    order = np.random.default_rng(2).permutation(300)
    first = ResponseModel(families=families, n_questions=5, n_categories=11)
    second = ResponseModel(families=families, n_questions=5, n_categories=11)
    first.observe(**outcomes)
    second.observe(**{name: value[order] for name, value in outcomes.items()})
    np.testing.assert_array_equal(first.appeal.mean, second.appeal.mean)
    np.testing.assert_array_equal(first.member_taste.variance, second.member_taste.variance)


def test_new_families_keep_what_was_learned_about_questions(families: FamilyTable) -> None:
    model = ResponseModel(families=families, n_questions=5, n_categories=11)
    model.observe(**_outcomes(families, np.random.default_rng(0), 400))
    fresh = model.with_families(families)
    np.testing.assert_array_equal(fresh.appeal.mean, model.appeal.mean)
    assert not np.array_equal(fresh.member_base.mean, model.member_base.mean)
    assert np.all(fresh.member_base.mean == 0.0)


def test_folding_is_point_in_time_and_the_same_at_once_or_day_by_day(small_history: SimulatedHistory) -> None:
    dataset = small_history.dataset
    events = dataset.events
    day = dataset.first_day + timedelta(days=20)
    day_by_day = HistoryState(bank=dataset.bank, families=small_history.families)
    applied = events.iloc[:0]
    for offset in range(1, 21):
        todays = events[(events["ts"] < cutoff(dataset.first_day + timedelta(days=offset)))]
        day_by_day.apply(todays.iloc[len(applied) :])
        applied = todays
        day_by_day.response_as_of(dataset.first_day + timedelta(days=offset))
    at_once = HistoryState.from_events(events, bank=dataset.bank, families=small_history.families, before=cutoff(day))
    a, b = day_by_day.response_as_of(day), at_once.response_as_of(day)
    assert day_by_day.response_folded_until == day.toordinal() - SETTLE_DAYS
    np.testing.assert_array_equal(a.appeal.mean, b.appeal.mean)
    np.testing.assert_array_equal(a.family_taste.mean, b.family_taste.mean)
    np.testing.assert_array_equal(a.member_taste.variance, b.member_taste.variance)
    assert np.abs(a.appeal.mean).max() > 0.1  # it did learn something

    # Questions served after day - SETTLE_DAYS have not settled yet: dropping them changes nothing.
    unsettled = events["day"] > day - timedelta(days=SETTLE_DAYS)
    settled_only = HistoryState.from_events(
        events[~unsettled], bank=dataset.bank, families=small_history.families, before=cutoff(day)
    )
    np.testing.assert_array_equal(settled_only.response_as_of(day).appeal.mean, b.appeal.mean)
