"""Dependencies every domain shares: the request's database session (one transaction) and the backends.

`DbSession` is the request's unit of work: services only `flush`; the session commits once after the
route returned, or rolls back if anything raised (a `ProblemError` with `keep_changes` commits what
the refusal itself recorded). The commit happens before the response is sent, so a failed commit is
never answered with a success.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from woorizip.backends import Backends
from woorizip.problems import ProblemError


def get_session(request: Request) -> Iterator[Session]:
    session = request.app.state.backends.session_factory()
    try:
        yield session
    except ProblemError as error:
        if error.keep_changes:
            session.commit()
        else:
            session.rollback()
        raise
    except BaseException:
        session.rollback()
        raise
    else:
        session.commit()
    finally:
        session.close()


# scope="function": the session ends when the route returns, before the response is sent.
DbSession = Annotated[Session, Depends(get_session, scope="function")]


def get_backends(request: Request) -> Backends:
    backends: Backends = request.app.state.backends
    return backends


BackendsDep = Annotated[Backends, Depends(get_backends)]


def app_state(name: str) -> Callable[[Request], Any]:
    """`Depends(app_state("tokens"))`: the lifespan-built object of that name (never built per request)."""

    def read(request: Request) -> Any:
        return getattr(request.app.state, name)

    read.__name__ = f"app_state_{name}"
    return read
