"""Response bodies of the recommender's support routes."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel

from recsys.catalog.schema import Category


class ModelSource(StrEnum):
    """Where the served ranking comes from: the registry's champion, or the heuristic when none loads."""

    REGISTRY = "registry"
    HEURISTIC = "heuristic"


class AssignmentSource(StrEnum):
    """Whether the day's question was precomputed by batch scoring or decided on the request."""

    PRECOMPUTED = "precomputed"
    ON_DEMAND = "on_demand"


class ModelInfo(BaseModel):
    name: str
    source: ModelSource
    version: str | None
    policy: str
    loaded_at: datetime
    problem: str | None


class QuestionOut(BaseModel):
    id: str
    text: str
    category: Category
    difficulty: int
    wordings: dict[str, str]


class DailyQuestion(BaseModel):
    family_id: str
    day: date
    question: QuestionOut
    alternatives: list[str]
    policy: str
    model_version: str | None
    propensity: float
    source: AssignmentSource


class RankedQuestion(BaseModel):
    question_id: str
    category: Category
    difficulty: int
    score: float


class Ranking(BaseModel):
    family_id: str
    day: date
    model_version: str | None
    policy: str
    questions: list[RankedQuestion]
