"""Off-policy estimators on synthetic logged bandit feedback with a known true policy value."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from recsys.evaluation.bootstrap import Interval
from recsys.evaluation.off_policy import (
    OffPolicyEstimate,
    doubly_robust,
    effective_sample_size,
    estimate,
    importance_weights,
    ips,
    snips,
)

N_ARMS = 5
# Bernoulli reward rate per (context, arm): e.g. a family segment and a question category.
REWARD_RATES = np.array(
    [
        [0.10, 0.20, 0.30, 0.50, 0.70],
        [0.60, 0.15, 0.25, 0.05, 0.40],
        [0.30, 0.80, 0.10, 0.20, 0.35],
        [0.45, 0.45, 0.90, 0.15, 0.05],
    ]
)
# A deterministic target policy that is not the best one, so its value is not simply the maximum.
TARGET_ARM = np.array([3, 0, 1, 0])
TRUE_VALUE = float(REWARD_RATES[np.arange(4), TARGET_ARM].mean())


@dataclass(frozen=True)
class Log:
    """Logged rows of a uniform-random logging policy."""

    context: np.ndarray
    action: np.ndarray
    reward: np.ndarray
    logging_propensity: np.ndarray
    target_probability: np.ndarray


def uniform_log(*, n: int, seed: int) -> Log:
    """Uniform contexts, uniform logged arms, Bernoulli rewards; target probability 1 where the target agrees."""
    rng = np.random.default_rng(seed)
    context = rng.integers(0, len(REWARD_RATES), size=n)
    action = rng.integers(0, N_ARMS, size=n)
    reward = rng.binomial(1, REWARD_RATES[context, action]).astype(float)
    return Log(
        context=context,
        action=action,
        reward=reward,
        logging_propensity=np.full(n, 1.0 / N_ARMS),
        target_probability=(action == TARGET_ARM[context]).astype(float),
    )


@pytest.fixture(scope="module")
def log() -> Log:
    return uniform_log(n=20_000, seed=2024)


def test_ips_and_snips_recover_the_true_value(log: Log) -> None:
    kwargs: dict[str, Any] = {
        "rewards": log.reward,
        "logging_propensity": log.logging_propensity,
        "target_probability": log.target_probability,
    }
    weights = log.target_probability / log.logging_propensity
    weighted = weights * log.reward
    ips_value, snips_value = ips(**kwargs), snips(**kwargs)
    ips_se = weighted.std(ddof=1) / np.sqrt(weighted.size)
    # Delta-method standard error of a ratio of sums.
    snips_se = np.sqrt(np.sum((weights * (log.reward - snips_value)) ** 2)) / weights.sum()
    assert abs(ips_value - TRUE_VALUE) < 3 * ips_se
    assert abs(snips_value - TRUE_VALUE) < 3 * snips_se


def test_estimate_bundles_intervals_and_diagnostics(log: Log) -> None:
    result = estimate(
        rewards=log.reward,
        logging_propensity=log.logging_propensity,
        target_probability=log.target_probability,
        n_resamples=500,
        seed=1,
    )
    assert isinstance(result, OffPolicyEstimate)
    assert result.ips.estimate == pytest.approx(
        ips(rewards=log.reward, logging_propensity=log.logging_propensity, target_probability=log.target_probability)
    )
    assert result.snips.estimate == pytest.approx(
        snips(rewards=log.reward, logging_propensity=log.logging_propensity, target_probability=log.target_probability)
    )
    for interval in (result.ips, result.snips):
        assert interval.low <= interval.estimate <= interval.high
        assert interval.high - interval.low < 0.05
    assert result.n == 20_000
    assert result.matched == int(log.target_probability.sum())
    assert result.matched / result.n == pytest.approx(1 / N_ARMS, abs=0.01)
    # Weights are 5 on matched rows and 0 elsewhere, so the ESS is exactly the matched count.
    assert result.ess == pytest.approx(result.matched)
    assert result.clipped_share == 0.0


def test_estimate_is_deterministic_by_seed(log: Log) -> None:
    def run(seed: int) -> OffPolicyEstimate:
        return estimate(
            rewards=log.reward[:2_000],
            logging_propensity=log.logging_propensity[:2_000],
            target_probability=log.target_probability[:2_000],
            n_resamples=200,
            seed=seed,
        )

    assert run(3) == run(3)
    assert run(3).ips != run(4).ips


def test_doubly_robust_with_true_reward_model(log: Log) -> None:
    q_logged = REWARD_RATES[log.context, log.action]
    q_target = REWARD_RATES[log.context, TARGET_ARM[log.context]]
    value = doubly_robust(
        rewards=log.reward,
        logging_propensity=log.logging_propensity,
        target_probability=log.target_probability,
        q_hat_logged=q_logged,
        q_hat_target=q_target,
    )
    terms = q_target + log.target_probability / log.logging_propensity * (log.reward - q_logged)
    assert value == pytest.approx(terms.mean())
    assert abs(value - TRUE_VALUE) < 3 * terms.std(ddof=1) / np.sqrt(terms.size)


def test_doubly_robust_with_zero_reward_model_is_ips(log: Log) -> None:
    zeros = np.zeros_like(log.reward)
    common: dict[str, Any] = {
        "rewards": log.reward,
        "logging_propensity": log.logging_propensity,
        "target_probability": log.target_probability,
    }
    assert doubly_robust(**common, q_hat_logged=zeros, q_hat_target=zeros) == pytest.approx(ips(**common))


def test_snips_equals_the_on_policy_mean_when_target_is_logging() -> None:
    rng = np.random.default_rng(5)
    propensity = rng.uniform(0.05, 1.0, size=1_000)
    rewards = rng.binomial(1, 0.3, size=1_000).astype(float)
    assert snips(rewards=rewards, logging_propensity=propensity, target_probability=propensity) == pytest.approx(
        rewards.mean()
    )
    assert ips(rewards=rewards, logging_propensity=propensity, target_probability=propensity) == pytest.approx(
        rewards.mean()
    )
    result = estimate(rewards=rewards, logging_propensity=propensity, target_probability=propensity, n_resamples=200)
    assert result.snips.estimate == pytest.approx(rewards.mean())
    assert result.ess == pytest.approx(1_000)


def test_clipping_caps_weights_and_reports_the_share() -> None:
    rewards = np.array([1.0, 1.0, 0.0, 1.0])
    p_log = np.array([0.1, 0.5, 0.5, 1.0])
    p_new = np.array([1.0, 1.0, 0.0, 1.0])
    weights = importance_weights(logging_propensity=p_log, target_probability=p_new, clip=4.0)
    np.testing.assert_allclose(weights, [4.0, 2.0, 0.0, 1.0])
    assert ips(rewards=rewards, logging_propensity=p_log, target_probability=p_new, clip=4.0) == pytest.approx(7 / 4)
    assert snips(rewards=rewards, logging_propensity=p_log, target_probability=p_new, clip=4.0) == pytest.approx(1.0)
    result = estimate(rewards=rewards, logging_propensity=p_log, target_probability=p_new, clip=4.0, n_resamples=50)
    assert result.clipped_share == pytest.approx(0.25)
    assert result.matched == 3


def test_ess_equals_n_when_all_weights_are_equal() -> None:
    assert effective_sample_size(np.full(37, 2.5)) == pytest.approx(37)
    assert effective_sample_size([1.0, 0.0, 0.0, 0.0]) == pytest.approx(1)
    assert effective_sample_size([0.0, 0.0]) == 0.0
    with pytest.raises(ValueError, match="non-negative"):
        effective_sample_size([1.0, -1.0])


@given(st.lists(st.floats(min_value=1e-3, max_value=1e3), min_size=1, max_size=100))
def test_ess_lies_between_one_and_n(weights: list[float]) -> None:
    ess = effective_sample_size(weights)
    assert 1.0 - 1e-9 <= ess <= len(weights) * (1 + 1e-9)


@pytest.mark.parametrize(
    ("p_log", "p_new", "message"),
    [
        ([0.5, 0.0], [1.0, 1.0], r"logging_propensity must lie in \(0, 1\]"),
        ([0.5, 1.5], [1.0, 1.0], r"logging_propensity must lie in \(0, 1\]"),
        ([0.5, -0.2], [1.0, 1.0], r"logging_propensity must lie in \(0, 1\]"),
        ([0.5, float("nan")], [1.0, 1.0], "NaN"),
        ([0.5, 0.5], [1.0, 1.1], r"target_probability must lie in \[0, 1\]"),
        ([0.5, 0.5], [-0.1, 1.0], r"target_probability must lie in \[0, 1\]"),
        ([0.5, 0.5], [1.0], "equal lengths"),
    ],
)
def test_invalid_propensities_raise(p_log: list[float], p_new: list[float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ips(rewards=[1.0, 0.0], logging_propensity=p_log, target_probability=p_new)
    with pytest.raises(ValueError, match=message):
        estimate(rewards=[1.0, 0.0], logging_propensity=p_log, target_probability=p_new)


def test_other_invalid_inputs_raise() -> None:
    with pytest.raises(ValueError, match="equal lengths"):
        snips(rewards=[1.0], logging_propensity=[0.5, 0.5], target_probability=[1.0, 1.0])
    with pytest.raises(ValueError, match="clip"):
        ips(rewards=[1.0], logging_propensity=[0.5], target_probability=[1.0], clip=0.0)
    with pytest.raises(ValueError, match="matched == 0"):
        estimate(rewards=[1.0, 0.0], logging_propensity=[0.5, 0.5], target_probability=[0.0, 0.0])
    with pytest.raises(ValueError, match="empty"):
        ips(rewards=[], logging_propensity=[], target_probability=[])
    with pytest.raises(ValueError, match="equal lengths"):
        doubly_robust(
            rewards=[1.0, 0.0],
            logging_propensity=[0.5, 0.5],
            target_probability=[1.0, 0.0],
            q_hat_logged=[0.5],
            q_hat_target=[0.5, 0.5],
        )


def test_interval_type_is_shared_with_bootstrap(log: Log) -> None:
    result = estimate(
        rewards=log.reward[:500],
        logging_propensity=log.logging_propensity[:500],
        target_probability=log.target_probability[:500],
        n_resamples=100,
    )
    assert isinstance(result.ips, Interval) and isinstance(result.snips, Interval)
