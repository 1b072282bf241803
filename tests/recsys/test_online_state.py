"""The online path (one family's own state + the global state) builds exactly the rows training builds."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from recsys.candidates import DayCalendar
from recsys.events import Dataset, EventType
from recsys.families import FamilyTable
from recsys.features.build import build_features
from recsys.features.online import (
    FamilyState,
    GlobalState,
    assemble,
    family_state_of,
    fold_family,
    global_state_of,
)
from recsys.features.state import HistoryState, cutoff, event_arrays
from recsys.ranking.training import replay
from recsys.simulate.history import SimulatedHistory


def _one_family(dataset: Dataset, family_id: str) -> FamilyTable:
    families = dataset.families[dataset.families["family_id"] == family_id]
    members = dataset.members[dataset.members["family_id"] == family_id]
    return FamilyTable.from_frames(families.reset_index(drop=True), members.reset_index(drop=True))


def _global_as_of(dataset: Dataset, day: date) -> GlobalState:
    """What the pipeline would publish for decisions on `day`: a replay of everyone's events before it."""
    families = FamilyTable.from_frames(dataset.families, dataset.members)
    state = HistoryState.from_events(dataset.events, bank=dataset.bank, families=families, before=cutoff(day))
    state.response_as_of(day)
    return global_state_of(state)


def _online_state(dataset: Dataset, family_id: str, day: date, *, steps: int) -> FamilyState:
    """The family's own events folded in `steps` pieces (as requests on several days would), up to `day`."""
    events = dataset.events[dataset.events["family_id"] == family_id].sort_values("ts", kind="stable")
    family = _one_family(dataset, family_id)
    empty = GlobalState.empty(dataset.bank)
    state: FamilyState | None = None
    first = dataset.first_day
    for step in range(1, steps + 1):
        until = cutoff(first + (day - first) * step // steps)
        since = state.folded_until if state is not None else None
        window = events if since is None else events[events["ts"] >= since]
        window = window[window["ts"] < until]
        # The global part never changes a family's own part: any global state gives the same fold.
        state = fold_family(empty, bank=dataset.bank, family=family, previous=state, events=window, until=until)
    assert state is not None
    return state


@pytest.mark.parametrize("steps", [1, 4])
def test_online_rows_equal_training_rows(small_history: SimulatedHistory, steps: int) -> None:
    dataset = small_history.dataset
    rows, _ = replay(dataset)
    families = FamilyTable.from_frames(dataset.families, dataset.members)
    served = dataset.events[dataset.events["type"] == EventType.SERVED].reset_index(drop=True)
    for index in np.random.default_rng(11).choice(len(served), 10, replace=False):
        event = served.iloc[index]
        day, family_id = event["day"], str(event["family_id"])
        question = dataset.bank.position(str(event["question_id"]))
        family_state = _online_state(dataset, family_id, day, steps=steps)
        table = _one_family(dataset, family_id)
        state = assemble(_global_as_of(dataset, day), bank=dataset.bank, families=table, states=[family_state])
        online = build_features(state, family_rows=np.array([0]), questions=np.array([question]),
                                calendar=DayCalendar.build(day, table))[0]  # fmt: skip
        match = (rows.family_rows == families.index[family_id]) & (rows.questions == question)
        match &= rows.days == day.toordinal()
        assert match.sum() == 1
        np.testing.assert_allclose(rows.features[match][0], online, rtol=1e-6, atol=1e-6)


def test_a_family_state_round_trips_through_bytes(small_history: SimulatedHistory) -> None:
    dataset = small_history.dataset
    family_id = str(dataset.families["family_id"].iloc[3])
    state = _online_state(dataset, family_id, dataset.first_day + timedelta(days=25), steps=2)
    again = FamilyState.from_bytes(state.to_bytes())
    assert again.equals(state) and len(state.asked) > 0 and len(state.member_ids) > 0
    for name, value in state.arrays.items():
        assert again.arrays[name].shape == np.shape(value) and again.arrays[name].dtype == np.asarray(value).dtype
    global_state = _global_as_of(dataset, dataset.first_day + timedelta(days=25))
    restored = GlobalState.from_bytes(global_state.to_bytes(), bank=dataset.bank)
    np.testing.assert_array_equal(restored.arrays["co_completed"], global_state.arrays["co_completed"])
    np.testing.assert_array_equal(restored.appeal_mean, global_state.appeal_mean)


def test_the_replay_and_the_online_fold_give_the_same_family_state(small_history: SimulatedHistory) -> None:
    dataset = small_history.dataset
    day = dataset.first_day + timedelta(days=30)
    families = FamilyTable.from_frames(dataset.families, dataset.members)
    everyone = HistoryState.from_events(dataset.events, bank=dataset.bank, families=families, before=cutoff(day))
    for row in (0, 7, 42):
        family_id = str(families.family_ids[row])
        assert family_state_of(everyone, row).equals(_online_state(dataset, family_id, day, steps=3))


def test_a_new_member_starts_from_priors_and_a_removed_one_is_left_out(small_history: SimulatedHistory) -> None:
    dataset = small_history.dataset
    family_id = str(dataset.families["family_id"].iloc[5])
    day = dataset.first_day + timedelta(days=20)
    state = _online_state(dataset, family_id, day, steps=1)
    members = dataset.members[dataset.members["family_id"] == family_id].reset_index(drop=True)
    newborn = members.iloc[:1].assign(member_id="newborn", birth_year=day.year, role="child")
    changed = pd.concat([members.iloc[1:], newborn], ignore_index=True)
    families = dataset.families[dataset.families["family_id"] == family_id].reset_index(drop=True)
    table = FamilyTable.from_frames(families, changed)
    assembled = assemble(GlobalState.empty(dataset.bank), bank=dataset.bank, families=table, states=[state])
    kept = table.member_index[str(members["member_id"].iloc[1])]
    stored = list(state.member_ids).index(str(members["member_id"].iloc[1]))
    np.testing.assert_array_equal(
        assembled.member_answered_category[kept], state.member_arrays["answered_category"][stored]
    )
    assert assembled.member_answered_category[table.member_index["newborn"]].sum() == 0
    np.testing.assert_array_equal(assembled.completed[0].sum(), len(state.completed))


def test_folding_a_family_leaves_the_shared_global_state_untouched(small_history: SimulatedHistory) -> None:
    dataset = small_history.dataset
    day = dataset.first_day + timedelta(days=30)
    global_state = _global_as_of(dataset, day)
    before = GlobalState.from_bytes(global_state.to_bytes(), bank=dataset.bank)
    family_id = str(dataset.families["family_id"].iloc[9])
    events = dataset.events[dataset.events["family_id"] == family_id].sort_values("ts", kind="stable")
    folded = fold_family(global_state, bank=dataset.bank, family=_one_family(dataset, family_id), previous=None,
                         events=events, until=cutoff(day + timedelta(days=5)))  # fmt: skip
    state = assemble(global_state, bank=dataset.bank, families=_one_family(dataset, family_id), states=[folded])
    state.response_as_of(day + timedelta(days=9))  # settles the family's last served days
    assert global_state.to_bytes() == before.to_bytes()


def test_families_decided_together_get_what_each_gets_alone(small_history: SimulatedHistory) -> None:
    from recsys.ranking.training import fit_ranker
    from recsys.serving import Recommender, serving_policy

    dataset = small_history.dataset
    rows, _ = replay(dataset)
    day = dataset.last_day + timedelta(days=1)
    recommender = Recommender.from_dataset(dataset, day=day)
    family_ids = recommender.state.families.family_ids.astype(str).tolist()[:60]
    for policy in (serving_policy(None), serving_policy(fit_ranker(rows))):
        together = recommender.assign(family_ids=family_ids, policy=policy)
        alone = [recommender.assign(family_ids=[family_id], policy=policy)[0] for family_id in family_ids]
        assert [a.candidate_count for a in together] == [a.candidate_count for a in alone]
        assert min(a.candidate_count for a in alone) > 40
        assert [(a.question_id, a.propensity, a.alternatives) for a in together] == [
            (a.question_id, a.propensity, a.alternatives) for a in alone
        ]


def test_stored_event_documents_read_as_the_same_arrays_as_the_event_frame(small_history: SimulatedHistory) -> None:
    dataset = small_history.dataset
    families = FamilyTable.from_frames(dataset.families, dataset.members)
    # As the content store hands them back: days as ISO text, absent fields missing or None, UTC moments naive.
    frame = dataset.events.astype(object).where(dataset.events.notna(), None)
    documents = [
        {**record, "ts": record["ts"].to_pydatetime().replace(tzinfo=None), "day": record["day"].isoformat()}
        for record in frame.to_dict("records")
    ]
    documents += [{**documents[0], "family_id": "not-ours"}, {**documents[-1], "member_id": "left-long-ago"}]
    assert {"rated", "answered", "served", "completed"} <= {d["type"] for d in documents}
    state = HistoryState(bank=dataset.bank, families=families, embeddings=np.zeros((len(dataset.bank), 2)))
    read_as_frame = pd.DataFrame(documents).assign(
        ts=lambda f: pd.to_datetime(f["ts"], utc=True), day=lambda f: f["day"].map(date.fromisoformat)
    )
    expected = state.arrays_from_frame(read_as_frame)
    arrays = event_arrays(documents, families=families, bank=dataset.bank)
    for name in ("ts", "kinds", "rows", "questions", "days", "ratings", "members", "answer_length", "propensity"):
        np.testing.assert_array_equal(getattr(arrays, name), getattr(expected, name), err_msg=name)
    assert len(arrays.ts) == len(documents) - 1 and arrays.members[-1] == -1
