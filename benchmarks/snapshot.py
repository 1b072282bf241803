"""The training snapshot of the live stores at production size: export time, peak memory, size on disk.

    .venv/bin/python benchmarks/snapshot.py                                 # 100,000 families x 90 days
    .venv/bin/python benchmarks/snapshot.py --families 2000 --days 30       # a quick check
    .venv/bin/python benchmarks/snapshot.py --families 20000 --chunk 100 1000  # two chunk sizes

Synthetic families are loaded straight into the embedded stores of a temporary data directory: the
families and their members (an owner and two others) as relational rows by bulk insert, and their
history as raw documents in the event log, in big batches: each day a served question, one member
opening it, two members answering it and, on about one day in ten, the family completing it, with
questions of the loaded bank (about 4.1 events per family and day). The export then runs as
`woorizip train` runs it (the `ingest` flow) in a child process, whose peak RSS is what the
snapshot costs in memory (the content server's own process is not counted). Run it alone on the
machine. Not part of the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psutil

SEOUL = ZoneInfo("Asia/Seoul")
FAMILY_BATCH = 5000  # families per relational insert
EVENT_BATCH = 100_000  # documents per insert_many: big enough to amortise, small enough to hold in memory


def _settings(root: Path) -> Any:
    from woorizip.settings import Settings

    return Settings(_env_file=None, data_dir=root / "var")


def load(root: Path, *, families: int, days: int) -> dict[str, float]:
    """The synthetic installation; returns the events loaded and the seconds each step took."""
    from recsys.catalog import load_bank
    from woorizip.backends import Backends
    from woorizip.content.embedded import ensure_server
    from woorizip.db import migrate
    from woorizip.recommender.bank import load_question_bank
    from woorizip.recommender.models import EVENTS
    from woorizip.recommender.store import ensure_family_days_index

    started = time.perf_counter()
    settings = _settings(root)
    migrate.upgrade(url=settings.resolved_database_url)
    ensure_server(settings.content_dir)
    backends = Backends(settings)
    try:
        bank = load_bank()
        load_question_bank(content=backends.content, bank=bank)
        family_members = _insert_families(backends, families)
        events, inserting = 0, time.perf_counter()
        for batch in _event_batches(family_members, days=days, questions=bank.ids.tolist()):
            backends.content[EVENTS].insert_many(batch, ordered=False)
            events += len(batch)
            print(f"\r  {events:,} events", end="", flush=True)
        print()
        indexing = time.perf_counter()
        # Built once the log is in (faster than maintaining it per insert); the export would build it otherwise.
        ensure_family_days_index(backends.content)
        done = time.perf_counter()
        return {"events": events, "inserting": indexing - inserting, "indexing": done - indexing,
                "loading": done - started}  # fmt: skip
    finally:
        backends.close()


def _insert_families(backends: Any, count: int) -> list[tuple[str, list[str]]]:
    """`count` families of three members each, in the relational store; returns their ids."""
    import sqlalchemy as sa

    from woorizip.family.models import Family, FamilyMember

    created = datetime.now(UTC) - timedelta(days=400)
    made: list[tuple[str, list[str]]] = []
    while len(made) < count:
        batch = [
            (uuid.uuid4().hex, [uuid.uuid4().hex for _ in range(3)])
            for _ in range(min(FAMILY_BATCH, count - len(made)))
        ]
        families = [{"id": family, "name": "벤치마크", "timezone": "Asia/Seoul", "question_time": datetime.min.time(),
                     "interests": [], "blocked_categories": [], "created_at": created}
                    for family, _ in batch]  # fmt: skip
        members = [{"id": member, "family_id": family, "user_id": None, "role": "owner" if i == 0 else "member",
                    "nickname": "가족", "birth_year": 1980 + 20 * min(i, 1), "birthday_lunar": False,
                    "joined_at": created}
                   for family, ids in batch for i, member in enumerate(ids)]  # fmt: skip
        with backends.engine.begin() as connection:
            connection.execute(sa.insert(Family), families)
            connection.execute(sa.insert(FamilyMember), members)
        made.extend(batch)
    return made


def _event_batches(
    families: list[tuple[str, list[str]]], *, days: int, questions: list[str]
) -> Iterator[list[dict[str, Any]]]:
    """A day at a time for every family (the order events arrive in), EVENT_BATCH documents a batch."""
    today = datetime.now(SEOUL).date()
    batch: list[dict[str, Any]] = []
    for back in range(days, 0, -1):
        day = today - timedelta(days=back)
        for number, (family, members) in enumerate(families):
            batch.extend(_family_day(family, members, day, questions[(number + back) % len(questions)], number))
            if len(batch) >= EVENT_BATCH:
                yield batch
                batch = []
    if batch:
        yield batch


def _family_day(family: str, members: list[str], day: date, question: str, number: int) -> list[dict[str, Any]]:
    midnight = datetime(day.year, day.month, day.day, tzinfo=SEOUL).astimezone(UTC)
    text = day.isoformat()
    common = {"day": text, "family_id": family, "question_id": question}
    events = [
        {"_id": f"served:{family}:{text}", "ts": midnight, "type": "served", "policy": "lightgbm",
         "model_version": "1", "propensity": 0.85, "candidate_count": 540, **common},
        {"_id": f"opened:{members[0]}:{text}", "ts": midnight + timedelta(hours=8), "type": "opened",
         "member_id": members[0], **common},
    ]  # fmt: skip
    for i, member in enumerate(members[:2]):
        seconds = 9 * 3600 + 1800 * i + number % 600
        events.append({"_id": f"answered:{member}:{text}", "ts": midnight + timedelta(seconds=seconds),
                       "type": "answered", "member_id": member, "answer_length": 20 + number % 80,
                       "latency_seconds": float(seconds), **common})  # fmt: skip
    if (number + day.toordinal()) % 10 == 0:
        events.append({"_id": f"completed:{family}:{text}", "ts": midnight + timedelta(hours=11),
                       "type": "completed", **common})  # fmt: skip
    return events


def export_in_child(root: Path, *, window: int, chunk: int) -> dict[str, Any]:
    """Run the export in a fresh process (as `woorizip train` would); returns what that process reports."""
    environment = {
        **os.environ,
        "WOORIZIP_DATA_DIR": str(root / "var"),
        "WOORIZIP_TRAINING_WINDOW_DAYS": str(window),
        "WOORIZIP_TRAINING_CHUNK_FAMILIES": str(chunk),
        "PREFECT_HOME": str(root / "var" / "prefect"),
    }
    environment.pop("PREFECT_API_URL", None)  # a temporary Prefect server of its own, as on a fresh machine
    command = [sys.executable, __file__, "--export-child"]
    result = subprocess.run(command, env=environment, cwd=root, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"the export failed:\n{result.stderr[-4000:]}")
    report: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return report


def export_child() -> None:
    """The child's side: the `ingest` flow on the installation the environment names; prints one JSON line."""
    from pipelines.cli import _pipeline_environment

    _pipeline_environment()
    from prefect.client.orchestration import get_client

    from pipelines.ingest import ingest

    started = time.perf_counter()
    with get_client(sync_client=True) as client:  # the temporary Prefect server starts here, not in the export
        client.hello()
    server = time.perf_counter() - started
    before = psutil.Process().memory_info().rss / 2**20  # imports, Prefect's client: not the snapshot's
    started = time.perf_counter()
    snapshot = ingest()
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report = {"seconds": seconds, "prefect_start_seconds": server, "peak_rss_mib": peak, "rss_before_mib": before,
              "path": str(snapshot.path), "events": snapshot.events, "families": snapshot.families}  # fmt: skip
    print(json.dumps(report))


def _mib(folder: Path) -> float:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file()) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--families", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=90, help="days of history, ending yesterday")
    parser.add_argument("--window", type=int, default=90, help="WOORIZIP_TRAINING_WINDOW_DAYS of the export")
    parser.add_argument(
        "--chunk", type=int, nargs="+", default=[500], help="WOORIZIP_TRAINING_CHUNK_FAMILIES: one export per value"
    )
    parser.add_argument("--export-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export_child:
        export_child()
        return
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        try:
            print(f"loading {args.families:,} families x {args.days} days ...", flush=True)
            loaded = load(root, families=args.families, days=args.days)
            print(f"loaded in {loaded['loading']:.0f} s: events inserted at "
                  f"{loaded['events'] / loaded['inserting']:,.0f} docs/s, their index built in "
                  f"{loaded['indexing']:.0f} s")  # fmt: skip
            print(f"{'chunk':>6} {'events':>12} {'families':>9} {'export s':>9} {'peak RSS MiB':>13} "
                  f"{'before MiB':>11} {'snapshot MiB':>13}")  # fmt: skip
            for chunk in args.chunk:
                report = export_in_child(root, window=args.window, chunk=chunk)
                print(f"{chunk:>6,} {report['events']:>12,} {report['families']:>9,} {report['seconds']:>9.1f} "
                      f"{report['peak_rss_mib']:>13.0f} {report['rss_before_mib']:>11.0f} "
                      f"{_mib(Path(report['path'])):>13.1f}", flush=True)  # fmt: skip
            print(f"(window {args.window} days; 'before': the export process before the export, its imports and "
                  f"Prefect's client; its temporary Prefect server took {report['prefect_start_seconds']:.0f} s "
                  "to start, not counted)")  # fmt: skip
        finally:
            from woorizip.content.embedded import stop_server

            stop_server(_settings(root).content_dir)


if __name__ == "__main__":
    main()
