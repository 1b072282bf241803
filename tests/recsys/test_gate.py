"""The promotion gate on hand-made metrics: margin, guardrails, the first model, missing estimates."""

from __future__ import annotations

import dataclasses

import pytest

from recsys.evaluation.gate import GateConfig, ModelMetrics, decide


def metrics(snips: float | None = 0.5, ndcg: float = 0.2, **changes: object) -> ModelMetrics:
    base = ModelMetrics(
        ndcg_at_10=ndcg, ndcg_low=ndcg - 0.02, ndcg_high=ndcg + 0.02, map_at_10=0.1, recall_at_10=0.3,
        coverage=0.5, novelty=5.0, snips_completion=snips, snips_ess=None if snips is None else 100.0,
        segment_ndcg={"with_child": ndcg, "with_senior": ndcg, "adults": ndcg},
        segment_families={"with_child": 50, "with_senior": 30, "adults": 60},
    )  # fmt: skip
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


BASELINES = {"popularity": metrics(snips=0.2, ndcg=0.05)}


def test_a_challenger_better_by_the_margin_is_promoted() -> None:
    decision = decide(metrics(snips=0.52), champion=metrics(snips=0.5), baselines=BASELINES)
    assert decision.promote, decision.summary
    assert decision.reasons[-1] == "no guardrail broken"


@pytest.mark.parametrize("snips", [0.5, 0.504, 0.48])
def test_equal_or_slightly_better_or_worse_is_not_promoted(snips: float) -> None:
    decision = decide(metrics(snips=snips), champion=metrics(snips=0.5), baselines=BASELINES)
    assert not decision.promote and "does not beat 0.5050" in decision.reasons[0]


def test_the_primary_metric_can_be_ndcg() -> None:
    config = GateConfig(primary="ndcg_at_10", margin=0.01)
    assert decide(metrics(snips=0.1, ndcg=0.25), champion=metrics(ndcg=0.2), baselines=BASELINES, config=config).promote
    assert not decide(metrics(snips=0.9, ndcg=0.205), champion=metrics(ndcg=0.2), baselines=BASELINES,
                      config=config).promote  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"coverage": 0.3}, "guardrail: coverage"),
        ({"novelty": 3.0}, "guardrail: novelty"),
        ({"segment_ndcg": {"with_child": 0.1, "with_senior": 0.3, "adults": 0.3}}, "families with_child"),
    ],
)
def test_a_broken_guardrail_blocks_a_better_average(changes: dict[str, object], reason: str) -> None:
    decision = decide(metrics(snips=0.6, **changes), champion=metrics(snips=0.5), baselines=BASELINES)
    assert not decision.promote
    assert any(reason in line for line in decision.reasons), decision.reasons


def test_small_segments_are_not_judged() -> None:
    champion = metrics(snips=0.5, segment_families={"with_child": 50, "with_senior": 5, "adults": 60})
    challenger = metrics(snips=0.6, segment_ndcg={"with_child": 0.2, "with_senior": 0.0, "adults": 0.2})
    assert decide(challenger, champion=champion, baselines=BASELINES).promote


def test_the_first_model_must_beat_popularity() -> None:
    assert decide(metrics(snips=0.3), champion=None, baselines=BASELINES).promote
    refused = decide(metrics(snips=0.1), champion=None, baselines=BASELINES)
    assert not refused.promote and "the popularity baseline" in refused.reasons[0]


@pytest.mark.parametrize("challenger_ess", [None, 12.0])
def test_snips_without_enough_support_gives_way_to_ndcg(challenger_ess: float | None) -> None:
    # A lucky SNIPS on a dozen effective samples must not decide; NDCG@10 does, and says so.
    challenger = metrics(snips=0.9, ndcg=0.19, snips_ess=challenger_ess)
    decision = decide(challenger, champion=metrics(snips=0.5, ndcg=0.2), baselines=BASELINES)
    assert not decision.promote
    assert "compared on ndcg_at_10 instead" in decision.reasons[0]
    assert "ndcg_at_10 0.1900 does not beat 0.2050" in decision.reasons[1]
    better = decide(dataclasses.replace(challenger, ndcg_at_10=0.3), champion=metrics(snips=0.5, ndcg=0.2),
                    baselines=BASELINES)  # fmt: skip
    assert better.promote


def test_metrics_round_trip_through_json_evidence() -> None:
    original = metrics()
    assert ModelMetrics.from_dict(original.as_dict()) == original
    flat = original.flat(prefix="champion.")
    assert flat["champion.snips_completion"] == 0.5 and flat["champion.ndcg_at_10.adults"] == 0.2
