"""`woorizip questions`: load the question bank into the content store (the recommender reads it there)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

questions_app = typer.Typer(help="The question bank in the content store.", no_args_is_help=True)


@questions_app.callback()
def questions() -> None:
    """The question bank in the content store."""
    # A callback keeps `questions` a command group even while `load` is its only command.


@questions_app.command("load")
def load(
    path: Annotated[
        Path | None, typer.Option(help="a .jsonl, .parquet or directory of .jsonl (default: the packaged bank)")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="load even when the bank fails validation")] = False,
) -> None:
    """Validate the question bank and upsert it into the `questions` collection."""
    # Imported here: the CLI starts without loading the recommender library or a database driver.
    from recsys.catalog import BankError, load_bank, validate_bank
    from woorizip.backends import Backends
    from woorizip.recommender.bank import load_question_bank
    from woorizip.settings import get_settings

    try:
        bank = load_bank(path)
    except BankError as error:
        typer.echo(f"cannot read the question bank: {error}", err=True)
        raise typer.Exit(1) from None
    problems = validate_bank(bank)
    for problem in problems:
        typer.echo(f"problem: {problem}", err=True)
    if problems and not force:
        typer.echo(f"refusing to load: {len(problems)} problem(s) in the bank (--force loads anyway)", err=True)
        raise typer.Exit(1)

    settings = get_settings()
    backends = Backends(settings)
    try:
        report = load_question_bank(content=backends.content, bank=bank)
    finally:
        backends.close()
    typer.echo(
        f"questions loaded into {settings.mongo_database!r}: {report.inserted} inserted, {report.updated} updated, "
        f"{report.unchanged} unchanged, {report.total} total"
    )
