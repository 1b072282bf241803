"""The simulator: deterministic by seed, sensible shapes, and an oracle that really knows best."""

from __future__ import annotations

import numpy as np

from recsys.catalog.bank import QuestionBank
from recsys.events import EventType
from recsys.simulate.history import SimulatedHistory, simulate_history


def test_same_seed_same_history_other_seed_other_history(bank: QuestionBank) -> None:
    first = simulate_history(n_families=30, days=10, seed=11, bank=bank).dataset.events
    again = simulate_history(n_families=30, days=10, seed=11, bank=bank).dataset.events
    other = simulate_history(n_families=30, days=10, seed=12, bank=bank).dataset.events
    assert first.equals(again)
    assert not first["question_id"].equals(other["question_id"].iloc[: len(first)])


def test_families_and_events_look_like_the_app(small_history: SimulatedHistory) -> None:
    dataset = small_history.dataset
    sizes = dataset.members.groupby("family_id").size()
    assert sizes.between(2, 6).all()
    ages = dataset.events["day"].iloc[0].year - dataset.members["birth_year"]
    assert ages.min() < 13 and ages.max() >= 65, "children and grandparents both occur"
    kinds = set(dataset.events["type"].astype(str))
    assert kinds == {t.value for t in EventType}
    served = dataset.events[dataset.events["type"] == EventType.SERVED]
    assert served["propensity"].between(0, 1, inclusive="right").all()
    # Nobody gets the same question twice.
    assert not served.duplicated(["family_id", "question_id"]).any()
    answers = dataset.events[dataset.events["type"] == EventType.ANSWERED].merge(dataset.members, on="member_id")
    child = answers["birth_year"] > dataset.first_day.year - 13
    assert answers.loc[child, "answer_length"].mean() < answers.loc[~child, "answer_length"].mean()


def test_bored_families_go_quiet(small_history: SimulatedHistory) -> None:
    served = small_history.dataset.events.query("type == 'served'")
    per_day = served.groupby("day")["family_id"].nunique()
    joined = small_history.dataset.families["created_at"].dt.date
    # Everyone has joined by day 18 of 35; later, fewer families than that are served each day.
    assert per_day.iloc[-5:].mean() < (joined <= per_day.index[-1]).sum()


def test_oracle_probability_is_the_best_choice(small_history: SimulatedHistory) -> None:
    from recsys.candidates import DayCalendar
    from recsys.simulate.world import Dynamics

    world, families = small_history.world, small_history.families
    calendar = DayCalendar.build(small_history.dataset.last_day, families)
    rows = np.arange(20)
    everything = np.broadcast_to(np.arange(len(world.bank)), (20, len(world.bank)))
    truth = world.completion_probability(rows, everything, calendar=calendar, dynamics=Dynamics.start(families.size))
    assert ((truth > 0) & (truth < 1)).all()
    assert (truth.max(axis=1) - np.median(truth, axis=1)).mean() > 0.3, "choosing well matters"


def test_simulator_members_line_up_with_the_family_table(small_history: SimulatedHistory) -> None:
    # The runner records member positions; features read them through the family table.
    population, families = small_history.world.population, small_history.families
    assert families.member_ids.tolist() == population.member_ids.tolist()
    assert (families.member_family == population.member_family).all()
