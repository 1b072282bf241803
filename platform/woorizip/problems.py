"""RFC 9457 problem details: the catalogue of problem types, the error services raise, and the handlers.

Every problem the API can answer with is a `ProblemType` declared once, in the `errors.py` of the
domain it belongs to (the generic ones are here). The catalogue of all of them is published in the
OpenAPI document (the `ProblemType` enum) and in docs/problems.md, so a client can switch on `type`.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, TypeVar

from asgi_correlation_id import correlation_id
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://docs.woorizip.app/problems/"

_CATALOGUE: dict[str, ProblemType] = {}
Dependency = TypeVar("Dependency")


@dataclass(frozen=True)
class ProblemType:
    """One kind of problem: a stable slug (the end of the `type` URI), its HTTP status and what it means."""

    slug: str
    status: int
    summary: str

    def __post_init__(self) -> None:
        known = _CATALOGUE.get(self.slug)
        if known is not None and known != self:
            raise ValueError(f"problem type {self.slug!r} is declared twice with different meanings")
        _CATALOGUE[self.slug] = self

    @property
    def uri(self) -> str:
        return PROBLEM_TYPE_BASE + self.slug

    @property
    def title(self) -> str:
        return HTTPStatus(self.status).phrase

    def error(self, detail: str, *, headers: dict[str, str] | None = None, keep_changes: bool = False) -> ProblemError:
        """The exception that answers with this problem; `detail` says what happened this time."""
        return ProblemError(self, detail=detail, headers=headers, keep_changes=keep_changes)


def catalogue() -> list[ProblemType]:
    """Every declared problem type, by status then slug."""
    return sorted(_CATALOGUE.values(), key=lambda problem: (problem.status, problem.slug))


def raises(*problems: ProblemType) -> Callable[[Dependency], Dependency]:
    """Mark a dependency with the problems it answers with, so every route using it declares them."""

    def mark(dependency: Dependency) -> Dependency:
        declared: tuple[ProblemType, ...] = getattr(dependency, "__problems__", ())
        dependency.__problems__ = (*declared, *problems)  # type: ignore[attr-defined]
        return dependency

    return mark


def declared_problems(dependency: object) -> tuple[ProblemType, ...]:
    return tuple(getattr(dependency, "__problems__", ()))


class ProblemError(Exception):
    """Raise from services, dependencies and routes to answer with a declared problem.

    `keep_changes` commits the request's transaction even though the request fails: for refusals
    that must themselves be recorded (a replayed refresh token ends its whole session).
    """

    def __init__(
        self,
        problem: ProblemType,
        *,
        detail: str,
        headers: dict[str, str] | None = None,
        errors: list[dict[str, Any]] | None = None,
        keep_changes: bool = False,
    ) -> None:
        super().__init__(detail)
        self.problem = problem
        self.detail = detail
        self.headers = headers or {}
        self.errors = errors
        self.keep_changes = keep_changes


# The problems any route may answer with, whatever its domain.
MALFORMED_JSON = ProblemType("malformed-json", 400, "The body is not valid JSON, or repeats a key.")
INVALID_CURSOR = ProblemType("invalid-cursor", 400, "The `cursor` is not one this list handed out.")
UNAUTHORIZED = ProblemType(
    "unauthorized", 401, "No valid access token: missing, malformed, expired or revoked; sign in again."
)
NOT_FOUND = ProblemType("not-found", 404, "No route has this path.")
METHOD_NOT_ALLOWED = ProblemType("method-not-allowed", 405, "The path exists but not with this method (see `Allow`).")
NOT_ACCEPTABLE = ProblemType("not-acceptable", 406, "The `Accept` header asks for a type the API cannot produce.")
PAYLOAD_TOO_LARGE = ProblemType("payload-too-large", 413, "The body is larger than the API accepts.")
UNSUPPORTED_MEDIA_TYPE = ProblemType("unsupported-media-type", 415, "The body's content type is not accepted.")
VALIDATION_ERROR = ProblemType(
    "validation-error", 422, "Fields are missing, unknown or out of range; `errors` lists each one."
)
TOO_MANY_REQUESTS = ProblemType("too-many-requests", 429, "Too many attempts; `Retry-After` says when to try again.")
INTERNAL_ERROR = ProblemType("internal-error", 500, "Something failed on our side; quote the `request_id`.")
HTTP_ERROR = ProblemType("http-error", 400, "An HTTP-level error without a more specific type.")

_BY_STATUS = {
    problem.status: problem
    for problem in (NOT_FOUND, METHOD_NOT_ALLOWED, NOT_ACCEPTABLE, PAYLOAD_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE,
                    UNAUTHORIZED, TOO_MANY_REQUESTS)
}  # fmt: skip


class ValidationIssue(BaseModel):
    """One field that failed validation."""

    loc: list[str | int] = Field(description="where: 'body', 'query', 'path' or 'header', then the field path")
    type: str = Field(description="a machine-readable reason, e.g. 'missing', 'string_too_long'")
    msg: str = Field(description="the reason in English")


class Problem(BaseModel):
    """The problem+json body (RFC 9457), with our `request_id` and, for invalid input, `errors`."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(description="identifies the kind of problem: one of the ProblemType URIs")
    title: str = Field(description="the HTTP status phrase")
    status: int = Field(description="the HTTP status code")
    detail: str | None = Field(default=None, description="what happened this time, for people")
    instance: str | None = Field(default=None, description="the request path")
    request_id: str | None = Field(default=None, description="the X-Request-ID of the request; quote it in reports")
    errors: list[ValidationIssue] | None = Field(default=None, description="each invalid field (validation errors)")


def problem_body(problem: ProblemType, *, detail: str | None, instance: str | None, **extra: Any) -> dict[str, Any]:
    body = Problem(
        type=problem.uri,
        title=problem.title,
        status=problem.status,
        detail=detail,
        instance=instance,
        request_id=correlation_id.get(),
        **extra,
    )
    return jsonable_encoder(body, exclude_none=True)


def problem_response(
    request: Request,
    problem: ProblemType,
    *,
    detail: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    return JSONResponse(
        problem_body(problem, detail=detail, instance=request.url.path, **extra),
        status_code=problem.status,
        headers=headers,
        media_type=PROBLEM_MEDIA_TYPE,
    )


# FastAPI raises this (as a plain 400) when the body cannot even be decoded.
_FASTAPI_UNPARSABLE_BODY = "There was an error parsing the body"
_MALFORMED_JSON = "The request body is not valid JSON."


async def _http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else None
    if exc.status_code == 400 and detail == _FASTAPI_UNPARSABLE_BODY:
        return problem_response(request, MALFORMED_JSON, detail=_MALFORMED_JSON)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        # Starlette names only the methods of the one route it matched; a path may have several.
        headers["Allow"] = ", ".join(allowed_methods(request)) or headers.get("Allow", "")
    problem = _BY_STATUS.get(exc.status_code)
    if problem is None:
        return problem_response(request, HTTP_ERROR, detail=detail, headers=headers)
    return problem_response(request, problem, detail=detail, headers=headers)


def allowed_methods(request: Request) -> list[str]:
    """Every method the API serves on this request's path, from the OpenAPI document."""
    path = request.url.path
    methods: set[str] = set()
    for template, operations in request.app.openapi().get("paths", {}).items():
        if _template_regex(template).fullmatch(path):
            methods.update(method.upper() for method in operations)
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


def _template_regex(template: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)))


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": list(error.get("loc", ())), "type": error.get("type"), "msg": error.get("msg")}
        for error in exc.errors()
    ]
    if any(error["type"] == "json_invalid" for error in errors):
        return problem_response(request, MALFORMED_JSON, detail=_MALFORMED_JSON, errors=errors)
    return problem_response(
        request, VALIDATION_ERROR, detail="The request does not match the documented schema.", errors=errors
    )


async def _problem_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return problem_response(request, exc.problem, detail=exc.detail, headers=exc.headers, errors=exc.errors)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # The exception's type and where it was raised, never its message: messages of database errors
    # quote the statement's parameters, which are the user's input.
    frames = traceback.extract_tb(exc.__traceback__)
    where = [f"{frame.filename}:{frame.lineno} in {frame.name}" for frame in frames[-8:]]
    logger.error("unhandled %s", type(exc).__name__, extra={"path": request.url.path, "stack": where})
    return problem_response(
        request, INTERNAL_ERROR, detail="Something went wrong on our side; quote the request id when reporting it."
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(ProblemError, _problem_error)
    app.add_exception_handler(Exception, _unexpected)
