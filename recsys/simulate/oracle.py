"""The oracle: serves the question with the highest true completion probability (simulation only)."""

from __future__ import annotations

import numpy as np

from recsys.candidates import DayCalendar
from recsys.features.state import HistoryState
from recsys.policy import Policy
from recsys.simulate.world import Dynamics, World


class _TruthScorer:
    name: str = "oracle"
    version: str | None = None
    needs_features: bool = False

    def score(self, features: np.ndarray | None, *, n_pairs: int, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError("the oracle scores from the simulator's truth, see OraclePolicy.score_matrix")


class OraclePolicy(Policy):
    """Greedy on the truth: the upper line every learned policy is measured against."""

    def __init__(self, *, world: World, dynamics: Dynamics) -> None:
        super().__init__(scorer=_TruthScorer(), epsilon=0.0)
        self.world = world
        self.dynamics = dynamics

    def score_matrix(
        self,
        *,
        state: HistoryState,
        family_rows: np.ndarray,
        eligible: np.ndarray,
        calendar: DayCalendar,
        rng: np.random.Generator,
    ) -> np.ndarray:
        questions = np.broadcast_to(np.arange(eligible.shape[1]), eligible.shape)
        truth = self.world.completion_probability(family_rows, questions, calendar=calendar, dynamics=self.dynamics)
        return np.where(eligible, truth, -np.inf)
