"""`/v1/recommender`: the served model, a family's daily question and its ranking (support preview).

For support staff and the pipelines (behind `X-Internal-Token` when the installation sets one); the
app's own daily-question route sits behind the families module's membership check. Families are the
live ones of the relational store.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from woorizip.dependencies import BackendsDep, DbSession
from woorizip.openapi import ContractRoute, problems
from woorizip.recommender import service
from woorizip.recommender.dependencies import Champion, GlobalStates, Tomorrow, require_internal
from woorizip.recommender.errors import NO_QUESTION_LEFT, UNKNOWN_FAMILY
from woorizip.recommender.schemas import DailyQuestion, ModelInfo, Ranking

router = APIRouter(
    prefix="/v1/recommender", tags=["recommender"], dependencies=[Depends(require_internal)],
    route_class=ContractRoute,
)  # fmt: skip

FamilyId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="the family's id (32 lowercase hex)")]


@router.get("/model", response_model=ModelInfo)
def get_served_model(champion: Champion) -> ModelInfo:
    """The model questions are served with now."""
    return service.model_info(champion=champion)


@router.get("/families/{family_id}/ranking", response_model=Ranking, responses=problems(UNKNOWN_FAMILY))
def get_family_ranking(
    family_id: FamilyId, champion: Champion, globals_: GlobalStates, backends: BackendsDep, session: DbSession,
    tomorrow: Tomorrow, k: Annotated[int, Query(ge=1, le=50, description="how many questions")] = 10,
) -> Ranking:  # fmt: skip
    """The family's best eligible questions for a day, with scores (support preview; serves nothing)."""
    return service.ranking(backends=backends, session=session, champion=champion, globals_=globals_,
                           family_id=family_id, tomorrow=tomorrow, k=k)  # fmt: skip


@router.get(
    "/families/{family_id}/daily-question", response_model=DailyQuestion,
    responses=problems(UNKNOWN_FAMILY, NO_QUESTION_LEFT),
)  # fmt: skip
def get_daily_question(
    family_id: FamilyId, champion: Champion, globals_: GlobalStates, backends: BackendsDep, session: DbSession,
    tomorrow: Tomorrow,
) -> DailyQuestion:  # fmt: skip
    """The family's question for a day: the precomputed assignment, or decided now and recorded."""
    return service.daily_question(backends=backends, session=session, champion=champion, globals_=globals_,
                                  family_id=family_id, tomorrow=tomorrow)  # fmt: skip
