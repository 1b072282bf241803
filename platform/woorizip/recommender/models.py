"""What the recommender stores: documents in the content store (the event log, one assignment per
family-day, the question bank) and one row per live family's state in the relational store."""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from woorizip.db.base import Base

EVENTS = "events"  # the event log (docs/events.md), `_id` = event id
ASSIGNMENTS = "assignments"  # one question per family and day, `_id` = "<family_id>:<day>"
FAMILY_SNAPSHOTS = "family_snapshots"  # families of imported or simulated datasets
MEMBER_SNAPSHOTS = "member_snapshots"
QUESTIONS = "questions"
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


class FamilyStateRow(Base):
    """A live family's own part of the history state as of one of its local midnights.

    Read on every decision and a batch's chunk at a time by primary key, so it lives next to the
    family rows; `version` makes every write a compare-and-set, and the state goes with its family.
    """

    __tablename__ = "recommender_family_states"

    family_id: Mapped[str] = mapped_column(String(32), ForeignKey("families.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    folded_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    state: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
