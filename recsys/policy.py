"""From scores to a served question: diversity, logged exploration with propensities, and "replace"."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from recsys.candidates import DayCalendar
from recsys.features.build import build_features, build_first_stage_features
from recsys.features.state import HistoryState
from recsys.ranking.scorers import AffinityScorer, Scorer

DIVERSITY_PENALTY = 1e3  # larger than any score gap: yesterday's category goes last, but stays eligible
# Candidates per family the model scores in production. Against the top 80, the top 40 moved A/B
# completion by -0.004..+0.004 over nine seed comparisons, about 0 on average (docs/recommender.md),
# and halves the model's work.
SERVING_SHORTLIST = 40
EXPLORE_TOP = 20  # production exploration lands among the 20 best questions of the family
BEYOND_SHORTLIST = 1e6  # candidates the first stage left out rank below every shortlisted one
CHUNK_FAMILIES = 2000  # families scored at once: at most ~2000 x 600 full feature rows (no shortlist), 0.2 GB


@dataclass(frozen=True)
class Decisions:
    """One decision per family row: the served question, its propensity and the next best for "replace"."""

    family_rows: np.ndarray  # (B,)
    questions: np.ndarray  # (B,) bank positions; -1 when nothing was eligible
    propensity: np.ndarray  # (B,)
    candidate_count: np.ndarray  # (B,)
    alternatives: np.ndarray  # (B, k) next best positions, -1 padded
    scores: np.ndarray  # (B, Q) score matrix, -inf where ineligible

    def select(self, keep: np.ndarray) -> Decisions:
        return Decisions(*(getattr(self, f.name)[keep] for f in dataclasses.fields(self)))

    @staticmethod
    def concat(parts: list[Decisions]) -> Decisions:
        return Decisions(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in dataclasses.fields(Decisions)))


@dataclass
class Policy:
    """Epsilon-greedy over a scorer's ranking, with the category served yesterday put last.

    With `explore_top`, exploration picks uniformly among the best `explore_top` questions instead of
    among all eligible ones: it still varies what families see (and logs honest propensities) without
    spending exploration days on questions the ranking already knows are poor.

    With `shortlist`, a cheap first stage (the affinity heuristic, over the few feature columns it
    reads) keeps the best `shortlist` candidates of each family for the scorer; only those get full
    feature rows, the rest stay eligible (for exploration and "replace") but rank below them. It
    bounds feature and model work per family.
    """

    scorer: Scorer
    epsilon: float = 0.05
    alternatives: int = 3
    shortlist: int | None = None
    diversity: bool = True
    explore_top: int | None = None

    @property
    def name(self) -> str:
        return self.scorer.name

    def score_matrix(
        self,
        *,
        state: HistoryState,
        family_rows: np.ndarray,
        eligible: np.ndarray,
        calendar: DayCalendar,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """(B, Q) scores of every eligible question, -inf elsewhere."""
        local, questions = np.nonzero(eligible)
        rows = family_rows[local]
        scores = np.full(eligible.shape, -np.inf)
        if self.scorer.needs_features and self.shortlist and len(local) > self.shortlist * eligible.shape[0]:
            scores[local, questions] = self._score_shortlisted(
                state=state,
                rows=rows,
                local=local,
                questions=questions,
                shape=eligible.shape,
                calendar=calendar,
                rng=rng,
            )
        else:
            features = None
            if self.scorer.needs_features:
                features = build_features(state, family_rows=rows, questions=questions, calendar=calendar)
            scores[local, questions] = self.scorer.score(features, n_pairs=len(local), rng=rng)
        if self.diversity:
            yesterday = state.last_category_day[family_rows] == calendar.day.toordinal() - 1  # (B, C)
            repeat = yesterday[local, state.bank.category_index[questions]]
            scores[local[repeat], questions[repeat]] -= DIVERSITY_PENALTY
        return scores

    def _score_shortlisted(
        self,
        *,
        state: HistoryState,
        rows: np.ndarray,
        local: np.ndarray,
        questions: np.ndarray,
        shape: tuple[int, int],
        calendar: DayCalendar,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """The first stage over every pair from its few columns; full feature rows only for its best."""
        assert self.shortlist is not None
        columns = build_first_stage_features(state, family_rows=rows, questions=questions, calendar=calendar)
        first = AffinityScorer().score_first_stage(columns, rng=rng)
        matrix = np.full(shape, -np.inf)
        matrix[local, questions] = first
        k = min(self.shortlist, shape[1])
        threshold = -np.partition(-matrix, k - 1, axis=1)[:, k - 1]
        keep = first >= threshold[local]
        features = build_features(state, family_rows=rows[keep], questions=questions[keep], calendar=calendar)
        scores = np.empty(len(local))
        scores[keep] = self.scorer.score(features, n_pairs=int(keep.sum()), rng=rng)
        scores[~keep] = first[~keep] - BEYOND_SHORTLIST
        return scores

    def choose(
        self,
        *,
        state: HistoryState,
        family_rows: np.ndarray,
        eligible: np.ndarray,
        calendar: DayCalendar,
        rng: np.random.Generator,
    ) -> Decisions:
        """Decide for every family row, in chunks so feature memory stays bounded for any population."""
        parts = []
        for start in range(0, len(family_rows), CHUNK_FAMILIES):
            rows, mask = family_rows[start : start + CHUNK_FAMILIES], eligible[start : start + CHUNK_FAMILIES]
            scores = self.score_matrix(state=state, family_rows=rows, eligible=mask, calendar=calendar, rng=rng)
            parts.append(self.decide(scores, family_rows=rows, rng=rng))
        return parts[0] if len(parts) == 1 else Decisions.concat(parts)

    def _explorable(self, scores: np.ndarray) -> np.ndarray:
        """(B, Q) bool: where exploration may land: every eligible question, or the best `explore_top`."""
        eligible = np.isfinite(scores)
        if not self.explore_top or self.explore_top >= scores.shape[1]:
            return eligible
        k = self.explore_top
        threshold = -np.partition(-scores, k - 1, axis=1)[:, k - 1]
        return eligible & (scores >= threshold[:, None])

    def decide(self, scores: np.ndarray, *, family_rows: np.ndarray, rng: np.random.Generator) -> Decisions:
        """The top with probability 1-ε+ε/K, else uniformly one of the K explorable questions."""
        count = np.isfinite(scores).sum(axis=1)
        explorable = self._explorable(scores)
        width = explorable.sum(axis=1)
        top = np.argmax(scores, axis=1)
        explore = rng.random(len(scores)) < self.epsilon
        # A uniform pick among explorable columns: the n-th one, n uniform in [0, width).
        nth = np.floor(rng.random(len(scores)) * np.maximum(width, 1)).astype(int)
        random_pick = np.argmax(np.cumsum(explorable, axis=1) > nth[:, None], axis=1)
        chosen = np.where(explore, random_pick, top)
        uniform = self.epsilon / np.maximum(width, 1)
        propensity = np.where(chosen == top, 1.0 - self.epsilon + uniform, uniform)
        chosen = np.where(count > 0, chosen, -1)
        return Decisions(
            family_rows=family_rows,
            questions=chosen,
            propensity=np.where(count > 0, propensity, 0.0),
            candidate_count=count,
            alternatives=_next_best(scores, chosen, self.alternatives),
            scores=scores,
        )

    def probability_of(self, scores: np.ndarray, questions: np.ndarray) -> np.ndarray:
        """π(question | context) under this policy, for off-policy evaluation of logged choices."""
        explorable = self._explorable(scores)
        width = explorable.sum(axis=1)
        top = np.argmax(scores, axis=1)
        uniform = self.epsilon / np.maximum(width, 1)
        rows = np.arange(len(scores))
        reachable = explorable[rows, np.maximum(questions, 0)] & (questions >= 0)
        return np.where(reachable, np.where(questions == top, 1.0 - self.epsilon + uniform, uniform), 0.0)


def _next_best(scores: np.ndarray, chosen: np.ndarray, k: int) -> np.ndarray:
    masked = scores.copy()
    valid = chosen >= 0
    masked[np.flatnonzero(valid), chosen[valid]] = -np.inf
    order = np.argsort(-masked, axis=1)[:, :k]
    finite = np.isfinite(np.take_along_axis(masked, order, axis=1))
    return np.where(finite, order, -1)
