"""Schemathesis over the whole OpenAPI document, every check, signed in as a family owner with real ids.

Any response the document does not declare (a status, a content type, a body shape), any 5xx, any
valid request refused or invalid one accepted, fails here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from recsys.catalog import load_bank
from woorizip.app import create_app
from woorizip.auth.passwords import PasswordHasher
from woorizip.db import migrate
from woorizip.recommender.bank import load_question_bank


@dataclass
class World:
    """A signed-in owner and real ids of their family, a managed child and an invitation."""

    headers: dict[str, str]
    path_ids: dict[str, str]


@pytest.fixture(scope="module")
def owner_app(tmp_path_factory: pytest.TempPathFactory, mongo_url: str) -> Iterator[tuple[Any, World]]:
    from woorizip.settings import Settings

    data_dir = tmp_path_factory.mktemp("schemathesis")
    settings = Settings(
        _env_file=None, data_dir=data_dir, mongo_url=mongo_url, environment="test",  # type: ignore[call-arg]
        limit_signup_per_ip="100000/hour", limit_login_per_ip="100000/minute", limit_login_per_account="100000/minute",
        limit_refresh_per_ip="100000/minute",
    )  # fmt: skip
    migrate.upgrade(url=settings.resolved_database_url)
    app = create_app(settings)
    app.state.hasher = PasswordHasher(time_cost=1, memory_cost_kib=1024)
    with TestClient(app) as client:  # runs the lifespan: backends, champion, accounts
        load_question_bank(content=app.state.backends.content, bank=load_bank())  # as every installation has
        signed = client.post(
            "/v1/auth/signup",
            json={"email": "owner@example.kr", "password": "우리 가족 비밀번호는 길어요", "display_name": "엄마"},
        ).json()
        headers = {"Authorization": f"Bearer {signed['tokens']['access_token']}"}
        family = client.post("/v1/families", json={"name": "우리집"}, headers=headers).json()
        child = client.post(
            f"/v1/families/{family['id']}/members",
            json={"nickname": "막내", "birth_year": 2020, "guardian_consent": True}, headers=headers,
        ).json()  # fmt: skip
        invitation = client.post(f"/v1/families/{family['id']}/invitations", json={}, headers=headers).json()
        world = World(
            headers=headers,
            path_ids={
                "family_id": family["id"],
                "member_id": child["id"],
                "invitation_id": invitation["id"],
                "code": invitation["code"],
            },
        )
        yield app, world


def _check(operation: Any, mode: Any, world: World, path_ids: dict[str, str] | None) -> str | None:
    """Run one operation's generated cases; the first failure, described, or None."""
    fixed = {name: value for name, value in (path_ids or {}).items() if name in _path_names(operation)}
    strategy = operation.as_strategy(mode, path_parameters=fixed or None, headers=world.headers)

    @given(case=strategy)
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None,
              derandomize=True)  # fmt: skip
    def run(case: Any) -> None:
        case.call_and_validate(headers=world.headers)

    try:
        run()
    except Unsatisfiable:  # nothing to get wrong: e.g. no negative case of an operation without inputs
        return None
    except (Exception, BaseExceptionGroup) as error:  # every failing operation is one entry in the report
        return f"{operation.label} ({mode.value}): {error}"[:3000]
    return None


def _path_names(operation: Any) -> set[str]:
    return {parameter.name for parameter in operation.path_parameters}


EXAMPLES = 20


@pytest.mark.slow
def test_every_operation_keeps_its_contract(owner_app: tuple[Any, World]) -> None:
    app, world = owner_app
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            # Positive cases use real ids, so the operation itself runs, not only its 404; negative ones
            # generate every part, ids included.
            found = _check(operation, mode, world, world.path_ids if mode is GenerationMode.POSITIVE else None)
            if found:
                failures.append(found)
    assert not failures, "\n\n".join(failures)
