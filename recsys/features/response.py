"""An online Bayesian estimate of each member's chance to answer, folded in one settled day at a time.

The count features see a family's record category by category; this model sees every answer
at once and apportions it: a member's answer (or silence) is explained by the family's level,
the member's level, the family's and the member's taste for the category, the family's lean
towards lighter or deeper questions, and the question's own appeal. Each of those is a Gaussian
belief, updated by assumed-density filtering on a probit likelihood (the update of Graepel et
al., "Web-scale Bayesian click-through rate prediction", ICML 2010). Because it separates the
question's appeal from who happened to receive it, its appeal estimate is sharper than any raw
rate, and its family and member beliefs carry their own uncertainty.

A family's side and the questions' appeal are learned apart (see `ResponseModel`): a family's
beliefs come from its own answers only, so the online path can keep them per family, and the
appeal is global state.

Point in time: a day's served question is folded in once its answers have settled
(`SETTLE_DAYS` after it was served), counting the answers that arrived before that day's
cutoff; so the beliefs for a decision on day D depend only on events before D, whatever order
they arrived in and whenever the fold runs.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy.special import log_ndtr

from recsys.families import FamilyTable

SETTLE_DAYS = 2  # answers may come up to 47 hours late: an evening question settles two midnights later
PROBIT_SCALE = 1.0 / 1.7  # logit units to probit units: the model's weights read as log-odds


@dataclass(frozen=True)
class ResponsePriors:
    """Gaussian priors (mean, variance) in log-odds of a member answering.

    Families answer most questions (base 1.0), categories the family picked at onboarding start
    0.8 above the others, and the spreads say how far a family, a member, a family's depth lean or
    a question may plausibly stray from that. `depth_lean` is per depth step (light to medium,
    medium to deep): 0.4 lets a family's lean be worth about ±1.3 in log-odds between light and
    deep questions.
    """

    family_base: tuple[float, float] = (1.0, 1.0)
    member_base: tuple[float, float] = (0.0, 0.25)
    interest_taste: tuple[float, float] = (0.6, 0.5)
    other_taste: tuple[float, float] = (-0.2, 0.5)
    member_taste: tuple[float, float] = (0.0, 0.16)
    depth_lean: tuple[float, float] = (0.0, 0.4)
    appeal: tuple[float, float] = (0.0, 0.25)


class _Belief:
    """Means and variances of one group of weights."""

    def __init__(self, mean: np.ndarray, variance: float) -> None:
        self.mean = mean.astype(np.float64)
        self.variance = np.full(mean.shape, variance, dtype=np.float64)


class _Term(NamedTuple):
    """One weight per row: `belief` at `cells`, times `value` (None: an indicator, times 1)."""

    belief: _Belief
    cells: tuple[np.ndarray, ...]
    value: np.ndarray | None = None

    def mean(self) -> np.ndarray:
        mean = self.belief.mean[self.cells]
        return mean if self.value is None else mean * self.value

    def variance(self) -> np.ndarray:
        variance = self.belief.variance[self.cells]
        return variance if self.value is None else variance * self.value**2


class ResponseModel:
    """Beliefs about families, members and questions; `observe` folds in answers, `log_completion` predicts.

    A family's side (its level, taste, depth lean and its members' levels and tastes) and the questions'
    appeal are learned apart: a day's answers update a family's beliefs with every question's appeal
    taken at its prior, and the appeal beliefs with the families' beliefs as they stood before that
    day. So a family's beliefs depend on its own answers alone, which lets the online path fold one
    family's events without anyone else's, and what the questions' appeal learns from all families
    is global state, computed in batch.
    """

    def __init__(
        self, *, families: FamilyTable, n_questions: int, n_categories: int, priors: ResponsePriors | None = None
    ) -> None:
        self.priors = priors or ResponsePriors()
        p = self.priors
        n_families, n_members = families.size, len(families.member_family)
        self.member_slots = families.member_slots
        # Onboarding interests shift the taste by a constant, so a family that changes them keeps what it learned.
        self.taste_offset = np.where(families.interests, p.interest_taste[0], p.other_taste[0])
        self.family_base = _Belief(np.full(n_families, p.family_base[0]), p.family_base[1])
        self.member_base = _Belief(np.full(n_members, p.member_base[0]), p.member_base[1])
        self.family_taste = _Belief(np.zeros(families.interests.shape), p.interest_taste[1])
        self.family_taste.variance[~families.interests] = p.other_taste[1]
        self.member_taste = _Belief(np.full((n_members, n_categories), p.member_taste[0]), p.member_taste[1])
        # How a family's taste changes from light to deep questions is one lean, not three separate
        # tastes: what its light questions teach also says something about its deep ones.
        self.depth_lean = _Belief(np.full(n_families, p.depth_lean[0]), p.depth_lean[1])
        self.appeal = _Belief(np.full(n_questions, p.appeal[0]), p.appeal[1])

    def with_families(self, families: FamilyTable) -> ResponseModel:
        """A model for other families that keeps what was learned about the questions."""
        fresh = ResponseModel(
            families=families,
            n_questions=len(self.appeal.mean),
            n_categories=self.family_taste.mean.shape[1],
            priors=self.priors,
        )
        fresh.appeal = copy.deepcopy(self.appeal)
        return fresh

    def taste_mean(self, families: np.ndarray, category: np.ndarray) -> np.ndarray:
        """The family's taste for the category in log-odds, its onboarding interest included."""
        return self.taste_offset[families, category] + self.family_taste.mean[families, category]

    def _family_terms(
        self, families: np.ndarray, members: np.ndarray, category: np.ndarray, depth: np.ndarray
    ) -> list[_Term]:
        return [
            _Term(self.family_base, (families,)),
            _Term(self.member_base, (members,)),
            _Term(self.family_taste, (families, category)),
            _Term(self.member_taste, (members, category)),
            _Term(self.depth_lean, (families,), depth - 1.0),  # -1 light, 0 medium, +1 deep
        ]

    def observe(
        self,
        *,
        families: np.ndarray,
        members: np.ndarray,
        questions: np.ndarray,
        category: np.ndarray,
        depth: np.ndarray,
        answered: np.ndarray,
        update_appeal: bool = True,
    ) -> None:
        """Fold in one day's outcomes: one row per member who received a question (depth 0-2).

        `update_appeal` off folds the families' side only (the online path, which holds the appeal
        as global state computed elsewhere).
        """
        if len(families) == 0:
            return
        sign = np.where(answered, 1.0, -1.0)
        if update_appeal:
            # The families' beliefs as they stood before the day: a known Gaussian next to each appeal.
            terms = self._family_terms(families, members, category, depth)
            known_mean = self.taste_offset[families, category] + sum(term.mean() for term in terms)
            known_variance = np.sum([term.variance() for term in terms], axis=0)
            _sequential(
                lambda rows: [_Term(self.appeal, (questions[rows],))],
                group=questions, order=(members, families, questions), sign=sign,
                known_mean=known_mean, known_variance=known_variance,
            )  # fmt: skip
        prior_mean, prior_variance = self.priors.appeal
        _sequential(
            lambda rows: self._family_terms(families[rows], members[rows], category[rows], depth[rows]),
            group=families, order=(questions, members, families), sign=sign,
            known_mean=self.taste_offset[families, category] + prior_mean,
            known_variance=np.full(len(families), prior_variance),
        )  # fmt: skip

    def log_completion(self, *, families: np.ndarray, questions: np.ndarray, category: np.ndarray,
                       depth: np.ndarray) -> np.ndarray:  # fmt: skip
        """Per (family, question) pair: Σ over the family's members of log P(the member answers)."""
        total = np.zeros(len(families))
        slots = self.member_slots[families]
        offset = self.taste_offset[families, category]
        for slot in range(slots.shape[1]):
            members = slots[:, slot]
            present = members >= 0
            terms = [
                *self._family_terms(families, np.where(present, members, 0), category, depth),
                _Term(self.appeal, (questions,)),
            ]
            mean = offset + sum(term.mean() for term in terms)
            variance = sum(term.variance() for term in terms)
            z = PROBIT_SCALE * mean / np.sqrt(1.0 + PROBIT_SCALE**2 * variance)
            total += np.where(present, log_ndtr(z), 0.0)
        return total


def _sequential(
    terms_of: Callable[[np.ndarray], list[_Term]],
    *,
    group: np.ndarray,
    order: tuple[np.ndarray, ...],
    sign: np.ndarray,
    known_mean: np.ndarray,
    known_variance: np.ndarray,
) -> None:
    """Exact sequential updates, done in bulk: each round takes one row of every group (a question, or a
    family), so no weight is touched twice in a round; a fixed order makes the result independent of
    the order the rows arrived in."""
    rows = np.lexsort(order)
    ranked_group = group[rows]
    starts = np.r_[0, np.flatnonzero(np.diff(ranked_group)) + 1]
    rank = np.arange(len(rows)) - np.repeat(starts, np.diff(np.r_[starts, len(rows)]))
    for r in range(int(rank.max()) + 1):
        mine = rows[rank == r]
        _update(terms_of(mine), sign[mine], known_mean=known_mean[mine], known_variance=known_variance[mine])


def _update(terms: list[_Term], sign: np.ndarray, *, known_mean: np.ndarray, known_variance: np.ndarray) -> None:
    """One assumed-density-filtering step of a probit observation for rows touching distinct weights;
    `known_*` is a Gaussian part of the score that this step does not update."""
    mean = known_mean + sum(term.mean() for term in terms)
    total = 1.0 + PROBIT_SCALE**2 * (known_variance + sum(term.variance() for term in terms))
    scale = np.sqrt(total)
    t = sign * PROBIT_SCALE * mean / scale
    # v = φ(t)/Φ(t) computed in logs: stable far in the tails
    v = np.exp(-0.5 * t * t - 0.5 * np.log(2 * np.pi) - log_ndtr(t))
    w = v * (v + t)
    for belief, cells, value in terms:
        prior_variance = belief.variance[cells]
        x = 1.0 if value is None else value
        belief.mean[cells] += sign * PROBIT_SCALE * prior_variance * x / scale * v
        belief.variance[cells] = prior_variance * (1.0 - PROBIT_SCALE**2 * prior_variance * x**2 / total * w)
