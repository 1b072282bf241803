"""A running app for account tests and a small client that signs people up over HTTP."""

from __future__ import annotations

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

PASSWORD = "우리 가족 비밀번호는 길어요"
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost_kib=1024)


@dataclass
class Person:
    email: str
    password: str
    access: str
    refresh: str
    user_id: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"}


@dataclass
class Api:
    base: str
    app: FastAPI

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.post(self.base + path, timeout=30, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.get(self.base + path, timeout=30, **kwargs)

    def sign_up(self, *, email: str | None = None, password: str = PASSWORD, name: str = "엄마") -> Person:
        email = email or f"{uuid.uuid4().hex[:10]}@example.com"
        response = self.post("/v1/auth/signup", json={"email": email, "password": password, "display_name": name})
        assert response.status_code == 201, response.text
        body = response.json()
        tokens = body["tokens"]
        return Person(email, password, tokens["access_token"], tokens["refresh_token"], body["user"]["id"])

    def log_in(self, person: Person) -> httpx.Response:
        response = self.post("/v1/auth/login", json={"email": person.email, "password": person.password})
        if response.status_code == 200:
            person.access, person.refresh = response.json()["access_token"], response.json()["refresh_token"]
        return response


@contextmanager
def running_api(settings: Settings) -> Iterator[Api]:
    migrate.upgrade(url=settings.resolved_database_url)
    app = create_app(settings)
    app.state.hasher = CHEAP_HASHER  # the app keeps a preset hasher: argon2id at test cost
    with serve(app) as base:
        yield Api(base, app)


def assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["type"].endswith("/" + slug), body
    return body
