"""Stored assignments: one question per family and day, written once, with its `served` event.

Batch scoring and the api's on-demand path both write through `save_assignments`, so a day is
never assigned twice: whoever inserts first wins and the other reads theirs.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from pymongo.errors import BulkWriteError

from recsys.serving import Assignment, served_event
from woorizip.backends import Backends
from woorizip.recommender.models import ASSIGNMENTS, EVENTS

CACHE_TTL_SECONDS = 2 * 24 * 3600
DUPLICATE_KEY = 11000


def assignment_key(family_id: str, day: date) -> str:
    return f"{family_id}:{day.isoformat()}"


def _cache_key(family_id: str, day: date) -> str:
    return f"assignment:{assignment_key(family_id, day)}"


def save_assignments(*, backends: Backends, assignments: list[Assignment]) -> tuple[int, int]:
    """Insert assignments (with questions) and their served events; returns (written, already there)."""
    documents = [
        {"_id": assignment_key(a.family_id, a.day), **a.as_document(), "created_at": datetime.now(UTC)}
        for a in assignments
        if a.question_id is not None
    ]
    written = _insert_new(backends.content[ASSIGNMENTS], documents)
    new_ids = {document["_id"] for document in written}
    fresh = [a for a in assignments if assignment_key(a.family_id, a.day) in new_ids]
    _insert_new(backends.content[EVENTS], [_event_document(a) for a in fresh])
    for document in written:
        _cache(backends, document)
    return len(written), len(documents) - len(written)


def find_assignment(*, backends: Backends, family_id: str, day: date) -> dict[str, Any] | None:
    """The stored assignment (cache first), without `_id`; None when the day is not assigned yet."""
    cached = backends.cache.get(_cache_key(family_id, day))
    if cached:
        found: dict[str, Any] = json.loads(cached)
        return found
    document = backends.content[ASSIGNMENTS].find_one({"_id": assignment_key(family_id, day)})
    if document is None:
        return None
    return _cache(backends, document)


def _cache(backends: Backends, document: dict[str, Any]) -> dict[str, Any]:
    payload = {name: value for name, value in document.items() if name not in ("_id", "created_at")}
    key = _cache_key(str(document["family_id"]), date.fromisoformat(str(document["day"])))
    backends.cache.set(key, json.dumps(payload, default=str).encode(), ttl_seconds=CACHE_TTL_SECONDS)
    return payload


def _event_document(assignment: Assignment) -> dict[str, Any]:
    event = served_event(assignment)
    return {"_id": event.pop("event_id"), **event}


def _insert_new(collection: Any, documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Insert, skipping documents whose _id exists; returns the inserted ones."""
    if not documents:
        return []
    try:
        collection.insert_many(documents, ordered=False)
        return documents
    except BulkWriteError as error:
        errors = error.details.get("writeErrors", [])
        if any(item.get("code") != DUPLICATE_KEY for item in errors):
            raise
        skipped = {item["index"] for item in errors}
        return [document for i, document in enumerate(documents) if i not in skipped]
