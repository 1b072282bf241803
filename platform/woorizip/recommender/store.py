"""Datasets in the live content store: the same format as a dataset folder, as MongoDB collections.

`events` holds the event log (`_id` = event id); `family_snapshots` and `member_snapshots` hold
the family and member snapshots the recommender reads; questions come from `questions`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pandas as pd
from pymongo import ASCENDING
from pymongo.database import Database

from recsys.catalog import Question, QuestionBank
from recsys.events import Dataset, DatasetError, dataset_from_frames
from woorizip.recommender.bank import HASH_FIELD, load_question_bank
from woorizip.recommender.models import EVENTS, FAMILY_SNAPSHOTS, MEMBER_SNAPSHOTS, QUESTIONS

FAMILIES, MEMBERS = FAMILY_SNAPSHOTS, MEMBER_SNAPSHOTS
BATCH = 5000


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
    bank = _bank(content)
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


def _bank(content: Database[dict[str, Any]]) -> QuestionBank:
    questions = []
    for document in content[QUESTIONS].find({}, sort=[("_id", ASCENDING)]):
        document.pop(HASH_FIELD, None)
        questions.append(Question.model_validate({"id": document.pop("_id"), **document}))
    if not questions:
        raise DatasetError("the content store has no questions: run `woorizip questions load`")
    return QuestionBank(questions)
