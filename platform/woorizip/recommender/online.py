"""The recommender online: live families from the relational store, one durable state per family, one global state.

A decision for a family reads that family (members, ages, interests, blocks, time zone) from the
relational store, its own state from the content store's `family_states`, and the global state the
pipeline published; it never reads anyone else's events. A family's state is folded from its own
events on demand: the stored state is as of some local midnight, and a decision for a later day
folds the family's events since then and stores the result. Events are only ever inserted, so two
members answering at once both land; two requests folding at once compute the same state and the
second write is refused by the version check.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from bson import Binary
from pymongo import ASCENDING
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from recsys.catalog import QuestionBank
from recsys.families import FamilyTable
from recsys.features.online import FamilyState, GlobalState, assemble, fold_family
from recsys.features.state import HistoryState, cutoff
from recsys.serving import Recommender
from woorizip.backends import Backends
from woorizip.family.schemas import Household
from woorizip.recommender.models import EVENTS, FAMILY_STATES, GLOBAL_STATES
from woorizip.recommender.store import bank_of

logger = logging.getLogger(__name__)

# A state is stored only for a midnight at least this far in the past: an event written in the
# same instant as the fold (two processes, one clock tick) is then already visible to it.
STORE_GRACE = timedelta(seconds=60)
CURRENT = "current"


# ---- live families -------------------------------------------------------------------------------


def family_table(households: list[Household]) -> FamilyTable:
    """The recommender's table of these families (the relational store is the one truth for them)."""
    families = pd.DataFrame(
        {
            "family_id": [h.family_id for h in households],
            "created_at": [h.created_at for h in households],
            "timezone": [h.timezone for h in households],
            "interests": [[c.value for c in h.interests] for h in households],
            "blocked_categories": [[c.value for c in h.blocked_categories] for h in households],
        }
    )
    rows = [
        {
            "member_id": m.member_id, "family_id": h.family_id, "role": m.role.value, "birth_year": m.birth_year,
            "birth_month": m.birthday.month if m.birthday else None,
            "birth_day": m.birthday.day if m.birthday else None,
            "lunar_birthday": bool(m.birthday and m.birthday.lunar),
        }
        for h in households
        for m in h.members
    ]
    columns = ["member_id", "family_id", "role", "birth_year", "birth_month", "birth_day", "lunar_birthday"]
    members = pd.DataFrame(rows, columns=columns)
    for column in ("birth_year", "birth_month", "birth_day"):
        members[column] = members[column].astype("Float64")
    return FamilyTable.from_frames(families, members)


def local_day(household: Household, *, tomorrow: bool, now: datetime | None = None) -> date:
    """Today (or tomorrow) in the family's own time zone."""
    today = (now or datetime.now(UTC)).astimezone(ZoneInfo(household.timezone)).date()
    return today + timedelta(days=1) if tomorrow else today


def day_cutoff(household: Household, day: date) -> pd.Timestamp:
    """The family's local midnight starting `day`: decisions for it see only events before."""
    return cutoff(day, ZoneInfo(household.timezone))


# ---- one family's state --------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredState:
    state: FamilyState
    version: int


def ensure_indexes(content: Database[dict[str, Any]]) -> None:
    content[EVENTS].create_index([("family_id", ASCENDING), ("ts", ASCENDING)])


def load_state(content: Database[dict[str, Any]], family_id: str) -> StoredState | None:
    document = content[FAMILY_STATES].find_one({"_id": family_id})
    if document is None:
        return None
    return StoredState(FamilyState.from_bytes(bytes(document["state"])), int(document["version"]))


def save_state(content: Database[dict[str, Any]], state: FamilyState, *, replacing: StoredState | None) -> bool:
    """Store the state unless another process changed the stored one since `replacing` was read."""
    fields = {"state": Binary(state.to_bytes()), "folded_until": _moment(state.folded_until),
              "updated_at": datetime.now(UTC)}  # fmt: skip
    if replacing is None:
        try:
            content[FAMILY_STATES].insert_one({"_id": state.family_id, "version": 1, **fields})
        except DuplicateKeyError:
            return False
        return True
    result = content[FAMILY_STATES].update_one(
        {"_id": state.family_id, "version": replacing.version}, {"$set": fields, "$inc": {"version": 1}}
    )
    return result.modified_count == 1


def _moment(value: pd.Timestamp | None) -> datetime | None:
    return None if value is None else value.to_pydatetime()


def family_events(
    content: Database[dict[str, Any]], family_id: str, *, since: pd.Timestamp | None, until: pd.Timestamp
) -> pd.DataFrame:
    """The family's own events with since <= ts < until, in the event-log format the history state reads."""
    return _events(content, [family_id], since=since, until=until)


def _events(
    content: Database[dict[str, Any]], family_ids: list[str], *, since: pd.Timestamp | None, until: pd.Timestamp
) -> pd.DataFrame:
    window: dict[str, Any] = {"$lt": until.to_pydatetime()}
    if since is not None:
        window["$gte"] = since.to_pydatetime()
    query = {"family_id": family_ids[0] if len(family_ids) == 1 else {"$in": family_ids}, "ts": window}
    frame = pd.DataFrame(list(content[EVENTS].find(query, sort=[("ts", ASCENDING)])))
    for column in ("ts", "day", "family_id", "member_id", "type", "question_id", "rating", "propensity",
                   "answer_length"):  # fmt: skip
        if column not in frame:
            frame[column] = None
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    frame["day"] = [date.fromisoformat(str(value)) for value in frame["day"]]
    return frame


def current_state(
    *, content: Database[dict[str, Any]], global_state: GlobalState, bank: QuestionBank, table: FamilyTable,
    family_id: str, until: pd.Timestamp, now: datetime | None = None,
) -> FamilyState:  # fmt: skip
    """The family's state as of `until`: the stored one, brought up to date from its own events (and stored)."""
    [state] = current_states(
        content=content, global_state=global_state, bank=bank, tables=[table], family_ids=[family_id], until=[until],
        now=now,
    )  # fmt: skip
    return state


def current_states(
    *, content: Database[dict[str, Any]], global_state: GlobalState, bank: QuestionBank, tables: list[FamilyTable],
    family_ids: list[str], until: list[pd.Timestamp], now: datetime | None = None,
) -> list[FamilyState]:  # fmt: skip
    """Several families' states at once (batch scoring): one read of their stored states, one of their events."""
    stored = {
        str(document["_id"]): StoredState(FamilyState.from_bytes(bytes(document["state"])), int(document["version"]))
        for document in content[FAMILY_STATES].find({"_id": {"$in": family_ids}})
    }
    starts: list[pd.Timestamp | None] = []
    for family_id, limit in zip(family_ids, until, strict=True):
        known = stored[family_id].state if family_id in stored else None
        usable = known is not None and known.folded_until is not None and known.folded_until <= limit
        starts.append(known.folded_until if usable and known is not None else None)
    need = [i for i, family_id in enumerate(family_ids) if not _current(stored.get(family_id), until[i])]
    events = pd.DataFrame()
    if need:
        since = None if any(starts[i] is None for i in need) else min(s for i in need if (s := starts[i]) is not None)
        events = _events(content, [family_ids[i] for i in need], since=since, until=max(until[i] for i in need))
    moment = (now or datetime.now(UTC)) - STORE_GRACE
    states = []
    for i, family_id in enumerate(family_ids):
        found = stored.get(family_id)
        if _current(found, until[i]):
            assert found is not None
            states.append(found.state)
            continue
        mine = events[events["family_id"] == family_id] if len(events) else events
        if starts[i] is not None:
            mine = mine[mine["ts"] >= starts[i]]
        previous = found.state if found is not None and starts[i] is not None else None
        state = fold_family(global_state, bank=bank, family=tables[i], previous=previous, events=mine, until=until[i])
        if (starts[i] is not None or found is None) and until[i].to_pydatetime() <= moment:
            save_state(content, state, replacing=found)
        states.append(state)
    return states


def _current(stored: StoredState | None, until: pd.Timestamp) -> bool:
    return stored is not None and stored.state.folded_until == until


def rebuild_state(
    *, content: Database[dict[str, Any]], global_state: GlobalState, bank: QuestionBank, table: FamilyTable,
    family_id: str, until: pd.Timestamp,
) -> FamilyState:  # fmt: skip
    """Fold the family's whole event log again up to `until` and store it in place of what was there."""
    events = family_events(content, family_id, since=None, until=until)
    state = fold_family(global_state, bank=bank, family=table, previous=None, events=events, until=until)
    content[FAMILY_STATES].delete_one({"_id": family_id})
    save_state(content, state, replacing=None)
    return state


def recommender_for(
    *, global_state: GlobalState, bank: QuestionBank, table: FamilyTable, states: list[FamilyState], day: date
) -> Recommender:
    """A recommender over these families only (their states on the shared global state) for `day`."""
    history: HistoryState = assemble(global_state, bank=bank, families=table, states=list(states))
    return Recommender(state=history, day=day)


# ---- the global state ----------------------------------------------------------------------------


def publish_global_state(*, backends: Backends, global_state: GlobalState, name: str) -> str:
    """Store a global state under `name` in the object store and make it the one the api serves with."""
    key = f"recommender/global/{name}.npz"
    backends.object_store.put(key, global_state.to_bytes())
    backends.content[GLOBAL_STATES].replace_one(
        {"_id": CURRENT},
        {"_id": CURRENT, "key": key, "name": name, "as_of": _moment(global_state.as_of),
         "published_at": datetime.now(UTC)},
        upsert=True,
    )  # fmt: skip
    return key


@dataclass(frozen=True)
class ServingState:
    """The question bank and the global state the api decides with, and where the latter came from."""

    bank: QuestionBank
    global_state: GlobalState
    name: str | None  # None: nothing published yet, decisions use what is known without history


class GlobalStateHolder:
    """The published global state of this process, swapped in one step when a newer one is published."""

    def __init__(self, *, backends: Backends) -> None:
        self.backends = backends
        self._lock = threading.Lock()
        self._current: ServingState | None = None

    @property
    def current(self) -> ServingState:
        if self._current is None:
            self.refresh()
        assert self._current is not None
        return self._current

    def refresh(self) -> bool:
        """Load the published global state if it changed; returns whether the served one changed."""
        with self._lock:
            content = self.backends.content
            pointer = content[GLOBAL_STATES].find_one({"_id": CURRENT})
            name = None if pointer is None else str(pointer["name"])
            if self._current is not None and self._current.name == name:
                return False
            bank = bank_of(content)
            global_state = GlobalState.empty(bank)
            if pointer is not None:
                try:
                    data = self.backends.object_store.get(str(pointer["key"]))
                    global_state = GlobalState.from_bytes(data, bank=bank)
                except Exception as error:  # a broken publication must not take serving down
                    logger.warning("global state %s unusable, keeping the current one: %s", name, error)
                    if self._current is not None:
                        return False
                    name = None
            self._current = ServingState(bank=bank, global_state=global_state, name=name)
            ensure_indexes(content)
            logger.info("recommender global state: %s", name or "none published yet")
            return True
