"""Dependencies of the recommender's support routes: the internal token, the champion, the history."""

from __future__ import annotations

import hmac
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import APIKeyHeader

from woorizip.dependencies import app_state
from woorizip.problems import raises
from woorizip.recommender.errors import INTERNAL_TOKEN_REQUIRED
from woorizip.recommender.online import GlobalStateHolder
from woorizip.recommender.serving import ChampionHolder

internal_token = APIKeyHeader(
    name="X-Internal-Token", scheme_name="internalToken", auto_error=False,
    description="The installation's WOORIZIP_INTERNAL_API_TOKEN (support and pipeline callers only)",
)  # fmt: skip


@raises(INTERNAL_TOKEN_REQUIRED)
def require_internal(request: Request, given: Annotated[str | None, Depends(internal_token)]) -> None:
    """Support and pipeline callers only: a shared token, when the installation sets one."""
    expected = request.app.state.settings.internal_api_token
    if expected is None:
        return
    if not hmac.compare_digest((given or "").encode(), expected.get_secret_value().encode()):
        raise INTERNAL_TOKEN_REQUIRED.error("send X-Internal-Token")


class DayChoice(StrEnum):
    """Which day to decide for: only today's and tomorrow's questions can be decided."""

    TODAY = "today"
    TOMORROW = "tomorrow"


def wants_tomorrow(
    day: Annotated[DayChoice, Query(description="today or tomorrow, in the family's own time zone")] = DayChoice.TODAY,
) -> bool:
    return day is DayChoice.TOMORROW


Champion = Annotated[ChampionHolder, Depends(app_state("champion"))]
GlobalStates = Annotated[GlobalStateHolder, Depends(app_state("global_state"))]
Tomorrow = Annotated[bool, Depends(wants_tomorrow)]
