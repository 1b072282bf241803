"""The problems the recommender's support routes answer with."""

from __future__ import annotations

from woorizip.problems import ProblemType

INTERNAL_TOKEN_REQUIRED = ProblemType(
    "internal-token-required", 401, "These support routes want the installation's `X-Internal-Token`."
)
UNKNOWN_FAMILY = ProblemType("unknown-family", 404, "The recommender knows no family with this id.")
NO_QUESTION_LEFT = ProblemType("no-question-left", 404, "Every question suitable for the family was asked already.")
