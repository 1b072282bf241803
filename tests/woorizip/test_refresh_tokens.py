"""Refresh-token rotation on SQLite and PostgreSQL: reuse detection, absolute lifetime, races."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.woorizip.conftest import SettingsFactory
from woorizip.auth.models import User
from woorizip.auth.refresh import RefreshError, revoke_chain, revoke_user, rotate, start_chain
from woorizip.db import migrate
from woorizip.db.engine import build_engine, build_session_factory

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def sessions(request: pytest.FixtureRequest, make_settings: SettingsFactory) -> Iterator[sessionmaker[Session]]:
    url = (
        str(request.getfixturevalue("postgres_url"))
        if request.param == "postgresql"
        else make_settings().resolved_database_url
    )
    migrate.upgrade(url=url)
    engine = build_engine(url)
    factory = build_session_factory(engine)
    with factory() as session:
        session.add(User(id="u1", email="mom@example.kr", display_name="엄마", created_at=NOW))
        session.commit()
    yield factory
    engine.dispose()


def test_rotation_hands_out_a_new_token_each_time(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        first = start_chain(session=session, user_id="u1", now=NOW)
        second = rotate(session=session, token=first.token, now=NOW + timedelta(minutes=20))
        third = rotate(session=session, token=second.token, now=NOW + timedelta(minutes=40))
    assert len({first.token, second.token, third.token}) == 3
    assert first.chain_id == second.chain_id == third.chain_id


def test_reuse_revokes_the_whole_chain(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        first = start_chain(session=session, user_id="u1", now=NOW)
        second = rotate(session=session, token=first.token, now=NOW)
        with pytest.raises(RefreshError, match="reused"):
            rotate(session=session, token=first.token, now=NOW)  # the stolen copy
        with pytest.raises(RefreshError, match="revoked"):
            rotate(session=session, token=second.token, now=NOW)  # the legitimate one dies too
        other = start_chain(session=session, user_id="u1", now=NOW)  # another device is untouched
        rotate(session=session, token=other.token, now=NOW)


def test_chains_have_an_absolute_lifetime(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        token = start_chain(session=session, user_id="u1", now=NOW).token
        for day in range(1, 30):
            token = rotate(session=session, token=token, now=NOW + timedelta(days=day)).token
        with pytest.raises(RefreshError, match="sign in again"):
            rotate(session=session, token=token, now=NOW + timedelta(days=30))


def test_unknown_token_and_logout_everywhere(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        with pytest.raises(RefreshError, match="unknown"):
            rotate(session=session, token="made-up", now=NOW)
        a = start_chain(session=session, user_id="u1", now=NOW)
        b = start_chain(session=session, user_id="u1", now=NOW)
        assert revoke_chain(session=session, chain_id=a.chain_id, now=NOW) == 1
        with pytest.raises(RefreshError, match="revoked"):
            rotate(session=session, token=a.token, now=NOW)
        rotated = rotate(session=session, token=b.token, now=NOW)
        # b's chain (b used, its successor live) ends; chain a was revoked already.
        assert revoke_user(session=session, user_id="u1", now=NOW) == [b.chain_id]
        with pytest.raises(RefreshError, match="revoked"):
            rotate(session=session, token=rotated.token, now=NOW)


def test_two_simultaneous_refreshes_exactly_one_wins(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        token = start_chain(session=session, user_id="u1", now=NOW).token
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def refresh() -> None:
        with sessions.begin() as session:
            barrier.wait()
            try:
                rotate(session=session, token=token, now=NOW)
                outcomes.append("ok")
            except RefreshError as error:
                outcomes.append(error.reason)

    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(outcomes) == 2
    assert outcomes.count("ok") == 1
    assert "reused" in next(o for o in outcomes if o != "ok")
