"""The app shell's commands: serve, worker, db, doctor, content, questions, simulate, evaluate, model.

The `woorizip` console script (pipelines/cli.py) adds the pipeline commands and the demo.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Annotated

import typer

from woorizip.recommender import cli as recommender_cli
from woorizip.recommender.questions_cli import questions_app
from woorizip.settings import Settings, get_settings

if TYPE_CHECKING:
    from recsys.registry import ModelRegistry

app = typer.Typer(help="우리집 backend: one deployable unit in several roles.", no_args_is_help=True)
db_app = typer.Typer(help="Relational schema migrations.", no_args_is_help=True)
content_app = typer.Typer(help="The embedded content server (SecantusDB) of this data directory.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(content_app, name="content")
model_app = typer.Typer(help="The model registry: versions, aliases, rollback.", no_args_is_help=True)
app.add_typer(questions_app, name="questions")
app.add_typer(model_app, name="model")
api_app = typer.Typer(help="The API contract: the OpenAPI document and the problem catalogue.", no_args_is_help=True)
app.add_typer(api_app, name="api")
app.command()(recommender_cli.simulate)
app.command()(recommender_cli.evaluate)
app.command("rebuild-state")(recommender_cli.rebuild_state)

logger = logging.getLogger(__name__)

_verbosity = [0]  # the global -v count, set by the callback before any command runs


@app.callback()
def options(
    verbose: Annotated[
        int,
        typer.Option("--verbose", "-v", count=True, show_default=False, help="log INFO lines too (-v), DEBUG (-vv)"),
    ] = 0,
) -> None:
    _verbosity[0] = verbose


def verbosity() -> int:
    """How many times -v was given (0: warnings and errors only)."""
    return _verbosity[0]


def configured_settings(*, service: bool = False) -> Settings:
    """The settings, with this process's logging set up: the one place the commands configure logging.

    A command logs `LEVEL name: message` lines for the person at the console, warnings and errors only
    unless -v. A service (`serve`, `worker`) logs for a log collector: one JSON object per line (plain
    text with WOORIZIP_LOG_JSON=false) at WOORIZIP_LOG_LEVEL, or lower with -v.
    """
    from woorizip.logs import configure_console_logging, configure_logging, console_level

    settings = get_settings()
    if not service:
        configure_console_logging(verbosity=verbosity())
        return settings
    level: str | int = settings.log_level
    if verbosity():
        configured = logging.getLevelNamesMapping().get(settings.log_level.upper(), logging.INFO)
        level = min(configured, console_level(verbosity()))
    configure_logging(level=level, json_lines=settings.log_json)
    return settings


def migrates_on_serve(settings: Settings) -> bool:
    """Whether `serve` migrates the database itself: only the embedded one (database_url unset).

    The embedded SQLite file belongs to this data directory, so a newcomer's `serve` comes up ready. An
    external database is shared by every replica and migrated once, by `woorizip db upgrade`.
    """
    return settings.database_url is None


def migrate_embedded_database(settings: Settings) -> None:
    """Apply the migrations to the embedded database; nothing for an external one."""
    if not migrates_on_serve(settings):
        return
    from woorizip.db import migrate

    url = settings.resolved_database_url
    migrate.upgrade(url=url)
    logger.info("embedded database at revision %s: %s", migrate.current_revision_at(url), _redact(url))


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="target revision")] = "head") -> None:
    """Apply Alembic migrations up to REVISION (default: head)."""
    from woorizip.db import migrate

    url = configured_settings().resolved_database_url
    migrate.upgrade(url=url, revision=revision)
    typer.echo(f"database at revision {migrate.current_revision_at(url)}: {_redact(url)}")


@content_app.command("start")
def content_start() -> None:
    """Start (or find) the embedded content server and print its URI."""
    from woorizip.content.embedded import ensure_server

    typer.echo(ensure_server(configured_settings().content_dir).uri)


@content_app.command("stop")
def content_stop() -> None:
    """Stop the embedded content server of this data directory."""
    from woorizip.content.embedded import stop_server

    stopped = stop_server(configured_settings().content_dir)
    typer.echo("stopped" if stopped else "not running")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="bind address (default: settings)")] = None,
    port: Annotated[int | None, typer.Option(help="port (default: settings)")] = None,
    workers: Annotated[int, typer.Option(min=1, help="uvicorn worker processes")] = 1,
) -> None:
    """Run the API (auth, family, questions, media, notifications); migrates the embedded database first."""
    import uvicorn

    settings = configured_settings(service=True)
    migrate_embedded_database(settings)
    uvicorn.run(
        "woorizip.app:create_app",
        factory=True,
        host=host or settings.api_host,
        port=port or settings.api_port,
        workers=workers,
        log_config=None,
        proxy_headers=False,
    )


@app.command()
def worker(
    threads: Annotated[int, typer.Option(min=1, help="worker threads")] = 2,
) -> None:
    """Run the background job worker (push delivery, reminders, media processing)."""
    from woorizip.queue import build_queue

    queue = build_queue(configured_settings(service=True))
    typer.echo(f"worker consuming the {queue.backend} queue with {threads} threads", err=True)
    queue.huey.create_consumer(workers=threads, worker_type="thread", periodic=True).run()


@app.command()
def doctor(as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False) -> None:
    """Report which backend each concern uses and whether it answers."""
    from woorizip.backends import Backends

    settings = configured_settings()
    backends = Backends(settings)
    try:
        statuses = backends.check(timeout_seconds=max(settings.backend_timeout_seconds, 10.0))
    finally:
        backends.close()
    healthy = all(status.ok for status in statuses)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "ok": healthy,
                    "data_dir": str(settings.data_dir.resolve()),
                    "backends": [status.as_dict() for status in statuses],
                },
                ensure_ascii=False,
            )
        )
    else:
        for status in statuses:
            mark = "ok  " if status.ok else "FAIL"
            typer.echo(f"{mark} {status.concern:<13} {status.backend:<20} {status.detail}")
    raise typer.Exit(0 if healthy else 1)


def prepare_installation(settings: Settings) -> None:
    """Migrate, start the embedded content server, check every backend and load the question bank."""
    from recsys.catalog import load_bank
    from woorizip.backends import Backends
    from woorizip.content.embedded import ensure_server
    from woorizip.db import migrate
    from woorizip.recommender.bank import load_question_bank

    typer.echo(f"data directory: {settings.data_dir.resolve()}")
    migrate.upgrade(url=settings.resolved_database_url)
    typer.echo("✓ database migrated")
    if not settings.mongo_url:
        typer.echo(f"✓ content server at {ensure_server(settings.content_dir).uri}")
    backends = Backends(settings)
    try:
        failed = [status for status in backends.check(timeout_seconds=10.0) if not status.ok]
        for status in failed:
            typer.echo(f"✗ {status.concern} ({status.backend}): {status.detail}", err=True)
        if failed:
            raise typer.Exit(1)
        typer.echo("✓ every backing service answers")
        report = load_question_bank(content=backends.content, bank=load_bank())
    finally:
        backends.close()
    typer.echo(f"✓ question bank: {report.total} questions ({report.inserted} new, {report.updated} updated)")


@model_app.command("status")
def model_status() -> None:
    """List the registered versions of daily-question-ranker with their aliases and promotion decisions."""
    registry = _registry()
    versions = registry.versions() if registry.exists() else []
    if not versions:
        typer.echo("no model registered yet: run `woorizip train`")
        return
    for info in versions:
        aliases = ",".join(info.aliases) or "-"
        decision = info.tags.get("promotion", "")
        typer.echo(f"v{info.version:<4} {aliases:<22} {decision:<9} {info.tags.get('snapshot', '')}")


@model_app.command("rollback")
def model_rollback() -> None:
    """Move `champion` back to the version it replaced; the api picks it up within its refresh interval."""
    from recsys.registry import RegistryError

    registry = _registry()
    try:
        moved_from, moved_to = registry.rollback()
    except RegistryError as error:
        typer.echo(f"cannot roll back: {error}", err=True)
        raise typer.Exit(1) from None
    registry.export_champion_card(configured_settings().models_dir / "CHAMPION.md")
    typer.echo(f"champion moved back from version {moved_from} to version {moved_to}")


def _registry() -> ModelRegistry:
    from woorizip.recommender.serving import registry_for

    return registry_for(configured_settings())


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@api_app.command("spec")
def api_spec() -> None:
    """Print the OpenAPI document (JSON), as /openapi.json serves it; nothing is started or connected."""
    from woorizip.app import create_app

    configured_settings()
    typer.echo(json.dumps(create_app(Settings(_env_file=None)).openapi(), ensure_ascii=False, indent=2))


@api_app.command("problems")
def api_problems() -> None:
    """Print the catalogue of problem types (docs/problems.md)."""
    from woorizip.app import create_app
    from woorizip.openapi import problem_catalogue_markdown

    configured_settings()
    create_app(Settings(_env_file=None))  # every domain declares its problems
    typer.echo(problem_catalogue_markdown(), nl=False)
