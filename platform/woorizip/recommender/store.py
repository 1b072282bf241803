"""Datasets in the live content store: the same format as a dataset folder, as MongoDB collections.

`events` holds the event log (`_id` = event id), written through `record_events` (and the
assignments' served events); questions come from `questions`. `live_dataset` pairs the live
families of the relational store with their events (what training exports); `family_snapshots`
and `member_snapshots` hold only the families of datasets saved with `save_dataset` (a simulated
or imported history, `woorizip simulate --to-store`, `evaluate --from-store`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pandas as pd
from pymongo import ASCENDING
from pymongo.database import Database
from pymongo.errors import BulkWriteError

from recsys.catalog import Question, QuestionBank
from recsys.events import EVENT_COLUMNS, MEMBER_COLUMNS, Dataset, DatasetError, dataset_from_frames
from woorizip.family.schemas import Household
from woorizip.recommender.bank import HASH_FIELD, load_question_bank
from woorizip.recommender.models import EVENTS, FAMILY_SNAPSHOTS, MEMBER_SNAPSHOTS, QUESTIONS

FAMILIES, MEMBERS = FAMILY_SNAPSHOTS, MEMBER_SNAPSHOTS
BATCH = 5000
DUPLICATE_KEY = 11000


def save_dataset(*, content: Database[dict[str, Any]], dataset: Dataset) -> dict[str, int]:
    """Write a dataset into the store (replacing documents with the same ids); returns counts."""
    load_question_bank(content=content, bank=dataset.bank)
    counts = {}
    for collection, frame, key in (
        (EVENTS, dataset.events, "event_id"),
        (FAMILIES, dataset.families, "family_id"),
        (MEMBERS, dataset.members, "member_id"),
    ):
        content[collection].delete_many({"_id": {"$in": frame[key].astype(str).tolist()}})
        for chunk in _documents(frame, key):
            content[collection].insert_many(chunk, ordered=False)
        counts[collection] = len(frame)
    content[EVENTS].create_index([("ts", ASCENDING)])
    content[EVENTS].create_index([("family_id", ASCENDING), ("day", ASCENDING)])
    return counts


def _documents(frame: pd.DataFrame, key: str) -> Iterator[list[dict[str, Any]]]:
    records = frame.rename(columns={key: "_id"}).astype(object).where(frame.notna().to_numpy(), None)
    batch: list[dict[str, Any]] = []
    for record in records.to_dict("records"):
        document = {name: _bson(value) for name, value in record.items() if value is not None}
        batch.append(document)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _bson(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    return value


def load_dataset(*, content: Database[dict[str, Any]]) -> Dataset:
    """Read the dataset the live store holds; the same validation as a folder, errors name row and field."""
    bank = bank_of(content)
    frames = {}
    for name, collection, key in (
        ("events", EVENTS, "event_id"),
        ("families", FAMILIES, "family_id"),
        ("members", MEMBERS, "member_id"),
    ):
        documents = list(content[collection].find({}, sort=[("_id", ASCENDING)]))
        if not documents:
            raise DatasetError(f"the content store has no {collection}")
        frames[name] = pd.DataFrame(documents).rename(columns={"_id": key})
    events = frames["events"].sort_values("ts", kind="stable")
    for column in ("member_id", "policy", "model_version", "propensity", "candidate_count", "answer_length",
                   "latency_seconds", "rating"):  # fmt: skip
        if column not in events:
            events[column] = None
    return dataset_from_frames(
        events=events, families=frames["families"], members=frames["members"], bank=bank, suffix=" (content store)"
    )


def bank_of(content: Database[dict[str, Any]]) -> QuestionBank:
    """The question bank as the content store holds it."""
    questions = []
    for document in content[QUESTIONS].find({}, sort=[("_id", ASCENDING)]):
        document.pop(HASH_FIELD, None)
        questions.append(Question.model_validate({"id": document.pop("_id"), **document}))
    if not questions:
        raise DatasetError("the content store has no questions: run `woorizip questions load`")
    return QuestionBank(questions)


def record_events(*, content: Database[dict[str, Any]], events: pd.DataFrame) -> int:
    """Append events (the documented event-log format) to the log; ids already there are skipped."""
    written = 0
    for chunk in _documents(events, "event_id"):
        try:
            written += len(content[EVENTS].insert_many(chunk, ordered=False).inserted_ids)
        except BulkWriteError as error:
            if any(item.get("code") != DUPLICATE_KEY for item in error.details.get("writeErrors", [])):
                raise
            written += int(error.details.get("nInserted", 0))
    return written


def graft_history(dataset: Dataset, *, families: dict[str, str], members: dict[str, str]) -> pd.DataFrame:
    """The events of some simulated families, re-addressed to live families and members (demo and tests).

    Events of members without a live counterpart are left out; event ids are made unique per live family.
    """
    events = dataset.events[dataset.events["family_id"].isin(list(families))].copy()
    member = events["member_id"]
    events = events[member.isna() | member.isin(list(members))].copy()
    events["event_id"] = events["family_id"].map(families) + ":" + events["event_id"].astype(str)
    events["family_id"] = events["family_id"].map(families)
    events["member_id"] = events["member_id"].map(members, na_action="ignore")
    return events.reset_index(drop=True)


def live_dataset(*, content: Database[dict[str, Any]], households: list[Household]) -> Dataset:
    """The live installation's dataset: these families (from the relational store) and their events."""
    bank = bank_of(content)
    family_ids = [h.family_id for h in households]
    families = pd.DataFrame(
        {
            "family_id": family_ids,
            "created_at": [h.created_at for h in households],
            "timezone": [h.timezone for h in households],
            "interests": [[c.value for c in h.interests] for h in households],
            "blocked_categories": [[c.value for c in h.blocked_categories] for h in households],
        }
    )
    members = pd.DataFrame(
        [
            {
                "member_id": m.member_id, "family_id": h.family_id, "role": m.role.value, "birth_year": m.birth_year,
                "birth_month": m.birthday.month if m.birthday else None,
                "birth_day": m.birthday.day if m.birthday else None,
                "lunar_birthday": bool(m.birthday and m.birthday.lunar),
            }
            for h in households
            for m in h.members
        ],
        columns=list(MEMBER_COLUMNS),
    )  # fmt: skip
    documents = list(content[EVENTS].find({"family_id": {"$in": family_ids}}, sort=[("ts", ASCENDING)]))
    fields = [name for name in EVENT_COLUMNS if name != "event_id"]
    events = pd.DataFrame(documents, columns=["_id", *fields]).rename(columns={"_id": "event_id"})
    events = events.loc[:, list(EVENT_COLUMNS)]
    # Events of members who have left the family go with them (the members table lists active members).
    events = events[events["member_id"].isna() | events["member_id"].isin(set(members["member_id"]))]
    return dataset_from_frames(events=events, families=families, members=members, bank=bank, suffix=" (live)")
