"""LightGBM's Dask interface on a real local cluster (two worker processes talking over loopback)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from recsys.evaluation.offline import TemporalSplit
from recsys.ranking.distributed import fit_ranker_on_dask
from recsys.ranking.training import RankerParams, fit_ranker, replay
from recsys.simulate.history import simulate_history

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, Client(
        cluster
    ) as connected:
        yield connected


def test_the_cluster_fits_a_ranker_as_good_as_one_machine(client: Any) -> None:
    dataset = simulate_history(n_families=150, days=30, seed=6).dataset
    rows, _ = replay(dataset)
    split = TemporalSplit.by_fractions(dataset.first_day, dataset.last_day)
    train, valid, test = (rows.window(None, split.validation), rows.window(split.validation, split.test),
                          rows.window(split.test, None))  # fmt: skip
    # A high learning rate overfits well before the last tree, so there is something to cut.
    params = RankerParams(n_estimators=120, learning_rate=0.3)
    distributed = fit_ranker_on_dask(train, valid=valid, params=params, client=client, version="dask")
    local = fit_ranker(train, valid=valid, params=params)
    rng = np.random.default_rng(0)

    def auc(model: Any) -> float:
        return float(roc_auc_score(test.completed, model.score(test.features, n_pairs=len(test), rng=rng)))

    # Cut at the best validation iteration, like early stopping; and it learned the same signal.
    assert 1 <= distributed.booster.current_iteration() < params.n_estimators
    assert auc(distributed) > 0.6
    assert abs(auc(distributed) - auc(local)) < 0.05
    assert distributed.version == "dask"


def test_lambdarank_is_refused_on_dask(client: Any) -> None:
    dataset = simulate_history(n_families=20, days=10, seed=6).dataset
    rows, _ = replay(dataset)
    with pytest.raises(ValueError, match="pointwise"):
        fit_ranker_on_dask(rows, params=RankerParams(objective="lambdarank"), client=client)
