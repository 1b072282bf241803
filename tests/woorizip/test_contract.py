"""The OpenAPI document is a contract a typed client can be generated from: every status declared with the
problem schema, bearer security, readable operation ids, named schemas, and constraints equal to the server's."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from woorizip.app import create_app
from woorizip.openapi import problem_catalogue_markdown
from woorizip.problems import PROBLEM_MEDIA_TYPE, catalogue
from woorizip.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
# Readiness answers 503 with its own report (which backend failed), not a problem.
OWN_ERROR_BODIES = {("/readyz", "get", "503")}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return create_app(Settings(_env_file=None)).openapi()  # type: ignore[call-arg]


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, ops in spec["paths"].items() for method, op in ops.items()]


def test_operation_ids_are_readable_camel_case_and_unique(spec: dict[str, Any]) -> None:
    ids = [op["operationId"] for _, _, op in _operations(spec)]
    assert len(ids) == len(set(ids))
    for operation_id in ids:
        assert re.fullmatch(r"[a-z][a-zA-Z]+", operation_id), operation_id
        assert not re.search(r"V1[A-Z].*(Get|Post|Put|Patch|Delete)$", operation_id), operation_id  # FastAPI's
    assert {"signUp", "logIn", "createFamily", "listFamilyMembers", "acceptInvitation"} <= set(ids)


def test_every_error_response_is_problem_json(spec: dict[str, Any]) -> None:
    for path, method, op in _operations(spec):
        for status, response in op["responses"].items():
            if not status.startswith(("4", "5")) or (path, method, status) in OWN_ERROR_BODIES:
                continue
            assert response.get("content") == {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_REF}}, (path, method, status)
            assert response["description"].startswith("- `"), (path, method, status)


def test_generic_statuses_are_declared_where_they_can_happen(spec: dict[str, Any]) -> None:
    for path, method, op in _operations(spec):
        statuses = set(op["responses"])
        assert "500" in statuses, (path, method)
        if "requestBody" in op:
            assert {"400", "413", "422"} <= statuses, (path, method)
        if op.get("parameters"):
            assert "422" in statuses, (path, method)
        if op.get("security") == [{"bearerAuth": []}]:
            assert "401" in statuses, (path, method)


def test_signed_in_routes_declare_bearer_security(spec: dict[str, Any]) -> None:
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
        "description": "An access token from sign-up, login, refresh or social sign-in",
    }  # fmt: skip
    public = {"/healthz", "/readyz", "/v1/auth/signup", "/v1/auth/login", "/v1/auth/refresh"}
    for path, method, op in _operations(spec):
        if path in public or path.startswith(("/v1/auth/social", "/v1/recommender")):
            assert "bearerAuth" not in str(op.get("security")), (path, method)
        else:
            assert op.get("security") == [{"bearerAuth": []}], (path, method)


def test_success_bodies_and_enums_are_named_schemas(spec: dict[str, Any]) -> None:
    for path, method, op in _operations(spec):
        for status, response in op["responses"].items():
            if status.startswith("2") and "content" in response:
                schema = response["content"]["application/json"]["schema"]
                assert set(schema) == {"$ref"}, (path, method, schema)
    schemas = spec["components"]["schemas"]
    for name in ("Role", "AssignableRole", "InvitationRole", "ManagedRole", "Category", "Provider", "TimeZone",
                 "ProblemType", "FamilyPage", "MemberPage", "InvitationPage", "IdentityList"):  # fmt: skip
        assert name in schemas, name
    assert "Asia/Seoul" in schemas["TimeZone"]["enum"]
    assert schemas["Problem"]["properties"]["type"]["$ref"] == "#/components/schemas/ProblemType"
    assert schemas["ProblemType"]["enum"] == [problem.uri for problem in catalogue()]
    assert "HTTPValidationError" not in schemas


def test_schema_constraints_equal_the_servers(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    password = schemas["SignUp"]["properties"]["password"]
    assert (password["minLength"], password["maxLength"]) == (12, 1024)
    assert schemas["InvitationCreate"]["properties"]["max_uses"]["type"] == "integer"
    interests = schemas["FamilyCreate"]["properties"]["interests"]
    assert interests["uniqueItems"] is True
    birth_year = schemas["ManagedMemberCreate"]["properties"]["birth_year"]
    assert birth_year["maximum"] <= 2100 and birth_year["maximum"] >= 2026
    name = schemas["FamilyCreate"]["properties"]["name"]
    assert "pattern" in name and name["maxLength"] == 40


def test_list_routes_are_paginated(spec: dict[str, Any]) -> None:
    for path in ("/v1/families", "/v1/families/{family_id}/members", "/v1/families/{family_id}/invitations"):
        parameters = {p["name"]: p for p in spec["paths"][path]["get"]["parameters"]}
        assert {"limit", "cursor"} <= set(parameters), path
        assert parameters["limit"]["schema"]["maximum"] == 100


def test_the_problem_catalogue_page_is_current() -> None:
    create_app(Settings(_env_file=None))  # type: ignore[call-arg]  # every domain's problems declared
    written = (ROOT / "docs" / "problems.md").read_text(encoding="utf-8")
    assert written == problem_catalogue_markdown(), (
        "docs/problems.md is stale: run `.venv/bin/woorizip api problems > docs/problems.md`"
    )


def test_rate_limited_operations_declare_429(spec: dict[str, Any]) -> None:
    limited = [
        ("/v1/auth/signup", "post"), ("/v1/auth/login", "post"), ("/v1/auth/refresh", "post"),
        ("/v1/auth/social/{provider}", "post"), ("/v1/auth/social/{provider}/callback", "get"),
        ("/v1/auth/social/{provider}/callback", "post"),
    ]  # fmt: skip
    for path, method in limited:
        assert "429" in spec["paths"][path][method]["responses"], (path, method)


def test_routes_never_run_blocking_code_on_the_event_loop() -> None:
    """Route functions are plain `def` (FastAPI runs them in its thread pool) unless they await their I/O."""
    import inspect

    app = create_app(Settings(_env_file=None))  # type: ignore[call-arg]
    awaiting = {"liveness", "readiness", "social_callback", "social_form_callback"}
    spec = app.openapi()
    names = {op["operationId"] for _, _, op in _operations(spec)}
    from woorizip.openapi import operation_id

    async_routes = {
        operation_id(route)
        for route in _api_routes(app)
        if inspect.iscoroutinefunction(route.endpoint) and route.name not in awaiting and route.include_in_schema
    }
    assert async_routes == set(), async_routes
    assert len([r for r in _api_routes(app) if r.include_in_schema]) == len(names)  # every operation looked at


def _api_routes(app: Any) -> list[Any]:
    from fastapi.routing import APIRoute

    found: list[Any] = []

    def walk(routes: Any) -> None:
        for route in routes:
            if isinstance(route, APIRoute):
                found.append(route)
            original = getattr(route, "original_router", None)
            if original is not None:
                walk(original.routes)

    walk(app.routes)
    return found
