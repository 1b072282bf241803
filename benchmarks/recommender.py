"""Recommender speed and memory figures: run on demand, print a table, never part of the tests.

    .venv/bin/python benchmarks/recommender.py                 # serving latency, batch scoring, training
    .venv/bin/python benchmarks/recommender.py --skip training    # only serving and batch scoring

Each part runs in its own process so the peak memory (max RSS) printed is that part's alone.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

CACHE = Path("var/benchmarks")


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _history(families: int, days: int, seed: int = 1) -> Any:
    from recsys.events import read_dataset, write_dataset
    from recsys.simulate.history import simulate_history

    folder = CACHE / f"history-{families}x{days}-s{seed}"
    if (folder / "manifest.json").exists():
        return read_dataset(folder)
    dataset = simulate_history(n_families=families, days=days, seed=seed).dataset
    write_dataset(dataset, folder)
    return dataset


def _serving_model(rows: Any) -> Any:
    """The model as production trains it: early stopping on the last 10 days, then refit on everything."""
    import dataclasses

    from recsys.ranking.training import RankerParams, fit_ranker

    cut = int(rows.days.max()) - 10
    probe = fit_ranker(rows.select(rows.days < cut), valid=rows.select(rows.days >= cut))
    trees = max(probe.booster.current_iteration(), 20)
    return fit_ranker(rows, params=dataclasses.replace(RankerParams(), n_estimators=trees))


def serving(args: argparse.Namespace) -> dict[str, Any]:
    """p50/p99 of ranking one family against its whole eligible bank, features included."""
    from recsys.candidates import DayCalendar, eligible_mask
    from recsys.policy import SERVING_SHORTLIST, Policy
    from recsys.ranking.training import replay

    dataset = _history(args.families, args.days)
    rows, state = replay(dataset)
    model = _serving_model(rows)
    day = dataset.last_day + timedelta(days=1)
    calendar = DayCalendar.build(day, state.families)
    results = {}
    variants = ((f"model on top {SERVING_SHORTLIST}", SERVING_SHORTLIST), ("model on every candidate", None))
    for label, shortlist in variants:
        policy = Policy(model, epsilon=0.05, shortlist=shortlist)
        rng = np.random.default_rng(0)
        timings, candidates = [], []
        for family in rng.integers(0, state.families.size, args.requests):
            started = time.perf_counter()
            family_rows = np.array([family])
            eligible = eligible_mask(
                bank=dataset.bank, families=state.families, family_rows=family_rows, asked=state.asked,
                calendar=calendar,
            )  # fmt: skip
            policy.choose(state=state, family_rows=family_rows, eligible=eligible, calendar=calendar, rng=rng)
            timings.append((time.perf_counter() - started) * 1000)
            candidates.append(int(eligible.sum()))
        warm = np.asarray(timings[10:])
        results[label] = f"p50 {np.percentile(warm, 50):.2f} ms, p99 {np.percentile(warm, 99):.2f} ms"
    return {
        "part": "rank one family against its whole eligible bank, features included",
        "requests": args.requests - 10,
        "candidates_mean": round(float(np.mean(candidates)), 1),
        "candidates_max": int(np.max(candidates)),
        **results,
        "target": "p99 <= 20 ms",
        "peak_mib": round(_peak_mib()),
    }


def batch(args: argparse.Namespace) -> dict[str, Any]:
    """Families per second when scoring every active family for tomorrow, in chunks."""
    from recsys.candidates import DayCalendar, eligible_mask
    from recsys.policy import SERVING_SHORTLIST, Policy
    from recsys.ranking.training import replay

    dataset = _history(args.families, args.days)
    rows, state = replay(dataset)
    policy = Policy(_serving_model(rows), epsilon=0.05, shortlist=SERVING_SHORTLIST)
    calendar = DayCalendar.build(dataset.last_day + timedelta(days=1), state.families)
    rng = np.random.default_rng(0)
    everyone = np.arange(state.families.size)
    started = time.perf_counter()
    for chunk in np.array_split(everyone, max(1, len(everyone) // args.chunk)):
        eligible = eligible_mask(
            bank=dataset.bank, families=state.families, family_rows=chunk, asked=state.asked, calendar=calendar
        )
        policy.choose(state=state, family_rows=chunk, eligible=eligible, calendar=calendar, rng=rng)
    seconds = time.perf_counter() - started
    return {
        "part": f"batch scoring ({len(everyone)} families, chunks of {args.chunk}, model on top {SERVING_SHORTLIST})",
        "seconds": round(seconds, 2),
        "families_per_second": round(len(everyone) / seconds),
        "target": ">= 1,000 families/s",
        "peak_mib": round(_peak_mib()),
    }


def training(args: argparse.Namespace) -> dict[str, Any]:
    """Wall time to fit the ranker on about `--impressions` served questions (features built beforehand)."""
    from recsys.ranking.training import fit_ranker, replay

    days = 90
    per_family_day = 0.45  # served questions per family-day in the default simulation, measured
    families = int(args.impressions / (days * per_family_day))
    started = time.perf_counter()
    dataset = _history(families, days, seed=2)
    simulated = time.perf_counter() - started
    started = time.perf_counter()
    rows, _ = replay(dataset)
    features = time.perf_counter() - started
    cut = dataset.last_day - timedelta(days=10)
    started = time.perf_counter()
    model = fit_ranker(rows.window(None, cut), valid=rows.window(cut, None))
    fit = time.perf_counter() - started
    return {
        "part": f"training on {len(rows):,} impressions ({families} families x {days} days)",
        "simulate_s": round(simulated, 1),
        "features_s": round(features, 1),
        "fit_s": round(fit, 1),
        "trees": model.booster.current_iteration(),
        "objective": "binary (pointwise)",
        "target": "fit <= 180 s",
        "peak_mib": round(_peak_mib()),
    }


PARTS = {"serving": serving, "batch": batch, "training": training}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=sorted(PARTS), help="run one part in this process (internal)")
    parser.add_argument("--families", type=int, default=2000, help="families in the history served from")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--requests", type=int, default=1010)
    parser.add_argument("--chunk", type=int, default=250)
    parser.add_argument("--impressions", type=int, default=1_000_000)
    parser.add_argument("--skip", action="append", default=[], choices=sorted(PARTS))
    args = parser.parse_args()
    if args.part:
        print(json.dumps(PARTS[args.part](args)))
        return
    forwarded = list(sys.argv[1:])
    for part in PARTS:
        if part in args.skip:
            continue
        out = subprocess.run(
            [sys.executable, __file__, "--part", part, *forwarded], capture_output=True, text=True, check=True
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
        print(" | ".join(f"{key}: {value}" for key, value in result.items()), flush=True)


if __name__ == "__main__":
    main()
