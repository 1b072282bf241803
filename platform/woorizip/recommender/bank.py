"""Load the question bank into the content store's `questions` collection, idempotently."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from pymongo import ASCENDING, UpdateOne
from pymongo.database import Database

from recsys.catalog import Question, QuestionBank

logger = logging.getLogger(__name__)

COLLECTION = "questions"
HASH_FIELD = "content_hash"
INDEXES: list[list[tuple[str, int]]] = [
    [("category", ASCENDING)],
    [("difficulty", ASCENDING)],
    [("min_age", ASCENDING)],
    [("category", ASCENDING), ("difficulty", ASCENDING)],
]


@dataclass(frozen=True)
class LoadReport:
    """What one load did to the `questions` collection."""

    inserted: int
    updated: int
    unchanged: int
    total: int


def content_hash(question: Question) -> str:
    """A stable hash of everything stored for a question, so unchanged ones need no write."""
    canonical = json.dumps(question.model_dump(mode="json"), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def question_fields(question: Question) -> dict[str, Any]:
    """The stored fields besides `_id` (the question id): the question's own, plus its content hash."""
    fields = question.model_dump(mode="json", exclude={"id"})
    return {**fields, HASH_FIELD: content_hash(question)}


def ensure_indexes(*, content: Database[dict[str, Any]]) -> None:
    """The indexes the recommender filters by; creating an existing index is a no-op."""
    collection = content[COLLECTION]
    for keys in INDEXES:
        collection.create_index(keys)


def load_question_bank(*, content: Database[dict[str, Any]], bank: QuestionBank) -> LoadReport:
    """Upsert every question of the bank, writing only those whose stored content differs."""
    collection = content[COLLECTION]
    ids = [question.id for question in bank]
    stored = {
        document["_id"]: document.get(HASH_FIELD)
        for document in collection.find({"_id": {"$in": ids}}, projection={HASH_FIELD: True})
    }
    # Questions no longer in the bank stay: answers and assignments may still point at them.
    writes = []
    for question in bank:
        fields = question_fields(question)
        if stored.get(question.id) != fields[HASH_FIELD]:
            writes.append(UpdateOne({"_id": question.id}, {"$set": fields}, upsert=True))
    inserted = updated = 0
    if writes:
        # The server's counts, not the plan's, so a concurrent load is not counted twice.
        result = collection.bulk_write(writes, ordered=False)
        inserted, updated = result.upserted_count, result.modified_count
    ensure_indexes(content=content)
    report = LoadReport(inserted=inserted, updated=updated, unchanged=len(bank) - inserted - updated, total=len(bank))
    logger.info(
        "question bank loaded",
        extra={"inserted": report.inserted, "updated": report.updated, "unchanged": report.unchanged},
    )
    return report
