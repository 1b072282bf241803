"""The `woorizip` console script: the app shell's commands plus the pipeline commands defined here.

The app shell never imports the pipelines; this module composes both into one command line.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from woorizip.cli import app, configured_settings, prepare_installation, serve, verbosity

if TYPE_CHECKING:
    from woorizip.backends import Backends
    from woorizip.settings import Settings


def _pipeline_environment() -> None:
    """Keep Prefect's state with the installation's data, before Prefect (and LightGBM) are first imported."""
    from woorizip.logs import console_level

    settings = configured_settings()
    # LightGBM's OpenMP threads spin while waiting; next to another busy process on a small machine
    # that made a fit ten times slower. Passive waiting costs little when the machine is idle.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    home = os.environ.setdefault("PREFECT_HOME", str(settings.prefect_home.resolve()))
    # Prefect creates its home but not the folders above it: a fresh data dir has none yet.
    Path(home).mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    # Flow and task runs log INFO lines through Prefect's own console handler wherever Prefect configures
    # logging (the flow-run processes of `schedule`, its temporary server): the console shows only what it
    # shows at this -v. In this process the root handler filters them (woorizip.logs). Either way they still
    # reach Prefect's API, so its UI keeps every line.
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", logging.getLevelName(console_level(verbosity())))
    if verbosity() >= 2:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "DEBUG")
    # Without a PREFECT_API_URL each command starts a temporary Prefect server, which first migrates
    # its SQLite database. Prefect waits 20 s for it; on a busy 2-core machine that was too short.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")


def train(
    data: Annotated[
        Path | None, typer.Option(help="dataset folder to train on (default: snapshot the live content store)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
    search_trials: Annotated[int, typer.Option(min=0, help="Optuna trials before the final fit (0: no search)")] = 0,
    margin: Annotated[float | None, typer.Option(min=0.0, help="primary-metric gain over the champion")] = None,
) -> None:
    """Run ingest → train → register → promote once; print the new version and whether it was promoted."""
    if data is not None and not data.is_dir():
        typer.echo(f"training refused: {data} is not a dataset folder", err=True)
        raise typer.Exit(2)
    _pipeline_environment()
    from pipelines.ingest import SnapshotError
    from pipelines.retrain import retrain

    try:
        result = retrain(data=data, search_trials=search_trials, margin=margin)
    except SnapshotError as error:
        typer.echo(f"training refused: {error}", err=True)
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(result.as_dict(), ensure_ascii=False))
        return
    verdict = "promoted to champion" if result.promoted else f"not promoted (champion stays {result.champion})"
    typer.echo(f"version {result.version} of daily-question-ranker: {verdict}")
    snips = "n/a" if result.snips_completion is None else f"{result.snips_completion:.4f}"
    typer.echo(f"snapshot {result.snapshot}; SNIPS completion {snips}; NDCG@10 {result.ndcg_at_10:.4f}")
    for reason in result.reasons:
        typer.echo(f"  - {reason}")


def batch_score(
    now: Annotated[
        datetime | None, typer.Option(help="pretend it is this time (ISO, with offset); default: now")
    ] = None,
) -> None:
    """Precompute tomorrow's question (family-local date) for every active family."""
    _pipeline_environment()
    from pipelines.batch_score import with_configured_runner

    config = configured_settings()
    result = with_configured_runner(config.dask_address, workers=config.batch_workers)(now=now)
    typer.echo(
        f"{result.families} families for {', '.join(result.days) or 'no day'}: {result.written} assigned, "
        f"{result.already_assigned} already had one; model {result.model_version or 'heuristic'}"
    )


def schedule() -> None:
    """Serve the schedules: retrain daily at 03:00 and batch scoring at 04:00 (Asia/Seoul), one run at a time."""
    _pipeline_environment()
    from pipelines.deployments import serve_schedules

    serve_schedules(configured_settings())


def demo(
    port: Annotated[int | None, typer.Option(help="API port (default: settings)")] = None,
    serve_api: Annotated[bool, typer.Option("--serve/--no-serve", help="serve the API afterwards")] = True,
    families: Annotated[int, typer.Option(min=20, help="families in the simulated history (first run only)")] = 300,
    days: Annotated[int, typer.Option(min=20, help="days of simulated history, ending yesterday")] = 60,
) -> None:
    """The main job on embedded defaults: prepare everything, train and promote a first champion, serve it."""
    settings = configured_settings()
    prepare_installation(settings)
    _pipeline_environment()
    from woorizip.backends import Backends

    backends = Backends(settings)
    try:
        has_history = backends.content["events"].estimated_document_count() > 0
        if not has_history:
            _simulate_into_store(backends=backends, families=families, days=days)
    finally:
        backends.close()
    if has_history:
        typer.echo("✓ history: the content store already has events (kept)")
    from woorizip.recommender.serving import registry_for

    registry = registry_for(settings)
    champion = registry.alias_version("champion") if registry.exists() else None
    if champion is None:
        from pipelines.retrain import retrain

        result = retrain()
        verdict = "promoted to champion" if result.promoted else "not promoted: " + "; ".join(result.reasons)
        typer.echo(f"✓ trained version {result.version} on snapshot {result.snapshot}: {verdict}")
    else:
        typer.echo(f"✓ champion: version {champion} (run `woorizip train` to retrain)")
    from pipelines.batch_score import batch_score as score_tomorrow

    scored = score_tomorrow()
    typer.echo(f"✓ tomorrow's questions: {scored.written} families assigned ({scored.already_assigned} already)")
    api_port = port or settings.api_port
    base = f"http://{settings.api_host}:{api_port}"
    typer.echo(f"API docs:   {base}/docs   readiness: {base}/readyz   model: {base}/v1/recommender/model")
    example = _a_family_id(settings)
    if example is not None:
        typer.echo(f"A family:   {base}/v1/recommender/families/{example}/daily-question (decided on first request)")
    typer.echo(f"MLflow UI:  .venv/bin/mlflow ui --backend-store-uri {settings.resolved_mlflow_tracking_uri}")
    typer.echo(f"Prefect UI: PREFECT_HOME={os.environ['PREFECT_HOME']} .venv/bin/prefect server start")
    if serve_api:
        _stop_temporary_prefect_server()
        serve(host=None, port=api_port, workers=1)


def _a_family_id(settings: Settings) -> str | None:
    from woorizip.backends import Backends
    from woorizip.family import service as family_service

    backends = Backends(settings)
    try:
        with backends.session_factory() as session:
            first = family_service.family_ids_page(session=session, after=None, limit=1)
    finally:
        backends.close()
    return first[0] if first else None


def _stop_temporary_prefect_server() -> None:
    """Stop the temporary Prefect API server the demo's flows started, once their logs are sent.

    The API does not need it, and it would outlive the demo: uvicorn ends the process on SIGTERM by
    raising the signal again, which skips the atexit hook Prefect stops that server with.
    """
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()  # Prefect's own way to reach its temporary server, started or not
    if not server.running:
        return
    APILogWorker.drain_all(timeout=10)
    EventsWorker.drain_all(timeout=10)
    server.stop()


def _simulate_into_store(*, backends: Backends, families: int, days: int) -> None:
    """Live families with a simulated past (through the API's own services and the event log's writer)."""
    from datetime import date, timedelta

    from recsys.simulate.history import simulate_history
    from recsys.simulate.params import SimulationParams
    from woorizip.auth.passwords import PasswordHasher
    from woorizip.recommender.seeding import seed_live_families

    # The history ends yesterday, so tomorrow's batch and today's requests continue it.
    params = SimulationParams(start_day=date.today() - timedelta(days=days))
    history = simulate_history(n_families=families, days=days, seed=1, params=params)
    seeded = seed_live_families(backends=backends, dataset=history.dataset, hasher=PasswordHasher())
    typer.echo(
        f"✓ history: simulated {families} families x {days} days ({seeded.events} events), "
        f"each a live family of the relational store"
    )


def main() -> None:
    app.command()(demo)
    app.command()(train)
    app.command("batch-score")(batch_score)
    app.command()(schedule)
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
