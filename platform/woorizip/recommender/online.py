"""The recommender online: live families from the relational store, one durable state per family, one global state.

A decision for a family reads that family (members, ages, interests, blocks, time zone) from the
relational store, its own state (`recommender_family_states`, next to it), and the global state the
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

import numpy as np
import pandas as pd
from pymongo import ASCENDING
from pymongo.database import Database
from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from recsys.catalog import QuestionBank
from recsys.catalog.bank import CATEGORIES
from recsys.catalog.calendar import Birthday
from recsys.families import CATEGORY_POSITION, DEFAULT_BIRTH_YEAR, FamilyTable
from recsys.features.online import FamilyState, GlobalState, family_state_of, fold_families, fold_family
from recsys.features.state import (
    EVENT_DOCUMENT_FIELDS,
    SEOUL,
    HistoryState,
    cutoff,
    epoch_microseconds,
    event_arrays,
)
from woorizip.backends import Backends
from woorizip.family.schemas import Household
from woorizip.recommender.models import EVENTS, GLOBAL_STATES, FamilyStateRow
from woorizip.recommender.store import bank_of, family_ids_filter

logger = logging.getLogger(__name__)

# A state is stored only for a midnight at least this far in the past: an event written in the
# same instant as the fold (two processes, one clock tick) is then already visible to it.
STORE_GRACE = timedelta(seconds=60)
CURRENT = "current"
NEVER_US = -(2**63)  # before any event: a family with no stored state takes all its events


# ---- live families -------------------------------------------------------------------------------


def family_table(households: list[Household]) -> FamilyTable:
    """The recommender's table of these families (the relational store is the one truth for them)."""
    interests = np.zeros((len(households), len(CATEGORIES)), dtype=bool)
    blocked = np.zeros_like(interests)
    member_ids, member_family, birth_years, birthdays = [], [], [], []
    for row, household in enumerate(households):
        interests[row, [CATEGORY_POSITION[c.value] for c in household.interests]] = True
        blocked[row, [CATEGORY_POSITION[c.value] for c in household.blocked_categories]] = True
        for member in household.members:
            member_ids.append(member.member_id)
            member_family.append(row)
            birth_years.append(DEFAULT_BIRTH_YEAR if member.birth_year is None else member.birth_year)
            day = member.birthday
            birthdays.append(None if day is None else Birthday(month=day.month, day=day.day, lunar=day.lunar))
    return FamilyTable(
        family_ids=np.asarray([h.family_id for h in households], dtype=object),
        interests=interests,
        blocked=blocked,
        member_ids=np.asarray(member_ids, dtype=object),
        member_family=np.asarray(member_family, dtype=int),
        member_birth_year=np.asarray(birth_years, dtype=int),
        member_birthday=birthdays,
        created_day=np.asarray([h.created_at.astimezone(SEOUL).date().toordinal() for h in households], dtype=np.int64),
    )


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


def load_state(session: Session, family_id: str) -> StoredState | None:
    row = session.execute(
        select(FamilyStateRow.state, FamilyStateRow.version).where(FamilyStateRow.family_id == family_id)
    ).one_or_none()
    return None if row is None else StoredState(FamilyState.from_bytes(row.state), row.version)


def _stored_states(session: Session, family_ids: list[str]) -> dict[str, StoredState]:
    rows = session.execute(
        select(FamilyStateRow.family_id, FamilyStateRow.state, FamilyStateRow.version).where(
            FamilyStateRow.family_id.in_(family_ids)
        )
    )
    return {row.family_id: StoredState(FamilyState.from_bytes(row.state), row.version) for row in rows}


def save_state(session: Session, state: FamilyState, *, replacing: StoredState | None) -> bool:
    """Store the state unless another transaction changed the stored one since `replacing` was read."""
    values = {"state": state.to_bytes(), "folded_until": _moment(state.folded_until), "updated_at": datetime.now(UTC)}
    if replacing is None:
        inserted = session.execute(_insert_if_absent(session).values(family_id=state.family_id, version=1, **values))
        return bool(inserted.rowcount == 1)  # type: ignore[attr-defined]
    updated = session.execute(
        update(FamilyStateRow)
        .where(FamilyStateRow.family_id == state.family_id, FamilyStateRow.version == replacing.version)
        .values(version=FamilyStateRow.version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    return bool(updated.rowcount == 1)  # type: ignore[attr-defined]


def _insert_if_absent(session: Session) -> Any:
    # A concurrent first fold of the same family inserts the same state: the later insert does nothing
    # instead of failing the request's transaction.
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(FamilyStateRow).on_conflict_do_nothing(index_elements=["family_id"])
    return sqlite.insert(FamilyStateRow).on_conflict_do_nothing(index_elements=["family_id"])


def _moment(value: pd.Timestamp | None) -> datetime | None:
    return None if value is None else value.to_pydatetime()


def family_events(
    content: Database[dict[str, Any]], family_id: str, *, since: pd.Timestamp | None, until: pd.Timestamp
) -> list[dict[str, Any]]:
    """The family's own stored events with since <= ts < until, by time."""
    return _event_documents(content, [family_id], since=since, until=until)


def _event_documents(
    content: Database[dict[str, Any]], family_ids: list[str], *, since: pd.Timestamp | None, until: pd.Timestamp
) -> list[dict[str, Any]]:
    window: dict[str, Any] = {"$lt": until.to_pydatetime()}
    if since is not None:
        window["$gte"] = since.to_pydatetime()
    query = {"family_id": family_ids_filter(family_ids), "ts": window}
    wanted = set(family_ids)
    found = content[EVENTS].find(query, projection=dict.fromkeys(EVENT_DOCUMENT_FIELDS, 1), sort=[("ts", ASCENDING)])
    return [document for document in found if document["family_id"] in wanted]


def current_state(
    *, session: Session, content: Database[dict[str, Any]], global_state: GlobalState, bank: QuestionBank,
    household: Household, until: pd.Timestamp, now: datetime | None = None,
) -> FamilyState:  # fmt: skip
    """The family's state as of `until`: the stored one, brought up to date from its own events (and stored)."""
    history = histories(session=session, content=content, global_state=global_state, bank=bank,
                        households=[household], until=until, now=now)  # fmt: skip
    return family_state_of(history, 0)


def histories(
    *, session: Session, content: Database[dict[str, Any]], global_state: GlobalState, bank: QuestionBank,
    households: list[Household], until: pd.Timestamp, now: datetime | None = None,
) -> HistoryState:  # fmt: skip
    """The history state of these families as of one midnight `until`, on the global state: each family's
    stored state brought up to date from its own events in one read for all of them, and stored again
    once that midnight is safely past."""
    family_ids = [h.family_id for h in households]
    stored = _stored_states(session, family_ids)
    previous: list[FamilyState | None] = []
    starts: list[pd.Timestamp | None] = []
    for family_id in family_ids:
        known = stored[family_id].state if family_id in stored else None
        usable = known is not None and known.folded_until is not None and known.folded_until <= until
        previous.append(known if usable else None)  # none yet, or stored for a later midnight: from the start
        starts.append(known.folded_until if usable and known is not None else None)
    behind = [i for i, family_id in enumerate(family_ids) if not _current(stored.get(family_id), until)]
    documents: list[dict[str, Any]] = []
    if behind:
        known_starts = [start for i in behind if (start := starts[i]) is not None]
        since = min(known_starts) if len(known_starts) == len(behind) else None
        documents = _event_documents(content, [family_ids[i] for i in behind], since=since, until=until)
        # Each family's events from its own stored midnight on (the query started at the earliest).
        own_start = {family_ids[i]: start.value // 1000 for i in behind if (start := starts[i]) is not None}
        if own_start:
            documents = [d for d in documents if epoch_microseconds(d["ts"]) >= own_start.get(d["family_id"], NEVER_US)]
    table = family_table(households)
    events = event_arrays(documents, families=table, bank=bank)
    history = fold_families(global_state, bank=bank, families=table, previous=previous, events=events, until=until)
    if until.to_pydatetime() <= (now or datetime.now(UTC)) - STORE_GRACE:
        for i in behind:
            found = stored.get(family_ids[i])
            if found is None or previous[i] is not None:  # never over a state stored for a later midnight
                save_state(session, family_state_of(history, i), replacing=found)
    return history


def _current(stored: StoredState | None, until: pd.Timestamp) -> bool:
    return stored is not None and stored.state.folded_until == until


def rebuild_state(
    *, session: Session, content: Database[dict[str, Any]], global_state: GlobalState, bank: QuestionBank,
    household: Household, until: pd.Timestamp,
) -> FamilyState:  # fmt: skip
    """Fold the family's whole event log again up to `until` and store it in place of what was there."""
    family_id = household.family_id
    table = family_table([household])
    events = event_arrays(family_events(content, family_id, since=None, until=until), families=table, bank=bank)
    state = fold_family(global_state, bank=bank, family=table, previous=None, events=events, until=until)
    session.execute(delete(FamilyStateRow).where(FamilyStateRow.family_id == family_id))
    save_state(session, state, replacing=None)
    return state


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
            global_state = None
            if pointer is not None:
                try:
                    data = self.backends.object_store.get(str(pointer["key"]))
                    global_state = GlobalState.from_bytes(data, bank=bank)
                except Exception as error:  # a broken publication must not take serving down
                    logger.warning("global state %s unusable, keeping the current one: %s", name, error)
                    if self._current is not None:
                        return False
                    name = None
            if global_state is None:
                global_state = GlobalState.empty(bank)
            self._current = ServingState(bank=bank, global_state=global_state, name=name)
            ensure_indexes(content)
            logger.info("recommender global state: %s", name or "none published yet")
            return True
