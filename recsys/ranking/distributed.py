"""Training on a Dask cluster with LightGBM's Dask interface, for histories too big for one machine.

LightGBM's Dask estimators do not early-stop, so the fit runs every tree while recording the
validation loss, and the booster is cut at the best iteration afterwards: the same model
`fit_ranker` would return with early stopping, up to the randomness of distributed binning.
"""

from __future__ import annotations

from typing import Any

import lightgbm as lgb
import numpy as np

from recsys.features.build import CATEGORICAL_FEATURES, FEATURE_NAMES
from recsys.ranking.lightgbm_scorer import LightGBMScorer
from recsys.ranking.training import RankerParams, TrainingRows

VALID = "validation"


def fit_ranker_on_dask(
    train: TrainingRows,
    *,
    client: Any,
    valid: TrainingRows | None = None,
    params: RankerParams | None = None,
    version: str | None = None,
    partitions: int | None = None,
) -> LightGBMScorer:
    """The pointwise ranker fitted by the cluster behind `client` (a `distributed.Client`)."""
    import dask.array as da
    from lightgbm.dask import DaskLGBMClassifier

    params = params or RankerParams()
    if params.objective != "binary":
        raise ValueError("training on Dask supports the pointwise (binary) objective only")
    if len(train) == 0 or len(np.unique(train.completed)) < 2:
        raise ValueError("training needs served questions that were and were not completed")
    parts = partitions or max(1, len(client.scheduler_info()["workers"]))

    def dask_rows(rows: TrainingRows) -> tuple[Any, Any]:
        # As many chunks as workers, for validation rows too: a worker without any reports no loss.
        chunk = max(1, -(-len(rows) // parts))
        features = da.from_array(rows.features, chunks=(chunk, len(FEATURE_NAMES)))
        return features, da.from_array(rows.completed, chunks=chunk)

    model = DaskLGBMClassifier(
        client=client, objective="binary", n_estimators=params.n_estimators, learning_rate=params.learning_rate,
        num_leaves=params.num_leaves, min_child_samples=params.min_child_samples, subsample=params.subsample,
        subsample_freq=1, colsample_bytree=params.colsample_bytree, random_state=params.seed, verbose=-1,
    )  # fmt: skip
    features, labels = dask_rows(train)
    extra: dict[str, Any] = {}
    if valid is not None and len(valid) > 0:
        valid_features, valid_labels = dask_rows(valid)
        extra = {"eval_X": (valid_features,), "eval_y": (valid_labels,), "eval_names": [VALID]}
    categorical = [FEATURE_NAMES.index(name) for name in CATEGORICAL_FEATURES]
    model.fit(features, labels, categorical_feature=categorical, feature_name=FEATURE_NAMES, **extra)
    booster: lgb.Booster = model.booster_
    losses = model.evals_result_.get(VALID, {}).get("binary_logloss")
    if losses:
        best = int(np.argmin(losses)) + 1
        booster = lgb.Booster(model_str=booster.model_to_string(num_iteration=best))
    return LightGBMScorer(booster, version=version)
