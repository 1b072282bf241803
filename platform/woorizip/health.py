"""Liveness, readiness and the backend report shared by `/readyz` and `woorizip doctor`."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from woorizip import __version__
from woorizip.dependencies import BackendsDep
from woorizip.openapi import ContractRoute

router = APIRouter(tags=["health"], route_class=ContractRoute)


class Liveness(BaseModel):
    status: Literal["ok"]
    version: str


class BackendReport(BaseModel):
    concern: str
    backend: str
    ok: bool
    detail: str
    latency_ms: float


class ServedModel(BaseModel):
    source: Literal["registry", "heuristic"]
    version: str | None
    problem: str | None


class Readiness(BaseModel):
    status: Literal["ready", "degraded: no model", "not ready"]
    backends: list[BackendReport]
    model: ServedModel | None = None


@router.get("/healthz", response_model=Liveness, summary="Liveness: the process serves requests")
async def liveness() -> Liveness:
    return Liveness(status="ok", version=__version__)


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Readiness: every backing service answers (degraded when no model is served, but still ready)",
    responses={503: {"model": Readiness, "description": "At least one backing service does not answer"}},
)
async def readiness(request: Request, backends: BackendsDep) -> JSONResponse:
    statuses = await run_in_threadpool(backends.check)
    ready = all(status.ok for status in statuses)
    champion = getattr(request.app.state, "champion", None)
    model = None
    if champion is not None:
        current = champion.current
        model = ServedModel(source=current.source, version=current.version, problem=current.problem)
    overall: Literal["ready", "degraded: no model", "not ready"] = "ready"
    if not ready:
        overall = "not ready"
    elif model is not None and model.version is None:
        # The heuristic ranker still serves every request: degraded, not down.
        overall = "degraded: no model"
    body = Readiness(
        status=overall, backends=[BackendReport(**status.as_dict()) for status in statuses], model=model
    )
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)
