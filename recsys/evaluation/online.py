"""Simulated online A/B: fresh families live 30 days under each policy; the learned one retrains as it goes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from recsys.candidates import DayCalendar
from recsys.catalog.bank import QuestionBank
from recsys.evaluation.bootstrap import Interval, bootstrap_mean
from recsys.features.build import build_features
from recsys.features.state import EventArrays, HistoryState
from recsys.policy import EXPLORE_TOP, SERVING_SHORTLIST, Decisions, Policy
from recsys.ranking.lightgbm_scorer import LightGBMScorer
from recsys.ranking.scorers import baseline_scorer
from recsys.ranking.training import RankerParams, TrainingRows, fit_ranker
from recsys.simulate.history import make_world
from recsys.simulate.oracle import OraclePolicy
from recsys.simulate.params import SimulationParams
from recsys.simulate.runner import Arm, run
from recsys.simulate.world import Dynamics

POLICIES = ("random", "popularity", "affinity", "lightgbm", "oracle")


@dataclass(frozen=True)
class ABResult:
    """Completion rate per policy (share of family-days with every member answering), with intervals."""

    completion: dict[str, Interval]
    per_family: pd.DataFrame  # family x policy completion rates
    gap_closed: dict[str, float]  # share of the popularity-to-oracle gap each policy closes
    paired: dict[str, Interval]  # lightgbm minus each other policy, per family (same families, same draws)
    families: int
    days: int
    retrains: int
    daily: pd.DataFrame = field(repr=False)  # day x policy completion rate

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "completion": {name: interval.estimate for name, interval in self.completion.items()},
                "low": {name: interval.low for name, interval in self.completion.items()},
                "high": {name: interval.high for name, interval in self.completion.items()},
                "gap_closed": self.gap_closed,
            }
        )


@dataclass
class _Retrainer:
    """Collects the learned arm's decisions and refits the ranker every `every` days."""

    base: TrainingRows
    params: RankerParams
    every: int
    decisions: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    retrains: int = 0

    def on_decisions(self, arm: Arm, decisions: Decisions, calendar: DayCalendar, rows: np.ndarray) -> None:
        # The first pick and the replacement a family may ask for: production logs both as served
        # and retrains on both; which replacements were served is known once the day's events are in.
        replacement = decisions.alternatives[:, 0]
        offered = replacement >= 0
        family_rows = np.concatenate([rows, rows[offered]])
        questions = np.concatenate([decisions.questions, replacement[offered]])
        features = build_features(arm.state, family_rows=family_rows, questions=questions, calendar=calendar)
        self.decisions.append((features, family_rows, questions, np.full(len(family_rows), calendar.day.toordinal())))

    def on_day_end(self, arm: Arm, day_index: int) -> None:
        if (day_index + 1) % self.every or not self.decisions:
            return
        rows = TrainingRows.concat([self.base, self._labelled(EventArrays.concat(arm.events))])
        scorer = fit_ranker(rows, params=self.params, version=f"ab-retrain-{self.retrains + 1}")
        arm.policy.scorer = scorer
        self.retrains += 1

    def _labelled(self, events: EventArrays) -> TrainingRows:
        features = np.concatenate([d[0] for d in self.decisions])
        rows, questions, days = (np.concatenate([d[i] for d in self.decisions]) for i in (1, 2, 3))
        frame = pd.DataFrame(
            {"row": events.rows, "question": events.questions, "day": events.days, "kind": events.kinds,
             "rating": events.ratings}
        )  # fmt: skip
        keys = ["row", "question", "day"]
        index = pd.MultiIndex.from_arrays([rows, questions, days])
        served = frame[frame["kind"] == "served"].groupby(keys).size().reindex(index).fillna(0).to_numpy() > 0
        features, rows, questions, days = features[served], rows[served], questions[served], days[served]
        index = index[served]
        answers = frame[frame["kind"] == "answered"].groupby(keys).size()
        completed = frame[frame["kind"] == "completed"].groupby(keys).size()
        replaced = frame[frame["kind"] == "replaced"].groupby(keys).size()
        rating = frame[frame["kind"] == "rated"].groupby(keys)["rating"].sum()
        n_answers = answers.reindex(index).fillna(0).to_numpy()
        done = completed.reindex(index).fillna(0).to_numpy() > 0
        liked = rating.reindex(index).fillna(0).to_numpy() > 0
        turned_down = replaced.reindex(index).fillna(0).to_numpy() > 0
        labels = np.select([done & liked, done, n_answers > 0], [3, 2, 1], default=0)
        labels = np.where(turned_down, 0, labels)
        return TrainingRows(
            features=features, labels=labels, family_rows=rows + 10_000_000, questions=questions, days=days,
            propensity=np.ones(len(rows)), completed=done & ~turned_down,
        )  # fmt: skip


def simulated_ab(
    *,
    bank: QuestionBank,
    history_state: HistoryState,
    training_rows: TrainingRows,
    model: LightGBMScorer,
    world_seed: int,
    n_families: int = 2000,
    days: int = 30,
    start_day: date | None = None,
    seed: int = 7,
    epsilon: float = 0.05,
    explore_top: int | None = EXPLORE_TOP,
    retrain_every: int = 1,
    params: SimulationParams | None = None,
    ranker_params: RankerParams | None = None,
    policies: tuple[str, ...] = POLICIES,
) -> ABResult:
    """Run each policy on the same fresh families with the same daily randomness and compare completion."""
    params = params or SimulationParams()
    setup = make_world(
        n_families=n_families, seed=seed + 10_000, bank=bank, params=params, id_prefix="ab", world_seed=world_seed
    )
    world, families = setup.world, setup.families
    start = start_day or params.start_day
    arms: list[Arm] = []
    retrainer: _Retrainer | None = None
    for name in policies:
        dynamics = Dynamics.start(n_families)
        state = history_state.with_families(families)
        if name == "oracle":
            policy: Policy = OraclePolicy(world=world, dynamics=dynamics)
        elif name == "lightgbm":
            policy = Policy(model, epsilon=epsilon, explore_top=explore_top, shortlist=SERVING_SHORTLIST)
        else:
            policy = Policy(baseline_scorer(name), epsilon=epsilon, explore_top=explore_top)
        # Each policy keeps its own random stream, so running one arm alone reproduces it exactly.
        arm = Arm(name=name, policy=policy, state=state, dynamics=dynamics, stream=POLICIES.index(name))
        if name == "lightgbm" and retrain_every > 0:
            trees = model.booster.current_iteration()
            base_params = ranker_params or RankerParams()
            retrainer = _Retrainer(
                base=training_rows,
                params=RankerParams(**{**base_params.__dict__, "n_estimators": max(trees, 20)}),
                every=retrain_every,
            )
            arm.on_decisions, arm.on_day_end = retrainer.on_decisions, retrainer.on_day_end
        arms.append(arm)
    run(world=world, families=families, arms=arms, start_day=start, days=days, seed=seed)
    per_family = pd.DataFrame(
        {arm.name: _family_completion(arm, n_families=n_families, days=days) for arm in arms},
        index=families.family_ids,
    )
    completion = {name: bootstrap_mean(per_family[name].to_numpy(), seed=seed) for name in per_family}
    gap_closed = _gap_closed({name: interval.estimate for name, interval in completion.items()})
    # Arms share families and daily draws, so the per-family difference is the sharp comparison.
    paired = {
        name: bootstrap_mean((per_family["lightgbm"] - per_family[name]).to_numpy(), seed=seed)
        for name in per_family
        if name != "lightgbm" and "lightgbm" in per_family
    }
    daily = pd.DataFrame(
        {arm.name: _daily_completion(arm, start=start, days=days, n_families=n_families) for arm in arms}
    )
    return ABResult(
        completion=completion,
        per_family=per_family,
        gap_closed=gap_closed,
        paired=paired,
        families=n_families,
        days=days,
        retrains=retrainer.retrains if retrainer else 0,
        daily=daily,
    )


def _family_completion(arm: Arm, *, n_families: int, days: int) -> np.ndarray:
    """Per family, the share of the experiment's days on which every member answered."""
    log = arm.log.frame()
    done = np.bincount(
        log["row"].to_numpy(dtype=int), weights=log["completed"].to_numpy(dtype=float), minlength=n_families
    )
    return done / days


def _daily_completion(arm: Arm, *, start: date, days: int, n_families: int) -> pd.Series:
    log = arm.log.frame()
    per_day = log.groupby("day")["completed"].sum() / n_families
    index = [(start + timedelta(days=i)).toordinal() for i in range(days)]
    return per_day.reindex(index).fillna(0.0).set_axis([date.fromordinal(i) for i in index])


def _gap_closed(rates: dict[str, float]) -> dict[str, float]:
    if "popularity" not in rates or "oracle" not in rates:
        return {}
    gap = rates["oracle"] - rates["popularity"]
    return {name: (rate - rates["popularity"]) / gap if gap > 0 else float("nan") for name, rate in rates.items()}
