"""The scorer interface and the baselines; higher score = better question for that family today."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from recsys.features.build import FEATURE_NAMES, FIRST_STAGE_FEATURES

_COLUMN = {name: i for i, name in enumerate(FEATURE_NAMES)}
_FIRST_STAGE_COLUMN = {name: i for i, name in enumerate(FIRST_STAGE_FEATURES)}
_FIRST_STAGE_IN_FULL_ROWS = [_COLUMN[name] for name in FIRST_STAGE_FEATURES]


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
        return self._combine(features[:, _FIRST_STAGE_IN_FULL_ROWS], rng)

    def score_first_stage(self, columns: np.ndarray, *, rng: np.random.Generator) -> np.ndarray:
        """The same scores from `build_first_stage_features` rows, without building the full rows."""
        return self._combine(columns, rng)

    @staticmethod
    def _combine(columns: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        def f(name: str) -> np.ndarray:
            return columns[:, _FIRST_STAGE_COLUMN[name]]

        return (
            f("category_affinity")
            + 0.5 * f("difficulty_affinity")
            + 0.3 * f("question_completion_rate")
            + 0.2 * f("occasion_open")
            - 0.1 * f("category_recent")
            + 1e-6 * rng.random(len(columns))
        )


def baseline_scorer(name: str) -> Scorer:
    """The baseline scorer called `name`: random, popularity or affinity."""
    scorers: dict[str, type[Scorer]] = {
        "random": RandomScorer,
        "popularity": PopularityScorer,
        "affinity": AffinityScorer,
    }
    return scorers[name]()
