"""`train`: point-in-time rows from a snapshot, a LightGBM ranker early-stopped on the validation window,
and an evaluation on the test window against the baselines and the current champion, on the same data."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from pipelines import resources
from pipelines.ingest import Snapshot, SnapshotError
from recsys.evaluation.gate import ModelMetrics, model_metrics
from recsys.evaluation.model_plots import calibration_figure, comparison_figure, importance_figure
from recsys.evaluation.offline import TemporalSplit, evaluate_offline
from recsys.events import Dataset, DatasetError, read_dataset
from recsys.families import FamilyTable
from recsys.features.build import FEATURE_NAMES
from recsys.features.online import GlobalState, global_state_of
from recsys.features.state import cutoff
from recsys.policy import EXPLORE_TOP, SERVING_SHORTLIST, Policy
from recsys.ranking.lightgbm_scorer import LightGBMScorer
from recsys.ranking.scorers import Scorer, baseline_scorer
from recsys.ranking.training import RankerParams, TrainingRows, fit_ranker, replay
from recsys.registry import LoadedModel, RegistryError

BASELINES = ("random", "popularity", "affinity")
CHALLENGER, CHAMPION = "challenger", "champion"


@dataclass
class TrainOutcome:
    """A trained challenger and the evidence the register and promote steps need."""

    snapshot: Snapshot
    scorer: LightGBMScorer
    params: RankerParams
    split: TemporalSplit
    challenger: ModelMetrics
    baselines: dict[str, ModelMetrics]
    champion: ModelMetrics | None
    champion_version: str | None
    importance: pd.Series
    input_example: pd.DataFrame
    training_rows: int
    figures: dict[str, Figure] = field(default_factory=dict)
    search_auc: float | None = None
    notes: list[str] = field(default_factory=list)
    global_state: GlobalState | None = None  # everyone's part of the history as of the snapshot, for serving

    def evaluation(self) -> dict[str, Any]:
        """The JSON evidence logged with the version; `promote` decides from it alone."""
        return {
            "snapshot": self.snapshot.as_dict(),
            "split": {key: str(value) for key, value in dataclasses.asdict(self.split).items()},
            "challenger": self.challenger.as_dict(),
            "champion": None if self.champion is None else self.champion.as_dict(),
            "champion_version": self.champion_version,
            "baselines": {name: metrics.as_dict() for name, metrics in self.baselines.items()},
            "notes": self.notes,
        }


@task(cache_policy=NO_CACHE)
def load_snapshot(snapshot: Snapshot) -> Dataset:
    try:
        return read_dataset(snapshot.path)
    except DatasetError as error:
        raise SnapshotError(f"snapshot {snapshot.name} is unreadable: {error}") from error


@task(cache_policy=NO_CACHE)
def build_rows(dataset: Dataset, *, day: date) -> tuple[TrainingRows, TemporalSplit, GlobalState]:
    """Training rows by replay, and the global state the replay ends with (decisions from `day` on use it)."""
    try:
        split = TemporalSplit.by_fractions(dataset.first_day, dataset.last_day)
    except ValueError as error:
        raise SnapshotError(str(error)) from error
    rows, state = replay(dataset)
    state.response_as_of(day)
    state.applied_until = cutoff(day)
    windows = {"training": rows.window(None, split.validation), "validation": rows.window(split.validation, split.test)}
    for name, window in windows.items():
        if len(window) == 0 or len(np.unique(window.completed)) < 2:
            raise SnapshotError(f"the {name} window needs served questions that were and were not completed")
    return rows, split, global_state_of(state)


@task(cache_policy=NO_CACHE)
def search(
    rows: TrainingRows, split: TemporalSplit, *, params: RankerParams, trials: int
) -> tuple[RankerParams, float]:
    from recsys.ranking.search import search_params

    return search_params(
        train=rows.window(None, split.validation), valid=rows.window(split.validation, split.test),
        trials=trials, base=params,
    )  # fmt: skip


@task(cache_policy=NO_CACHE)
def fit(rows: TrainingRows, split: TemporalSplit, *, params: RankerParams) -> LightGBMScorer:
    """On this machine, or with LightGBM's Dask interface when a Dask scheduler is configured."""
    train, valid = rows.window(None, split.validation), rows.window(split.validation, split.test)
    address = resources.settings().dask_address
    if not address:
        return fit_ranker(train, valid=valid, params=params)
    from distributed import Client

    from recsys.ranking.distributed import fit_ranker_on_dask

    with Client(address) as client:
        return fit_ranker_on_dask(train, valid=valid, params=params, client=client)


@task(retries=2, retry_delay_seconds=[2, 10], cache_policy=NO_CACHE)
def load_champion() -> LoadedModel | None:
    registry = resources.model_registry()
    try:
        return registry.load_alias("champion")
    except RegistryError as error:
        # A champion built for other features cannot be scored here; the gate then treats it as absent.
        get_run_logger().warning("the champion cannot be evaluated on this code's features: %s", error)
        return None


@task(cache_policy=NO_CACHE)
def evaluate(
    dataset: Dataset, split: TemporalSplit, *, models: dict[str, Scorer], epsilon: float
) -> dict[str, ModelMetrics]:
    """Every policy on the same replay of the same test window."""
    policies = {name: Policy(baseline_scorer(name), epsilon=epsilon, explore_top=EXPLORE_TOP) for name in BASELINES}
    for name, scorer in models.items():
        policies[name] = Policy(scorer, epsilon=epsilon, explore_top=EXPLORE_TOP, shortlist=SERVING_SHORTLIST)
    report = evaluate_offline(dataset, policies=policies, split=split)
    families = FamilyTable.from_frames(dataset.families, dataset.members)
    try:
        return {name: model_metrics(report, name, families=families) for name in policies}
    except ValueError as error:
        raise SnapshotError(f"cannot evaluate on the test window: {error}") from error


@flow(name="train", log_prints=True)
def train(snapshot: Snapshot, params: RankerParams | None = None, search_trials: int = 0) -> TrainOutcome:
    """Train a challenger on the snapshot and evaluate it, the baselines and the champion on its test window."""
    logger = get_run_logger()
    params = params or RankerParams()
    dataset = load_snapshot(snapshot)
    rows, split, global_state = build_rows(dataset, day=snapshot.day)
    search_auc = None
    if search_trials > 0:
        params, search_auc = search(rows, split, params=params, trials=search_trials)
        logger.info("search: best validation AUC %.4f with %s", search_auc, params)
    model = fit(rows, split, params=params)
    champion = load_champion()
    models: dict[str, Scorer] = {CHALLENGER: model}
    if champion is not None:
        models[CHAMPION] = champion.scorer
    metrics = evaluate(dataset, split, models=models, epsilon=resources.settings().recommender_epsilon)
    test = rows.window(split.test, None)
    predicted = 1 / (1 + np.exp(-model.score(test.features, n_pairs=len(test), rng=np.random.default_rng(0))))
    importance = model.importance()
    compared = {name: metrics[name] for name in (*BASELINES, CHALLENGER, CHAMPION) if name in metrics}
    outcome = TrainOutcome(
        snapshot=snapshot,
        scorer=model,
        params=params,
        split=split,
        challenger=metrics[CHALLENGER],
        baselines={name: metrics[name] for name in BASELINES},
        champion=metrics.get(CHAMPION),
        champion_version=None if champion is None else champion.version,
        importance=importance,
        input_example=pd.DataFrame(rows.features[:5], columns=FEATURE_NAMES),
        training_rows=len(rows.window(None, split.validation)),
        figures={
            "feature_importance": importance_figure(importance),
            "ndcg_by_policy": comparison_figure(compared),
            "calibration": calibration_figure(predicted, test.completed),
        },
        search_auc=search_auc,
        global_state=global_state,
    )
    summary: dict[str, ModelMetrics] = {"challenger": outcome.challenger, **outcome.baselines}
    if outcome.champion is not None:
        summary[f"champion v{outcome.champion_version}"] = outcome.champion
    for name, figures in summary.items():
        logger.info("%s: NDCG@10 %.4f, SNIPS completion %s", name, figures.ndcg_at_10, figures.snips_completion)
    return outcome
