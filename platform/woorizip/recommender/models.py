"""Documents of the recommender in the content store: the event log and one assignment per family-day."""

from __future__ import annotations

from typing import TypedDict

EVENTS = "events"  # the event log (docs/events.md), `_id` = event id
ASSIGNMENTS = "assignments"  # one question per family and day, `_id` = "<family_id>:<day>"
FAMILY_SNAPSHOTS = "family_snapshots"  # families of imported or simulated datasets
MEMBER_SNAPSHOTS = "member_snapshots"
QUESTIONS = "questions"
FAMILY_STATES = "family_states"  # one per live family: its own part of the history state, `_id` = family id
GLOBAL_STATES = "recommender_global"  # which published global state the api serves with (`_id` = "current")


class AssignmentDocument(TypedDict):
    """A family's question for a day, with what the event log needs to learn from it."""

    family_id: str
    day: str  # ISO date, family-local
    question_id: str
    alternatives: list[str]  # the next best, for "replace"
    propensity: float
    candidate_count: int
    policy: str
    model_version: str | None
