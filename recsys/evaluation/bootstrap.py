"""Percentile bootstrap intervals for means, ratios of sums and arbitrary statistics, deterministic by seed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

# Upper bound on resample indices held at once: vectorized, but bounded memory for large samples.
_MAX_CHUNK_ELEMENTS = 4_000_000


@dataclass(frozen=True)
class Interval:
    """A point estimate with a confidence interval."""

    estimate: float
    low: float
    high: float

    def overlaps(self, other: Interval) -> bool:
        """Whether the two intervals share at least one point."""
        return self.low <= other.high and other.low <= self.high

    def __str__(self) -> str:
        return f"{self.estimate:.3f} [{self.low:.3f}, {self.high:.3f}]"


def as_sample(values: ArrayLike, *, name: str) -> NDArray[np.float64]:
    """A non-empty, finite 1-D float array, or ValueError naming the argument."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


def _check_settings(*, n_resamples: int, confidence: float) -> None:
    """Reject a non-positive resample count or a confidence outside (0, 1)."""
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be at least 1, got {n_resamples}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")


def _index_chunks(n: int, *, n_resamples: int, seed: int) -> Iterator[NDArray[np.int64]]:
    """Row indices of all resamples, (chunk, n) at a time, drawn from one seeded generator."""
    rng = np.random.default_rng(seed)
    chunk = max(1, _MAX_CHUNK_ELEMENTS // n)
    for start in range(0, n_resamples, chunk):
        yield rng.integers(0, n, size=(min(chunk, n_resamples - start), n))


def _percentile_interval(estimate: float, replicates: NDArray[np.float64], confidence: float) -> Interval:
    """The percentile interval of bootstrap replicates around a point estimate."""
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(replicates, [tail, 1.0 - tail])
    return Interval(estimate=float(estimate), low=float(low), high=float(high))


def bootstrap_mean(
    values: ArrayLike,
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Interval:
    """Percentile bootstrap interval of the mean."""
    _check_settings(n_resamples=n_resamples, confidence=confidence)
    sample = as_sample(values, name="values")
    replicates = np.concatenate(
        [sample[idx].mean(axis=1) for idx in _index_chunks(sample.size, n_resamples=n_resamples, seed=seed)]
    )
    return _percentile_interval(float(sample.mean()), replicates, confidence)


def bootstrap_ratio(
    numerator: ArrayLike,
    denominator: ArrayLike,
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Interval:
    """Percentile bootstrap interval of sum(numerator) / sum(denominator), resampling paired rows.

    Resamples whose denominator sums to zero have no ratio and are left out (e.g. SNIPS resamples without a matched
    row); if the full sample's denominator sums to zero, or every resample's does, ValueError is raised.
    """
    _check_settings(n_resamples=n_resamples, confidence=confidence)
    num = as_sample(numerator, name="numerator")
    den = as_sample(denominator, name="denominator")
    if num.size != den.size:
        raise ValueError(f"numerator and denominator differ in length: {num.size} != {den.size}")
    if den.sum() == 0:
        raise ValueError("denominator sums to zero: the ratio is undefined")
    parts = []
    for idx in _index_chunks(num.size, n_resamples=n_resamples, seed=seed):
        num_sums, den_sums = num[idx].sum(axis=1), den[idx].sum(axis=1)
        defined = den_sums != 0
        parts.append(num_sums[defined] / den_sums[defined])
    replicates = np.concatenate(parts)
    if replicates.size == 0:
        raise ValueError("every resample's denominator sums to zero: the ratio is undefined")
    return _percentile_interval(float(num.sum() / den.sum()), replicates, confidence)


def bootstrap_statistic(
    data: np.ndarray,
    statistic: Callable[[np.ndarray], float],
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Interval:
    """Percentile bootstrap interval of any statistic of `data`, resampling its rows (axis 0) together.

    Use it for statistics that need whole rows, e.g. a ratio of two columns; it calls `statistic` once per resample,
    so prefer `bootstrap_mean` / `bootstrap_ratio` where they fit. Draws the same resamples as they do for one seed.
    Resamples where the statistic is NaN (undefined) are left out, as `bootstrap_ratio` does for zero denominators.
    """
    _check_settings(n_resamples=n_resamples, confidence=confidence)
    array = np.asarray(data)
    if array.ndim == 0 or array.shape[0] == 0:
        raise ValueError("data must have at least one row")
    replicates = np.array(
        [
            statistic(array[row])
            for idx in _index_chunks(array.shape[0], n_resamples=n_resamples, seed=seed)
            for row in idx
        ],
        dtype=np.float64,
    )
    replicates = replicates[~np.isnan(replicates)]
    if replicates.size == 0:
        raise ValueError("the statistic is NaN on every resample")
    return _percentile_interval(float(statistic(array)), replicates, confidence)
