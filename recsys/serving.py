"""Deciding real families' questions from the logged history: the path batch scoring and the api share.

A `Recommender` holds the history state as of one day's cutoff (only events before that local
midnight, exactly as training rows see them), so what it serves for a day is what the model was
trained to score for that day.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from recsys.candidates import DayCalendar, eligible_mask
from recsys.events import Dataset, EventType
from recsys.families import FamilyTable
from recsys.features.build import build_features
from recsys.features.state import HistoryState, cutoff
from recsys.policy import CHUNK_FAMILIES, EXPLORE_TOP, SERVING_SHORTLIST, Policy
from recsys.ranking.scorers import AffinityScorer, Scorer

ACTIVE_DAYS = 14  # a family that was served or answered within this many days is active


class UnknownFamily(KeyError):
    """The family is not in the snapshot this recommender was built from."""


@dataclass(frozen=True)
class Assignment:
    """One family's question for one day, with what the event log needs to learn from it."""

    family_id: str
    day: date
    question_id: str | None  # None when no question is eligible any more
    alternatives: list[str]  # next best, for "replace"
    propensity: float
    candidate_count: int
    policy: str
    model_version: str | None
    timezone: str = "Asia/Seoul"  # the family's: its day starts at its own local midnight

    def as_document(self) -> dict[str, Any]:
        return {
            "family_id": self.family_id,
            "day": self.day.isoformat(),
            "question_id": self.question_id,
            "alternatives": self.alternatives,
            "propensity": self.propensity,
            "candidate_count": self.candidate_count,
            "policy": self.policy,
            "model_version": self.model_version,
        }


def serving_policy(scorer: Scorer | None, *, epsilon: float = 0.05) -> Policy:
    """The production policy around a model, or around the affinity heuristic when there is none."""
    if scorer is None:
        return Policy(AffinityScorer(), epsilon=epsilon, explore_top=EXPLORE_TOP)
    return Policy(scorer, epsilon=epsilon, explore_top=EXPLORE_TOP, shortlist=SERVING_SHORTLIST)


def decision_seed(family_id: str, day: date) -> int:
    """A seed fixed per (family, day): deciding twice gives the same question and propensity."""
    return int.from_bytes(hashlib.sha256(f"{family_id}|{day.isoformat()}".encode()).digest()[:8], "big")


class FamilyStreams:
    """Random numbers for several families decided in one call, each from its own generator.

    A policy draws, in order, one number per eligible pair (ties in the first stage, or a random
    scorer), then one per family twice (explore or not, and which): asked for as many numbers as
    there are pairs, each family's segment comes from its generator; asked for one per family, each
    family's generator gives one. A family only ever uses its own generator, and its decision is the
    same alone or in a batch whenever it has more eligible questions than the policy's shortlist
    (whether the first stage runs, and so draws, depends on the batch's candidates otherwise).
    """

    def __init__(self, generators: list[np.random.Generator], eligible_counts: np.ndarray) -> None:
        self.generators = generators
        self.counts = np.asarray(eligible_counts, dtype=np.int64)

    def random(self, size: int) -> np.ndarray:
        if size == int(self.counts.sum()):
            return np.concatenate([g.random(int(n)) for g, n in zip(self.generators, self.counts, strict=True)])
        if size == len(self.generators):
            return np.asarray([g.random() for g in self.generators])
        raise ValueError(f"{size} random numbers asked of {len(self.generators)} families' streams")


@dataclass
class Recommender:
    """The history state as of `day`'s cutoff over a snapshot's families and bank."""

    state: HistoryState
    day: date
    last_activity: dict[str, date] = field(default_factory=dict)

    @classmethod
    def from_dataset(cls, dataset: Dataset, *, day: date) -> Recommender:
        families = FamilyTable.from_frames(dataset.families, dataset.members)
        events = dataset.events.sort_values("ts", kind="stable")
        state = HistoryState.from_events(events, bank=dataset.bank, families=families, before=cutoff(day))
        activity = events[events["ts"] < cutoff(day)].groupby("family_id")["day"].max()
        return cls(state=state, day=day, last_activity={str(k): v for k, v in activity.items()})

    def knows(self, family_id: str) -> bool:
        return family_id in self.state.families.index

    def active_families(self, *, within_days: int = ACTIVE_DAYS) -> list[str]:
        """Families with any event in the last `within_days` days before `day`, or created since."""
        since = self.day.toordinal() - within_days
        active = {family for family, last in self.last_activity.items() if last.toordinal() >= since}
        families = self.state.families
        active.update(str(families.family_ids[i]) for i in np.flatnonzero(families.created_day >= since))
        return sorted(active)

    def _rows(self, family_ids: Sequence[str]) -> np.ndarray:
        index = self.state.families.index
        missing = [family for family in family_ids if family not in index]
        if missing:
            raise UnknownFamily(missing[0])
        return np.array([index[family] for family in family_ids], dtype=np.int64)

    def assign(self, *, family_ids: Sequence[str], policy: Policy) -> list[Assignment]:
        """Decide `day`'s question for each family (seeded per family and day, so repeatable)."""
        rows = self._rows(family_ids)
        calendar = DayCalendar.build(self.day, self.state.families)
        eligible = eligible_mask(
            bank=self.state.bank, families=self.state.families, family_rows=rows, asked=self.state.asked,
            calendar=calendar,
        )  # fmt: skip
        assignments = []
        bank_ids = self.state.bank.ids
        for start in range(0, len(family_ids), CHUNK_FAMILIES):
            ids = list(family_ids[start : start + CHUNK_FAMILIES])
            mask = eligible[start : start + CHUNK_FAMILIES]
            # Decided together (one feature build, one model call), each family drawing from its own seed
            # exactly what it would draw if decided alone.
            streams = FamilyStreams([np.random.default_rng(decision_seed(f, self.day)) for f in ids], mask.sum(axis=1))
            decision = policy.choose(
                state=self.state, family_rows=rows[start : start + CHUNK_FAMILIES], eligible=mask, calendar=calendar,
                rng=cast(np.random.Generator, streams),
            )  # fmt: skip
            for i, family_id in enumerate(ids):
                question = int(decision.questions[i])
                assignments.append(
                    Assignment(
                        family_id=family_id,
                        day=self.day,
                        question_id=str(bank_ids[question]) if question >= 0 else None,
                        alternatives=[str(bank_ids[q]) for q in decision.alternatives[i] if q >= 0],
                        propensity=float(decision.propensity[i]),
                        candidate_count=int(decision.candidate_count[i]),
                        policy=policy.name,
                        model_version=policy.scorer.version,
                    )
                )
        return assignments

    def rank(self, *, family_id: str, policy: Policy, k: int = 10) -> pd.DataFrame:
        """The family's best `k` eligible questions today with their scores (support and notebooks)."""
        rows = self._rows([family_id])
        calendar = DayCalendar.build(self.day, self.state.families)
        eligible = eligible_mask(
            bank=self.state.bank, families=self.state.families, family_rows=rows, asked=self.state.asked,
            calendar=calendar,
        )  # fmt: skip
        rng = np.random.default_rng(decision_seed(family_id, self.day))
        scores = policy.score_matrix(state=self.state, family_rows=rows, eligible=eligible, calendar=calendar, rng=rng)
        order = [q for q in np.argsort(-scores[0]) if np.isfinite(scores[0, q])][:k]
        bank = self.state.bank
        return pd.DataFrame(
            {
                "question_id": [str(bank.ids[q]) for q in order],
                "category": [bank.questions[q].category.value for q in order],
                "difficulty": [bank.questions[q].difficulty for q in order],
                "score": [float(scores[0, q]) for q in order],
            }
        )

    def features_for(self, *, family_id: str, question_ids: Sequence[str]) -> np.ndarray:
        """The exact feature rows the model sees for these questions today (for explanations)."""
        rows = self._rows([family_id])
        questions = self.state.bank.positions(np.asarray(question_ids))
        calendar = DayCalendar.build(self.day, self.state.families)
        return build_features(self.state, family_rows=np.repeat(rows, len(questions)), questions=questions,
                              calendar=calendar)  # fmt: skip


def served_event(assignment: Assignment) -> dict[str, object]:
    """The `served` event of an assignment (docs/events.md), stamped at the start of its local day."""
    return {
        "event_id": f"served:{assignment.family_id}:{assignment.day.isoformat()}",
        "ts": cutoff(assignment.day, ZoneInfo(assignment.timezone)).to_pydatetime(),
        "day": assignment.day.isoformat(),
        "family_id": assignment.family_id,
        "type": EventType.SERVED.value,
        "question_id": assignment.question_id,
        "policy": assignment.policy,
        "model_version": assignment.model_version,
        "propensity": assignment.propensity,
        "candidate_count": assignment.candidate_count,
    }
