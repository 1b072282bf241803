"""RFC 9457 problem details for every error the API returns."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from asgi_correlation_id import correlation_id
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://docs.woorizip.app/problems/"


class Problem(BaseModel):
    """The problem+json body (RFC 9457) with our `request_id` and, for 4xx input errors, `errors`."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    request_id: str | None = None


class ProblemError(Exception):
    """Raise from services and routes to answer with a specific problem."""

    def __init__(
        self, *, status: int, slug: str, detail: str, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


def problem_response(
    request: Request,
    *,
    status: int,
    slug: str,
    detail: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = Problem(
        type=PROBLEM_TYPE_BASE + slug,
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        instance=request.url.path,
        request_id=correlation_id.get(),
        **extra,
    )
    return JSONResponse(
        jsonable_encoder(body, exclude_none=True), status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE
    )


_SLUG_BY_STATUS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation-error",
    429: "too-many-requests",
}


# FastAPI raises this (as a plain 400) when the body cannot even be decoded.
_FASTAPI_UNPARSABLE_BODY = "There was an error parsing the body"
_MALFORMED_JSON = "The request body is not valid JSON."


async def _http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else None
    if exc.status_code == 400 and detail == _FASTAPI_UNPARSABLE_BODY:
        return problem_response(request, status=400, slug="malformed-json", detail=_MALFORMED_JSON)
    # Starlette puts `Allow` on its 405; keep every header the exception carries.
    return problem_response(
        request,
        status=exc.status_code,
        slug=_SLUG_BY_STATUS.get(exc.status_code, "http-error"),
        detail=detail,
        headers=dict(exc.headers or {}),
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": list(error.get("loc", ())), "type": error.get("type"), "msg": error.get("msg")}
        for error in exc.errors()
    ]
    if any(error["type"] == "json_invalid" for error in errors):
        return problem_response(request, status=400, slug="malformed-json", detail=_MALFORMED_JSON, errors=errors)
    return problem_response(
        request,
        status=422,
        slug="validation-error",
        detail="The request does not match the documented schema.",
        errors=errors,
    )


async def _problem_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return problem_response(
        request, status=exc.status, slug=exc.slug, detail=exc.detail, headers=exc.headers, **exc.extra
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error", extra={"path": request.url.path})
    return problem_response(
        request,
        status=500,
        slug="internal-error",
        detail="Something went wrong on our side; quote the request id when reporting it.",
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(ProblemError, _problem_error)
    app.add_exception_handler(Exception, _unexpected)


# For `responses=` on routes so OpenAPI documents the problem bodies.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {PROBLEM_MEDIA_TYPE: {}}, "description": HTTPStatus(status).phrase}
    for status in (400, 413, 422)
}
