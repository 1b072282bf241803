"""An optional Optuna search over LightGBM settings, judged on the validation window."""

from __future__ import annotations

import dataclasses

import numpy as np
from sklearn.metrics import roc_auc_score

from recsys.ranking.training import RankerParams, TrainingRows, fit_ranker


def validation_auc(params: RankerParams, *, train: TrainingRows, valid: TrainingRows) -> float:
    """AUC of "every member answered" on the validation window (the pointwise objective's target)."""
    model = fit_ranker(train, valid=valid, params=params)
    if len(np.unique(valid.completed)) < 2:
        raise ValueError("the validation window needs both completed and not completed questions")
    scores = model.score(valid.features, n_pairs=len(valid), rng=np.random.default_rng(0))
    return float(roc_auc_score(valid.completed, scores))


def search_params(
    *, train: TrainingRows, valid: TrainingRows, trials: int, base: RankerParams | None = None, seed: int = 0
) -> tuple[RankerParams, float]:
    """The best of `trials` settings (TPE, seeded) and its validation AUC."""
    import optuna

    base = base or RankerParams()
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def suggest(trial: optuna.Trial | optuna.trial.FixedTrial) -> RankerParams:
        return dataclasses.replace(
            base,
            learning_rate=trial.suggest_float("learning_rate", 0.02, 0.2, log=True),
            num_leaves=trial.suggest_int("num_leaves", 7, 63, log=True),
            min_child_samples=trial.suggest_int("min_child_samples", 10, 200, log=True),
            colsample_bytree=trial.suggest_float("colsample_bytree", 0.5, 1.0),
        )

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(lambda trial: validation_auc(suggest(trial), train=train, valid=valid), n_trials=trials)
    return suggest(optuna.trial.FixedTrial(study.best_params)), float(study.best_value)
