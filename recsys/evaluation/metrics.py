"""Ranking and beyond-accuracy metrics with binary relevance, computed per query (Microsoft Recommenders' definitions).

Ranking metrics score one query; the caller averages them over queries and should exclude queries without any
relevant item (they score 0.0 here, which would drag the mean down for reasons unrelated to the ranker).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence

import pandas as pd

PER_QUERY_COLUMNS: tuple[str, ...] = ("ndcg", "map", "recall", "precision")


def _check_k(k: int) -> None:
    """Reject cut-offs below one."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")


def _hit_ranks(ranked: Sequence[str], relevant: Collection[str], k: int) -> list[int]:
    """1-based ranks within the top k that hold a relevant item, counting a repeated item only once."""
    _check_k(k)
    seen: set[str] = set()
    ranks: list[int] = []
    for rank, item in enumerate(ranked[:k], start=1):
        # A repeated item must not earn a second hit, or the metrics could exceed 1.
        if item in relevant and item not in seen:
            ranks.append(rank)
        seen.add(item)
    return ranks


def _discount(rank: int) -> float:
    """Gain of a hit at a 1-based rank: 1 / log2(rank + 1)."""
    return 1.0 / math.log2(rank + 1)


def ndcg_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """NDCG@k: DCG of the top k over the DCG of min(k, |relevant|) hits; 0.0 with no relevant items (exclude those)."""
    hits = _hit_ranks(ranked, relevant, k)
    if not relevant:
        return 0.0
    dcg = sum(_discount(rank) for rank in hits)
    idcg = sum(_discount(rank) for rank in range(1, min(k, len(relevant)) + 1))
    return dcg / idcg


def precision_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Precision@k: relevant items in the top k over k, even when fewer than k items were ranked."""
    return len(_hit_ranks(ranked, relevant, k)) / k


def recall_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Recall@k: relevant items in the top k over |relevant|; 0.0 with no relevant items (exclude those)."""
    hits = _hit_ranks(ranked, relevant, k)
    return len(hits) / len(relevant) if relevant else 0.0


def _precision_sum(hits: Sequence[int]) -> float:
    """Sum of precision@i over the hit ranks i."""
    return sum(count / rank for count, rank in enumerate(hits, start=1))


def average_precision_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """AP@k: sum of precision@i at each hit rank i <= k over min(k, |relevant|); 0.0 with no relevant items."""
    hits = _hit_ranks(ranked, relevant, k)
    return _precision_sum(hits) / min(k, len(relevant)) if relevant else 0.0


def map_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Recommenders' MAP term: sum of precision@i at hit ranks i <= k over ALL |relevant| (not min(k, |relevant|)).

    This matches Recommenders' `map` (and its `map_at_k` before 1.2); it cannot reach 1 when |relevant| > k.
    `average_precision_at_k` is the min(k, |relevant|) variant. 0.0 with no relevant items.
    """
    hits = _hit_ranks(ranked, relevant, k)
    return _precision_sum(hits) / len(relevant) if relevant else 0.0


def catalog_coverage(recommended_lists: Iterable[Sequence[str]], catalog_size: int) -> float:
    """Distinct recommended items over the catalog size."""
    if catalog_size < 1:
        raise ValueError(f"catalog_size must be at least 1, got {catalog_size}")
    distinct = {item for items in recommended_lists for item in items}
    if len(distinct) > catalog_size:
        raise ValueError(f"{len(distinct)} distinct items recommended but catalog_size is {catalog_size}")
    return len(distinct) / catalog_size


def _probability_floor(item_popularity: Mapping[str, float]) -> float:
    """Half the smallest positive popularity: an add-half guess for an item no one has interacted with yet."""
    positive = [p for p in item_popularity.values() if p > 0]
    if not positive:
        raise ValueError("item_popularity has no positive share to derive a floor from; pass floor explicitly")
    return min(positive) / 2


def novelty(
    recommended_lists: Iterable[Sequence[str]],
    item_popularity: Mapping[str, float],
    *,
    floor: float | None = None,
) -> float:
    """Mean self-information -log2 p(i) over all recommended items (pooled), p(i) = share of families who used i.

    Items missing from `item_popularity` or with share 0 get probability `floor`, by default half the smallest
    positive share (with one interaction as the smallest count, that is add-half smoothing), so unseen items read as
    the most novel without an infinite score. Returns 0.0 when nothing was recommended.
    """
    bad = {item: p for item, p in item_popularity.items() if not 0.0 <= p <= 1.0}
    if bad:
        raise ValueError(f"item_popularity shares must lie in [0, 1]; got {dict(list(bad.items())[:3])}")
    items = [item for items in recommended_lists for item in items]
    if not items:
        return 0.0
    if floor is None:
        floor = _probability_floor(item_popularity)
    if not 0.0 < floor <= 1.0:
        raise ValueError(f"floor must lie in (0, 1], got {floor}")
    return sum(-math.log2(max(item_popularity.get(item, 0.0), floor)) for item in items) / len(items)


def _different_category_share(items: Sequence[str], item_category: Mapping[str, str]) -> float:
    """Share of unordered pairs in one list whose items have different categories."""
    missing = [item for item in items if item not in item_category]
    if missing:
        raise ValueError(f"no category for items {missing[:5]}")
    n = len(items)
    same = sum(count * (count - 1) // 2 for count in Counter(item_category[item] for item in items).values())
    pairs = n * (n - 1) // 2
    return (pairs - same) / pairs


def intra_list_diversity(recommended_lists: Iterable[Sequence[str]], item_category: Mapping[str, str]) -> float:
    """Mean over lists of the share of item pairs with different categories; lists under two items are skipped."""
    shares = [_different_category_share(items, item_category) for items in recommended_lists if len(items) >= 2]
    return sum(shares) / len(shares) if shares else 0.0


def per_query_metrics(
    rankings: Mapping[str, Sequence[str]],
    relevant: Mapping[str, Collection[str]],
    k: int,
) -> pd.DataFrame:
    """One row per query with at least one relevant item (index `query`): ndcg, map, recall, precision at k.

    Queries are taken from `relevant`; one without a ranking is scored as an empty ranking (all zeros).
    """
    _check_k(k)
    queries: list[str] = []
    values: list[list[float]] = []
    for query, wanted in relevant.items():
        if not wanted:
            continue
        ranked = rankings.get(query, ())
        queries.append(query)
        values.append(
            [
                ndcg_at_k(ranked, wanted, k),
                map_at_k(ranked, wanted, k),
                recall_at_k(ranked, wanted, k),
                precision_at_k(ranked, wanted, k),
            ]
        )
    return pd.DataFrame(values, index=pd.Index(queries, name="query"), columns=list(PER_QUERY_COLUMNS), dtype=float)
