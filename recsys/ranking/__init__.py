"""Scorers behind one interface: the LightGBM ranker and the random, popularity and affinity baselines."""

from recsys.ranking.scorers import AffinityScorer, PopularityScorer, RandomScorer, Scorer

__all__ = ["AffinityScorer", "PopularityScorer", "RandomScorer", "Scorer"]
