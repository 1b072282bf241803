"""The promotion gate: a challenger replaces the champion only when it is better on the same data.

The primary metric is, by default, the SNIPS estimate of the completion rate the policy would
reach on the test window's decisions. Not NDCG@10: in production the log is written by the
champion itself, and NDCG over "what families completed" rewards ranking what the logger served,
so a challenger could never win it. SNIPS reweights by the logged propensities and removes that
bias (at the cost of variance). Guardrails keep a model that wins on average from losing
elsewhere: catalog coverage, novelty, and NDCG@10 within each family segment (with young
children, with seniors, adults only).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

from recsys.evaluation.offline import OfflineReport
from recsys.families import FamilyTable

SEGMENT_NAMES = ("with_child", "with_senior", "adults")  # FamilyTable.segment codes 0, 1, 2
PrimaryMetric = Literal["snips_completion", "ndcg_at_10"]


@dataclass(frozen=True)
class ModelMetrics:
    """One policy's offline figures on one snapshot's test window."""

    ndcg_at_10: float
    ndcg_low: float
    ndcg_high: float
    map_at_10: float
    recall_at_10: float
    coverage: float
    novelty: float
    snips_completion: float | None
    snips_ess: float | None = None  # effective sample size behind the SNIPS estimate
    segment_ndcg: dict[str, float] = field(default_factory=dict)
    segment_families: dict[str, int] = field(default_factory=dict)

    def flat(self, prefix: str = "") -> dict[str, float]:
        """Numbers only, for MLflow metrics (segments as `ndcg_at_10.<segment>`)."""
        values: dict[str, float] = {
            f"{prefix}{name}": float(value)
            for name, value in asdict(self).items()
            if isinstance(value, int | float) and value is not None
        }
        for segment, value in self.segment_ndcg.items():
            values[f"{prefix}ndcg_at_10.{segment}"] = value
        return values

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> ModelMetrics:
        return cls(**raw)


def model_metrics(report: OfflineReport, policy: str, *, families: FamilyTable) -> ModelMetrics:
    """Extract one policy's metrics, with NDCG per family segment as of the test window's start."""
    ranking = report.ranking.get(policy)
    if not ranking:
        raise ValueError(f"no offline ranking metrics for {policy!r}: the test window has no completed questions")
    segment_ndcg: dict[str, float] = {}
    segment_families: dict[str, int] = {}
    per_query = report.per_query.get(policy)
    if per_query is not None and len(per_query):
        codes = families.segment(report.split.test)
        rows = per_query.index.map(families.index).to_numpy(dtype=np.int64)
        for code, name in enumerate(SEGMENT_NAMES):
            mask = codes[rows] == code
            segment_families[name] = int(mask.sum())
            if mask.any():
                segment_ndcg[name] = float(per_query["ndcg"].to_numpy()[mask].mean())
    estimate = report.off_policy.get(policy)
    return ModelMetrics(
        ndcg_at_10=ranking["ndcg"].estimate,
        ndcg_low=ranking["ndcg"].low,
        ndcg_high=ranking["ndcg"].high,
        map_at_10=ranking["map"].estimate,
        recall_at_10=ranking["recall"].estimate,
        coverage=report.coverage[policy],
        novelty=report.novelty[policy],
        snips_completion=estimate.snips.estimate if estimate is not None else None,
        snips_ess=estimate.ess if estimate is not None else None,
        segment_ndcg=segment_ndcg,
        segment_families=segment_families,
    )


@dataclass(frozen=True)
class GateConfig:
    """How much better a challenger must be, and how much worse it may be on each guardrail."""

    primary: PrimaryMetric = "snips_completion"
    # SNIPS resting on fewer effective samples than this (either side) is noise: NDCG@10 decides instead.
    min_ess: float = 30.0
    margin: float = 0.005  # absolute gain on the primary metric the challenger needs over the champion
    coverage_drop: float = 0.25  # relative loss of catalog coverage allowed
    novelty_drop: float = 0.25  # relative loss of novelty allowed
    segment_drop: float = 0.03  # absolute NDCG@10 loss allowed in any family segment
    min_segment_families: int = 20  # segments with fewer evaluated families are not judged
    first_model_baseline: str = "popularity"  # with no champion, the challenger must beat this baseline


@dataclass(frozen=True)
class GateDecision:
    promote: bool
    reasons: list[str]

    @property
    def summary(self) -> str:
        return ("promote: " if self.promote else "keep the champion: ") + "; ".join(self.reasons)


def decide(
    challenger: ModelMetrics,
    *,
    champion: ModelMetrics | None,
    baselines: Mapping[str, ModelMetrics],
    config: GateConfig | None = None,
) -> GateDecision:
    """Promote only when the primary metric wins by the margin and no guardrail breaks."""
    config = config or GateConfig()
    reasons: list[str] = []
    failed = False
    if champion is None:
        reference = baselines.get(config.first_model_baseline)
        if reference is None:
            return GateDecision(False, [f"no champion and no {config.first_model_baseline} baseline to compare with"])
        extra, against = 0.0, f"the {config.first_model_baseline} baseline"
    else:
        reference = champion
        extra, against = config.margin, f"the champion + margin {config.margin}"
    primary: PrimaryMetric = config.primary
    if primary == "snips_completion":
        support = min(challenger.snips_ess or 0.0, reference.snips_ess or 0.0)
        if support < config.min_ess:
            primary = "ndcg_at_10"
            reasons.append(f"SNIPS rests on an effective sample of {support:.0f} (< {config.min_ess:.0f}): "
                           "compared on ndcg_at_10 instead")  # fmt: skip
    value, reference_value = getattr(challenger, primary), getattr(reference, primary)
    if value is None or reference_value is None:
        return GateDecision(False, [*reasons, f"no {primary} for the challenger or {against}: cannot compare"])
    required = reference_value + extra
    if value > required:
        reasons.append(f"{primary} {value:.4f} > {required:.4f} ({against})")
    else:
        failed = True
        reasons.append(f"{primary} {value:.4f} does not beat {required:.4f} ({against})")
    if reference.coverage > 0 and challenger.coverage < reference.coverage * (1 - config.coverage_drop):
        failed = True
        reasons.append(f"guardrail: coverage {challenger.coverage:.3f} fell below {reference.coverage:.3f}")
    if reference.novelty > 0 and challenger.novelty < reference.novelty * (1 - config.novelty_drop):
        failed = True
        reasons.append(f"guardrail: novelty {challenger.novelty:.2f} fell below {reference.novelty:.2f}")
    for segment, value in reference.segment_ndcg.items():
        judged = min(reference.segment_families.get(segment, 0), challenger.segment_families.get(segment, 0))
        if judged < config.min_segment_families or segment not in challenger.segment_ndcg:
            continue
        if challenger.segment_ndcg[segment] < value - config.segment_drop:
            failed = True
            reasons.append(
                f"guardrail: NDCG@10 for families {segment} {challenger.segment_ndcg[segment]:.4f} "
                f"fell more than {config.segment_drop} below {value:.4f}"
            )
    if not failed:
        reasons.append("no guardrail broken")
    return GateDecision(not failed, reasons)
