"""The recommender's decisions for live families: a family's question for a day, and its ranking.

A decision reads the family from the relational store, its own state and the published global state
(`online.py`), never anyone else's history; so it costs the same at a thousand families or a million.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from recsys.policy import Policy
from recsys.serving import Assignment, Recommender
from woorizip.backends import Backends
from woorizip.family import service as family_service
from woorizip.family.schemas import Household
from woorizip.recommender import online
from woorizip.recommender.assignments import find_assignment, save_assignments
from woorizip.recommender.errors import NO_QUESTION_LEFT, UNKNOWN_FAMILY
from woorizip.recommender.models import EVENTS
from woorizip.recommender.schemas import (
    AssignmentSource,
    DailyQuestion,
    ModelInfo,
    ModelSource,
    QuestionOut,
    RankedQuestion,
    Ranking,
)
from woorizip.recommender.serving import ChampionHolder
from woorizip.recommender.store import family_ids_filter


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


def household(*, session: Session, family_id: str) -> Household:
    found = family_service.households(session=session, family_ids=[family_id])
    if not found:
        raise UNKNOWN_FAMILY.error(f"no family {family_id!r}")
    return found[0]


def _recommender(
    *, backends: Backends, session: Session, globals_: online.GlobalStateHolder, family: Household, day: date
) -> Recommender:
    serving = globals_.current
    history = online.histories(
        session=session, content=backends.content, global_state=serving.global_state, bank=serving.bank,
        households=[family], until=online.day_cutoff(family, day),
    )  # fmt: skip
    return Recommender(state=history, day=day)


def ranking(
    *, backends: Backends, session: Session, champion: ChampionHolder, globals_: online.GlobalStateHolder,
    family_id: str, tomorrow: bool, k: int,
) -> Ranking:  # fmt: skip
    """The family's best `k` eligible questions for the day, with scores; records nothing."""
    family = household(session=session, family_id=family_id)
    day = online.local_day(family, tomorrow=tomorrow)
    current = champion.current
    recommender = _recommender(backends=backends, session=session, globals_=globals_, family=family, day=day)
    frame = recommender.rank(family_id=family_id, policy=current.policy, k=k)
    return Ranking(
        family_id=family_id,
        day=day,
        model_version=current.version,
        policy=current.policy.name,
        questions=[RankedQuestion(**row) for row in frame.to_dict("records")],
    )


def decide(
    *, backends: Backends, session: Session, champion: ChampionHolder, globals_: online.GlobalStateHolder,
    family: Household, day: date,
) -> Assignment:  # fmt: skip
    """Decide the family's question for `day` now (not recorded)."""
    recommender = _recommender(backends=backends, session=session, globals_=globals_, family=family, day=day)
    assignment = recommender.assign(family_ids=[family.family_id], policy=champion.current.policy)[0]
    return dataclasses.replace(assignment, timezone=family.timezone)


def daily_question(
    *, backends: Backends, session: Session, champion: ChampionHolder, globals_: online.GlobalStateHolder,
    family_id: str, tomorrow: bool,
) -> DailyQuestion:  # fmt: skip
    """The precomputed assignment, or one decided now and recorded (whoever records first wins)."""
    family = household(session=session, family_id=family_id)
    day = online.local_day(family, tomorrow=tomorrow)
    source = AssignmentSource.PRECOMPUTED
    payload = find_assignment(backends=backends, family_id=family_id, day=day)
    if payload is None:
        assignment = decide(
            backends=backends, session=session, champion=champion, globals_=globals_, family=family, day=day
        )
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


def family_id_chunks(backends: Backends, family_ids: list[str] | None, chunk: int) -> Iterator[list[str]]:
    """The given family ids (None: every family, streamed from the relational store in id order), `chunk` at a time."""
    if family_ids is not None:
        yield from (family_ids[i : i + chunk] for i in range(0, len(family_ids), chunk))
        return
    after: str | None = None
    while True:
        with backends.session_factory() as session:
            ids = family_service.family_ids_page(session=session, after=after, limit=chunk)
        if not ids:
            return
        yield ids
        after = ids[-1]


def rebuild_family_states(*, backends: Backends, family_ids: list[str] | None, chunk: int = 500) -> int:
    """Fold the families' (None: every family's) states again from their own events; returns how many."""
    serving = online.GlobalStateHolder(backends=backends).current
    rebuilt = 0
    for ids in family_id_chunks(backends, family_ids, chunk):
        with backends.session_factory() as session, session.begin():
            for family in family_service.households(session=session, family_ids=ids):
                online.rebuild_state(
                    session=session, content=backends.content, global_state=serving.global_state, bank=serving.bank,
                    household=family, until=online.day_cutoff(family, online.local_day(family, tomorrow=False)),
                )  # fmt: skip
                rebuilt += 1
    return rebuilt


def households_in_chunks(*, backends: Backends, chunk: int = 500) -> Iterator[list[Household]]:
    """Every live family, `chunk` at a time (batch work streams through the relational store)."""
    for ids in family_id_chunks(backends, None, chunk):
        with backends.session_factory() as session:
            yield family_service.households(session=session, family_ids=ids)


ACTIVE_DAYS = 14  # a family served within this many days, or created within them, gets tomorrow's question


def active(*, backends: Backends, families: list[Household], now: datetime) -> list[Household]:
    """The families served or created within ACTIVE_DAYS (one query for the whole chunk)."""
    if not families:
        return []
    since = now - timedelta(days=ACTIVE_DAYS)
    served = set(
        backends.content[EVENTS].distinct(
            "family_id", {"family_id": family_ids_filter([f.family_id for f in families]), "type": "served",
                          "ts": {"$gte": since}},
        )
    )  # fmt: skip
    return [f for f in families if f.family_id in served or f.created_at >= since]


def assign_tomorrow(
    *, backends: Backends, session: Session, globals_: online.GlobalStateHolder, families: list[Household],
    policy: Policy, now: datetime,
) -> list[Assignment]:  # fmt: skip
    """Decide each family's question for its own local tomorrow, families of one day decided together."""
    serving = globals_.current
    # Families of one local day and time zone share their midnight: one state for all of them.
    groups: dict[tuple[date, str], list[Household]] = {}
    for family in families:
        groups.setdefault((online.local_day(family, tomorrow=True, now=now), family.timezone), []).append(family)
    assignments: list[Assignment] = []
    for (day, zone), group in sorted(groups.items()):
        history = online.histories(
            session=session, content=backends.content, global_state=serving.global_state, bank=serving.bank,
            households=group,
            until=online.day_cutoff(group[0], day), now=now,
        )  # fmt: skip
        decided = Recommender(state=history, day=day).assign(family_ids=[f.family_id for f in group], policy=policy)
        assignments += [dataclasses.replace(a, timezone=zone) for a in decided]
    return assignments
