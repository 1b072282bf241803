"""One transaction per unit of work, and side effects that wait for its commit.

A request's session commits once, after the route returned, or rolls back (`woorizip.dependencies`);
CLIs and workers use `with session.begin():`. Writes to other stores that must follow the data
(denying revoked sessions in the cache, say) are registered with `after_commit` and run only once
the transaction committed, so a failure half-way leaves nothing behind in any store.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

_HOOKS = "woorizip.after_commit"


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run `callback` once the session's current transaction has committed; dropped if it rolls back."""
    session.info.setdefault(_HOOKS, []).append(callback)


def _run_hooks(session: Session) -> None:
    hooks = session.info.pop(_HOOKS, [])
    for hook in hooks:
        hook()


def _drop_hooks(session: Session) -> None:
    session.info.pop(_HOOKS, None)


def install_hooks(factory: sessionmaker[Session]) -> None:
    """Make every session of `factory` run its after-commit callbacks (and forget them on rollback)."""
    event.listen(factory, "after_commit", _run_hooks)
    event.listen(factory, "after_rollback", _drop_hooks)
