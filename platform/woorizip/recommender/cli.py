"""`woorizip simulate` and `woorizip evaluate`: the data scientist's loop from the command line."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer


def simulate(
    out: Annotated[Path, typer.Option(help="dataset folder to write (Parquet + manifest.json)")],
    families: Annotated[int, typer.Option(min=2, help="number of families")] = 2000,
    days: Annotated[int, typer.Option(min=7, help="days of history")] = 90,
    seed: Annotated[int, typer.Option(help="random seed; the same seed gives the same dataset")] = 1,
    to_store: Annotated[bool, typer.Option("--to-store", help="also write it into the live content store")] = False,
) -> None:
    """Simulate a logged history of families answering daily questions."""
    from recsys.evaluation.run import SimulationInfo
    from recsys.events import write_dataset
    from recsys.simulate.history import simulate_history
    from recsys.simulate.params import SimulationParams

    started = time.perf_counter()
    params = SimulationParams()
    history = simulate_history(n_families=families, days=days, seed=seed, params=params)
    info = SimulationInfo(seed=seed, families=families, days=days, start_day=params.start_day)
    write_dataset(history.dataset, out, extra=info.as_manifest())
    if to_store:
        from woorizip.recommender.store import save_dataset

        with _content() as content:
            counts = save_dataset(content=content, dataset=history.dataset)
        typer.echo(f"content store: {counts}")
    events = history.dataset.events
    served = int((events["type"] == "served").sum())
    typer.echo(
        f"wrote {out}: {len(events)} events ({served} served) for {families} families over {days} days "
        f"in {time.perf_counter() - started:.1f}s"
    )


def evaluate(
    data: Annotated[Path | None, typer.Option(help="dataset folder (from `woorizip simulate` or an export)")] = None,
    from_store: Annotated[bool, typer.Option("--from-store", help="read the live content store instead")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    report: Annotated[Path | None, typer.Option(help="folder for report.md, report.json and plots")] = None,
    ab_families: Annotated[int, typer.Option(min=0, help="fresh families per A/B arm (0 skips the A/B)")] = 2000,
    ab_days: Annotated[int, typer.Option(min=1, help="days of the simulated A/B")] = 30,
    seed: Annotated[int, typer.Option(help="seed of the A/B families and the bootstrap")] = 0,
    ab_seeds: Annotated[
        int, typer.Option(min=1, help="run the A/B on this many seeds and report each one's gap closed and the mean")
    ] = 1,
    epsilon: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="exploration rate of every evaluated policy (not the oracle)")
    ] = 0.05,
    explore_top: Annotated[
        int, typer.Option(min=0, help="explore among this many best questions (0: among all eligible)")
    ] = 20,
) -> None:
    """Train on a temporal split and report offline metrics, off-policy estimates and the simulated A/B."""
    from recsys.evaluation.run import SimulationInfo, evaluate_dataset
    from recsys.events import DatasetError, read_dataset, read_manifest

    if (data is None) == (not from_store):
        typer.echo("give either --data DIR or --from-store", err=True)
        raise typer.Exit(2)
    try:
        if data is not None:
            dataset = read_dataset(data)
            simulation = SimulationInfo.from_manifest(read_manifest(data))
        else:
            from woorizip.recommender.store import load_dataset

            with _content() as content:
                dataset = load_dataset(content=content)
            simulation = None
    except DatasetError as error:
        typer.echo(f"cannot read {data or 'the content store'}: {error}", err=True)
        raise typer.Exit(2) from None
    if simulation is None:
        typer.echo("no simulation in the manifest: skipping the online A/B (offline metrics only)", err=True)
    result = evaluate_dataset(
        dataset,
        simulation=simulation,
        ab_families=ab_families,
        ab_days=ab_days,
        seed=seed,
        ab_seeds=ab_seeds,
        epsilon=epsilon,
        explore_top=explore_top or None,
    )
    folder = report or (data / "report" if data is not None else Path("var/report"))
    path = result.write(folder)
    typer.echo(result.to_json() if as_json else result.to_text())
    if not as_json:
        typer.echo(f"\nreport: {path}")


@contextmanager
def _content() -> Iterator[Any]:
    from woorizip.backends import Backends
    from woorizip.settings import get_settings

    backends = Backends(get_settings())
    try:
        yield backends.content
    finally:
        backends.close()


def rebuild_state(
    family: Annotated[list[str] | None, typer.Option("--family", help="a family id (repeat for more)")] = None,
    every: Annotated[bool, typer.Option("--all", help="every family of the installation")] = False,
) -> None:
    """Rebuild families' recommender states from their own events (recovery), as of their local midnight."""
    from woorizip.backends import Backends
    from woorizip.recommender.service import rebuild_family_states
    from woorizip.settings import get_settings

    if every == bool(family):
        typer.echo("name families with --family, or pass --all", err=True)
        raise typer.Exit(2)
    backends = Backends(get_settings())
    try:
        count = rebuild_family_states(backends=backends, family_ids=None if every else list(family or []))
    finally:
        backends.close()
    typer.echo(f"rebuilt {count} family states")
