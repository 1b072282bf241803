"""The API contract a mobile team generates its client from, set once for every route.

- `ContractRoute` (every router's `route_class`) declares each status a route can answer with the
  `Problem` schema: the problems its dependencies are marked with (`problems.raises`), the ones its
  `responses=problems(...)` lists, 400/413/422 where input is read, and 500 always. A 204 route
  answers with no body and no content type.
- `operation_id` gives every operation a readable, stable id (the route function's name in camelCase).
- `contract_openapi` builds the document: problem bodies under `application/problem+json` only, the
  catalogue of problem types as the `ProblemType` enum, and the bearer security scheme.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI, Response
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from woorizip.problems import (
    INTERNAL_ERROR,
    MALFORMED_JSON,
    PAYLOAD_TOO_LARGE,
    PROBLEM_MEDIA_TYPE,
    VALIDATION_ERROR,
    Problem,
    ProblemType,
    catalogue,
    declared_problems,
)

Responses = dict[int | str, dict[str, Any]]
_PROBLEMS_KEY = "x-problem-types"


def problems(*types: ProblemType) -> Responses:
    """`responses=` for a route: the problems its own code (not its dependencies) answers with."""
    grouped: dict[int, list[str]] = defaultdict(list)
    for problem in types:
        grouped[problem.status].append(problem.slug)
    return {status: {_PROBLEMS_KEY: slugs} for status, slugs in grouped.items()}


def _merge(types: tuple[ProblemType, ...] | list[ProblemType]) -> Responses:
    by_status: dict[int, list[ProblemType]] = defaultdict(list)
    for problem in types:
        if problem not in by_status[problem.status]:
            by_status[problem.status].append(problem)
    return {
        status: {
            "model": Problem,
            "description": "\n".join(f"- `{p.slug}`: {p.summary}" for p in found),
            _PROBLEMS_KEY: [p.slug for p in found],
        }
        for status, found in sorted(by_status.items())
    }


def _dependencies(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from _dependencies(sub)


def _reads_input(dependant: Dependant) -> bool:
    every = [dependant, *_dependencies(dependant)]
    return any(d.path_params or d.query_params or d.header_params or d.cookie_params or d.body_params for d in every)


class ContractRoute(APIRoute):
    """An APIRoute that declares every problem it can answer with (see the module docstring)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if kwargs.get("status_code") == 204:
            kwargs["response_class"] = Response  # no body, no content type
        super().__init__(path, endpoint, **kwargs)
        found: list[ProblemType] = []
        for sub in _dependencies(self.dependant):
            found.extend(declared_problems(sub.call))
        by_slug = {problem.slug: problem for problem in catalogue()}
        for status in [status for status, response in self.responses.items() if _PROBLEMS_KEY in response]:
            found.extend(by_slug[slug] for slug in self.responses.pop(status)[_PROBLEMS_KEY])
        if self.body_field is not None:
            found += [MALFORMED_JSON, PAYLOAD_TOO_LARGE]
        if _reads_input(self.dependant):
            found.append(VALIDATION_ERROR)
        found.append(INTERNAL_ERROR)
        self.problem_types = found
        self.responses = {**self.responses, **_merge(found)}


def operation_id(route: APIRoute) -> str:
    """`sign_up` → `signUp`: stable as long as the route function keeps its name."""
    head, *rest = route.name.split("_")
    return head + "".join(word.capitalize() for word in rest)


def contract_openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """`app.openapi`: FastAPI's document, normalised to the contract described above (built once)."""

    def build() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes,
            servers=app.servers,
        )  # fmt: skip
        _normalise(document, internal_token_set=app.state.settings.internal_api_token is not None)
        app.openapi_schema = document
        return document

    return build


def _normalise(document: dict[str, Any], *, internal_token_set: bool) -> None:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    problem_ref = {"$ref": "#/components/schemas/Problem"}
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for response in operation.get("responses", {}).values():
                if _PROBLEMS_KEY in response:
                    response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": problem_ref}}
            security = operation.get("security", [])
            if not internal_token_set and {"internalToken": []} in security:
                security.append({})  # an installation without the token leaves the support routes open
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    schemas["ProblemType"] = {
        "title": "ProblemType",
        "type": "string",
        "enum": [problem.uri for problem in catalogue()],
        "description": "Every kind of problem the API answers with (docs/problems.md explains each).",
    }
    schemas["Problem"]["properties"]["type"] = {
        "$ref": "#/components/schemas/ProblemType",
        "description": "identifies the kind of problem",
    }


def problem_catalogue_markdown() -> str:
    """docs/problems.md: every problem type with its status and meaning (call after the app is built)."""
    lines = [
        "# Problem types",
        "",
        "Generated by `woorizip api problems` from the declared problem types; do not edit by hand.",
        "",
        "Every error is `application/problem+json` (RFC 9457): `type` is one of the URIs below, `title` the",
        "status phrase, `detail` what happened this time, `instance` the path, `request_id` the request's id,",
        "and `errors` lists each invalid field of a `validation-error`. Each operation in the OpenAPI document",
        "lists, per status, the types it can answer with.",
        "",
        "| status | type | meaning |",
        "|---|---|---|",
    ]
    lines += [f"| {p.status} | `{p.uri}` | {p.summary} |" for p in catalogue()]
    return "\n".join(lines) + "\n"

