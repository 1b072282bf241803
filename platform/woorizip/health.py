"""Liveness, readiness and the backend report shared by `/readyz` and `woorizip doctor`."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from woorizip import __version__
from woorizip.backends import Backends

router = APIRouter(tags=["health"])


class Liveness(BaseModel):
    status: Literal["ok"]
    version: str


class BackendReport(BaseModel):
    concern: str
    backend: str
    ok: bool
    detail: str
    latency_ms: float


class Readiness(BaseModel):
    status: Literal["ready", "not ready"]
    backends: list[BackendReport]


def get_backends(request: Request) -> Backends:
    backends: Backends = request.app.state.backends
    return backends


BackendsDep = Annotated[Backends, Depends(get_backends)]


@router.get("/healthz", response_model=Liveness, summary="Liveness: the process serves requests")
async def healthz() -> Liveness:
    return Liveness(status="ok", version=__version__)


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Readiness: every backing service answers",
    responses={503: {"model": Readiness, "description": "At least one backing service does not answer"}},
)
async def readyz(backends: BackendsDep) -> JSONResponse:
    statuses = await run_in_threadpool(backends.check)
    ready = all(status.ok for status in statuses)
    body = Readiness(
        status="ready" if ready else "not ready",
        backends=[BackendReport(**status.as_dict()) for status in statuses],
    )
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)
