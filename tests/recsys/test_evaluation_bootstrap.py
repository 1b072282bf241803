"""Percentile bootstrap: coverage, narrowing with data, determinism and input checks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from recsys.evaluation.bootstrap import Interval, bootstrap_mean, bootstrap_ratio, bootstrap_statistic


def test_interval_str_and_overlaps() -> None:
    interval = Interval(estimate=0.4123, low=0.39849, high=0.4271)
    assert str(interval) == "0.412 [0.398, 0.427]"
    assert interval.overlaps(Interval(estimate=0.43, low=0.427, high=0.44))
    assert not interval.overlaps(Interval(estimate=0.5, low=0.45, high=0.55))
    assert Interval(estimate=0.5, low=0.45, high=0.55).overlaps(Interval(estimate=0.5, low=0.3, high=0.9))


def test_interval_is_frozen() -> None:
    interval = Interval(estimate=1.0, low=0.0, high=2.0)
    with pytest.raises(AttributeError):
        interval.low = 0.5  # type: ignore[misc]


def test_interval_contains_the_true_mean_of_a_large_normal_sample() -> None:
    sample = np.random.default_rng(7).normal(loc=3.0, scale=2.0, size=20_000)
    interval = bootstrap_mean(sample, seed=1)
    assert interval.low < 3.0 < interval.high
    assert interval.estimate == pytest.approx(sample.mean())
    # The 95% half-width is close to 1.96 standard errors.
    assert (interval.high - interval.low) / 2 == pytest.approx(1.96 * 2.0 / np.sqrt(20_000), rel=0.15)


def test_interval_narrows_with_more_data() -> None:
    rng = np.random.default_rng(3)
    small = bootstrap_mean(rng.normal(size=100))
    large = bootstrap_mean(rng.normal(size=10_000))
    assert large.high - large.low < (small.high - small.low) / 5


def test_deterministic_by_seed() -> None:
    sample = np.random.default_rng(0).exponential(size=500)
    assert bootstrap_mean(sample, seed=5) == bootstrap_mean(sample, seed=5)
    assert bootstrap_mean(sample, seed=5) != bootstrap_mean(sample, seed=6)
    assert bootstrap_ratio(sample, sample + 1, seed=5) == bootstrap_ratio(sample, sample + 1, seed=5)


def test_ratio_estimate_is_ratio_of_sums() -> None:
    completed = np.array([1, 0, 1, 1, 0, 2], dtype=float)
    shown = np.array([1, 1, 1, 2, 1, 2], dtype=float)
    interval = bootstrap_ratio(completed, shown)
    assert interval.estimate == pytest.approx(5 / 8)
    assert interval.low <= interval.estimate <= interval.high


def test_ratio_matches_statistic_on_the_same_resamples() -> None:
    rng = np.random.default_rng(11)
    rows = np.column_stack([rng.binomial(3, 0.4, size=300), rng.integers(1, 4, size=300)]).astype(float)
    by_ratio = bootstrap_ratio(rows[:, 0], rows[:, 1], n_resamples=200, seed=4)
    by_statistic = bootstrap_statistic(rows, lambda r: float(r[:, 0].sum() / r[:, 1].sum()), n_resamples=200, seed=4)
    assert by_ratio.estimate == pytest.approx(by_statistic.estimate)
    assert by_ratio.low == pytest.approx(by_statistic.low)
    assert by_ratio.high == pytest.approx(by_statistic.high)


def test_mean_matches_ratio_with_unit_denominators() -> None:
    sample = np.random.default_rng(2).normal(size=1_000)
    by_mean = bootstrap_mean(sample, seed=9)
    by_ratio = bootstrap_ratio(sample, np.ones_like(sample), seed=9)
    assert by_mean.low == pytest.approx(by_ratio.low) and by_mean.high == pytest.approx(by_ratio.high)


def test_ratio_skips_resamples_with_zero_denominator() -> None:
    # One matched row out of three: many resamples miss it and have no ratio.
    interval = bootstrap_ratio([0.0, 0.0, 2.0], [0.0, 0.0, 4.0], n_resamples=300)
    assert interval == Interval(estimate=0.5, low=0.5, high=0.5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"values": []}, "empty"),
        ({"values": [1.0, float("nan")]}, "NaN"),
        ({"values": [[1.0, 2.0]]}, "one-dimensional"),
        ({"values": [1.0], "confidence": 1.0}, "confidence"),
        ({"values": [1.0], "confidence": 0.0}, "confidence"),
        ({"values": [1.0], "n_resamples": 0}, "n_resamples"),
    ],
)
def test_mean_rejects_bad_input(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        bootstrap_mean(**kwargs)  # type: ignore[arg-type]


def test_ratio_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        bootstrap_ratio([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="sums to zero"):
        bootstrap_ratio([1.0, 2.0], [0.0, 0.0])


def test_statistic_rejects_empty_data() -> None:
    with pytest.raises(ValueError, match="at least one row"):
        bootstrap_statistic(np.empty((0, 2)), lambda r: float(r.sum()))


@given(
    values=st.lists(st.floats(min_value=-1e6, max_value=1e6), min_size=1, max_size=50),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
)
def test_mean_interval_is_ordered_and_within_the_data(values: list[float], seed: int) -> None:
    interval = bootstrap_mean(values, n_resamples=200, seed=seed)
    tolerance = 1e-9 * (1 + max(abs(v) for v in values))
    assert interval.low <= interval.high
    assert min(values) - tolerance <= interval.low and interval.high <= max(values) + tolerance
