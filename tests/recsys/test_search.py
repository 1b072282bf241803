"""The optional Optuna search: seeded, judged on the validation window, returns usable settings."""

from __future__ import annotations

from recsys.evaluation.offline import TemporalSplit
from recsys.ranking.search import search_params, validation_auc
from recsys.ranking.training import RankerParams, fit_ranker, replay
from recsys.simulate.history import simulate_history


def test_search_returns_the_best_trial_and_it_reproduces() -> None:
    dataset = simulate_history(n_families=80, days=24, seed=2).dataset
    rows, _ = replay(dataset)
    split = TemporalSplit.by_fractions(dataset.first_day, dataset.last_day)
    train, valid = rows.window(None, split.validation), rows.window(split.validation, split.test)
    best, auc = search_params(train=train, valid=valid, trials=3, base=RankerParams(n_estimators=60), seed=1)
    assert 0.5 < auc <= 1.0
    assert best.n_estimators == 60 and 7 <= best.num_leaves <= 63
    assert validation_auc(best, train=train, valid=valid) == auc  # the reported value is the best params' own
    assert fit_ranker(train, valid=valid, params=best).booster.current_iteration() >= 1
