"""The evaluation report: a console table, a Markdown file and PNG plots."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from recsys.evaluation.offline import OfflineReport
from recsys.evaluation.online import ABResult

TARGET_GAP_CLOSED = 0.6


@dataclass(frozen=True)
class ABRun:
    """One simulated A/B and the seed of its families and daily draws."""

    seed: int
    result: ABResult


@dataclass
class EvaluationResult:
    offline: OfflineReport
    ab: ABResult | None  # the first A/B run: the tables and plots
    importance: pd.Series
    model_trees: int
    objective: str
    training_rows: int
    seconds: dict[str, float]
    ab_runs: list[ABRun] = field(default_factory=list)  # every A/B run, the first included

    def mean_gap_closed(self) -> float | None:
        """The learned policy's share of the popularity-to-oracle gap, averaged over the A/B seeds."""
        gaps = [run.result.gap_closed.get("lightgbm", float("nan")) for run in self.ab_runs]
        return sum(gaps) / len(gaps) if gaps else None

    def targets(self) -> dict[str, bool]:
        """The recommender's acceptance targets, checked on this run."""
        checks: dict[str, bool] = {}
        lgbm, pop = self.offline.ranking.get("lightgbm"), self.offline.ranking.get("popularity")
        if lgbm and pop:
            checks["offline NDCG@10: lightgbm above popularity, intervals apart"] = lgbm["ndcg"].low > pop["ndcg"].high
        if self.ab is not None:
            gap = self.ab.gap_closed.get("lightgbm", float("nan"))
            checks[f"A/B: lightgbm closes >= {TARGET_GAP_CLOSED:.0%} of the popularity-to-oracle gap"] = (
                gap >= TARGET_GAP_CLOSED
            )
            learned = self.ab.completion["lightgbm"]
            baselines = [name for name in self.ab.completion if name in ("random", "popularity", "affinity")]
            checks["A/B: lightgbm beats every baseline, intervals apart"] = all(
                learned.low > self.ab.completion[name].high for name in baselines
            )
            checks["A/B: lightgbm beats every baseline, paired per-family difference above 0"] = all(
                self.ab.paired[name].low > 0 for name in baselines if name in self.ab.paired
            )
        mean_gap = self.mean_gap_closed()
        if mean_gap is not None and len(self.ab_runs) > 1:
            checks[
                f"A/B: lightgbm closes >= {TARGET_GAP_CLOSED:.0%} of the gap on average over {len(self.ab_runs)} seeds"
            ] = mean_gap >= TARGET_GAP_CLOSED
        return checks

    def as_dict(self) -> dict[str, Any]:
        off = self.offline
        return {
            "split": {k: str(v) for k, v in off.split.__dict__.items()},
            "offline": {
                name: {metric: interval.__dict__ for metric, interval in metrics.items()}
                | {"coverage": off.coverage[name], "novelty": off.novelty[name]}
                for name, metrics in off.ranking.items()
            },
            "off_policy": {
                name: {"ips": e.ips.__dict__, "snips": e.snips.__dict__, "ess": e.ess, "matched": e.matched, "n": e.n}
                for name, e in off.off_policy.items()
            },
            "ab": None
            if self.ab is None
            else {
                "families": self.ab.families,
                "days": self.ab.days,
                "retrains": self.ab.retrains,
                "completion": {name: i.__dict__ for name, i in self.ab.completion.items()},
                "gap_closed": self.ab.gap_closed,
                "paired_lightgbm_minus": {name: i.__dict__ for name, i in self.ab.paired.items()},
            },
            "ab_seeds": [
                {
                    "seed": run.seed,
                    "completion": {name: i.__dict__ for name, i in run.result.completion.items()},
                    "gap_closed": run.result.gap_closed,
                    "paired_lightgbm_minus": {name: i.__dict__ for name, i in run.result.paired.items()},
                }
                for run in self.ab_runs
            ],
            "ab_mean_gap_closed": self.mean_gap_closed(),
            "targets": self.targets(),
            "model": {"objective": self.objective, "trees": self.model_trees, "training_rows": self.training_rows},
            "top_features": self.importance.head(10).round(1).to_dict(),
            "seconds": self.seconds,
            "notes": off.notes,
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), ensure_ascii=False, indent=2, default=str)

    def to_text(self) -> str:
        lines = [
            f"Temporal split: train from {self.offline.split.start}, validation from {self.offline.split.validation}, "
            f"test {self.offline.split.test} .. {self.offline.split.end}",
            f"LightGBM ({self.objective}): {self.model_trees} trees on {self.training_rows} served questions",
            "",
            f"Offline (test window, {self.offline.families_evaluated} families, "
            f"{self.offline.logged_decisions} logged decisions; 95% bootstrap intervals)",
            self.offline.table().to_string(),
        ]
        if self.ab is not None:
            table = self.ab.table()
            table["completion"] = [str(self.ab.completion[name]) for name in table.index]  # estimate [low, high]
            lines += [
                "",
                f"Simulated online A/B ({self.ab.families} fresh families x {self.ab.days} days, "
                f"learned policy retrained {self.ab.retrains} times)",
                table[["completion", "gap_closed"]].to_string(float_format=lambda v: f"{v:.3f}"),
                "lightgbm minus each policy, per family (paired): "
                + ", ".join(f"{name} {interval}" for name, interval in self.ab.paired.items()),
            ]
            if len(self.ab_runs) > 1:
                seeds = ", ".join(str(run.seed) for run in self.ab_runs)
                gaps = ", ".join(f"{run.result.gap_closed.get('lightgbm', float('nan')):.1%}" for run in self.ab_runs)
                above = ", ".join(f"{run.result.paired['affinity'].estimate:+.3f}" for run in self.ab_runs)
                lines += [
                    f"Over {len(self.ab_runs)} A/B seeds ({seeds}): lightgbm closes {gaps} of the gap, "
                    f"{self.mean_gap_closed():.1%} on average; per family above affinity by {above}",
                ]
        lines += ["", "Targets:"] + [f"  [{'x' if ok else ' '}] {name}" for name, ok in self.targets().items()]
        lines += [f"note: {note}" for note in self.offline.notes]
        return "\n".join(lines)

    def write(self, folder: Path) -> Path:
        """Write report.md, report.json and the plots into `folder`; returns the Markdown path."""
        folder.mkdir(parents=True, exist_ok=True)
        plots = self._plots(folder)
        markdown = ["# Recommender evaluation", "", "```", self.to_text(), "```", ""]
        markdown += [f"![{name}]({path.name})" for name, path in plots.items()]
        path = folder / "report.md"
        path.write_text("\n".join(markdown) + "\n", encoding="utf-8")
        (folder / "report.json").write_text(self.to_json(), encoding="utf-8")
        return path

    def _plots(self, folder: Path) -> dict[str, Path]:
        plots: dict[str, Path] = {}
        if self.ab is not None:
            figure, axis = _figure(6, 3.5)
            names = list(self.ab.completion)
            estimates = [self.ab.completion[n].estimate for n in names]
            errors = [
                [self.ab.completion[n].estimate - self.ab.completion[n].low for n in names],
                [self.ab.completion[n].high - self.ab.completion[n].estimate for n in names],
            ]
            axis.bar(names, estimates, yerr=errors, capsize=4, color="#6a9fb5")
            axis.set_ylabel("family completion rate")
            axis.set_title("Simulated A/B (95% intervals)")
            plots["A/B completion"] = _save(figure, folder / "ab_completion.png")
            figure, axis = _figure(7, 3.5)
            self.ab.daily.rolling(3, min_periods=1).mean().plot(ax=axis)
            axis.set_ylabel("completion (3-day mean)")
            axis.set_title("Completion by day")
            plots["daily completion"] = _save(figure, folder / "ab_daily.png")
        if self.offline.ranking:
            figure, axis = _figure(6, 3.5)
            names = list(self.offline.ranking)
            values = [self.offline.ranking[n]["ndcg"].estimate if self.offline.ranking[n] else 0.0 for n in names]
            axis.bar(names, values, color="#b5846a")
            axis.set_ylabel("NDCG@10 (test window)")
            plots["offline NDCG"] = _save(figure, folder / "offline_ndcg.png")
        figure, axis = _figure(6, 4)
        self.importance.head(15)[::-1].plot.barh(ax=axis, color="#7a6ab5")
        axis.set_xlabel("total gain")
        axis.set_title("Feature importance")
        plots["feature importance"] = _save(figure, folder / "feature_importance.png")
        return plots


def _figure(width: float, height: float) -> tuple[Figure, Any]:
    # Figure objects, not pyplot: no global backend is touched, so notebooks keep their inline plots.
    figure = Figure(figsize=(width, height))
    return figure, figure.subplots()


def _save(figure: Figure, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    return path
