"""Datasets in the live content store: the same format as a dataset folder, as MongoDB collections.

`events` holds the event log (`_id` = event id), written through `record_events` (and the
assignments' served events); questions come from `questions`. `live_dataset` pairs the live
families of the relational store with their events (what training exports); `family_snapshots`
and `member_snapshots` hold only the families of datasets saved with `save_dataset` (a simulated
or imported history, `woorizip simulate --to-store`, `evaluate --from-store`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date
from typing import Any

import pandas as pd
from pymongo import ASCENDING
from pymongo.database import Database
from pymongo.errors import BulkWriteError

from recsys.catalog import Question, QuestionBank
from recsys.events import EVENT_COLUMNS, FAMILY_COLUMNS, MEMBER_COLUMNS, Dataset, DatasetError, dataset_from_frames
from woorizip.family.schemas import Household
from woorizip.recommender.bank import HASH_FIELD, load_question_bank
from woorizip.recommender.models import EVENTS, FAMILY_SNAPSHOTS, MEMBER_SNAPSHOTS, QUESTIONS

FAMILIES, MEMBERS = FAMILY_SNAPSHOTS, MEMBER_SNAPSHOTS
BATCH = 5000
READ_BATCH = 10_000  # events per cursor batch; the server's default batches hold up to 16 MiB of them
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
    ensure_family_days_index(content)
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


def live_dataset(
    *, content: Database[dict[str, Any]], households: list[Household], bank: QuestionBank | None = None,
    since: date | None = None, until: date | None = None, label: str = " (live)",
) -> Dataset:  # fmt: skip
    """The live installation's dataset: these families (from the relational store) and their events.

    Only events whose day is in [since, until) when given. Events are in family order (as `households`
    lists them), each family's by time: the same rows in the same order however the families are chunked.
    """
    bank = bank or bank_of(content)
    family_ids = [h.family_id for h in households]
    members = _members_frame(households)
    events = _events_frame(content, family_ids, since=since, until=until)
    # Events of members who have left the family go with them (the members table lists active members).
    events = events[events["member_id"].isna() | events["member_id"].isin(set(members["member_id"]))]
    dataset = dataset_from_frames(
        events=events, families=_families_frame(households), members=members, bank=bank, suffix=label
    )
    order = pd.Series(range(len(family_ids)), index=family_ids)
    events = dataset.events.assign(_order=dataset.events["family_id"].map(order).to_numpy())
    events = events.sort_values(["_order", "ts", "event_id"], kind="stable").drop(columns="_order")
    return dataclasses.replace(dataset, events=events.reset_index(drop=True))


def ensure_family_days_index(content: Database[dict[str, Any]]) -> None:
    """The index exports read the log by: a range of families, and their days."""
    content[EVENTS].create_index([("family_id", ASCENDING), ("day", ASCENDING)])


def _families_frame(households: list[Household]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "family_id": [h.family_id for h in households],
            "created_at": [h.created_at for h in households],
            "timezone": [h.timezone for h in households],
            "interests": [[c.value for c in h.interests] for h in households],
            "blocked_categories": [[c.value for c in h.blocked_categories] for h in households],
        },
        columns=list(FAMILY_COLUMNS),
    )


def _members_frame(households: list[Household]) -> pd.DataFrame:
    return pd.DataFrame(
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


EVENT_FIELDS = [name for name in EVENT_COLUMNS if name != "event_id"]


def family_ids_filter(family_ids: list[str]) -> Any:
    """A `family_id` condition matching these families: the one id, or the range from the least to the greatest.

    A range rather than `$in`: SecantusDB looks an `$in` up one id at a time (about a millisecond per
    family with events, measured), where it walks its (family_id, …) index once for a range; MongoDB
    does both from the index. Batch chunks are consecutive in id order, so their range holds no one
    else but families since deleted or inactive; the caller keeps only the families it asked for.
    """
    if len(family_ids) == 1:
        return family_ids[0]
    return {"$gte": min(family_ids), "$lte": max(family_ids)}


def _events_frame(
    content: Database[dict[str, Any]], family_ids: list[str], *, since: date | None, until: date | None
) -> pd.DataFrame:
    """The families' events as raw columns: one list per field, not one dict per event, keeps a chunk small."""
    columns: dict[str, list[Any]] = {name: [] for name in EVENT_COLUMNS}
    if not family_ids:
        return pd.DataFrame(columns)
    # The range may hold other families (deleted ones, or under another collation another chunk's): skipped.
    query: dict[str, Any] = {"family_id": family_ids_filter(family_ids)}
    days = {"$gte": since.isoformat()} if since else {}
    if until:
        days["$lt"] = until.isoformat()
    if days:
        query["day"] = days  # stored as ISO text, which sorts as the days do
    wanted = set(family_ids)
    values = [columns[name] for name in EVENT_FIELDS]
    # Moderate batches, and one object per distinct text (families, members, questions, days and types
    # repeat on every event): a chunk's raw columns then take about a third of the memory.
    texts: dict[str, str] = {}
    for document in content[EVENTS].find(query, projection=dict.fromkeys(EVENT_FIELDS, 1), batch_size=READ_BATCH):
        if document.get("family_id") not in wanted:
            continue
        columns["event_id"].append(document["_id"])
        for field, column in zip(EVENT_FIELDS, values, strict=True):
            value = document.get(field)
            column.append(texts.setdefault(value, value) if isinstance(value, str) else value)
    return pd.DataFrame(columns)
