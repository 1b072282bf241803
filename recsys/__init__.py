"""우리집 recommender library: question bank, simulator, features, ranking and evaluation.

This package never imports `woorizip` or `pipelines`; notebooks import it directly.
"""
