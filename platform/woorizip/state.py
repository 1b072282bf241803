"""Dependencies that hand a route one of the objects the app's lifespan put on `app.state`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request


def app_state(name: str) -> Callable[[Request], Any]:
    """`Depends(app_state("tokens"))`: the lifespan-built object of that name (never built per request)."""

    def read(request: Request) -> Any:
        return getattr(request.app.state, name)

    read.__name__ = f"app_state_{name}"
    return read
