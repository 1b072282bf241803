"""The scorer interface and the baselines; higher score = better question for that family today."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from recsys.features.build import FEATURE_NAMES

_COLUMN = {name: i for i, name in enumerate(FEATURE_NAMES)}


class Scorer(Protocol):
    """Scores (family, question) pairs from their feature rows; `needs_features` False skips building them."""

    name: str
    version: str | None
    needs_features: bool

    def score(self, features: np.ndarray | None, *, n_pairs: int, rng: np.random.Generator) -> np.ndarray: ...


class RandomScorer:
    """Uniformly random order: the floor every policy must beat."""

    name: str = "random"
    version: str | None = None
    needs_features: bool = False

    def score(self, features: np.ndarray | None, *, n_pairs: int, rng: np.random.Generator) -> np.ndarray:
        return rng.random(n_pairs)


class PopularityScorer:
    """The questions families completed most often so far (smoothed rate), the same for everyone."""

    name: str = "popularity"
    version: str | None = None
    needs_features: bool = True

    def score(self, features: np.ndarray | None, *, n_pairs: int, rng: np.random.Generator) -> np.ndarray:
        assert features is not None
        return features[:, _COLUMN["question_completion_rate"]] + 1e-6 * rng.random(n_pairs)


class AffinityScorer:
    """A hand-written heuristic: the family's category and depth track record, interests, occasions, variety."""

    name: str = "affinity"
    version: str | None = None
    needs_features: bool = True

    def score(self, features: np.ndarray | None, *, n_pairs: int, rng: np.random.Generator) -> np.ndarray:
        assert features is not None
        f = features
        return (
            f[:, _COLUMN["category_affinity"]]
            + 0.5 * f[:, _COLUMN["difficulty_affinity"]]
            + 0.3 * f[:, _COLUMN["question_completion_rate"]]
            + 0.2 * f[:, _COLUMN["occasion_open"]]
            - 0.1 * f[:, _COLUMN["category_recent"]]
            + 1e-6 * rng.random(n_pairs)
        )


def baseline_scorer(name: str) -> Scorer:
    """The baseline scorer called `name`: random, popularity or affinity."""
    scorers: dict[str, type[Scorer]] = {
        "random": RandomScorer,
        "popularity": PopularityScorer,
        "affinity": AffinityScorer,
    }
    return scorers[name]()
