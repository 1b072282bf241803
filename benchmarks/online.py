"""The recommender online at growing family counts: decision latency, process memory, batch scoring.

    .venv/bin/python benchmarks/online.py                       # 1,000, 10,000 and 100,000 families
    .venv/bin/python benchmarks/online.py --families 1000 10000 # other counts

Synthetic families are loaded straight into the embedded stores of a temporary data directory: rows
in the relational store (a family, its members with ages from a simulated history, and its stored
state: one of the simulated families' real states, re-addressed, as of yesterday's midnight), plus
yesterday's question and two answers in the event log for the families that will be decided
(on demand or in the batch).
Each decision then does exactly what the api does: read the family, read and fold its state, score
600+ candidates with a LightGBM model on the first stage's best 40, store the state; the decisions run
in a fresh process standing in for an api process, whose resident memory is the one reported. Batch
scoring runs as the pipeline's chunks do, in 1 and 2 worker processes (`--workers`), and includes
saving the assignments and their served events. Run it alone on the machine. Not part of the tests.
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import psutil


def _rss_mib() -> float:
    return float(psutil.Process().memory_info().rss / 2**20)


class Installation:
    """A temporary embedded installation with synthetic families loaded directly into its stores."""

    def __init__(self, root: Path) -> None:
        from woorizip.backends import Backends
        from woorizip.content.embedded import ensure_server
        from woorizip.db import migrate
        from woorizip.settings import Settings

        self.settings = Settings(_env_file=None, data_dir=root / "var")
        migrate.upgrade(url=self.settings.resolved_database_url)
        ensure_server(self.settings.content_dir)
        self.backends = Backends(self.settings)
        self.families: list[str] = []
        self.candidates: list[int] = []  # eligible questions of each decision, all of them scored

    def prepare(self, *, templates: int, days: int) -> None:
        from recsys.families import FamilyTable
        from recsys.features.online import family_state_of, global_state_of
        from recsys.features.state import HistoryState, cutoff
        from recsys.ranking.training import fit_ranker, replay
        from recsys.serving import serving_policy
        from recsys.simulate.history import simulate_history
        from recsys.simulate.params import SimulationParams
        from woorizip.recommender.bank import load_question_bank
        from woorizip.recommender.online import ensure_indexes, publish_global_state

        self.today = datetime.now(UTC).astimezone().date()
        start = date.today() - timedelta(days=days)
        params = SimulationParams(start_day=start)
        dataset = simulate_history(n_families=templates, days=days, seed=2, params=params).dataset
        load_question_bank(content=self.backends.content, bank=dataset.bank)
        table = FamilyTable.from_frames(dataset.families, dataset.members)
        yesterday = date.today() - timedelta(days=1)
        state = HistoryState.from_events(dataset.events, bank=dataset.bank, families=table, before=cutoff(yesterday))
        state.response_as_of(yesterday)
        self.templates = [family_state_of(state, row) for row in range(table.size)]
        self.template_members = dataset.members.groupby("family_id")["birth_year"].apply(list).to_dict()
        publish_global_state(backends=self.backends, global_state=global_state_of(state), name="benchmark")
        rows, _ = replay(dataset)
        self.policy = serving_policy(fit_ranker(rows), epsilon=0.05)
        ensure_indexes(self.backends.content)

    def grow(self, count: int) -> float:
        """Add families until there are `count`; returns the seconds it took."""
        import sqlalchemy as sa

        from woorizip.family.models import Family, FamilyMember
        from woorizip.recommender.models import FamilyStateRow

        started = time.perf_counter()
        now = datetime.now(UTC) - timedelta(days=30)
        while len(self.families) < count:
            batch = min(5000, count - len(self.families))
            families, members, states = [], [], []
            for _ in range(batch):
                template = self.templates[len(self.families) % len(self.templates)]
                family_id = uuid.uuid4().hex
                member_ids = [uuid.uuid4().hex for _ in template.member_ids]
                families.append({"id": family_id, "name": "벤치마크", "timezone": "Asia/Seoul",
                                 "question_time": datetime.min.time().replace(hour=8), "interests": [],
                                 "blocked_categories": [], "created_at": now})  # fmt: skip
                years = self.template_members.get(template.family_id, [])
                for i, member_id in enumerate(member_ids):
                    year = years[i] if i < len(years) and years[i] == years[i] else 1980
                    members.append({"id": member_id, "family_id": family_id, "user_id": None,
                                    "role": "owner" if i == 0 else "member", "nickname": "가족",
                                    "birth_year": int(year), "birthday_lunar": False, "joined_at": now})  # fmt: skip
                copied = _readdressed(template, family_id, member_ids)
                folded = copied.folded_until.to_pydatetime() if copied.folded_until is not None else None
                states.append({"family_id": family_id, "version": 1, "state": copied.to_bytes(),
                               "folded_until": folded, "updated_at": now})  # fmt: skip
                self.families.append(family_id)
            with self.backends.engine.begin() as connection:
                connection.execute(sa.insert(Family), families)
                connection.execute(sa.insert(FamilyMember), members)
                connection.execute(sa.insert(FamilyStateRow), states)
        return time.perf_counter() - started

    def add_yesterday(self, family_ids: list[str]) -> None:
        """Yesterday's served question and two answers for these families: each decision has events to fold."""
        from woorizip.family import service as family_service
        from woorizip.recommender.models import EVENTS

        yesterday = date.today() - timedelta(days=1)
        moment = datetime.now(UTC) - timedelta(hours=20)
        events = []
        with self.backends.session_factory() as session:
            households = family_service.households(session=session, family_ids=family_ids)
        question = self.first_question
        for family in households:
            events.append({"_id": f"bench-served:{family.family_id}", "ts": moment, "day": yesterday.isoformat(),
                           "family_id": family.family_id, "type": "served", "question_id": question,
                           "propensity": 0.9, "policy": "lightgbm"})  # fmt: skip
            for member in family.members[:2]:
                events.append({"_id": f"bench-answer:{member.member_id}", "ts": moment + timedelta(hours=1),
                               "day": yesterday.isoformat(), "family_id": family.family_id,
                               "member_id": member.member_id, "type": "answered", "question_id": question,
                               "answer_length": 40})  # fmt: skip
        from pymongo.errors import BulkWriteError

        with contextlib.suppress(BulkWriteError):  # families sampled at an earlier size have theirs already
            self.backends.content[EVENTS].insert_many(events, ordered=False)

    @property
    def first_question(self) -> str:
        first = self.backends.content["questions"].find_one({}, sort=[("_id", 1)])
        assert first is not None
        return str(first["_id"])


def _readdressed(template: Any, family_id: str, member_ids: list[str]) -> Any:
    import dataclasses

    mapping = dict(zip(template.member_ids.astype(str).tolist(), member_ids, strict=True))
    answers = dict(template.unsettled_answers)
    answers["member"] = np.asarray([mapping[m] for m in answers["member"].astype(str)], dtype=str)
    return dataclasses.replace(
        template, family_id=family_id, member_ids=np.asarray(member_ids, dtype=str), unsettled_answers=answers
    )


def decisions(installation: Installation, family_ids: list[str]) -> tuple[np.ndarray, list[int], float]:
    """On-demand decisions for today in a fresh process standing in for an api process: the seconds of
    each (family read, state read and fold, state stored, 600+ candidates scored), the candidates each
    scored, and the process's resident memory afterwards (model, global state and libraries loaded)."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    policy = installation.policy
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        return pool.submit(
            _api_decisions, installation.settings.data_dir, policy.scorer, policy.epsilon, family_ids
        ).result()


def _api_decisions(
    data_dir: Path, scorer: Any, epsilon: float, family_ids: list[str]
) -> tuple[np.ndarray, list[int], float]:
    from recsys.serving import Assignment, Recommender, serving_policy
    from woorizip.backends import Backends
    from woorizip.heap import freeze_long_lived_objects
    from woorizip.recommender import online
    from woorizip.recommender.service import household
    from woorizip.settings import Settings

    backends = Backends(Settings(_env_file=None, data_dir=data_dir))
    try:
        policy = serving_policy(scorer, epsilon=epsilon)
        holder = online.GlobalStateHolder(backends=backends)
        holder.refresh()
        freeze_long_lived_objects()  # as the api's start-up does
        seconds, candidates = [], []
        for family_id in family_ids:
            started = time.perf_counter()
            with backends.session_factory() as session, session.begin():
                family = household(session=session, family_id=family_id)
                day = online.local_day(family, tomorrow=False)
                serving = holder.current
                history = online.histories(
                    session=session, content=backends.content, global_state=serving.global_state,
                    bank=serving.bank, households=[family], until=online.day_cutoff(family, day),
                )  # fmt: skip
                recommender = Recommender(state=history, day=day)
                decided: Assignment = recommender.assign(family_ids=[family_id], policy=policy)[0]
            assert decided.question_id is not None
            seconds.append(time.perf_counter() - started)
            candidates.append(decided.candidate_count)
        return np.asarray(seconds), candidates, _rss_mib()
    finally:
        backends.close()


def batch(installation: Installation, family_ids: list[str], *, workers: int, save: bool) -> float:
    """Families per second of tomorrow's batch decisions as the pipeline makes them: chunks of 500 (the
    chunk's families, states and events read in three queries, decided in one call, then, with `save`,
    the assignments and served events written), the chunks shared among `workers` processes started
    and warmed (the trees compiled) before the clock."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    scorer = installation.policy.scorer
    chunks = [family_ids[i : i + 500] for i in range(0, len(family_ids), 500)]
    data_dir, now = installation.settings.data_dir, datetime.now(UTC)
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        each = ([data_dir] * workers, [scorer] * workers)
        list(pool.map(_decide_chunks, *each, [[]] * workers, [now] * workers, [save] * workers))
        started = time.perf_counter()
        shares = [chunks[w::workers] for w in range(workers)]
        decided = sum(pool.map(_decide_chunks, *each, shares, [now] * workers, [save] * workers))
        return decided / (time.perf_counter() - started)


def _decide_chunks(data_dir: Path, scorer: Any, chunks: list[list[str]], now: datetime, save: bool) -> int:
    """One worker process's share of the batch (`batch_score.score_chunk` without Prefect around it)."""
    from recsys.ranking.compiled import compiled
    from recsys.serving import serving_policy
    from woorizip.backends import Backends
    from woorizip.family import service as family_service
    from woorizip.heap import freeze_long_lived_objects
    from woorizip.recommender import online
    from woorizip.recommender.assignments import save_assignments
    from woorizip.recommender.service import assign_tomorrow
    from woorizip.settings import Settings

    settings = Settings(_env_file=None, data_dir=data_dir)
    backends = Backends(settings)
    try:
        policy = serving_policy(compiled(scorer, cache_dir=settings.compiled_models_dir), epsilon=0.05)
        holder = online.GlobalStateHolder(backends=backends)
        holder.refresh()
        freeze_long_lived_objects()  # as `batch_score.score_chunk` does
        decided = 0
        for ids in chunks:
            with backends.session_factory() as session:
                households = family_service.households(session=session, family_ids=ids)
                assignments = assign_tomorrow(backends=backends, session=session, globals_=holder,
                                              families=households, policy=policy, now=now)  # fmt: skip
            if save:
                save_assignments(backends=backends, assignments=assignments)
            decided += len(assignments)
        return decided
    finally:
        backends.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--families", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--decisions", type=int, default=300)
    parser.add_argument("--batch", type=int, default=5000, help="families batch-scored at each size")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="batch-scoring processes to try")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        installation = Installation(Path(root))
        try:
            installation.prepare(templates=200, days=60)
            batch_columns = "".join(f"{f'{w}w decide':>10}{f'{w}w +save':>10}" for w in args.workers)
            print(f"{'families':>9} {'load s':>7} {'p50 ms':>7} {'p99 ms':>7}{batch_columns} {'RSS MiB':>8}")
            rng = np.random.default_rng(0)
            for count in sorted(args.families):
                before = len(installation.families)
                loaded = installation.grow(count)
                sample = [installation.families[i] for i in rng.choice(count, args.decisions, replace=False)]
                installation.add_yesterday(sample)
                seconds, candidates, rss = decisions(installation, sample)
                installation.candidates.extend(candidates)
                chosen = set(sample)
                pool = [f for f in installation.families[before:] if f not in chosen]  # never batch-scored before
                size = min(args.batch, len(pool) // len(args.workers))  # other families for each: none assigned yet
                # Like the families the pipeline scores, each has yesterday's events, and a chunk is
                # consecutive in id order (the pipeline streams the families by id).
                shares = [sorted(pool[k * size : (k + 1) * size]) for k in range(len(args.workers))]
                installation.add_yesterday([family for share in shares for family in share])
                rates = [  # deciding alone first, then deciding and saving the same families (none assigned yet)
                    batch(installation, share, workers=workers, save=save)
                    for share, workers in zip(shares, args.workers, strict=True)
                    for save in (False, True)
                ]
                p50, p99 = (np.percentile(seconds, q) * 1000 for q in (50, 99))
                rate_columns = "".join(f"{rate:>10,.0f}" for rate in rates)
                line = f"{count:>9,} {loaded:>7.1f} {p50:>7.2f} {p99:>7.2f}{rate_columns} {rss:>8.0f}"
                print(line, flush=True)
            print(f"batch: families/s with 1 and 2 worker processes (w), deciding alone and deciding and saving; "
                  f"RSS: of the api-like process after its decisions; eligible candidates per decision: "
                  f"mean {np.mean(installation.candidates):.0f}, max {max(installation.candidates)}")  # fmt: skip
        finally:
            from woorizip.content.embedded import stop_server

            installation.backends.close()
            stop_server(installation.settings.content_dir)


if __name__ == "__main__":
    main()
