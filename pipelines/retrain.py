"""`retrain`: ingest → train → register → promote, the daily 03:00 run and `woorizip train`.

An alias moves only in the last step, after everything before it succeeded: a failed run leaves
`champion` where it was (and `challenger` too, unless registration itself completed).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from pipelines import resources
from pipelines.ingest import ingest
from pipelines.promote import promote
from pipelines.register import register
from pipelines.train import train
from recsys.features.online import GlobalState
from recsys.ranking.training import RankerParams


@dataclass(frozen=True)
class RetrainResult:
    version: str
    promoted: bool
    champion: str | None
    reasons: list[str]
    snapshot: str
    content_hash: str
    ndcg_at_10: float
    snips_completion: float | None
    champion_snips_completion: float | None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@task(retries=3, retry_delay_seconds=[2, 10, 30], cache_policy=NO_CACHE)
def publish_global(global_state: GlobalState, *, name: str) -> str:
    """Publish the global state next to the model: the api swaps it in within its refresh interval."""
    from woorizip.recommender.online import publish_global_state

    with resources.backends() as opened:
        return publish_global_state(backends=opened, global_state=global_state, name=name)


@flow(name="retrain", log_prints=True)
def retrain(
    data: Path | None = None,
    params: RankerParams | None = None,
    search_trials: int = 0,
    margin: float | None = None,
) -> RetrainResult:
    """Snapshot the stores (or `data`), train a challenger, register it and let the gate decide."""
    snapshot = ingest(data=data)
    outcome = train(snapshot, params=params, search_trials=search_trials)
    if data is None and outcome.global_state is not None:
        # The live installation's statistics serve its decisions from now on, whichever model wins.
        publish_global(outcome.global_state, name=snapshot.name)
    version = register(outcome)
    decision = promote(version.version, margin=margin)
    return RetrainResult(
        version=version.version,
        promoted=decision.promoted,
        champion=decision.champion_after,
        reasons=decision.reasons,
        snapshot=snapshot.name,
        content_hash=snapshot.content_hash,
        ndcg_at_10=outcome.challenger.ndcg_at_10,
        snips_completion=outcome.challenger.snips_completion,
        champion_snips_completion=None if outcome.champion is None else outcome.champion.snips_completion,
    )
