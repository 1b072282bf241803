"""Simulate a logged history (the `woorizip simulate` dataset) under an exploring logging policy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import pandas as pd

from recsys.catalog.bank import QuestionBank, load_bank
from recsys.events import EVENT_COLUMNS, Dataset
from recsys.families import FamilyTable
from recsys.features.state import SEOUL, EventArrays, HistoryState
from recsys.policy import Policy
from recsys.ranking.scorers import AffinityScorer
from recsys.simulate.params import SimulationParams
from recsys.simulate.population import Population, generate_population
from recsys.simulate.runner import Arm, run
from recsys.simulate.world import Dynamics, World, question_appeal

LOGGING_POLICY = "affinity-explore"
LOGGING_EPSILON = 0.3


@dataclass(frozen=True)
class SimulatedHistory:
    """A simulated dataset together with the world that produced it (its hidden truth)."""

    dataset: Dataset
    world: World
    families: FamilyTable
    state: HistoryState  # the history state after the last day


@dataclass(frozen=True)
class WorldSetup:
    """A simulated world and its families, as arrays and as the dataset's snapshot frames."""

    world: World
    families: FamilyTable
    population: Population
    families_frame: pd.DataFrame
    members_frame: pd.DataFrame


def make_world(
    *,
    n_families: int,
    seed: int,
    bank: QuestionBank,
    params: SimulationParams,
    id_prefix: str,
    world_seed: int,
    join_day: np.ndarray | None = None,
) -> WorldSetup:
    """Families drawn with `seed` in a world whose questions' appeal is fixed by `world_seed`.

    `join_day` (days after `params.start_day`, per family) sets when each family was created; default all at once.
    """
    population = generate_population(
        n_families=n_families, params=params, rng=np.random.default_rng([seed, 1]), id_prefix=id_prefix
    )
    appeal = question_appeal(bank=bank, params=params, seed=world_seed)
    world = World(population=population, bank=bank, params=params, appeal=appeal)
    joins = join_day if join_day is not None else np.zeros(n_families, dtype=int)
    families_frame = population.families_frame(start_day=pd.Timestamp(params.start_day, tz=UTC))
    families_frame["created_at"] = pd.Series(
        [
            pd.Timestamp(datetime.combine(params.start_day + timedelta(days=int(d)), time(0), tzinfo=SEOUL))
            for d in joins
        ],
        dtype="datetime64[us, UTC]",
    )
    members_frame = population.members_frame(year=params.start_day.year)
    return WorldSetup(
        world=world,
        families=FamilyTable.from_frames(families_frame, members_frame),
        population=population,
        families_frame=families_frame,
        members_frame=members_frame,
    )


def simulate_history(
    *,
    n_families: int,
    days: int,
    seed: int,
    bank: QuestionBank | None = None,
    params: SimulationParams | None = None,
) -> SimulatedHistory:
    """Families join over the first half of the window and are served by the logging policy."""
    bank = bank or load_bank()
    params = params or SimulationParams()
    join_day = np.random.default_rng([seed, 2]).integers(0, max(1, days // 2), n_families)
    setup = make_world(
        n_families=n_families,
        seed=seed,
        bank=bank,
        params=params,
        id_prefix=f"s{seed}",
        world_seed=seed,
        join_day=join_day,
    )
    world, families, population = setup.world, setup.families, setup.population
    arm = Arm(
        name=LOGGING_POLICY,
        policy=Policy(AffinityScorer(), epsilon=LOGGING_EPSILON),
        state=HistoryState(bank=bank, families=families),
        dynamics=Dynamics.start(n_families),
    )
    run(world=world, families=families, arms=[arm], start_day=params.start_day, days=days, seed=seed, join_day=join_day)
    events = events_frame(
        EventArrays.concat(arm.events), families=families, population=population, bank=bank, policy=LOGGING_POLICY
    )
    dataset = Dataset(events=events, families=setup.families_frame, members=setup.members_frame, bank=bank)
    return SimulatedHistory(dataset=dataset, world=world, families=families, state=arm.state)


def events_frame(
    events: EventArrays,
    *,
    families: FamilyTable,
    population: Population,
    bank: QuestionBank,
    policy: str,
    model_version: str | None = None,
) -> pd.DataFrame:
    """Simulator arrays to the documented event-log frame, sorted by time."""
    order = np.argsort(events.ts, kind="stable")
    e = events.select(order)
    n = len(e.ts)
    served = e.kinds == "served"
    member_ids = population.member_ids[np.maximum(e.members, 0)]
    frame = pd.DataFrame(
        {
            "event_id": pd.array([f"e{i:09d}" for i in range(n)], dtype="string"),
            "ts": pd.to_datetime(e.ts, unit="us", utc=True).astype("datetime64[us, UTC]"),
            "day": [date.fromordinal(int(d)) for d in e.days],
            "family_id": pd.array(families.family_ids[e.rows], dtype="string"),
            "member_id": _where(e.members >= 0, member_ids, "string"),
            "type": pd.array(e.kinds, dtype="string"),
            "question_id": pd.array(bank.ids[e.questions], dtype="string"),
            "policy": _where(served, np.full(n, policy, dtype=object), "string"),
            "model_version": _where(served & (model_version is not None), np.full(n, model_version), "string"),
            "propensity": np.where(served, e.propensity, np.nan),
            "candidate_count": _where(e.candidate_count >= 0, e.candidate_count, "Int64"),
            "answer_length": _where(e.answer_length >= 0, e.answer_length, "Int64"),
            "latency_seconds": e.latency_seconds,
            "rating": _where(e.kinds == "rated", e.ratings.astype(int), "Int64"),
        }
    )
    return frame[list(EVENT_COLUMNS)]


def _where(keep: np.ndarray, values: np.ndarray, dtype: str) -> pd.Series:
    """`values` where `keep`, missing elsewhere, as a nullable pandas column."""
    return pd.Series(values).where(pd.Series(keep)).astype(dtype)
