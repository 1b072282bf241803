"""The recommender online at growing family counts: decision latency, process memory, batch scoring.

    .venv/bin/python benchmarks/online.py                       # 1,000, 10,000 and 100,000 families
    .venv/bin/python benchmarks/online.py --families 1000 10000 # other counts

Synthetic families are loaded straight into the embedded stores of a temporary data directory: rows
in the relational store (a family, its members with ages from a simulated history, and its stored
state: one of the simulated families' real states, re-addressed, as of yesterday's midnight), plus
yesterday's question and two answers in the event log for the families that will be decided.
Each decision then does exactly what the api does: read the family, read and fold its state, score
600+ candidates with a LightGBM model on the first stage's best 40, store the state. Run it alone on
the machine. Not part of the tests.
"""

from __future__ import annotations

import argparse
import contextlib
import resource
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


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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
        for family in households:
            question = "q-benchmark"
            events.append({"_id": f"bench-served:{family.family_id}", "ts": moment, "day": yesterday.isoformat(),
                           "family_id": family.family_id, "type": "served", "question_id": question,
                           "propensity": 0.9, "policy": "lightgbm"})  # fmt: skip
            for member in family.members[:2]:
                events.append({"_id": f"bench-answer:{member.member_id}", "ts": moment + timedelta(hours=1),
                               "day": yesterday.isoformat(), "family_id": family.family_id,
                               "member_id": member.member_id, "type": "answered", "question_id": question,
                               "answer_length": 40})  # fmt: skip
        for event in events:
            event["question_id"] = self.first_question
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


def decisions(installation: Installation, family_ids: list[str]) -> np.ndarray:
    """Seconds per on-demand decision for today, as the api makes it (state read, fold, store, score)."""
    from recsys.serving import Assignment, Recommender
    from woorizip.recommender import online
    from woorizip.recommender.service import household

    holder = online.GlobalStateHolder(backends=installation.backends)
    holder.refresh()
    seconds = []
    for family_id in family_ids:
        started = time.perf_counter()
        with installation.backends.session_factory() as session, session.begin():
            family = household(session=session, family_id=family_id)
            day = online.local_day(family, tomorrow=False)
            serving = holder.current
            history = online.histories(
                session=session, content=installation.backends.content, global_state=serving.global_state,
                bank=serving.bank, households=[family], until=online.day_cutoff(family, day),
            )  # fmt: skip
            recommender = Recommender(state=history, day=day)
            decided: Assignment = recommender.assign(family_ids=[family_id], policy=installation.policy)[0]
        assert decided.question_id is not None
        seconds.append(time.perf_counter() - started)
        installation.candidates.append(decided.candidate_count)
    return np.asarray(seconds)


def batch(installation: Installation, family_ids: list[str]) -> float:
    """Families per second of tomorrow's batch decisions, chunks of 500 (states and events read per chunk)."""
    from recsys.ranking.compiled import compiled
    from recsys.serving import serving_policy
    from woorizip.family import service as family_service
    from woorizip.recommender import online
    from woorizip.recommender.service import assign_tomorrow

    holder = online.GlobalStateHolder(backends=installation.backends)
    # As the batch pipeline does: the model's trees compiled once, before the clock starts.
    scorer = compiled(installation.policy.scorer, cache_dir=installation.settings.compiled_models_dir)
    policy = serving_policy(scorer, epsilon=installation.policy.epsilon)
    started = time.perf_counter()
    decided = 0
    for i in range(0, len(family_ids), 500):
        with installation.backends.session_factory() as session:
            households = family_service.households(session=session, family_ids=family_ids[i : i + 500])
            decided += len(assign_tomorrow(backends=installation.backends, session=session, globals_=holder,
                                           families=households, policy=policy,
                                           now=datetime.now(UTC)))  # fmt: skip
    return decided / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--families", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--decisions", type=int, default=300)
    parser.add_argument("--batch", type=int, default=5000, help="families batch-scored at each size")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        installation = Installation(Path(root))
        try:
            installation.prepare(templates=200, days=60)
            print(f"{'families':>9} {'load s':>7} {'p50 ms':>7} {'p99 ms':>7} {'batch fam/s':>11} {'RSS MiB':>8}")
            rng = np.random.default_rng(0)
            for count in sorted(args.families):
                loaded = installation.grow(count)
                sample = [installation.families[i] for i in rng.choice(count, args.decisions, replace=False)]
                installation.add_yesterday(sample)
                seconds = decisions(installation, sample)
                pool = [f for f in installation.families if f not in set(sample)]
                per_second = batch(installation, pool[: args.batch])
                p50, p99 = (np.percentile(seconds, q) * 1000 for q in (50, 99))
                line = f"{count:>9,} {loaded:>7.1f} {p50:>7.2f} {p99:>7.2f} {per_second:>11,.0f} {_rss_mib():>8.0f}"
                print(line, flush=True)
            print(f"peak RSS of the process: {_peak_mib():.0f} MiB; eligible candidates per decision: "
                  f"mean {np.mean(installation.candidates):.0f}, max {max(installation.candidates)}")  # fmt: skip
        finally:
            from woorizip.content.embedded import stop_server

            installation.backends.close()
            stop_server(installation.settings.content_dir)


if __name__ == "__main__":
    main()
