"""Point-in-time history: what was known about families and questions before a decision day.

A decision for family-local day D uses only events whose timestamp falls before D's local
midnight. Training replays a log day by day through `HistoryState.apply`; serving builds the
same state from the stored events before the cutoff, so both see identical features.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from recsys.catalog.bank import QuestionBank
from recsys.events import EventType
from recsys.families import N_SEGMENTS, FamilyTable
from recsys.features.response import SETTLE_DAYS, ResponseModel
from recsys.features.text import text_embeddings

N_DIFFICULTIES = 3
RECENT_DECAY = 0.8  # per day, for recent engagement
CATEGORY_DECAY = 0.6  # per day, for "same category lately"
MOOD_DECAY = 0.5  # per day, for the mood proxy
NEVER = -(10**6)
NOT_YET = 10**9
SEOUL = ZoneInfo("Asia/Seoul")


def cutoff(day: date, tz: ZoneInfo = SEOUL) -> pd.Timestamp:
    """The instant before which events may inform a decision for local `day` (its local midnight)."""
    return pd.Timestamp(datetime.combine(day, time(0), tzinfo=tz)).tz_convert("UTC")


@dataclass(frozen=True)
class EventArrays:
    """Events as parallel arrays (timestamps in µs since the epoch, family rows, bank positions, day ordinals).

    Only the first six fields feed the history state; the rest carry what the event log records.
    """

    ts: np.ndarray
    kinds: np.ndarray
    rows: np.ndarray
    questions: np.ndarray
    days: np.ndarray
    ratings: np.ndarray
    members: np.ndarray  # member index, -1 for family-level events
    answer_length: np.ndarray  # -1 when not an answer
    latency_seconds: np.ndarray  # nan when not an answer
    propensity: np.ndarray  # nan when not served
    candidate_count: np.ndarray  # -1 when not served

    @classmethod
    def build(
        cls,
        *,
        ts: np.ndarray,
        kind: str,
        rows: np.ndarray,
        questions: np.ndarray,
        days: np.ndarray,
        **optional: np.ndarray,
    ) -> EventArrays:
        n = len(rows)
        defaults: dict[str, np.ndarray] = {
            "ratings": np.zeros(n, dtype=np.float32),
            "members": np.full(n, -1, dtype=np.int64),
            "answer_length": np.full(n, -1, dtype=np.int64),
            "latency_seconds": np.full(n, np.nan),
            "propensity": np.full(n, np.nan),
            "candidate_count": np.full(n, -1, dtype=np.int64),
        }
        defaults.update(optional)
        return cls(
            ts=np.asarray(ts, dtype=np.int64),
            kinds=np.full(n, kind, dtype=object),
            rows=np.asarray(rows, dtype=np.int64),
            questions=np.asarray(questions, dtype=np.int64),
            days=np.asarray(days, dtype=np.int64),
            **defaults,
        )

    def select(self, mask: np.ndarray) -> EventArrays:
        return EventArrays(*(getattr(self, name)[mask] for name in _EVENT_ARRAY_FIELDS))

    @staticmethod
    def concat(parts: list[EventArrays]) -> EventArrays:
        return EventArrays(*(np.concatenate([getattr(part, name) for part in parts]) for name in _EVENT_ARRAY_FIELDS))


# What `event_arrays` reads of a stored event: a query for it needs no other field.
EVENT_DOCUMENT_FIELDS = (
    "ts", "day", "family_id", "member_id", "type", "question_id", "rating", "propensity", "answer_length",
)  # fmt: skip


def event_arrays(records: Sequence[Mapping[str, Any]], *, families: FamilyTable, bank: QuestionBank) -> EventArrays:
    """Stored event documents (docs/events.md fields) as arrays, as `HistoryState.arrays_from_frame` reads the
    same events from a frame: events of unknown families are dropped, members not in `families` are -1.

    Without a frame in between: the online path folds a few events per family, where building and
    converting a frame would cost more than the fold itself.
    """
    known = [record for record in records if record["family_id"] in families.index]
    member_index = families.member_index

    def optional(name: str, missing: float, dtype: type) -> np.ndarray:
        values = [record.get(name) for record in known]
        return np.asarray([missing if value is None else value for value in values], dtype=dtype)

    arrays = EventArrays.build(
        ts=np.asarray([epoch_microseconds(record["ts"]) for record in known], dtype=np.int64),
        kind="",
        rows=np.asarray([families.index[record["family_id"]] for record in known], dtype=np.int64),
        questions=bank.positions(record["question_id"] for record in known),
        days=np.asarray([_ordinal(record["day"]) for record in known], dtype=np.int64),
        ratings=optional("rating", 0.0, np.float32),
        propensity=optional("propensity", np.nan, np.float64),
        answer_length=optional("answer_length", -1, np.int64),
        members=np.asarray([_member(member_index, record.get("member_id")) for record in known], dtype=np.int64),
    )
    return dataclasses.replace(arrays, kinds=np.asarray([str(record["type"]) for record in known], dtype=object))


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def epoch_microseconds(moment: datetime) -> int:
    """Microseconds since the epoch; a naive moment is UTC (as the content store hands them back)."""
    return ((moment if moment.tzinfo else moment.replace(tzinfo=UTC)) - _EPOCH) // _MICROSECOND


def _member(member_index: dict[str, int], member_id: str | None) -> int:
    return -1 if member_id is None else member_index.get(member_id, -1)


def _ordinal(day: date | str) -> int:
    return (day if isinstance(day, date) else date.fromisoformat(day)).toordinal()


_EVENT_ARRAY_FIELDS = (
    "ts", "kinds", "rows", "questions", "days", "ratings",
    "members", "answer_length", "latency_seconds", "propensity", "candidate_count",
)  # fmt: skip


@dataclass
class _Decayed:
    """A per-row counter that decays by `rate` per day, stored with the day it was last brought up to date."""

    value: np.ndarray
    as_of: np.ndarray
    rate: float

    def at(self, rows: np.ndarray, day: int) -> np.ndarray:
        gap = np.maximum(day - self.as_of[rows], 0)
        factor = self.rate**gap
        return self.value[rows] * (factor[:, None] if self.value.ndim == 2 else factor)

    def add(self, rows: np.ndarray, days: np.ndarray, amount: np.ndarray, columns: np.ndarray | None = None) -> None:
        for row, day, value, column in zip(rows, days, amount, columns if columns is not None else rows, strict=True):
            gap = max(day - self.as_of[row], 0)
            self.value[row] *= self.rate**gap
            self.as_of[row] = max(self.as_of[row], day)
            if columns is None:
                self.value[row] += value
            else:
                self.value[row, column] += value


class HistoryState:
    """Counts and decayed signals per family, per (family, category) and per question."""

    def __init__(self, *, bank: QuestionBank, families: FamilyTable, embeddings: np.ndarray | None = None) -> None:
        n_families, n_questions, n_categories = families.size, len(bank), int(bank.category_index.max()) + 1
        self.bank = bank
        self.families = families
        self.embeddings = embeddings if embeddings is not None else text_embeddings(bank)
        self.applied_until: pd.Timestamp | None = None
        # Frozen: the global part (per-question and per-segment statistics, co-completion, the answer
        # model's appeal) is given, computed elsewhere from everyone's events; only families' own parts
        # change as their events are applied (the online path).
        self.global_frozen = False
        # per family
        self.asked = np.zeros((n_families, n_questions), dtype=bool)
        self.completed = np.zeros((n_families, n_questions), dtype=bool)
        self.served_category = np.zeros((n_families, n_categories), dtype=np.float32)
        self.completed_category = np.zeros((n_families, n_categories), dtype=np.float32)
        self.answered_category = np.zeros((n_families, n_categories), dtype=np.float32)
        self.answer_length_category = np.zeros((n_families, n_categories), dtype=np.float32)
        # per member: a family completes only when its least keen member answers
        self.member_answered_category = np.zeros((len(families.member_family), n_categories), dtype=np.float32)
        self.rating_category = np.zeros((n_families, n_categories), dtype=np.float32)
        self.served_difficulty = np.zeros((n_families, N_DIFFICULTIES), dtype=np.float32)
        self.completed_difficulty = np.zeros((n_families, N_DIFFICULTIES), dtype=np.float32)
        self.last_category_day = np.full((n_families, n_categories), NEVER, dtype=np.int64)
        self.first_served_day = np.full(n_families, NOT_YET, dtype=np.int64)
        self.last_completed_day = np.full(n_families, NEVER, dtype=np.int64)
        self.streak = np.zeros(n_families, dtype=np.int64)
        self.loved_embedding = np.zeros((n_families, self.embeddings.shape[1]), dtype=np.float32)
        zero_days = np.zeros(n_families, dtype=np.int64)
        self.recent_category = _Decayed(np.zeros((n_families, n_categories)), zero_days.copy(), CATEGORY_DECAY)
        self.recent_served = _Decayed(np.zeros(n_families), zero_days.copy(), RECENT_DECAY)
        self.recent_completed = _Decayed(np.zeros(n_families), zero_days.copy(), RECENT_DECAY)
        self.recent_answers = _Decayed(np.zeros(n_families), zero_days.copy(), MOOD_DECAY)
        # per question (global, across families)
        self.question_served = np.zeros(n_questions, dtype=np.float32)
        self.question_completed = np.zeros(n_questions, dtype=np.float32)
        self.question_rating = np.zeros(n_questions, dtype=np.float32)
        # every member who received the question, and every member who answered it: a question's
        # draw shows in each member's answer, a sample several times larger than its completions
        self.question_member_served = np.zeros(n_questions, dtype=np.float32)
        self.question_answered = np.zeros(n_questions, dtype=np.float32)
        self.co_completed = np.zeros((n_questions, n_questions), dtype=np.float32)
        # per family segment (with children / with seniors / other) and question or category
        self.segment_question_served = np.zeros((N_SEGMENTS, n_questions), dtype=np.float32)
        self.segment_question_completed = np.zeros((N_SEGMENTS, n_questions), dtype=np.float32)
        self.segment_category_served = np.zeros((N_SEGMENTS, n_categories), dtype=np.float32)
        self.segment_category_completed = np.zeros((N_SEGMENTS, n_categories), dtype=np.float32)
        # Beliefs of the answer model, and what waits for its answers to settle before it is folded in.
        self.response = ResponseModel(families=families, n_questions=n_questions, n_categories=n_categories)
        self.response_folded_until = NEVER
        self._unsettled_served: list[tuple[np.ndarray, ...]] = []  # (ts, rows, questions, days)
        self._unsettled_answers: list[tuple[np.ndarray, ...]] = []  # (ts, members, questions, days)

    @classmethod
    def from_events(
        cls, events: pd.DataFrame, *, bank: QuestionBank, families: FamilyTable, before: pd.Timestamp
    ) -> HistoryState:
        """The state as of `before`: only events with ts < before are used (serving path)."""
        state = cls(bank=bank, families=families)
        state.apply(events[events["ts"] < before])
        state.applied_until = before
        return state

    def with_families(self, families: FamilyTable) -> HistoryState:
        """A state for other (new) families that keeps what is known about questions globally."""
        fresh = HistoryState(bank=self.bank, families=families, embeddings=self.embeddings)
        fresh.question_served = self.question_served.copy()
        fresh.question_completed = self.question_completed.copy()
        fresh.question_rating = self.question_rating.copy()
        fresh.question_member_served = self.question_member_served.copy()
        fresh.question_answered = self.question_answered.copy()
        fresh.co_completed = self.co_completed.copy()
        # Member history belongs to the old families; the new ones start with their own, empty.
        for name in ("question_served", "question_completed", "category_served", "category_completed"):
            setattr(fresh, f"segment_{name}", getattr(self, f"segment_{name}").copy())
        fresh.response = self.response.with_families(families)
        return fresh

    def copy(self) -> HistoryState:
        return copy.deepcopy(self)

    def apply(self, events: pd.DataFrame) -> None:
        """Fold a frame of events into the state; events must be newer than those applied before."""
        if not events.empty:
            self.apply_arrays(self.arrays_from_frame(events))

    def arrays_from_frame(self, events: pd.DataFrame) -> EventArrays:
        """The documented event frame as arrays; events of unknown families are dropped."""
        family = events["family_id"].astype(str).map(self.families.index)
        known = family.notna().to_numpy()
        events = events[known]
        ts = events["ts"].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[us]").astype(np.int64)
        arrays = EventArrays.build(
            ts=ts,
            kind="",
            rows=family[known].to_numpy(dtype=np.int64),
            questions=self.bank.positions(events["question_id"].astype(str).to_numpy()),
            days=np.asarray([d.toordinal() for d in events["day"]], dtype=np.int64),
            ratings=events["rating"].astype("float64").fillna(0.0).to_numpy(dtype=np.float32),
            propensity=events["propensity"].astype("float64").to_numpy(),
            answer_length=events["answer_length"].astype("float64").fillna(-1).to_numpy(dtype=np.int64),
            members=events["member_id"]
            .astype(object)
            .map(self.families.member_index)
            .fillna(-1)
            .to_numpy(dtype=np.int64),
        )
        return dataclasses.replace(arrays, kinds=events["type"].astype(str).to_numpy(dtype=object))

    def apply_arrays(self, events: EventArrays) -> None:
        """The same as `apply`, for callers (the simulator) that already hold arrays."""
        order = np.argsort(events.ts, kind="stable")
        kinds = events.kinds[order]
        rows, questions, days, ratings, lengths, members = (
            a[order]
            for a in (events.rows, events.questions, events.days, events.ratings, events.answer_length, events.members)
        )
        served = kinds == EventType.SERVED
        self._apply_served(rows[served], questions[served], days[served])
        answered = kinds == EventType.ANSWERED
        self._apply_answered(rows[answered], questions[answered], days[answered], lengths[answered])
        known_member = answered & (members >= 0)
        ts = events.ts[order]
        self._unsettled_served.append((ts[served], rows[served], questions[served], days[served]))
        self._unsettled_answers.append(
            (ts[known_member], members[known_member], questions[known_member], days[known_member])
        )
        np.add.at(
            self.member_answered_category,
            (members[known_member], self.bank.category_index[questions[known_member]]),
            1.0,
        )
        rated = kinds == EventType.RATED
        self._apply_rated(rows[rated], questions[rated], ratings[rated])
        completed = kinds == EventType.COMPLETED
        self._apply_completed(rows[completed], questions[completed], days[completed])

    def response_as_of(self, day: date) -> ResponseModel:
        """The answer model with every served day settled by `day` folded in (see `recsys.features.response`)."""
        limit = day.toordinal() - SETTLE_DAYS
        if limit <= self.response_folded_until or not self._unsettled_served:
            return self.response
        ts, rows, questions, days = (np.concatenate(parts) for parts in zip(*self._unsettled_served, strict=True))
        answer_ts, answer_members, answer_questions, answer_days = (
            np.concatenate(parts) for parts in zip(*self._unsettled_answers, strict=True)
        )
        for served_day in np.unique(days[(days <= limit) & (days > self.response_folded_until)]):
            self._fold_day(
                int(served_day),
                served=tuple(a[days == served_day] for a in (ts, rows, questions)),
                answers=tuple(a[answer_days == served_day] for a in (answer_ts, answer_members, answer_questions)),
            )
        keep = days > limit
        self._unsettled_served = [(ts[keep], rows[keep], questions[keep], days[keep])]
        keep = answer_days > limit
        self._unsettled_answers = [(answer_ts[keep], answer_members[keep], answer_questions[keep], answer_days[keep])]
        self.response_folded_until = limit
        return self.response

    def _fold_day(self, served_day: int, *, served: tuple[np.ndarray, ...], answers: tuple[np.ndarray, ...]) -> None:
        """Each member's answer or silence to the family's final question of `served_day`."""
        ts, rows, questions = served
        order = np.lexsort((questions, ts, rows))  # the last serve of a family-day is what it answered
        rows, questions = rows[order], questions[order]
        last = np.r_[rows[1:] != rows[:-1], True]
        rows, questions = rows[last], questions[last]
        slots = self.families.member_slots[rows]
        present = slots >= 0
        owner = np.repeat(np.arange(len(rows)), present.sum(axis=1))
        members = slots[present]
        answer_ts, answer_members, answer_questions = answers
        settled = cutoff(date.fromordinal(served_day + SETTLE_DAYS)).value // 1000
        in_time = answer_ts < settled
        n_questions = len(self.bank)
        questions = questions[owner]
        answer_keys = answer_members[in_time] * n_questions + answer_questions[in_time]
        answered = np.isin(members * n_questions + questions, answer_keys)
        self.response.observe(
            families=rows[owner],
            members=members,
            questions=questions,
            category=self.bank.category_index[questions],
            depth=self.bank.difficulty[questions] - 1,
            answered=answered,
            update_appeal=not self.global_frozen,
        )

    def _segments(self, rows: np.ndarray, days: np.ndarray) -> np.ndarray:
        if len(rows) == 0:
            return rows
        # Ages (and so segments) change with the calendar year of each event, never within one.
        years = np.asarray([date.fromordinal(int(d)).year for d in days])
        segments = np.empty(len(rows), dtype=np.int64)
        for year in np.unique(years):
            mine = years == year
            segments[mine] = self.families.segment(date(int(year), 1, 1))[rows[mine]]
        return segments

    def _apply_served(self, rows: np.ndarray, questions: np.ndarray, days: np.ndarray) -> None:
        category = self.bank.category_index[questions]
        difficulty = self.bank.difficulty[questions] - 1
        self.asked[rows, questions] = True
        np.add.at(self.served_category, (rows, category), 1.0)
        np.add.at(self.served_difficulty, (rows, difficulty), 1.0)
        np.maximum.at(self.last_category_day, (rows, category), days)
        # ufunc.at, not fancy assignment: a batch may hold several serves of one family.
        np.minimum.at(self.first_served_day, rows, days)
        self.recent_category.add(rows, days, np.ones(len(rows)), category)
        self.recent_served.add(rows, days, np.ones(len(rows)))
        if self.global_frozen:
            return
        np.add.at(self.question_served, questions, 1.0)
        np.add.at(self.question_member_served, questions, (self.families.member_slots[rows] >= 0).sum(axis=1))
        segment = self._segments(rows, days)
        np.add.at(self.segment_question_served, (segment, questions), 1.0)
        np.add.at(self.segment_category_served, (segment, category), 1.0)

    def _apply_answered(self, rows: np.ndarray, questions: np.ndarray, days: np.ndarray, lengths: np.ndarray) -> None:
        category = self.bank.category_index[questions]
        np.add.at(self.answered_category, (rows, category), 1.0)
        np.add.at(self.answer_length_category, (rows, category), np.maximum(lengths, 0).astype(np.float32))
        self.recent_answers.add(rows, days, np.ones(len(rows)))
        if not self.global_frozen:
            np.add.at(self.question_answered, questions, 1.0)

    def _apply_rated(self, rows: np.ndarray, questions: np.ndarray, ratings: np.ndarray) -> None:
        np.add.at(self.rating_category, (rows, self.bank.category_index[questions]), ratings)
        if not self.global_frozen:
            np.add.at(self.question_rating, questions, ratings)

    def _apply_completed_globally(self, rows: np.ndarray, questions: np.ndarray, days: np.ndarray) -> None:
        np.add.at(self.question_completed, questions, 1.0)
        segment = self._segments(rows, days)
        np.add.at(self.segment_question_completed, (segment, questions), 1.0)
        np.add.at(self.segment_category_completed, (segment, self.bank.category_index[questions]), 1.0)
        # Co-engagement: each new completion pairs with what the family had completed before.
        prior = self.completed[rows].astype(np.float32)
        onehot = np.zeros((len(rows), len(self.bank)), dtype=np.float32)
        onehot[np.arange(len(rows)), questions] = 1.0
        pairs = onehot.T @ prior
        self.co_completed += pairs + pairs.T
        batch: dict[int, list[int]] = {}
        for row, question in zip(rows.tolist(), questions.tolist(), strict=True):
            # Completions within one batch pair up with each other too (`prior` predates the batch).
            for earlier in batch.get(row, []):
                self.co_completed[question, earlier] += 1.0
                self.co_completed[earlier, question] += 1.0
            batch.setdefault(row, []).append(question)

    def _apply_completed(self, rows: np.ndarray, questions: np.ndarray, days: np.ndarray) -> None:
        if len(rows) == 0:
            return
        np.add.at(self.completed_category, (rows, self.bank.category_index[questions]), 1.0)
        np.add.at(self.completed_difficulty, (rows, self.bank.difficulty[questions] - 1), 1.0)
        np.add.at(self.loved_embedding, rows, self.embeddings[questions])
        self.recent_completed.add(rows, days, np.ones(len(rows)))
        if not self.global_frozen:
            self._apply_completed_globally(rows, questions, days)
        for row, question, day in zip(rows.tolist(), questions.tolist(), days.tolist(), strict=True):
            self.completed[row, question] = True
            if day == self.last_completed_day[row] + 1:
                self.streak[row] += 1
            elif day != self.last_completed_day[row]:
                self.streak[row] = 1
            self.last_completed_day[row] = max(self.last_completed_day[row], day)
