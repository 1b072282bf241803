"""The history state in two parts, for serving: one global state shared by all, one small state per family.

`HistoryState` holds both for every family at once, which is what training's replay needs. Serving
a decision needs only the deciding family's own part and the global part:

- `GlobalState`: per-question and per-segment statistics, co-completion, the text embeddings and the
  answer model's belief about each question's appeal. The pipeline computes it from everyone's events
  (a replay) and publishes it next to the model; serving never changes it.
- `FamilyState`: what one family's own events taught (counts by category and depth, what it was
  asked and completed, its streak, decayed signals, the answer model's beliefs about the family and
  its members, and the served days still waiting for their answers to settle), as of a cutoff.

`assemble` puts a global state and any number of family states back into a `HistoryState` whose
global part is frozen; applying a family's later events to it updates that family's part exactly as
the replay would (the answer model's family side learns from the family's own answers alone), so
the features served equal the rows training builds for the same decisions.
"""

from __future__ import annotations

import functools
import io
import json
import math
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from recsys.catalog.bank import CATEGORIES, QuestionBank
from recsys.families import FamilyTable
from recsys.features.state import NEVER, EventArrays, HistoryState

# Per family: one row of each of these HistoryState arrays.
FAMILY_ARRAYS = (
    "served_category", "completed_category", "answered_category", "answer_length_category", "rating_category",
    "served_difficulty", "completed_difficulty", "last_category_day", "first_served_day", "last_completed_day",
    "streak", "loved_embedding",
)  # fmt: skip
DECAYED = ("recent_category", "recent_served", "recent_completed", "recent_answers")
RESPONSE_FAMILY = ("family_base", "family_taste", "depth_lean")
RESPONSE_MEMBER = ("member_base", "member_taste")
GLOBAL_ARRAYS = (
    "question_served", "question_completed", "question_rating", "question_member_served", "question_answered",
    "co_completed", "segment_question_served", "segment_question_completed", "segment_category_served",
    "segment_category_completed",
)  # fmt: skip
FORMAT = 1


@dataclass
class GlobalState:
    """Everything a decision needs that depends on all families' events, as of `as_of`."""

    arrays: dict[str, np.ndarray]
    embeddings: np.ndarray
    appeal_mean: np.ndarray
    appeal_variance: np.ndarray
    question_ids: np.ndarray  # the bank the arrays are laid out on
    as_of: pd.Timestamp | None = None

    @classmethod
    def empty(cls, bank: QuestionBank) -> GlobalState:
        """Nothing learned yet: what a new installation decides with before its first pipeline run."""
        return global_state_of(HistoryState(bank=bank, families=_no_families()))

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        parts: dict[str, Any] = {
            "format": np.asarray(FORMAT), "question_ids": self.question_ids.astype(str), "embeddings": self.embeddings,
            "appeal_mean": self.appeal_mean, "appeal_variance": self.appeal_variance,
            "as_of": np.asarray(-1 if self.as_of is None else self.as_of.value),
        }  # fmt: skip
        parts.update({f"global_{name}": value for name, value in self.arrays.items()})
        np.savez_compressed(buffer, **parts)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes, *, bank: QuestionBank) -> GlobalState:
        with np.load(io.BytesIO(data), allow_pickle=False) as stored:
            if not np.array_equal(stored["question_ids"], np.asarray(bank.ids, dtype=str)):
                raise ValueError("the global state was computed for another question bank")
            as_of = int(stored["as_of"])
            return cls(
                arrays={name: stored[f"global_{name}"] for name in GLOBAL_ARRAYS},
                embeddings=stored["embeddings"],
                appeal_mean=stored["appeal_mean"],
                appeal_variance=stored["appeal_variance"],
                question_ids=stored["question_ids"],
                as_of=None if as_of < 0 else pd.Timestamp(as_of, tz="UTC"),
            )


@dataclass
class FamilyState:
    """One family's own part of the history state, as of `folded_until` (events before it are in)."""

    family_id: str
    folded_until: pd.Timestamp | None
    arrays: dict[str, np.ndarray]  # FAMILY_ARRAYS rows, DECAYED as <name>.value / <name>.as_of, response beliefs
    asked: np.ndarray  # question ids
    completed: np.ndarray  # question ids
    member_ids: np.ndarray
    member_arrays: dict[str, np.ndarray]  # (members, ...) rows, in member_ids order
    unsettled_served: dict[str, np.ndarray]  # ts, question, day
    unsettled_answers: dict[str, np.ndarray]  # ts, member, question, day

    def to_bytes(self) -> bytes:
        strings = {"family_id": self.family_id, "asked": self.asked.astype(str).tolist(),
                   "completed": self.completed.astype(str).tolist(), "member_ids": self.member_ids.astype(str).tolist(),
                   "served.question": self.unsettled_served["question"].astype(str).tolist(),
                   "answers.member": self.unsettled_answers["member"].astype(str).tolist(),
                   "answers.question": self.unsettled_answers["question"].astype(str).tolist()}  # fmt: skip
        arrays = {f"family.{name}": value for name, value in self.arrays.items()}
        arrays.update({f"member.{name}": value for name, value in self.member_arrays.items()})
        arrays.update({f"served.{name}": self.unsettled_served[name] for name in ("ts", "day")})
        arrays.update({f"answers.{name}": self.unsettled_answers[name] for name in ("ts", "day")})
        folded = -1 if self.folded_until is None else self.folded_until.value
        return pack(arrays, {"format": FORMAT, "folded_until": folded, **strings})

    @classmethod
    def from_bytes(cls, data: bytes) -> FamilyState:
        arrays, header = unpack(data)
        folded = int(header["folded_until"])
        groups: dict[str, dict[str, np.ndarray]] = {"family": {}, "member": {}, "served": {}, "answers": {}}
        for key, value in arrays.items():  # one pass: batch scoring reads thousands of states a second
            prefix, _, name = key.partition(".")
            groups[prefix][name] = value

        def strings(name: str) -> np.ndarray:
            return np.asarray(header[name], dtype=str)

        served, answers = groups["served"], groups["answers"]
        served["question"] = strings("served.question")
        answers["member"], answers["question"] = strings("answers.member"), strings("answers.question")
        return cls(
            family_id=str(header["family_id"]),
            folded_until=None if folded < 0 else pd.Timestamp(folded, tz="UTC"),
            arrays=groups["family"],
            asked=strings("asked"),
            completed=strings("completed"),
            member_ids=strings("member_ids"),
            member_arrays=groups["member"],
            unsettled_served=served,
            unsettled_answers=answers,
        )

    def equals(self, other: FamilyState) -> bool:
        """Exactly the same state (for the rebuild check)."""
        return self.to_bytes() == other.to_bytes()


def pack(arrays: dict[str, np.ndarray], header: dict[str, Any]) -> bytes:
    """Arrays and a JSON header in one compressed buffer: a family state is read on every decision, and
    this reads in tens of microseconds where an .npz of as many arrays takes milliseconds."""
    layout, offset, chunks = [], 0, []
    for name, value in arrays.items():
        array = np.asarray(value, order="C")  # 0-d stays 0-d (ascontiguousarray would make it 1-d)
        layout.append([name, array.dtype.str, list(array.shape), offset])
        chunks.append(array.tobytes())
        offset += array.nbytes
    head = json.dumps({**header, "arrays": layout}, separators=(",", ":")).encode()
    return zlib.compress(len(head).to_bytes(4, "big") + head + b"".join(chunks), 1)


def unpack(data: bytes) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    # One writable copy of the buffer, the arrays views into it: no copy per array.
    raw = bytearray(zlib.decompress(data))
    size = int.from_bytes(raw[:4], "big")
    header = json.loads(raw[4 : 4 + size])
    body = memoryview(raw)[4 + size :]
    arrays = {}
    for name, dtype, shape, offset in header.pop("arrays"):
        flat = np.frombuffer(body, dtype=_dtype(dtype), count=math.prod(shape), offset=offset)
        arrays[name] = flat if len(shape) == 1 else flat.reshape(shape)
    return arrays, header


@functools.lru_cache(maxsize=64)
def _dtype(text: str) -> np.dtype[Any]:
    return np.dtype(text)


def _no_families() -> FamilyTable:
    return FamilyTable(
        family_ids=np.asarray([], dtype=object), interests=np.zeros((0, len(CATEGORIES)), dtype=bool),
        blocked=np.zeros((0, len(CATEGORIES)), dtype=bool), member_ids=np.asarray([], dtype=object),
        member_family=np.asarray([], dtype=int), member_birth_year=np.asarray([], dtype=int), member_birthday=[],
        created_day=np.asarray([], dtype=np.int64),
    )  # fmt: skip


def global_state_of(state: HistoryState) -> GlobalState:
    """A copy of the state's global part (call `state.response_as_of(day)` first to settle the appeal)."""
    return GlobalState(
        arrays={name: getattr(state, name).copy() for name in GLOBAL_ARRAYS},
        embeddings=state.embeddings,
        appeal_mean=state.response.appeal.mean.copy(),
        appeal_variance=state.response.appeal.variance.copy(),
        question_ids=np.asarray(state.bank.ids, dtype=str),
        as_of=state.applied_until,
    )


def _unsettled(state: HistoryState) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    served = state._unsettled_served or [(np.empty(0, np.int64),) * 4]
    answers = state._unsettled_answers or [(np.empty(0, np.int64),) * 4]
    return (
        tuple(np.concatenate(parts) for parts in zip(*served, strict=True)),
        tuple(np.concatenate(parts) for parts in zip(*answers, strict=True)),
    )


def family_state_of(state: HistoryState, row: int) -> FamilyState:
    """A copy of one family's part of the state (its row and its members' rows)."""
    families, bank = state.families, state.bank
    arrays: dict[str, np.ndarray] = {name: getattr(state, name)[row].copy() for name in FAMILY_ARRAYS}
    for name in DECAYED:
        decayed = getattr(state, name)
        arrays[f"{name}.value"], arrays[f"{name}.as_of"] = decayed.value[row].copy(), decayed.as_of[row].copy()
    for name in RESPONSE_FAMILY:
        belief = getattr(state.response, name)
        arrays[f"{name}.mean"], arrays[f"{name}.variance"] = belief.mean[row].copy(), belief.variance[row].copy()
    members = np.flatnonzero(families.member_family == row)
    member_arrays = {"answered_category": state.member_answered_category[members].copy()}
    for name in RESPONSE_MEMBER:
        belief = getattr(state.response, name)
        member_arrays[f"{name}.mean"] = belief.mean[members].copy()
        member_arrays[f"{name}.variance"] = belief.variance[members].copy()
    (ts, rows, questions, days), (answer_ts, answer_members, answer_questions, answer_days) = _unsettled(state)
    mine = rows == row
    theirs = np.isin(answer_members, members)
    unsettled_answers = {
        "ts": answer_ts[theirs],
        "member": np.asarray(families.member_ids, dtype=str)[answer_members[theirs]],
        "question": _ids(bank, answer_questions[theirs]),
        "day": answer_days[theirs],
    }
    return FamilyState(
        family_id=str(families.family_ids[row]),
        folded_until=state.applied_until,
        arrays=arrays,
        asked=np.asarray(bank.ids, dtype=str)[state.asked[row]],
        completed=np.asarray(bank.ids, dtype=str)[state.completed[row]],
        member_ids=np.asarray(families.member_ids[members], dtype=str),
        member_arrays=member_arrays,
        unsettled_served={"ts": ts[mine], "question": _ids(bank, questions[mine]), "day": days[mine]},
        unsettled_answers=unsettled_answers,
    )


def _ids(bank: QuestionBank, positions: np.ndarray) -> np.ndarray:
    return np.asarray(bank.ids, dtype=str)[positions.astype(np.int64)]


def assemble(
    global_state: GlobalState, *, bank: QuestionBank, families: FamilyTable, states: list[FamilyState | None]
) -> HistoryState:
    """A history state for `families` (row i ↔ states[i]; None: a family with no history yet) on a frozen
    global part. Members the family has now but the state does not know start from their priors; members
    it no longer has are left out."""
    state = HistoryState(bank=bank, families=families, embeddings=global_state.embeddings)
    for name in GLOBAL_ARRAYS:
        setattr(state, name, global_state.arrays[name])
    state.response.appeal.mean = global_state.appeal_mean
    state.response.appeal.variance = global_state.appeal_variance
    state.global_frozen = True
    position = {question_id: i for i, question_id in enumerate(np.asarray(bank.ids, dtype=str))}
    folded = [s.folded_until for s in states if s is not None and s.folded_until is not None]
    state.applied_until = min(folded) if folded else None
    served: list[tuple[np.ndarray, ...]] = []
    answers: list[tuple[np.ndarray, ...]] = []
    rows_of_members: dict[int, dict[str, int]] = {}
    for i, (member, family_row) in enumerate(zip(families.member_ids, families.member_family, strict=True)):
        rows_of_members.setdefault(int(family_row), {})[str(member)] = i
    for row, family_state in enumerate(states):
        if family_state is None:
            continue
        member_rows = rows_of_members.get(row, {})
        _restore_family(state, row, family_state, position, member_rows)
        unsettled = family_state.unsettled_served
        served.append((unsettled["ts"], np.full(len(unsettled["ts"]), row, dtype=np.int64),
                       _positions(position, unsettled["question"]), unsettled["day"]))  # fmt: skip
        answered = family_state.unsettled_answers
        known = np.asarray([str(m) in member_rows for m in answered["member"]], dtype=bool)
        answers.append((
            answered["ts"][known], np.asarray([member_rows[str(m)] for m in answered["member"][known]], dtype=np.int64),
            _positions(position, answered["question"][known]), answered["day"][known],
        ))  # fmt: skip
    state._unsettled_served = served
    state._unsettled_answers = answers
    state.response_folded_until = NEVER
    return state


def _positions(position: dict[str, int], ids: np.ndarray) -> np.ndarray:
    return np.asarray([position[str(question_id)] for question_id in ids], dtype=np.int64)


def _restore_family(
    state: HistoryState, row: int, family_state: FamilyState, position: dict[str, int], member_rows: dict[str, int]
) -> None:
    arrays = family_state.arrays
    for name in FAMILY_ARRAYS:
        getattr(state, name)[row] = arrays[name]
    for name in DECAYED:
        decayed = getattr(state, name)
        decayed.value[row], decayed.as_of[row] = arrays[f"{name}.value"], arrays[f"{name}.as_of"]
    for name in RESPONSE_FAMILY:
        belief = getattr(state.response, name)
        belief.mean[row], belief.variance[row] = arrays[f"{name}.mean"], arrays[f"{name}.variance"]
    state.asked[row, [position[q] for q in family_state.asked.astype(str) if q in position]] = True
    state.completed[row, [position[q] for q in family_state.completed.astype(str) if q in position]] = True
    known = {str(member): i for i, member in enumerate(family_state.member_ids)}
    for member_id, member_row in member_rows.items():
        stored = known.get(member_id)
        if stored is None:
            continue
        state.member_answered_category[member_row] = family_state.member_arrays["answered_category"][stored]
        for name in RESPONSE_MEMBER:
            belief = getattr(state.response, name)
            belief.mean[member_row] = family_state.member_arrays[f"{name}.mean"][stored]
            belief.variance[member_row] = family_state.member_arrays[f"{name}.variance"][stored]


def fold_families(
    global_state: GlobalState,
    *,
    bank: QuestionBank,
    families: FamilyTable,
    previous: list[FamilyState | None],
    events: pd.DataFrame | EventArrays,
    until: pd.Timestamp,
) -> HistoryState:
    """The families' states (row i from previous[i], or nothing) with their own `events` before `until`
    applied, on the frozen global part: ready to decide with, and to take family states from.

    `events` is an event frame, or the same events as arrays of this `families` table (`event_arrays`)."""
    state = assemble(global_state, bank=bank, families=families, states=previous)
    if isinstance(events, EventArrays):
        before = events.select(events.ts < until.value // 1000)  # ts in µs, a Timestamp's value in ns
        if len(before.ts):
            state.apply_arrays(before)
    else:
        state.apply(events[events["ts"] < until])
    state.applied_until = until
    return state


def fold_family(
    global_state: GlobalState,
    *,
    bank: QuestionBank,
    family: FamilyTable,
    previous: FamilyState | None,
    events: pd.DataFrame | EventArrays,
    until: pd.Timestamp,
) -> FamilyState:
    """`previous` (or nothing) with the family's own `events` before `until` applied: its state as of `until`.

    `family` is a one-family table; `events` must all be newer than `previous.folded_until`.
    """
    state = fold_families(global_state, bank=bank, families=family, previous=[previous], events=events, until=until)
    return family_state_of(state, 0)
