"""A small HTTP client for the family tests: a served app, real sign-ups, and calls as a given user."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI

from tests.woorizip.live import serve
from woorizip.app import create_app
from woorizip.auth.passwords import PasswordHasher
from woorizip.db import migrate
from woorizip.settings import Settings

PROBLEM = "application/problem+json"
PROBLEM_BASE = "https://docs.woorizip.app/problems/"
_names = itertools.count()


@dataclass(frozen=True)
class Person:
    id: str
    display_name: str
    headers: dict[str, str]


class Api:
    def __init__(self, base: str, app: FastAPI | None = None) -> None:
        self.base = base
        self.app = app
        self.http = httpx.Client(base_url=base, timeout=20)

    def sign_up(self, display_name: str | None = None) -> Person:
        name = display_name or f"가족{next(_names)}"
        response = self.http.post(
            "/v1/auth/signup",
            json={
                "email": f"{uuid.uuid4().hex[:16]}@example.kr",
                "password": "비밀번호는 길게 12자",
                "display_name": name,
            },
        )
        assert response.status_code == 201, response.text
        body = response.json()
        return Person(
            id=body["user"]["id"], display_name=name,
            headers={"Authorization": f"Bearer {body['tokens']['access_token']}"},
        )  # fmt: skip

    def call(self, who: Person | None, method: str, path: str, json: Any = None) -> httpx.Response:
        headers = who.headers if who else {}
        if json is None:
            return self.http.request(method, path, headers=headers)
        return self.http.request(method, path, headers=headers, json=json)

    def ok(self, who: Person | None, method: str, path: str, json: Any = None, status: int = 200) -> Any:
        response = self.call(who, method, path, json)
        assert response.status_code == status, (method, path, response.status_code, response.text)
        return response.json() if response.content else None

    # shortcuts for setting up a scene
    def family(self, owner: Person, name: str = "우리집") -> str:
        return str(self.ok(owner, "POST", "/v1/families", {"name": name}, status=201)["id"])

    def join(self, family_id: str, by: Person, person: Person, role: str = "member") -> str:
        """`by` invites, `person` accepts; returns the new member id."""
        code = self.ok(by, "POST", f"/v1/families/{family_id}/invitations", {"role": role}, status=201)["code"]
        return str(self.ok(person, "POST", f"/v1/invitations/{code}/accept", status=201)["member"]["id"])

    def member_id(self, family_id: str, who: Person) -> str:
        return str(self.ok(who, "GET", f"/v1/families/{family_id}")["my_member_id"])

    def child(self, family_id: str, by: Person, nickname: str = "막내") -> str:
        body = {"nickname": nickname, "birth_year": 2020, "guardian_consent": True}
        return str(self.ok(by, "POST", f"/v1/families/{family_id}/members", body, status=201)["id"])


def assert_problem(response: httpx.Response, status: int, slug: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith(PROBLEM), response.headers["content-type"]
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    if slug is not None:
        assert body["type"] == PROBLEM_BASE + slug, body
    return body


@contextmanager
def running_api(settings: Settings) -> Iterator[Api]:
    """Migrate, then serve the real app over loopback HTTP with a cheap password hasher."""
    migrate.upgrade(url=settings.resolved_database_url)
    app = create_app(settings)
    app.state.hasher = PasswordHasher(time_cost=1, memory_cost_kib=1024)
    with serve(app) as base:
        api = Api(base, app)
        try:
            yield api
        finally:
            api.http.close()


def settings_for(make_settings: Any, database_url: str | None = None) -> Settings:
    overrides: dict[str, Any] = {"limit_signup_per_ip": "100000/hour", "limit_login_per_ip": "100000/minute"}
    if database_url:
        overrides["database_url"] = database_url
    settings: Settings = make_settings(**overrides)
    return settings
