"""`promote`: move `champion` to a challenger only when the gate says so; otherwise record why not."""

from __future__ import annotations

from dataclasses import dataclass

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from pipelines import resources
from recsys.evaluation.gate import GateConfig, GateDecision, ModelMetrics, decide
from recsys.registry import CHAMPION


@dataclass(frozen=True)
class PromotionResult:
    version: str
    promoted: bool
    reasons: list[str]
    champion_before: str | None
    champion_after: str | None


@task(retries=2, retry_delay_seconds=[2, 10], cache_policy=NO_CACHE)
def judge(version: str, *, margin: float) -> tuple[GateDecision, str | None]:
    """The gate's decision from the evidence logged with the version, and the champion it was compared with."""
    registry = resources.model_registry()
    evidence = registry.evaluation(version)
    current = registry.alias_version(CHAMPION)
    compared = evidence.get("champion_version")
    if current == version:
        return GateDecision(False, [f"version {version} is already the champion"]), current
    if current != compared:
        # The champion moved (a rollback or another run) after this challenger was evaluated.
        moved = f"evaluated against champion {compared}, but the champion is now {current}"
        return GateDecision(False, [moved]), current
    champion = None if evidence.get("champion") is None else ModelMetrics.from_dict(evidence["champion"])
    baselines = {name: ModelMetrics.from_dict(raw) for name, raw in evidence["baselines"].items()}
    decision = decide(
        ModelMetrics.from_dict(evidence["challenger"]),
        champion=champion,
        baselines=baselines,
        config=GateConfig(primary=resources.settings().promotion_metric, margin=margin),
    )
    return decision, current


@task(retries=2, retry_delay_seconds=[2, 10], cache_policy=NO_CACHE)
def apply_decision(version: str, decision: GateDecision) -> str | None:
    registry = resources.model_registry()
    registry.record_decision(version, promoted=decision.promote, reasons=decision.summary)
    if decision.promote:
        registry.promote(version)
        registry.export_champion_card(resources.settings().models_dir / "CHAMPION.md")
    return registry.alias_version(CHAMPION)


@flow(name="promote", log_prints=True)
def promote(version: str, margin: float | None = None) -> PromotionResult:
    """Promote `version` if it beats the champion by `margin` (default: settings) and breaks no guardrail."""
    margin = resources.settings().promotion_margin if margin is None else margin
    decision, before = judge(version, margin=margin)
    after = apply_decision(version, decision)
    get_run_logger().info("version %s: %s", version, decision.summary)
    return PromotionResult(
        version=version, promoted=decision.promote, reasons=decision.reasons, champion_before=before,
        champion_after=after,
    )  # fmt: skip
