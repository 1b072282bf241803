"""Batch scoring's compiled trees give LightGBM's own raw scores."""

from __future__ import annotations

from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest

from recsys.features.build import FEATURE_NAMES
from recsys.ranking.compiled import CompiledScorer, compiled
from recsys.ranking.lightgbm_scorer import LightGBMScorer
from recsys.ranking.scorers import AffinityScorer


@pytest.fixture(scope="module")
def scorer() -> LightGBMScorer:
    rng = np.random.default_rng(3)
    features = rng.normal(size=(3000, len(FEATURE_NAMES)))
    features[rng.random(features.shape) < 0.05] = np.nan  # missing values take LightGBM's default branch
    labels = (features[:, 0] + 0.5 * np.nan_to_num(features[:, 5]) + rng.normal(size=3000) > 0).astype(int)
    data = lgb.Dataset(features, labels, feature_name=FEATURE_NAMES)
    booster = lgb.train({"objective": "binary", "num_leaves": 15, "verbose": -1}, data, num_boost_round=25)
    return LightGBMScorer(booster, version="7")


def test_compiled_trees_score_exactly_as_lightgbm(scorer: LightGBMScorer, tmp_path: Path) -> None:
    rows = np.random.default_rng(4).normal(size=(6000, len(FEATURE_NAMES)))
    rows[::7, 3] = np.nan
    fast = compiled(scorer, cache_dir=tmp_path)
    assert isinstance(fast, CompiledScorer) and fast.version == "7"
    rng = np.random.default_rng(0)
    for count in (40, 6000):  # one family's shortlist, and a batch above the threading threshold
        expected = scorer.score(rows[:count], n_pairs=count, rng=rng)
        np.testing.assert_allclose(fast.score(rows[:count], n_pairs=count, rng=rng), expected, rtol=0, atol=1e-9)


def test_a_compiled_model_is_cached_by_its_content(scorer: LightGBMScorer, tmp_path: Path) -> None:
    compiled(scorer, cache_dir=tmp_path)
    [shared_object] = tmp_path.glob("*.so")
    written = shared_object.stat().st_mtime_ns
    again = compiled(LightGBMScorer(scorer.booster), cache_dir=tmp_path)
    assert isinstance(again, CompiledScorer)
    assert list(tmp_path.glob("*.so")) == [shared_object] and shared_object.stat().st_mtime_ns == written


def test_only_lightgbm_scorers_are_compiled(tmp_path: Path) -> None:
    heuristic = AffinityScorer()
    assert compiled(heuristic, cache_dir=tmp_path) is heuristic
    assert compiled(None, cache_dir=tmp_path) is None
    assert not any(tmp_path.iterdir())
