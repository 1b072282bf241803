"""The recommender's online decisions: a family's question for a day, and its ranking (support preview)."""

from __future__ import annotations

from datetime import date
from typing import Any

from recsys.events import DatasetError
from recsys.serving import Recommender
from woorizip.backends import Backends
from woorizip.recommender.assignments import find_assignment, save_assignments
from woorizip.recommender.errors import NO_QUESTION_LEFT, UNKNOWN_FAMILY
from woorizip.recommender.schemas import (
    AssignmentSource,
    DailyQuestion,
    ModelInfo,
    ModelSource,
    QuestionOut,
    RankedQuestion,
    Ranking,
)
from woorizip.recommender.serving import ChampionHolder, HistoryHolder


def model_info(*, champion: ChampionHolder) -> ModelInfo:
    current = champion.current
    return ModelInfo(
        name=champion.registry.model_name,
        source=ModelSource.REGISTRY if current.version else ModelSource.HEURISTIC,
        version=current.version,
        policy=current.policy.name,
        loaded_at=current.loaded_at,
        problem=current.problem,
    )


def _recommender(history: HistoryHolder, day: date, family_id: str) -> Recommender:
    try:
        recommender = history.for_day(day)
    except DatasetError as error:
        raise UNKNOWN_FAMILY.error(f"no history to decide from: {error}") from None
    if not recommender.knows(family_id):
        raise UNKNOWN_FAMILY.error(f"no family {family_id!r}")
    return recommender


def ranking(*, champion: ChampionHolder, history: HistoryHolder, family_id: str, day: date, k: int) -> Ranking:
    """The family's best `k` eligible questions for the day, with scores; records nothing."""
    current = champion.current
    frame = _recommender(history, day, family_id).rank(family_id=family_id, policy=current.policy, k=k)
    return Ranking(
        family_id=family_id,
        day=day,
        model_version=current.version,
        policy=current.policy.name,
        questions=[RankedQuestion(**row) for row in frame.to_dict("records")],
    )


def daily_question(
    *, backends: Backends, champion: ChampionHolder, history: HistoryHolder, family_id: str, day: date
) -> DailyQuestion:
    """The precomputed assignment, or one decided now and recorded (whoever records first wins)."""
    source = AssignmentSource.PRECOMPUTED
    payload = find_assignment(backends=backends, family_id=family_id, day=day)
    if payload is None:
        recommender = _recommender(history, day, family_id)
        assignment = recommender.assign(family_ids=[family_id], policy=champion.current.policy)[0]
        if assignment.question_id is None:
            raise NO_QUESTION_LEFT.error("every suitable question was asked already")
        written, _ = save_assignments(backends=backends, assignments=[assignment])
        # When another request or the batch assigned the day first, theirs is served: never two questions.
        source = AssignmentSource.ON_DEMAND if written else AssignmentSource.PRECOMPUTED
        payload = find_assignment(backends=backends, family_id=family_id, day=day) or dict(assignment.as_document())
    return DailyQuestion(
        family_id=family_id,
        day=day,
        question=_question(backends, str(payload["question_id"])),
        alternatives=list(payload.get("alternatives", [])),
        policy=str(payload["policy"]),
        model_version=payload.get("model_version"),
        propensity=float(payload["propensity"]),
        source=source,
    )


def _question(backends: Backends, question_id: str) -> QuestionOut:
    document: dict[str, Any] = backends.content["questions"].find_one({"_id": question_id}) or {}
    return QuestionOut(
        id=question_id,
        text=str(document.get("text", "")),
        category=document["category"],
        difficulty=int(document.get("difficulty", 0)),
        wordings={str(k): str(v) for k, v in (document.get("wordings") or {}).items()},
    )
