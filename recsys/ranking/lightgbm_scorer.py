"""The learned scorer: a LightGBM booster over the shared feature rows."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd

from recsys.features.build import FEATURE_NAMES


class LightGBMScorer:
    """Scores with a trained LambdaRank booster; `explain` gives per-feature contributions."""

    name: str = "lightgbm"
    needs_features: bool = True

    def __init__(self, booster: lgb.Booster, *, version: str | None = None) -> None:
        if list(booster.feature_name()) != FEATURE_NAMES:
            raise ValueError("the booster was trained on other features than this code builds")
        self.booster = booster
        self.version = version

    def score(self, features: np.ndarray | None, *, n_pairs: int, rng: np.random.Generator) -> np.ndarray:
        assert features is not None
        # Raw scores (log-odds for the pointwise objective): same order as probabilities, and what
        # `explain` decomposes, so contributions add up to the score.
        return np.asarray(self.booster.predict(features, raw_score=True, num_threads=1 if n_pairs < 5000 else 0))

    def explain(self, features: np.ndarray) -> pd.DataFrame:
        """Per row, each feature's contribution to the score (SHAP values from `pred_contrib`)."""
        contributions = np.asarray(self.booster.predict(features, pred_contrib=True))
        return pd.DataFrame(contributions, columns=[*FEATURE_NAMES, "bias"])

    def importance(self) -> pd.Series:
        """Global importance: total gain per feature, largest first."""
        gain = self.booster.feature_importance(importance_type="gain")
        return pd.Series(gain, index=FEATURE_NAMES, name="gain").sort_values(ascending=False)
