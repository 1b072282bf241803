"""The simulator's ground truth: how likely each member is to answer a question on a day."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recsys.candidates import DayCalendar
from recsys.catalog.bank import QuestionBank
from recsys.simulate.params import SimulationParams
from recsys.simulate.population import N_CATEGORIES, Population


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass
class Dynamics:
    """What changes day to day for each family (one copy per simulated arm)."""

    mood: np.ndarray  # (F,)
    fatigue: np.ndarray  # (F, C) decayed count of recent questions per category
    boredom: np.ndarray  # (F,)
    churned: np.ndarray  # (F,) bool

    @classmethod
    def start(cls, n_families: int) -> Dynamics:
        return cls(
            mood=np.zeros(n_families),
            fatigue=np.zeros((n_families, N_CATEGORIES)),
            boredom=np.zeros(n_families),
            churned=np.zeros(n_families, dtype=bool),
        )


def question_appeal(*, bank: QuestionBank, params: SimulationParams, seed: int) -> np.ndarray:
    """How good each question is regardless of family: fixed per (bank, seed), shared by all families."""
    return np.random.default_rng([seed, 7]).normal(0.0, params.question_appeal_sd, len(bank))


class World:
    """Latent tastes plus the engagement model; `completion_probability` is the oracle's score."""

    def __init__(
        self, *, population: Population, bank: QuestionBank, params: SimulationParams, appeal: np.ndarray
    ) -> None:
        self.population = population
        self.bank = bank
        self.params = params
        self.appeal = appeal
        slots = np.full((population.size, 8), -1, dtype=np.int64)
        counts = np.zeros(population.size, dtype=np.int64)
        for member, family in enumerate(population.member_family):
            slots[family, counts[family]] = member
            counts[family] += 1
        self.member_slots = slots[:, : max(1, int(counts.max()))]

    def family_logit(
        self, family_rows: np.ndarray, questions: np.ndarray, *, calendar: DayCalendar, dynamics: Dynamics
    ) -> np.ndarray:
        """(B, K) family-level logit of answering for `questions` (B, K) of families `family_rows` (B,)."""
        p, pop, bank = self.params, self.population, self.bank
        rows = family_rows[:, None]
        category = bank.category_index[questions]
        difficulty = bank.difficulty[questions]
        weekday = calendar.day.weekday()
        day_effect = p.weekend_effect if weekday >= 5 else (p.monday_effect if weekday == 0 else 0.0)
        depth_effect = p.weekend_depth_effect * (difficulty - 2) * (1.0 if weekday >= 5 else -0.5)
        occasion_open = calendar.question_occasion_active(bank.occasion_index[questions], rows)
        return (
            pop.family_base[rows]
            + pop.taste[rows, category]
            + self.appeal[questions]
            - p.depth_weight * (difficulty - pop.depth_preference[rows]) ** 2
            + day_effect
            + depth_effect
            + dynamics.mood[rows]
            - p.fatigue_weight * dynamics.fatigue[rows, category]
            + p.occasion_boost * occasion_open
        )

    def member_logit(self, members: np.ndarray, family_logit: np.ndarray, questions: np.ndarray) -> np.ndarray:
        pop = self.population
        category = self.bank.category_index[questions]
        difficulty = self.bank.difficulty[questions]
        child = pop.member_age[members] < 13
        return (
            family_logit
            + pop.member_base[members]
            + pop.member_taste[members, category]
            - self.params.child_depth_penalty * (difficulty - 1) * child
        )

    def completion_probability(
        self, family_rows: np.ndarray, questions: np.ndarray, *, calendar: DayCalendar, dynamics: Dynamics
    ) -> np.ndarray:
        """(B, K) probability that every member answers: the true value of serving that question."""
        base = self.family_logit(family_rows, questions, calendar=calendar, dynamics=dynamics)
        log_probability = np.zeros_like(base)
        for slot in range(self.member_slots.shape[1]):
            members = self.member_slots[family_rows, slot]
            present = members >= 0
            if not present.any():
                continue
            safe = np.where(present, members, 0)[:, None]
            logit = self.member_logit(safe, base, questions)
            log_probability += np.where(present[:, None], -np.logaddexp(0.0, -logit), 0.0)
        return np.exp(log_probability)

    def member_probabilities(
        self, family_rows: np.ndarray, questions: np.ndarray, *, calendar: DayCalendar, dynamics: Dynamics
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per member answer probability for one question per family: (members, probabilities)."""
        base = self.family_logit(family_rows, questions[:, None], calendar=calendar, dynamics=dynamics)[:, 0]
        slots = self.member_slots[family_rows]
        present = slots >= 0
        members = slots[present]
        owner = np.repeat(np.arange(len(family_rows)), present.sum(axis=1))
        logit = self.member_logit(members, base[owner], questions[owner])
        return members, _sigmoid(logit)
