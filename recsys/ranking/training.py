"""Training rows by replaying a logged history point in time, and fitting the LightGBM LambdaRank model."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

import lightgbm as lgb
import numpy as np
import pandas as pd

from recsys.candidates import DayCalendar
from recsys.events import Dataset, EventType
from recsys.families import FamilyTable
from recsys.features.build import CATEGORICAL_FEATURES, FEATURE_NAMES, build_features
from recsys.features.state import HistoryState, cutoff
from recsys.ranking.lightgbm_scorer import LightGBMScorer

GROUP_DAYS = 7  # a query group: one family's decisions within a week


@dataclass(frozen=True)
class TrainingRows:
    """One row per served question: features as of the decision, graded label from what followed."""

    features: np.ndarray  # (N, F) float32
    labels: np.ndarray  # (N,) 0 none answered, 1 some, 2 every member, 3 every member and liked
    family_rows: np.ndarray
    questions: np.ndarray
    days: np.ndarray  # ordinals
    propensity: np.ndarray
    completed: np.ndarray  # bool

    def __len__(self) -> int:
        return len(self.labels)

    def select(self, mask: np.ndarray) -> TrainingRows:
        return TrainingRows(*(getattr(self, name)[mask] for name in _ROW_FIELDS))

    @staticmethod
    def concat(parts: list[TrainingRows]) -> TrainingRows:
        return TrainingRows(*(np.concatenate([getattr(p, name) for p in parts]) for name in _ROW_FIELDS))

    def window(self, start: date | None = None, end: date | None = None) -> TrainingRows:
        """Rows whose decision day is in [start, end)."""
        mask = np.ones(len(self), dtype=bool)
        if start is not None:
            mask &= self.days >= start.toordinal()
        if end is not None:
            mask &= self.days < end.toordinal()
        return self.select(mask)

    def grouped(self) -> tuple[TrainingRows, np.ndarray]:
        """Rows sorted by query group (family, week) and the group sizes LightGBM needs."""
        keys = self.family_rows.astype(np.int64) * 100_000 + self.days // GROUP_DAYS
        order = np.argsort(keys, kind="stable")
        _, sizes = np.unique(keys[order], return_counts=True)
        return self.select(order), sizes


_ROW_FIELDS = ("features", "labels", "family_rows", "questions", "days", "propensity", "completed")


def outcome_labels(events: pd.DataFrame, families: FamilyTable) -> pd.DataFrame:
    """Per (family, question, day): members who answered, completed, net rating, and the graded label."""
    keys = ["family_id", "question_id", "day"]
    answered = events[events["type"] == EventType.ANSWERED].groupby(keys).size().rename("answers")
    completed = events[events["type"] == EventType.COMPLETED].groupby(keys).size().rename("completed")
    rating = events[events["type"] == EventType.RATED].groupby(keys)["rating"].sum().rename("rating")
    outcome = pd.concat([answered, completed, rating], axis=1).fillna(0)
    outcome["label"] = np.select(
        [(outcome["completed"] > 0) & (outcome["rating"] > 0), outcome["completed"] > 0, outcome["answers"] > 0],
        [3, 2, 1],
        default=0,
    )
    return outcome


DayHook = Callable[[HistoryState, DayCalendar, pd.DataFrame], None]


def replay(
    dataset: Dataset, *, state: HistoryState | None = None, on_day: DayHook | None = None
) -> tuple[TrainingRows, HistoryState]:
    """Replay the log day by day: features for each day's served questions see only earlier events.

    `on_day(state, calendar, served)` runs before each day's rows are built, with the state as of that
    day's cutoff: evaluation uses it to score what other policies would have served.
    """
    families = FamilyTable.from_frames(dataset.families, dataset.members)
    state = state or HistoryState(bank=dataset.bank, families=families)
    events = dataset.events.sort_values("ts", kind="stable").reset_index(drop=True)
    arrays = state.arrays_from_frame(events)
    outcome = outcome_labels(events, families)
    served = events[events["type"] == EventType.SERVED]
    replaced = events[events["type"] == EventType.REPLACED].set_index(["family_id", "question_id", "day"]).index
    parts: list[TrainingRows] = []
    applied = 0
    for day, todays in served.groupby("day", sort=True):
        limit = cutoff(day).value // 1000
        upto = int(np.searchsorted(arrays.ts, limit, side="left"))
        if upto > applied:
            state.apply_arrays(arrays.select(np.arange(applied, upto)))
            applied = upto
        rows = todays["family_id"].astype(str).map(families.index).to_numpy(dtype=np.int64)
        questions = dataset.bank.positions(todays["question_id"].astype(str).to_numpy())
        calendar = DayCalendar.build(day, families)
        if on_day is not None:
            on_day(state, calendar, todays)
        features = build_features(state, family_rows=rows, questions=questions, calendar=calendar)
        index = pd.MultiIndex.from_arrays([todays["family_id"], todays["question_id"], todays["day"]])
        labels = outcome["label"].reindex(index).fillna(0).to_numpy(dtype=np.int64)
        # A question the family replaced was turned down: the clearest "no" the log holds.
        labels = np.where(index.isin(replaced), 0, labels)
        done = outcome["completed"].reindex(index).fillna(0).to_numpy() > 0
        parts.append(
            TrainingRows(
                features=features,
                labels=labels,
                family_rows=rows,
                questions=questions,
                days=np.full(len(rows), day.toordinal()),
                propensity=todays["propensity"].astype("float64").to_numpy(),
                completed=done & ~index.isin(replaced),
            )
        )
    state.apply_arrays(arrays.select(np.arange(applied, len(arrays.ts))))
    return TrainingRows.concat(parts) if parts else _empty_rows(), state


def _empty_rows() -> TrainingRows:
    return TrainingRows(
        features=np.empty((0, len(FEATURE_NAMES)), dtype=np.float32),
        labels=np.empty(0, dtype=np.int64),
        family_rows=np.empty(0, dtype=np.int64),
        questions=np.empty(0, dtype=np.int64),
        days=np.empty(0, dtype=np.int64),
        propensity=np.empty(0),
        completed=np.empty(0, dtype=bool),
    )


@dataclass(frozen=True)
class RankerParams:
    """LightGBM settings. `objective` "lambdarank" ranks within family-week groups (LGBMRanker);
    "binary" learns P(every member answers) pointwise (see docs/recommender.md for why both exist)."""

    objective: Literal["lambdarank", "binary"] = "binary"
    n_estimators: int = 300
    learning_rate: float = 0.05
    num_leaves: int = 31
    min_child_samples: int = 40
    subsample: float = 0.8
    colsample_bytree: float = 0.8
    early_stopping_rounds: int = 30
    seed: int = 0


def fit_ranker(
    train: TrainingRows,
    *,
    valid: TrainingRows | None = None,
    params: RankerParams | None = None,
    version: str | None = None,
) -> LightGBMScorer:
    """Fit LGBMRanker (lambdarank) on family-week groups, early-stopping on the validation window."""
    params = params or RankerParams()
    if len(train) == 0 or len(np.unique(train.labels)) < 2:
        raise ValueError("training needs served questions with at least two different outcomes")
    common = {
        "n_estimators": params.n_estimators,
        "learning_rate": params.learning_rate,
        "num_leaves": params.num_leaves,
        "min_child_samples": params.min_child_samples,
        "subsample": params.subsample,
        "subsample_freq": 1,
        "colsample_bytree": params.colsample_bytree,
        "random_state": params.seed,
        "verbose": -1,
    }
    stopping = [lgb.early_stopping(params.early_stopping_rounds, verbose=False)]
    has_valid = valid is not None and len(valid) > 0
    if params.objective == "binary":
        classifier = lgb.LGBMClassifier(objective="binary", **common)  # type: ignore[arg-type]
        extra: dict[str, Any] = {}
        if has_valid:
            assert valid is not None
            extra = {"eval_X": (_frame(valid.features),), "eval_y": (valid.completed,), "callbacks": stopping}
        classifier.fit(_frame(train.features), train.completed, categorical_feature=CATEGORICAL_FEATURES, **extra)
        return LightGBMScorer(classifier.booster_, version=version)
    train_sorted, train_groups = train.grouped()
    ranker = lgb.LGBMRanker(objective="lambdarank", **common)  # type: ignore[arg-type]
    extra = {}
    if has_valid:
        assert valid is not None
        valid_sorted, valid_groups = valid.grouped()
        extra = {
            "eval_X": (_frame(valid_sorted.features),),
            "eval_y": (valid_sorted.labels,),
            "eval_group": [valid_groups],
            "eval_at": [3],
            "callbacks": stopping,
        }
    ranker.fit(
        _frame(train_sorted.features),
        train_sorted.labels,
        group=train_groups,
        categorical_feature=CATEGORICAL_FEATURES,
        **extra,
    )
    return LightGBMScorer(ranker.booster_, version=version)


def _frame(features: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(features, columns=FEATURE_NAMES)
