"""Ranking and beyond-accuracy metrics: hand-computed values, edge cases and properties."""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Sequence

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from recsys.evaluation.metrics import (
    average_precision_at_k,
    catalog_coverage,
    intra_list_diversity,
    map_at_k,
    ndcg_at_k,
    novelty,
    per_query_metrics,
    precision_at_k,
    recall_at_k,
)

Metric = Callable[[Sequence[str], Collection[str], int], float]

RANKING_METRICS: tuple[Metric, ...] = (ndcg_at_k, precision_at_k, recall_at_k, average_precision_at_k, map_at_k)

ITEMS = st.sampled_from([f"q{i}" for i in range(12)])
RANKED = st.lists(ITEMS, unique=True, max_size=12)
RELEVANT = st.sets(ITEMS, max_size=12)
K = st.integers(min_value=1, max_value=15)


def test_hand_computed_relevant_at_ranks_one_and_three() -> None:
    ranked, relevant = ["a", "b", "c"], {"a", "c"}
    dcg = 1.0 + 1.0 / math.log2(4)
    idcg = 1.0 + 1.0 / math.log2(3)
    assert ndcg_at_k(ranked, relevant, 3) == pytest.approx(dcg / idcg)
    assert ndcg_at_k(ranked, relevant, 3) == pytest.approx(0.919721, abs=1e-6)
    assert precision_at_k(ranked, relevant, 3) == pytest.approx(2 / 3)
    assert recall_at_k(ranked, relevant, 3) == pytest.approx(1.0)
    # Precision 1/1 at rank 1 and 2/3 at rank 3, over min(3, 2) = 2 relevant.
    assert average_precision_at_k(ranked, relevant, 3) == pytest.approx((1 + 2 / 3) / 2)
    assert map_at_k(ranked, relevant, 3) == pytest.approx((1 + 2 / 3) / 2)


def test_map_divides_by_all_relevant_but_average_precision_by_min_k() -> None:
    ranked, relevant = ["a", "b", "c"], {"a", "c", "z"}
    assert average_precision_at_k(ranked, relevant, 2) == pytest.approx(1 / 2)
    assert map_at_k(ranked, relevant, 2) == pytest.approx(1 / 3)
    assert recall_at_k(ranked, relevant, 2) == pytest.approx(1 / 3)
    assert precision_at_k(ranked, relevant, 2) == pytest.approx(1 / 2)
    # IDCG uses min(k, |relevant|) = 2 hits, so one hit at rank 1 scores 1 / (1 + 1/log2(3)).
    assert ndcg_at_k(ranked, relevant, 2) == pytest.approx(1 / (1 + 1 / math.log2(3)))


def test_k_larger_than_the_ranking() -> None:
    assert ndcg_at_k(["a"], {"a"}, 10) == 1.0
    assert recall_at_k(["a"], {"a"}, 10) == 1.0
    assert average_precision_at_k(["a"], {"a"}, 10) == 1.0
    assert map_at_k(["a"], {"a"}, 10) == 1.0
    # Precision divides by k, as Recommenders does, even when fewer than k items were ranked.
    assert precision_at_k(["a"], {"a"}, 10) == pytest.approx(0.1)


@pytest.mark.parametrize("metric", RANKING_METRICS)
def test_no_relevant_items_scores_zero(metric: Metric) -> None:
    assert metric(["a", "b"], set(), 2) == 0.0
    assert metric([], {"a"}, 2) == 0.0


@pytest.mark.parametrize("metric", RANKING_METRICS)
def test_k_below_one_is_rejected(metric: Metric) -> None:
    with pytest.raises(ValueError, match="k must be at least 1"):
        metric(["a"], {"a"}, 0)


def test_a_repeated_item_counts_once() -> None:
    assert ndcg_at_k(["a", "a", "a"], {"a"}, 3) == 1.0
    assert precision_at_k(["a", "a"], {"a"}, 2) == 0.5


def test_per_query_metrics_skips_queries_without_relevant_items() -> None:
    frame = per_query_metrics(
        {"f1": ["a", "b", "c"], "f2": ["x"], "f3": ["y"]},
        {"f1": {"a", "c"}, "f2": set(), "f4": {"z"}},
        3,
    )
    assert list(frame.columns) == ["ndcg", "map", "recall", "precision"]
    assert list(frame.index) == ["f1", "f4"]
    assert frame.index.name == "query"
    assert frame.loc["f1", "ndcg"] == pytest.approx(0.919721, abs=1e-6)
    assert frame.loc["f1", "map"] == pytest.approx(5 / 6)
    assert frame.loc["f1", "recall"] == 1.0
    assert frame.loc["f1", "precision"] == pytest.approx(2 / 3)
    # A query with relevant items but no ranking scores zero rather than vanishing.
    assert (frame.loc["f4"] == 0.0).all()


def test_per_query_metrics_empty() -> None:
    frame = per_query_metrics({}, {}, 5)
    assert frame.empty and list(frame.columns) == ["ndcg", "map", "recall", "precision"]
    assert all(dtype == "float64" for dtype in frame.dtypes)
    assert isinstance(frame, pd.DataFrame)


def test_catalog_coverage() -> None:
    assert catalog_coverage([["a", "b"], ["b", "c"]], 10) == pytest.approx(0.3)
    assert catalog_coverage([], 10) == 0.0
    with pytest.raises(ValueError, match="catalog_size"):
        catalog_coverage([["a"]], 0)
    with pytest.raises(ValueError, match="distinct items"):
        catalog_coverage([["a", "b"]], 1)


def test_novelty_is_mean_self_information() -> None:
    popularity = {"a": 0.5, "b": 0.25}
    assert novelty([["a", "b"]], popularity) == pytest.approx((1 + 2) / 2)
    # Pooled over all recommended items, not averaged per list.
    assert novelty([["a"], ["b", "b"]], popularity) == pytest.approx((1 + 2 + 2) / 3)


def test_novelty_floors_unseen_items() -> None:
    popularity = {"a": 0.5, "b": 0.25, "c": 0.0}
    # Default floor is half the smallest positive share: 0.125, i.e. 3 bits.
    assert novelty([["z"]], popularity) == pytest.approx(3.0)
    assert novelty([["c"]], popularity) == pytest.approx(3.0)
    assert novelty([["z"]], popularity, floor=2**-10) == pytest.approx(10.0)
    assert novelty([], popularity) == 0.0
    with pytest.raises(ValueError, match="no positive share"):
        novelty([["z"]], {})
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        novelty([["a"]], {"a": 1.5})
    with pytest.raises(ValueError, match="floor"):
        novelty([["a"]], popularity, floor=0.0)


def test_intra_list_diversity() -> None:
    category = {"a": "x", "b": "x", "c": "y", "d": "z"}
    # [x, x, y]: 2 of 3 pairs differ; [x, z]: 1 of 1; single-item lists have no pairs and are skipped.
    assert intra_list_diversity([["a", "b", "c"], ["a", "d"], ["c"]], category) == pytest.approx((2 / 3 + 1) / 2)
    assert intra_list_diversity([["a", "b"]], category) == 0.0
    assert intra_list_diversity([["a"]], category) == 0.0
    with pytest.raises(ValueError, match="no category"):
        intra_list_diversity([["a", "unknown"]], category)


@given(ranked=RANKED, relevant=RELEVANT, k=K)
def test_ranking_metrics_lie_in_unit_interval(ranked: list[str], relevant: set[str], k: int) -> None:
    for metric in RANKING_METRICS:
        assert 0.0 <= metric(ranked, relevant, k) <= 1.0 + 1e-12


@given(relevant=RELEVANT.filter(bool), others=RANKED, k=K)
def test_ndcg_is_one_when_relevant_items_come_first(relevant: set[str], others: list[str], k: int) -> None:
    ranked = sorted(relevant) + [item for item in others if item not in relevant]
    assert ndcg_at_k(ranked, relevant, k) == pytest.approx(1.0)
    assert average_precision_at_k(ranked, relevant, k) == pytest.approx(1.0)


@given(ranked=RANKED, relevant=RELEVANT, k=K, data=st.data())
def test_items_after_k_do_not_matter(ranked: list[str], relevant: set[str], k: int, data: st.DataObject) -> None:
    shuffled_tail = data.draw(st.permutations(ranked[k:]))
    for metric in RANKING_METRICS:
        assert metric(ranked, relevant, k) == metric(ranked[:k] + list(shuffled_tail), relevant, k)


@given(lists=st.lists(st.lists(ITEMS, max_size=6), max_size=6))
def test_coverage_and_diversity_lie_in_unit_interval(lists: list[list[str]]) -> None:
    category = {f"q{i}": f"c{i % 3}" for i in range(12)}
    assert 0.0 <= catalog_coverage(lists, 12) <= 1.0
    assert 0.0 <= intra_list_diversity(lists, category) <= 1.0
