"""Point-in-time features: no leakage from the future, and the same rows offline and online."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from recsys.candidates import DayCalendar
from recsys.events import Dataset, EventType
from recsys.families import FamilyTable
from recsys.features.build import FEATURE_NAMES, FIRST_STAGE_FEATURES, build_features, build_first_stage_features
from recsys.features.state import HistoryState, cutoff
from recsys.ranking.training import replay
from recsys.simulate.history import SimulatedHistory


def _decision_day(history: SimulatedHistory) -> pd.Timestamp:
    return history.dataset.first_day + timedelta(days=20)


def _features_as_of(events: pd.DataFrame, history: SimulatedHistory, day, rows, questions) -> np.ndarray:  # type: ignore[no-untyped-def]
    dataset = history.dataset
    families = FamilyTable.from_frames(dataset.families, dataset.members)
    state = HistoryState.from_events(events, bank=dataset.bank, families=families, before=cutoff(day))
    return build_features(state, family_rows=rows, questions=questions, calendar=DayCalendar.build(day, families))


@pytest.fixture
def probe(small_history: SimulatedHistory) -> tuple[object, np.ndarray, np.ndarray]:
    day = _decision_day(small_history)
    rng = np.random.default_rng(0)
    rows = rng.integers(0, small_history.families.size, 200)
    questions = rng.integers(0, len(small_history.dataset.bank), 200)
    return day, rows, questions


def test_features_ignore_events_after_the_cutoff(small_history: SimulatedHistory, probe) -> None:  # type: ignore[no-untyped-def]
    day, rows, questions = probe
    events = small_history.dataset.events
    full = _features_as_of(events, small_history, day, rows, questions)
    before = events[events["ts"] < cutoff(day)]
    assert len(before) < len(events)
    truncated = _features_as_of(before, small_history, day, rows, questions)
    np.testing.assert_array_equal(full, truncated)

    # Shuffle the future: move every later event to another family and question, in random order.
    after = events[events["ts"] >= cutoff(day)].sample(frac=1.0, random_state=1).copy()
    after["family_id"] = after["family_id"].sample(frac=1.0, random_state=2).to_numpy()
    after["question_id"] = after["question_id"].sample(frac=1.0, random_state=3).to_numpy()
    shuffled = _features_as_of(pd.concat([before, after]), small_history, day, rows, questions)
    np.testing.assert_array_equal(full, shuffled)


def test_first_stage_columns_equal_those_of_the_full_rows(small_history: SimulatedHistory, probe) -> None:  # type: ignore[no-untyped-def]
    day, rows, questions = probe
    dataset = small_history.dataset
    families = FamilyTable.from_frames(dataset.families, dataset.members)
    state = HistoryState.from_events(dataset.events, bank=dataset.bank, families=families, before=cutoff(day))
    calendar = DayCalendar.build(day, families)
    full = build_features(state, family_rows=rows, questions=questions, calendar=calendar)
    first = build_first_stage_features(state, family_rows=rows, questions=questions, calendar=calendar)
    columns = [FEATURE_NAMES.index(name) for name in FIRST_STAGE_FEATURES]
    np.testing.assert_array_equal(first, full[:, columns])
    assert all(np.unique(first[:, i]).size > 1 for i in range(len(FIRST_STAGE_FEATURES) - 2)), "not constants"


def test_features_do_see_the_past(small_history: SimulatedHistory, probe) -> None:  # type: ignore[no-untyped-def]
    # The leakage test above would pass for features that ignore history altogether; these do not.
    day, rows, questions = probe
    events = small_history.dataset.events
    with_history = _features_as_of(events, small_history, day, rows, questions)
    without = _features_as_of(events.iloc[:0], small_history, day, rows, questions)
    changed = [name for i, name in enumerate(FEATURE_NAMES) if not np.array_equal(with_history[:, i], without[:, i])]
    expected = ("question_completion_rate", "question_answer_rate", "category_affinity", "collaborative",
                "response_log_completion", "response_appeal", "response_taste")  # fmt: skip
    for name in (*expected, "days_since_category", "streak"):
        assert name in changed


def test_offline_training_rows_equal_online_serving_rows(small_history: SimulatedHistory) -> None:
    dataset: Dataset = small_history.dataset
    rows, _ = replay(dataset)
    families = FamilyTable.from_frames(dataset.families, dataset.members)
    served = dataset.events[dataset.events["type"] == EventType.SERVED].reset_index(drop=True)
    for index in np.random.default_rng(5).choice(len(served), 12, replace=False):
        event = served.iloc[index]
        day = event["day"]
        row, question = families.index[str(event["family_id"])], dataset.bank.position(str(event["question_id"]))
        # Online: the serving path builds state from stored events before the cutoff.
        online = _features_as_of(dataset.events, small_history, day, np.array([row]), np.array([question]))[0]
        match = (rows.family_rows == row) & (rows.questions == question) & (rows.days == day.toordinal())
        assert match.sum() == 1
        np.testing.assert_allclose(rows.features[match][0], online, rtol=1e-6, atol=1e-6)


def test_depth_features_compare_a_depth_with_the_familys_best(small_history: SimulatedHistory) -> None:
    dataset = small_history.dataset
    families = FamilyTable.from_frames(dataset.families, dataset.members)
    state = HistoryState(bank=dataset.bank, families=families)
    # Family 0 was served every depth alike and completed only the deep questions; family 1 is new.
    state.served_difficulty[0] = [6.0, 6.0, 6.0]
    state.completed_difficulty[0] = [0.0, 1.0, 6.0]
    state.served_category[0, 0], state.completed_category[0, 0] = 18.0, 7.0
    bank = dataset.bank
    one_per_depth = np.asarray([int(np.flatnonzero(bank.difficulty == depth)[0]) for depth in (1, 2, 3)])
    day = _decision_day(small_history)
    rows = np.asarray([0, 0, 0, 1, 1, 1])
    questions = np.concatenate([one_per_depth, one_per_depth])
    features = build_features(state, family_rows=rows, questions=questions, calendar=DayCalendar.build(day, families))
    gap = features[:, FEATURE_NAMES.index("difficulty_affinity_gap")]
    lean = features[:, FEATURE_NAMES.index("depth_lean")]
    assert gap[2] == 0.0 and gap[0] < gap[1] < 0.0  # deep is this family's best depth, light its worst
    assert np.all(lean[:3] > 0.5)  # it completed deeper questions than it was served
    assert np.all(gap[3:] == 0.0) and np.all(lean[3:] == 0.0)  # no record: no depth is worse, no lean
