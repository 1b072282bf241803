"""`register`: log a trained challenger to MLflow with its evidence and register it as `challenger`."""

from __future__ import annotations

import dataclasses

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from pipelines import resources
from pipelines.train import TrainOutcome
from recsys.model_card import render_model_card
from recsys.registry import MODEL_NAME, VersionInfo


def model_card(outcome: TrainOutcome) -> str:
    return render_model_card(
        model_name=MODEL_NAME,
        params=dataclasses.asdict(outcome.params),
        snapshot=outcome.snapshot.as_dict(),
        split={key: str(value) for key, value in dataclasses.asdict(outcome.split).items()},
        challenger=outcome.challenger,
        champion=outcome.champion,
        champion_version=outcome.champion_version,
        baselines=outcome.baselines,
        importance=outcome.importance,
        trees=outcome.scorer.booster.current_iteration(),
        training_rows=outcome.training_rows,
    )


@task(retries=2, retry_delay_seconds=[2, 10], cache_policy=NO_CACHE)
def log_to_registry(outcome: TrainOutcome) -> VersionInfo:
    metrics = outcome.challenger.flat()
    for name, baseline in outcome.baselines.items():
        metrics.update(baseline.flat(prefix=f"baseline.{name}."))
    if outcome.champion is not None:
        metrics.update(outcome.champion.flat(prefix="champion."))
    metrics["trees"] = float(outcome.scorer.booster.current_iteration())
    metrics["training_rows"] = float(outcome.training_rows)
    if outcome.search_auc is not None:
        metrics["search_validation_auc"] = outcome.search_auc
    return resources.model_registry().log_candidate(
        scorer=outcome.scorer,
        params=dataclasses.asdict(outcome.params),
        metrics=metrics,
        tags={
            "snapshot_hash": outcome.snapshot.content_hash,
            "snapshot": outcome.snapshot.name,
            "feature_count": str(len(outcome.input_example.columns)),
            "compared_champion": outcome.champion_version or "none",
        },
        input_example=outcome.input_example,
        evaluation=outcome.evaluation(),
        model_card=model_card(outcome),
        figures=outcome.figures,
        run_name=f"train-{outcome.snapshot.name}",
    )


@flow(name="register", log_prints=True)
def register(outcome: TrainOutcome) -> VersionInfo:
    """Register the challenger as a new version of `daily-question-ranker` with alias `challenger`."""
    info = log_to_registry(outcome)
    get_run_logger().info("registered %s version %s as challenger", MODEL_NAME, info.version)
    return info
