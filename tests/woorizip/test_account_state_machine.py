"""A Hypothesis state machine over sign-up, login, refresh, logout and deletion, against the real api.

The model: a session is a refresh chain; all its access tokens are valid exactly while it is live.
Logout, a replayed refresh token and account deletion end sessions at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from tests.woorizip.accounts import PASSWORD, Api, running_api
from tests.woorizip.conftest import SettingsFactory


@dataclass
class Session:
    email: str
    access_tokens: list[str]
    refresh_tokens: list[str]  # the last one is current; older ones are spent
    live: bool = True


@dataclass
class Account:
    email: str
    deleted: bool = False
    sessions: list[Session] = field(default_factory=list)


class AccountsMachine(RuleBasedStateMachine):
    api: Api  # set by the test before running

    accounts = Bundle("accounts")
    sessions = Bundle("sessions")

    def __init__(self) -> None:
        super().__init__()
        self.by_email: dict[str, Account] = {}

    @initialize()
    def fresh_model(self) -> None:
        self.by_email = {}

    def _new_session(self, email: str, tokens: dict[str, str]) -> Session:
        created = Session(email, [tokens["access_token"]], [tokens["refresh_token"]])
        self.by_email[email].sessions.append(created)
        return created

    @rule(target=sessions)
    def sign_up(self) -> Session:
        email = f"{uuid.uuid4().hex[:12]}@example.com"
        response = self.api.post("/v1/auth/signup", json={"email": email, "password": PASSWORD, "display_name": "가족"})
        assert response.status_code == 201, response.text
        self.by_email[email] = Account(email)
        return self._new_session(email, response.json()["tokens"])

    @rule(target=sessions, session=sessions)
    def log_in_again(self, session: Session) -> Session:
        account = self.by_email[session.email]
        response = self.api.post("/v1/auth/login", json={"email": session.email, "password": PASSWORD})
        if account.deleted:
            assert response.status_code == 401
            return Session(session.email, [], [], live=False)
        assert response.status_code == 200, response.text
        return self._new_session(session.email, response.json())

    @rule(session=sessions)
    def refresh(self, session: Session) -> None:
        if not session.refresh_tokens:
            return
        response = self.api.post("/v1/auth/refresh", json={"refresh_token": session.refresh_tokens[-1]})
        if session.live and not self.by_email[session.email].deleted:
            assert response.status_code == 200, response.text
            session.access_tokens.append(response.json()["access_token"])
            session.refresh_tokens.append(response.json()["refresh_token"])
        else:
            assert response.status_code == 401

    @rule(session=sessions, data=st.data())
    def replay_a_spent_refresh_token(self, session: Session, data: st.DataObject) -> None:
        if len(session.refresh_tokens) < 2:
            return
        spent = data.draw(st.sampled_from(session.refresh_tokens[:-1]))
        assert self.api.post("/v1/auth/refresh", json={"refresh_token": spent}).status_code == 401
        session.live = False  # reuse means theft: the whole session ends

    @rule(session=consumes(sessions))
    def log_out(self, session: Session) -> None:
        if not session.access_tokens:
            return
        headers = {"Authorization": f"Bearer {session.access_tokens[0]}"}  # any token of the session will do
        response = self.api.post("/v1/auth/logout", headers=headers)
        expected_ok = session.live and not self.by_email[session.email].deleted
        assert response.status_code == (204 if expected_ok else 401), response.text
        session.live = False
        self._check(session)

    @rule(session=sessions)
    def delete_account(self, session: Session) -> None:
        account = self.by_email[session.email]
        if not session.access_tokens:
            return
        headers = {"Authorization": f"Bearer {session.access_tokens[-1]}"}
        response = self.api.post("/v1/me/deletion", json={"password": PASSWORD}, headers=headers)
        if session.live and not account.deleted:
            assert response.status_code == 202, response.text
            account.deleted = True
            for other in account.sessions:
                other.live = False
        else:
            assert response.status_code == 401

    def _check(self, session: Session) -> None:
        valid = session.live and not self.by_email[session.email].deleted
        for token in session.access_tokens:
            status = self.api.get("/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code
            assert status == (200 if valid else 401), (session, status)

    @invariant()
    def every_token_is_valid_exactly_while_its_session_lives(self) -> None:
        for account in self.by_email.values():
            for session in account.sessions:
                self._check(session)


@pytest.fixture
def api(make_settings: SettingsFactory) -> Iterator[Api]:
    with running_api(make_settings(limit_login_per_account="1000/minute", limit_refresh_per_ip="10000/minute",
                                   limit_signup_per_ip="10000/hour")) as running:  # fmt: skip
        yield running


@pytest.mark.slow
def test_sessions_follow_the_model(api: Api) -> None:
    AccountsMachine.api = api
    run_state_machine_as_test(
        AccountsMachine,
        settings=settings(
            max_examples=25, stateful_step_count=12, deadline=None, suppress_health_check=[HealthCheck.too_slow]
        ),
    )
