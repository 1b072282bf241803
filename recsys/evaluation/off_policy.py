"""Off-policy estimators (IPS, SNIPS, doubly robust) for logged bandit feedback.

Each logged row holds the reward r of the logged action, the logging policy's propensity p_log of that action, and the
target policy's probability p_new of the same action. Importance weights are w = p_new / p_log, optionally clipped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from recsys.evaluation.bootstrap import Interval, as_sample, bootstrap_mean, bootstrap_ratio

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class OffPolicyEstimate:
    """IPS and SNIPS intervals of a target policy's value, with weight diagnostics."""

    ips: Interval
    snips: Interval
    ess: float  # effective sample size of the (clipped) weights
    n: int  # logged rows
    clipped_share: float  # share of rows whose weight was capped at `clip`
    matched: int  # rows with w > 0: the target policy could have taken the logged action


def _same_length(**columns: FloatArray) -> None:
    """Reject columns of different lengths, listing every length."""
    lengths = {name: column.size for name, column in columns.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"inputs must have equal lengths, got {lengths}")


def _propensities(logging_propensity: ArrayLike, target_probability: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Validated logging propensities in (0, 1] and target probabilities in [0, 1]."""
    p_log = as_sample(logging_propensity, name="logging_propensity")
    p_new = as_sample(target_probability, name="target_probability")
    _same_length(logging_propensity=p_log, target_probability=p_new)
    bad_log = np.flatnonzero((p_log <= 0.0) | (p_log > 1.0))
    if bad_log.size:
        # A zero propensity means the logged action could not have been logged: the data or join is wrong.
        raise ValueError(
            f"logging_propensity must lie in (0, 1]; {bad_log.size} rows do not, e.g. row {bad_log[0]} = "
            f"{p_log[bad_log[0]]}"
        )
    bad_new = np.flatnonzero((p_new < 0.0) | (p_new > 1.0))
    if bad_new.size:
        raise ValueError(
            f"target_probability must lie in [0, 1]; {bad_new.size} rows do not, e.g. row {bad_new[0]} = "
            f"{p_new[bad_new[0]]}"
        )
    return p_log, p_new


def _check_clip(clip: float | None) -> None:
    """Reject a non-positive or non-finite clip."""
    if clip is not None and not (np.isfinite(clip) and clip > 0):
        raise ValueError(f"clip must be a positive number or None, got {clip}")


def importance_weights(
    *,
    logging_propensity: ArrayLike,
    target_probability: ArrayLike,
    clip: float | None = None,
) -> FloatArray:
    """Validated importance weights p_new / p_log, capped at `clip` when given."""
    _check_clip(clip)
    p_log, p_new = _propensities(logging_propensity, target_probability)
    weights = p_new / p_log
    return weights if clip is None else np.minimum(weights, clip)


def _weighted_rewards(
    *,
    rewards: ArrayLike,
    logging_propensity: ArrayLike,
    target_probability: ArrayLike,
    clip: float | None,
) -> tuple[FloatArray, FloatArray]:
    """Validated (w * r, w) per logged row."""
    weights = importance_weights(
        logging_propensity=logging_propensity, target_probability=target_probability, clip=clip
    )
    r = as_sample(rewards, name="rewards")
    _same_length(rewards=r, weights=weights)
    return weights * r, weights


def _require_matches(weights: FloatArray) -> None:
    """Reject logs in which the target policy never takes the logged action: SNIPS is then undefined."""
    if not np.any(weights > 0):
        raise ValueError("no logged action has positive target probability (matched == 0): SNIPS is undefined")


def ips(
    *,
    rewards: ArrayLike,
    logging_propensity: ArrayLike,
    target_probability: ArrayLike,
    clip: float | None = None,
) -> float:
    """Inverse propensity scoring: mean of w * r (unbiased without clipping, but high variance)."""
    weighted, _ = _weighted_rewards(
        rewards=rewards, logging_propensity=logging_propensity, target_probability=target_probability, clip=clip
    )
    return float(weighted.mean())


def snips(
    *,
    rewards: ArrayLike,
    logging_propensity: ArrayLike,
    target_probability: ArrayLike,
    clip: float | None = None,
) -> float:
    """Self-normalized IPS: sum(w * r) / sum(w) (slightly biased, much lower variance than IPS)."""
    weighted, weights = _weighted_rewards(
        rewards=rewards, logging_propensity=logging_propensity, target_probability=target_probability, clip=clip
    )
    _require_matches(weights)
    return float(weighted.sum() / weights.sum())


def doubly_robust(
    *,
    rewards: ArrayLike,
    logging_propensity: ArrayLike,
    target_probability: ArrayLike,
    q_hat_logged: ArrayLike,
    q_hat_target: ArrayLike,
    clip: float | None = None,
) -> float:
    """Doubly robust: mean of q_hat_target + w * (r - q_hat_logged).

    q_hat_logged is the reward model's prediction for the logged action; q_hat_target is its expected reward under
    the target policy in that row's context. Unbiased if either the propensities or the reward model are right.
    """
    _, weights = _weighted_rewards(
        rewards=rewards, logging_propensity=logging_propensity, target_probability=target_probability, clip=clip
    )
    r = as_sample(rewards, name="rewards")
    q_logged = as_sample(q_hat_logged, name="q_hat_logged")
    q_target = as_sample(q_hat_target, name="q_hat_target")
    _same_length(rewards=r, q_hat_logged=q_logged, q_hat_target=q_target)
    return float(np.mean(q_target + weights * (r - q_logged)))


def effective_sample_size(weights: ArrayLike) -> float:
    """Kish's effective sample size (sum w)^2 / sum w^2; n when all weights are equal, 0.0 when all are zero."""
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 1:
        raise ValueError(f"weights must be one-dimensional, got shape {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("weights must be finite and non-negative")
    squares = float(np.sum(w**2))
    return float(np.sum(w)) ** 2 / squares if squares > 0 else 0.0


def estimate(
    *,
    rewards: ArrayLike,
    logging_propensity: ArrayLike,
    target_probability: ArrayLike,
    clip: float | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
) -> OffPolicyEstimate:
    """IPS and SNIPS with 95% percentile bootstrap intervals, plus ESS, clipping and match diagnostics."""
    weighted, weights = _weighted_rewards(
        rewards=rewards, logging_propensity=logging_propensity, target_probability=target_probability, clip=clip
    )
    _require_matches(weights)
    if clip is None:
        clipped_share = 0.0
    else:
        raw = importance_weights(logging_propensity=logging_propensity, target_probability=target_probability)
        clipped_share = float(np.mean(raw > clip))
    return OffPolicyEstimate(
        ips=bootstrap_mean(weighted, n_resamples=n_resamples, seed=seed),
        # The same seed resamples the same rows for both, so their intervals are directly comparable.
        snips=bootstrap_ratio(weighted, weights, n_resamples=n_resamples, seed=seed),
        ess=effective_sample_size(weights),
        n=int(weights.size),
        clipped_share=clipped_share,
        matched=int(np.count_nonzero(weights > 0)),
    )
