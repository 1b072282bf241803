"""Offline evaluation on a temporal split: ranking metrics with intervals and off-policy estimates."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from recsys.candidates import DayCalendar, eligible_mask
from recsys.evaluation.bootstrap import Interval, bootstrap_mean
from recsys.evaluation.metrics import catalog_coverage, novelty, per_query_metrics
from recsys.evaluation.off_policy import OffPolicyEstimate, estimate
from recsys.events import Dataset, EventType
from recsys.features.state import HistoryState
from recsys.policy import Policy
from recsys.ranking.training import replay

K = 10


@dataclass(frozen=True)
class TemporalSplit:
    """Train on [start, validation), early-stop on [validation, test), evaluate on [test, end]."""

    start: date
    validation: date
    test: date
    end: date

    @classmethod
    def by_fractions(cls, first: date, last: date, *, train: float = 0.7, validation: float = 0.15) -> TemporalSplit:
        span = (last - first).days + 1
        if span < 7:
            raise ValueError(f"a temporal split needs at least 7 days of events, got {span}")
        valid_start = first + timedelta(days=max(1, round(span * train)))
        test_start = first + timedelta(days=max(2, round(span * (train + validation))))
        return cls(start=first, validation=valid_start, test=test_start, end=last)


@dataclass
class OfflineReport:
    """Per policy: NDCG/MAP/recall@K with intervals, coverage, novelty, and IPS/SNIPS estimates."""

    ranking: dict[str, dict[str, Interval]]
    coverage: dict[str, float]
    novelty: dict[str, float]
    off_policy: dict[str, OffPolicyEstimate]
    families_evaluated: int
    logged_decisions: int
    split: TemporalSplit
    notes: list[str] = field(default_factory=list)
    # per policy, one row per evaluated family (ndcg, map, recall, precision): for per-segment gates
    per_query: dict[str, pd.DataFrame] = field(default_factory=dict)

    def table(self) -> pd.DataFrame:
        rows = {}
        for name, metrics in self.ranking.items():
            row: dict[str, object] = {f"{metric}@{K}": str(value) for metric, value in metrics.items()}
            row["coverage"] = round(self.coverage[name], 3)
            row["novelty"] = round(self.novelty[name], 2)
            if name in self.off_policy:
                row["SNIPS completion"] = str(self.off_policy[name].snips)
                row["IPS completion"] = str(self.off_policy[name].ips)
                row["ESS"] = round(self.off_policy[name].ess, 1)
            rows[name] = row
        return pd.DataFrame(rows).T


class _Collector:
    """Scores every policy on each test day's logged decisions, as of that day's cutoff."""

    def __init__(self, policies: Mapping[str, Policy], split: TemporalSplit, seed: int) -> None:
        self.policies = policies
        self.split = split
        self.rng = np.random.default_rng(seed)
        self.rankings: dict[str, dict[str, list[str]]] = {name: {} for name in policies}
        self.target_probability: dict[str, list[np.ndarray]] = {name: [] for name in policies}
        self.logged: list[pd.DataFrame] = []

    def __call__(self, state: HistoryState, calendar: DayCalendar, served: pd.DataFrame) -> None:
        if calendar.day < self.split.test:
            return
        first = served.sort_values("ts").drop_duplicates(["family_id", "day"])
        rows = first["family_id"].astype(str).map(state.families.index).to_numpy(dtype=np.int64)
        questions = state.bank.positions(first["question_id"].astype(str).to_numpy())
        eligible = eligible_mask(
            bank=state.bank, families=state.families, family_rows=rows, asked=state.asked, calendar=calendar
        )
        eligible[np.arange(len(rows)), questions] = True  # what the logger served was eligible then
        first_day = calendar.day == self.split.test
        for name, policy in self.policies.items():
            scores = policy.score_matrix(
                state=state, family_rows=rows, eligible=eligible, calendar=calendar, rng=self.rng
            )
            self.target_probability[name].append(policy.probability_of(scores, questions))
            if first_day:
                top = np.argsort(-scores, axis=1)[:, :K]
                for family, ranked in zip(first["family_id"].astype(str), top, strict=True):
                    self.rankings[name][family] = [state.bank.ids[q] for q in ranked]
        self.logged.append(first)


def evaluate_offline(
    dataset: Dataset,
    *,
    policies: Mapping[str, Policy],
    split: TemporalSplit,
    seed: int = 0,
) -> OfflineReport:
    """Replay the log; rank at the test window's start; estimate each policy's completion off-policy."""
    collector = _Collector(policies, split, seed)
    replay(dataset, on_day=collector)
    events = dataset.events
    test_events = events[(events["day"] >= split.test) & (events["day"] <= split.end)]
    completed = test_events[test_events["type"] == EventType.COMPLETED]
    relevant = completed.groupby("family_id")["question_id"].apply(lambda ids: set(ids.astype(str)))
    train_events = events[events["day"] < split.test]
    families_served = train_events[train_events["type"] == EventType.SERVED]["family_id"].nunique()
    done = train_events[train_events["type"] == EventType.COMPLETED].groupby("question_id")["family_id"].nunique()
    popularity = (done / max(families_served, 1)).to_dict()
    ranking: dict[str, dict[str, Interval]] = {}
    coverage: dict[str, float] = {}
    novelty_by_policy: dict[str, float] = {}
    evaluated = 0
    per_query: dict[str, pd.DataFrame] = {}
    for name in policies:
        rankings = collector.rankings[name]
        judged = {family: relevant[family] for family in rankings if family in relevant.index}
        metrics = per_query_metrics(rankings, judged, K)
        per_query[name] = metrics
        evaluated = len(metrics)
        ranking[name] = {
            column: bootstrap_mean(metrics[column].to_numpy(), seed=seed) for column in ("ndcg", "map", "recall")
        } if len(metrics) else {}  # fmt: skip
        coverage[name] = catalog_coverage(rankings.values(), len(dataset.bank)) if rankings else 0.0
        novelty_by_policy[name] = novelty(rankings.values(), {str(k): float(v) for k, v in popularity.items()})
    logged = pd.concat(collector.logged) if collector.logged else pd.DataFrame()
    off_policy: dict[str, OffPolicyEstimate] = {}
    notes: list[str] = []
    if len(logged):
        replaced = events[events["type"] == EventType.REPLACED].set_index(["family_id", "question_id", "day"]).index
        done_keys = completed.set_index(["family_id", "question_id", "day"]).index
        keys = pd.MultiIndex.from_frame(logged[["family_id", "question_id", "day"]])
        rewards = (keys.isin(done_keys) & ~keys.isin(replaced)).astype(float)
        for name in policies:
            target = np.concatenate(collector.target_probability[name])
            try:
                off_policy[name] = estimate(
                    rewards=rewards,
                    logging_propensity=logged["propensity"].astype(float).to_numpy(),
                    target_probability=target,
                    seed=seed,
                )
            except ValueError as error:
                notes.append(f"off-policy estimate for {name}: {error}")
    return OfflineReport(
        ranking=ranking,
        coverage=coverage,
        novelty=novelty_by_policy,
        off_policy=off_policy,
        families_evaluated=evaluated,
        logged_decisions=len(logged),
        split=split,
        notes=notes,
        per_query=per_query,
    )
