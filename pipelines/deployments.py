"""The scheduled deployments `woorizip schedule` serves: retraining at 03:00, batch scoring at 04:00 (Seoul).

Each deployment allows one run at a time (a slow retrain is never overlapped by the next) and
retries a failed run; since aliases move only at a flow's last step, a failed run moves none.
"""

from __future__ import annotations

from typing import Any

from prefect.schedules import Cron

from pipelines.batch_score import with_configured_runner
from pipelines.retrain import retrain
from woorizip.settings import Settings

RETRAIN, BATCH_SCORE = "daily-retrain", "daily-batch-score"
RETRIES, RETRY_DELAY_SECONDS = 2, 600


def build_deployments(settings: Settings) -> list[Any]:
    """The RunnerDeployment objects (cron, timezone and concurrency limit are checked by the tests)."""
    timezone = settings.schedule_timezone
    retrain_flow = retrain.with_options(retries=RETRIES, retry_delay_seconds=RETRY_DELAY_SECONDS)
    batch_flow = with_configured_runner(settings.dask_address, workers=settings.batch_workers).with_options(
        retries=RETRIES, retry_delay_seconds=RETRY_DELAY_SECONDS
    )
    return [
        retrain_flow.to_deployment(
            name=RETRAIN,
            schedules=[Cron(settings.retrain_cron, timezone=timezone)],
            concurrency_limit=1,
            description="Snapshot the stores, train a challenger, register it, promote it if the gate agrees.",
            tags=["recommender"],
        ),
        batch_flow.to_deployment(
            name=BATCH_SCORE,
            schedules=[Cron(settings.batch_score_cron, timezone=timezone)],
            concurrency_limit=1,
            description="Precompute tomorrow's question for every active family.",
            tags=["recommender"],
        ),
    ]


def serve_schedules(settings: Settings) -> None:
    """Register the deployments with the Prefect API and run their scheduled runs in this process."""
    from prefect import serve

    serve(*build_deployments(settings))
