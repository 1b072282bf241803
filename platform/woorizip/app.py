"""`create_app()`: the one FastAPI application that serves every domain."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from prometheus_client import CollectorRegistry
from prometheus_fastapi_instrumentator import Instrumentator

from woorizip import __version__, account_export, health
from woorizip.auth.router import auth_router, me_router
from woorizip.auth.social.router import router as social_router
from woorizip.backends import Backends
from woorizip.family.router import router as family_router
from woorizip.heap import freeze_long_lived_objects
from woorizip.json_body import DuplicateJsonKeysMiddleware
from woorizip.middleware import BodySizeLimitMiddleware, SecurityHeadersMiddleware
from woorizip.openapi import contract_openapi, operation_id
from woorizip.problems import install_problem_handlers
from woorizip.recommender import router as recommender
from woorizip.recommender.online import GlobalStateHolder
from woorizip.recommender.serving import ChampionHolder, registry_for
from woorizip.settings import Settings, get_settings

logger = logging.getLogger(__name__)


def _open_accounts(app: FastAPI, settings: Settings) -> None:
    """Token keys, deny-list, password hasher and rate limits; tests may set cheaper ones beforehand."""
    from woorizip.auth.denylist import DenyList
    from woorizip.auth.keys import build_token_service
    from woorizip.auth.limits import RateLimiter
    from woorizip.auth.passwords import PasswordHasher

    state = app.state
    if not hasattr(state, "tokens"):
        state.tokens = build_token_service(settings)
    state.deny_list = DenyList(cache=state.backends.cache, issuer=state.tokens.issuer)
    if not hasattr(state, "hasher"):
        state.hasher = PasswordHasher()
    state.limiter = RateLimiter(settings)


async def _watch_champion(champion: ChampionHolder, global_state: GlobalStateHolder, interval: float) -> None:
    """Pick up a newly promoted (or rolled back) champion, and a newly published global state, without a restart."""
    while True:
        await asyncio.sleep(interval)
        for holder in (champion, global_state):
            try:
                await run_in_threadpool(holder.refresh)
            except Exception:  # never let the watcher die: the next tick tries again
                logger.exception("%s refresh failed", type(holder).__name__)


def create_app(settings: Settings | None = None, *, backends: Backends | None = None) -> FastAPI:
    """Build the API; backing services are opened by the lifespan, not here."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = backends is None
        app.state.backends = backends or Backends(settings)
        # Open the content store at start-up so the first request does not pay for
        # starting the embedded server.
        await run_in_threadpool(lambda: app.state.backends.mongo)
        app.state.champion = ChampionHolder(registry=registry_for(settings), epsilon=settings.recommender_epsilon)
        app.state.global_state = GlobalStateHolder(backends=app.state.backends)
        await run_in_threadpool(app.state.champion.refresh)
        await run_in_threadpool(_open_accounts, app, settings)
        freeze_long_lived_objects()
        watcher = asyncio.create_task(
            _watch_champion(app.state.champion, app.state.global_state, settings.model_refresh_seconds)
        )
        try:
            yield
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            if owned:
                app.state.backends.close()

    app = FastAPI(
        title="우리집 API",
        version=__version__,
        description="One personalized family question a day. Errors are RFC 9457 problem+json.",
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
        generate_unique_id_function=operation_id,
    )
    app.state.settings = settings
    install_problem_handlers(app)
    app.include_router(health.router)
    app.include_router(auth_router)
    app.include_router(me_router)
    app.include_router(account_export.router)
    app.include_router(social_router)
    app.include_router(family_router)
    app.include_router(recommender.router)
    app.openapi = contract_openapi(app)  # type: ignore[method-assign]
    # A registry per app: the process-wide default would silently drop the metrics of a second app.
    Instrumentator(excluded_handlers=["/metrics"], registry=CollectorRegistry()).instrument(app).expose(
        app, endpoint="/metrics", include_in_schema=False
    )
    # Added innermost first: the request id wraps everything, so every log line and error has it.
    app.add_middleware(GZipMiddleware, minimum_size=1000)
    # Inside CORS, so their refusals (400 duplicate keys, 413) carry the CORS headers a browser needs.
    app.add_middleware(DuplicateJsonKeysMiddleware)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID"],
        )
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.environment == "production")
    app.add_middleware(CorrelationIdMiddleware, header_name="X-Request-ID")
    return app
