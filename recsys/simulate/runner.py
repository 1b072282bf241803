"""Run families through days under a policy: the history generator and the online A/B engine.

Arms of an experiment share the same families and the same random draws per day (mood,
skipping, each member's willingness), so differences between arms come from the policies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import numpy as np
import pandas as pd

from recsys.candidates import DayCalendar, eligible_mask
from recsys.events import EventType
from recsys.families import FamilyTable
from recsys.features.state import SEOUL, EventArrays, HistoryState, cutoff
from recsys.policy import Decisions, Policy
from recsys.simulate.world import Dynamics, World

US = 1_000_000  # timestamps are microseconds since the epoch
MS = 1_000  # events are spaced by whole milliseconds: the precision MongoDB dates keep


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass
class DecisionLog:
    """What an arm decided and what came of it (first serve of each family-day)."""

    day: list[np.ndarray] = field(default_factory=list)
    rows: list[np.ndarray] = field(default_factory=list)
    questions: list[np.ndarray] = field(default_factory=list)
    propensity: list[np.ndarray] = field(default_factory=list)
    completed: list[np.ndarray] = field(default_factory=list)
    true_probability: list[np.ndarray] = field(default_factory=list)

    def frame(self) -> pd.DataFrame:
        if not self.rows:
            return pd.DataFrame(columns=["day", "row", "question", "propensity", "completed", "true_probability"])
        return pd.DataFrame(
            {
                "day": np.concatenate(self.day),
                "row": np.concatenate(self.rows),
                "question": np.concatenate(self.questions),
                "propensity": np.concatenate(self.propensity),
                "completed": np.concatenate(self.completed),
                "true_probability": np.concatenate(self.true_probability),
            }
        )


@dataclass
class Arm:
    """One policy's world line: its own history state, family dynamics and event log."""

    name: str
    policy: Policy
    state: HistoryState
    dynamics: Dynamics
    model_version: str | None = None
    events: list[EventArrays] = field(default_factory=list)
    pending: list[EventArrays] = field(default_factory=list)
    log: DecisionLog = field(default_factory=DecisionLog)
    on_decisions: Callable[[Arm, Decisions, DayCalendar, np.ndarray], None] | None = None
    on_day_end: Callable[[Arm, int], None] | None = None
    stream: int | None = None  # this arm's own random stream; defaults to its position among the arms


@dataclass(frozen=True)
class DayDraws:
    """The random numbers of one day, shared by every arm."""

    mood: np.ndarray
    skip: np.ndarray
    churn: np.ndarray
    replace: np.ndarray
    answer: np.ndarray  # (2, M): first question, replacement
    latency: np.ndarray  # (2, M)
    length: np.ndarray  # (2, M)
    rating: np.ndarray  # (2, M)
    opened: np.ndarray  # (2, M)


def _draws(seed: int, day_index: int, n_families: int, n_members: int) -> DayDraws:
    rng = np.random.default_rng([seed, 1000 + day_index])
    return DayDraws(
        mood=rng.normal(size=n_families),
        skip=rng.random(n_families),
        churn=rng.random(n_families),
        replace=rng.random(n_families),
        answer=rng.random((2, n_members)),
        latency=rng.exponential(size=(2, n_members)),
        length=rng.lognormal(0.0, 0.5, size=(2, n_members)),
        rating=rng.random((2, n_members)),
        opened=rng.random((2, n_members)),
    )


def run(
    *,
    world: World,
    families: FamilyTable,
    arms: list[Arm],
    start_day: date,
    days: int,
    seed: int,
    join_day: np.ndarray | None = None,
) -> None:
    """Simulate `days` days from `start_day` for every arm; events land in each arm's log and state."""
    n_families, n_members = families.size, len(world.population.member_ids)
    join = join_day if join_day is not None else np.zeros(n_families, dtype=int)
    for day_index in range(days):
        day = start_day + timedelta(days=day_index)
        calendar = DayCalendar.build(day, families)
        draws = _draws(seed, day_index, n_families, n_members)
        for arm_number, arm in enumerate(arms):
            _flush(arm, before=cutoff(day))
            stream = arm.stream if arm.stream is not None else arm_number
            rng = np.random.default_rng([seed, 2000 + day_index, stream])
            _simulate_day(world, families, arm, calendar, draws, rng, joined=join <= day_index)
            if arm.on_day_end is not None:
                arm.on_day_end(arm, day_index)
    end = start_day + timedelta(days=days + 2)
    for arm in arms:
        _flush(arm, before=cutoff(end))


def _flush(arm: Arm, *, before: pd.Timestamp) -> None:
    """Apply the events that happened before `before` to the arm's state (point in time)."""
    if not arm.pending:
        return
    pending = EventArrays.concat(arm.pending)
    limit = before.value // 1000  # ns -> µs
    due = pending.ts < limit
    arm.state.apply_arrays(pending.select(due))
    arm.pending = [pending.select(~due)] if (~due).any() else []


def _simulate_day(
    world: World,
    families: FamilyTable,
    arm: Arm,
    calendar: DayCalendar,
    draws: DayDraws,
    rng: np.random.Generator,
    *,
    joined: np.ndarray,
) -> None:
    params, dynamics = world.params, arm.dynamics
    dynamics.mood = params.mood_persistence * dynamics.mood + params.mood_sd * draws.mood
    skipping = draws.skip < _sigmoid(params.skip_base + params.skip_per_boredom * dynamics.boredom)
    rows = np.flatnonzero(joined & ~dynamics.churned & ~skipping)
    completed_today = np.zeros(families.size, dtype=bool)
    if len(rows):
        eligible = eligible_mask(
            bank=world.bank, families=families, family_rows=rows, asked=arm.state.asked, calendar=calendar
        )
        decisions = arm.policy.choose(state=arm.state, family_rows=rows, eligible=eligible, calendar=calendar, rng=rng)
        served = decisions.questions >= 0
        rows, decisions = rows[served], decisions.select(served)
        if arm.on_decisions is not None:
            arm.on_decisions(arm, decisions, calendar, rows)
        completed_today[rows] = _serve(world, arm, calendar, draws, rows, decisions)
    _update_dynamics(world, arm, joined, completed_today, draws)


def _serve(
    world: World, arm: Arm, calendar: DayCalendar, draws: DayDraws, rows: np.ndarray, decisions: Decisions
) -> np.ndarray:
    """Serve, maybe replace once, draw each member's answer; returns which families completed."""
    params, pop = world.params, world.population
    first = decisions.questions
    probability = world.completion_probability(rows, first[:, None], calendar=calendar, dynamics=arm.dynamics)[:, 0]
    replacement = decisions.alternatives[:, 0]
    replaced = (draws.replace[rows] < params.replace_max * (1.0 - probability)) & (replacement >= 0)
    final = np.where(replaced, replacement, first)
    day_start = int(pd.Timestamp(datetime.combine(calendar.day, time(0), tzinfo=SEOUL)).value // 1000)
    served_ts = day_start + pop.delivery_hour[rows].astype(np.int64) * 3600 * US
    events = [
        _family_events(
            EventType.SERVED, served_ts, rows, first, calendar,
            propensity=decisions.propensity.astype(float), candidate_count=decisions.candidate_count.astype(np.int64),
        )
    ]  # fmt: skip
    if replaced.any():
        at = served_ts[replaced] + 600 * US
        events.append(_family_events(EventType.REPLACED, at, rows[replaced], first[replaced], calendar))
        # The replacement is the policy's deterministic next best: propensity 1 given the first pick.
        events.append(
            _family_events(
                EventType.SERVED, at + MS, rows[replaced], final[replaced], calendar,
                propensity=np.ones(int(replaced.sum())),
                candidate_count=decisions.candidate_count[replaced].astype(np.int64) - 1,
            )
        )  # fmt: skip
    members, member_probability = world.member_probabilities(rows, final, calendar=calendar, dynamics=arm.dynamics)
    owner = np.repeat(np.arange(len(rows)), (world.member_slots[rows] >= 0).sum(axis=1))
    draw_set = replaced[owner].astype(int)
    answered = draws.answer[draw_set, members] < member_probability
    start_ts = np.where(replaced, served_ts + 600 * US + MS, served_ts)[owner]
    latency = np.minimum(draws.latency[draw_set, members] * params.latency_mean_hours * 3600, 47 * 3600)
    answered_ts = start_ts + (latency * 1000).astype(np.int64) * MS
    family_of, question_of = rows[owner], final[owner]
    opened = answered | (draws.opened[draw_set, members] < 0.3)

    def member_event(kind: EventType, mask: np.ndarray, ts: np.ndarray, **optional: np.ndarray) -> EventArrays:
        return _family_events(
            kind, ts[mask], family_of[mask], question_of[mask], calendar,
            members=members[mask], **{name: value[mask] for name, value in optional.items()},
        )  # fmt: skip

    events.append(member_event(EventType.OPENED, opened, start_ts + MS))
    length = _answer_length(world, members, draws.length[draw_set, members], member_probability)
    events.append(
        member_event(EventType.ANSWERED, answered, answered_ts, answer_length=length, latency_seconds=latency)
    )
    rating_draw = draws.rating[draw_set, members]
    rates = answered & (rating_draw < params.rating_share)
    thumbs = np.where(rating_draw / params.rating_share < member_probability, 1.0, -1.0).astype(np.float32)
    events.append(member_event(EventType.RATED, rates, answered_ts + MS, ratings=thumbs))
    per_family = np.bincount(owner, minlength=len(rows))
    all_answered = np.bincount(owner, weights=answered, minlength=len(rows)) == per_family
    last_answer = np.zeros(len(rows), dtype=np.int64)
    np.maximum.at(last_answer, owner, np.where(answered, answered_ts, 0))
    completed_ts = last_answer + MS
    events.append(
        _family_events(
            EventType.COMPLETED, completed_ts[all_answered], rows[all_answered], final[all_answered], calendar
        )
    )
    # Once answers are revealed, some members react to the others' answers.
    reacts = all_answered[owner] & (draws.opened[draw_set, members] < 0.4)
    events.append(member_event(EventType.REACTED, reacts, completed_ts[owner] + 60 * US))
    arm.pending.extend(events)
    arm.events.extend(events)
    log = arm.log
    log.day.append(np.full(len(rows), calendar.day.toordinal()))
    log.rows.append(rows)
    log.questions.append(first)
    log.propensity.append(decisions.propensity)
    log.completed.append(all_answered)
    log.true_probability.append(probability)
    arm.dynamics.fatigue[rows, world.bank.category_index[final]] += 1.0
    return all_answered


def _answer_length(world: World, members: np.ndarray, noise: np.ndarray, probability: np.ndarray) -> np.ndarray:
    """Characters per answer: by age group, longer when the question lands."""
    ages = world.population.member_age[members]
    means = world.params.answer_length_mean
    base = np.select(
        [ages < 13, ages < 19, ages < 65], [means["child"], means["teen"], means["adult"]], default=means["senior"]
    )
    return np.maximum(1, base * noise * (0.5 + probability)).astype(np.int64)


def _family_events(
    kind: EventType,
    ts: np.ndarray,
    rows: np.ndarray,
    questions: np.ndarray,
    calendar: DayCalendar,
    **optional: np.ndarray,
) -> EventArrays:
    days = np.full(len(rows), calendar.day.toordinal(), dtype=np.int64)
    return EventArrays.build(ts=ts, kind=kind.value, rows=rows, questions=questions, days=days, **optional)


def _update_dynamics(world: World, arm: Arm, joined: np.ndarray, completed: np.ndarray, draws: DayDraws) -> None:
    params, dynamics = world.params, arm.dynamics
    dynamics.fatigue *= params.fatigue_decay
    active = joined & ~dynamics.churned
    dynamics.boredom = np.where(
        active, params.boredom_decay * dynamics.boredom + (~completed).astype(float), dynamics.boredom
    )
    leaving = active & (draws.churn < _sigmoid(params.churn_base + params.churn_per_boredom * dynamics.boredom))
    dynamics.churned = dynamics.churned | leaving
