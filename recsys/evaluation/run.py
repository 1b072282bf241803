"""`evaluate_dataset`: split, train, evaluate offline and (for simulated data) run the online A/B."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from recsys.evaluation.offline import TemporalSplit, evaluate_offline
from recsys.evaluation.online import POLICIES, simulated_ab
from recsys.evaluation.report import ABRun, EvaluationResult
from recsys.events import Dataset
from recsys.policy import EXPLORE_TOP, SERVING_SHORTLIST, Policy
from recsys.ranking.scorers import baseline_scorer
from recsys.ranking.training import RankerParams, fit_ranker, replay
from recsys.simulate.params import SimulationParams

REPEAT_POLICIES = ("popularity", "affinity", "lightgbm", "oracle")


def ab_seed_list(seed: int, count: int) -> list[int]:
    """The A/B seeds of an evaluation with `seed`: seed + 1 first (the main report), then seed + 3, + 5 ..."""
    return [seed + 1 + 2 * k for k in range(count)]


@dataclass(frozen=True)
class SimulationInfo:
    """What `woorizip simulate` records so evaluation can rebuild the same world for the A/B."""

    seed: int
    families: int
    days: int
    start_day: date

    def as_manifest(self) -> dict[str, Any]:
        return {"simulation": {"seed": self.seed, "families": self.families, "days": self.days,
                               "start_day": str(self.start_day)}}  # fmt: skip

    @classmethod
    def from_manifest(cls, manifest: dict[str, Any]) -> SimulationInfo | None:
        raw = manifest.get("simulation")
        if not isinstance(raw, dict):
            return None
        return cls(seed=int(raw["seed"]), families=int(raw["families"]), days=int(raw["days"]),
                   start_day=date.fromisoformat(str(raw["start_day"])))  # fmt: skip


def evaluate_dataset(
    dataset: Dataset,
    *,
    simulation: SimulationInfo | None,
    ab_families: int = 2000,
    ab_days: int = 30,
    retrain_every: int = 1,
    ab_seeds: int = 1,
    epsilon: float = 0.05,
    explore_top: int | None = EXPLORE_TOP,
    seed: int = 0,
    ranker_params: RankerParams | None = None,
) -> EvaluationResult:
    """The whole honest evaluation of one dataset; the A/B runs only when the data is simulated.

    With `ab_seeds` > 1 the A/B runs again on that many seeds in all (other families and draws, the
    same trained model): the learned arm's daily retrains make one seed's result drift by a few
    thousandths, so the target is judged on the average too.
    """
    ranker_params = ranker_params or RankerParams()
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    split = TemporalSplit.by_fractions(dataset.first_day, dataset.last_day)
    rows, final_state = replay(dataset)
    seconds["features"] = time.perf_counter() - started
    started = time.perf_counter()
    model = fit_ranker(
        rows.window(None, split.validation),
        valid=rows.window(split.validation, split.test),
        params=ranker_params,
        version="evaluation",
    )
    seconds["training"] = time.perf_counter() - started
    started = time.perf_counter()
    policies = {
        name: Policy(baseline_scorer(name), epsilon=epsilon, explore_top=explore_top)
        for name in ("random", "popularity", "affinity")
    }
    policies["lightgbm"] = Policy(model, epsilon=epsilon, explore_top=explore_top, shortlist=SERVING_SHORTLIST)
    offline = evaluate_offline(dataset, policies=policies, split=split, seed=seed)
    seconds["offline"] = time.perf_counter() - started
    ab = None
    ab_runs: list[ABRun] = []
    if simulation is not None and ab_families > 0:
        started = time.perf_counter()
        # What production would serve on the A/B's first day: the same recipe refitted on all history.
        params = ranker_params
        trees = max(model.booster.current_iteration(), 20)
        serving = fit_ranker(rows, params=dataclasses.replace(params, n_estimators=trees), version="ab-start")
        ab_runs = [
            ABRun(
                seed=ab_seed,
                result=simulated_ab(
                    bank=dataset.bank,
                    history_state=final_state,
                    training_rows=rows,
                    model=serving,
                    world_seed=simulation.seed,
                    n_families=ab_families,
                    days=ab_days,
                    start_day=dataset.last_day + timedelta(days=1),
                    seed=ab_seed,
                    epsilon=epsilon,
                    explore_top=explore_top,
                    retrain_every=retrain_every,
                    params=SimulationParams(start_day=simulation.start_day),
                    ranker_params=ranker_params,
                    # The extra seeds need only what the gap and the paired comparison read.
                    policies=POLICIES if k == 0 else REPEAT_POLICIES,
                ),
            )
            for k, ab_seed in enumerate(ab_seed_list(seed, ab_seeds))
        ]
        ab = ab_runs[0].result
        seconds["online_ab"] = time.perf_counter() - started
    return EvaluationResult(
        offline=offline,
        ab=ab,
        ab_runs=ab_runs,
        importance=model.importance(),
        model_trees=model.booster.current_iteration(),
        objective=ranker_params.objective,
        training_rows=len(rows.window(None, split.validation)),
        seconds={name: round(value, 1) for name, value in seconds.items()},
    )
