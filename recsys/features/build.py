"""Feature rows for (family, question, day) triples, from a point-in-time `HistoryState`.

One function serves training (the served question of each logged decision) and serving
(every eligible candidate of a family), so the two can never drift apart.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from recsys.candidates import DayCalendar
from recsys.features.state import NEVER, NOT_YET, HistoryState
from recsys.features.text import TEXT_DIMENSIONS

QUESTION_FEATURES = [
    "category",
    "difficulty",
    "min_age",
    "has_occasion",
    "occasion_open",
    "question_completion_rate",
    "question_log_served",
    "question_rating",
    "question_segment_rate",
    "category_segment_rate",
    "question_answer_rate",
    *[f"text_{i}" for i in range(TEXT_DIMENSIONS)],
]
FAMILY_FEATURES = [
    "family_size",
    "children",
    "teens",
    "seniors",
    "youngest_age",
    "oldest_age",
    "tenure_days",
    "streak",
    "recent_completion",
    "overall_completion",
    "mood",
    "weekday",
    "weekend",
]
CROSS_FEATURES = [
    "interest",
    "category_affinity",
    "category_answer_share",
    "category_answer_length",
    "weakest_member_category_rate",
    "category_served",
    "days_since_category",
    "category_recent",
    "category_rating",
    "difficulty_affinity",
    "difficulty_affinity_gap",
    "depth_lean",
    "depth_gap_for_children",
    "content_similarity",
    "collaborative",
    "response_log_completion",
    "response_appeal",
    "response_taste",
]
FEATURE_NAMES = QUESTION_FEATURES + FAMILY_FEATURES + CROSS_FEATURES
# What the first stage (the affinity heuristic) ranks by: cheap to build for every eligible candidate.
FIRST_STAGE_FEATURES = [
    "category_affinity",
    "difficulty_affinity",
    "question_completion_rate",
    "occasion_open",
    "category_recent",
]
_CROSS = {name: i for i, name in enumerate(CROSS_FEATURES)}
_FIRST_STAGE = {name: i for i, name in enumerate(FIRST_STAGE_FEATURES)}
CATEGORICAL_FEATURES = ["category"]
PRIOR_WEIGHT = 3.0  # pseudo-observations pulling sparse rates towards the family's overall rate


def build_features(
    state: HistoryState, *, family_rows: np.ndarray, questions: np.ndarray, calendar: DayCalendar
) -> np.ndarray:
    """(N, len(FEATURE_NAMES)) float32 rows for the pairs (family_rows[i], questions[i]) on `calendar.day`."""
    n = len(family_rows)
    out = np.empty((n, len(FEATURE_NAMES)), dtype=np.float32)
    if n == 0:
        return out
    day = calendar.day
    _question_block(state, out[:, : len(QUESTION_FEATURES)], questions, family_rows, calendar)
    start = len(QUESTION_FEATURES)
    unique_rows, inverse = np.unique(family_rows, return_inverse=True)
    family_block = _family_block(state, unique_rows, day)
    out[:, start : start + len(FAMILY_FEATURES)] = family_block[inverse]
    start += len(FAMILY_FEATURES)
    _cross_block(state, out[:, start:], family_rows, questions, unique_rows, inverse, family_block, day)
    return out


def build_first_stage_features(
    state: HistoryState, *, family_rows: np.ndarray, questions: np.ndarray, calendar: DayCalendar
) -> np.ndarray:
    """(N, len(FIRST_STAGE_FEATURES)) float32: those columns of `build_features`, equal to them, built alone."""
    out = np.empty((len(family_rows), len(FIRST_STAGE_FEATURES)), dtype=np.float32)
    if len(family_rows) == 0:
        return out
    column = _FIRST_STAGE
    unique_rows, inverse = np.unique(family_rows, return_inverse=True)
    overall = _overall_completion(state, unique_rows).astype(np.float32)  # as the family block holds it
    category = state.bank.category_index[questions]
    difficulty = state.bank.difficulty[questions] - 1
    out[:, column["category_affinity"]] = _category_affinity(state, family_rows, category, overall[inverse])
    levels = _difficulty_affinity_levels(state, unique_rows, overall)
    out[:, column["difficulty_affinity"]] = levels[inverse, difficulty]
    out[:, column["question_completion_rate"]] = _question_completion_rate(state, questions)
    out[:, column["occasion_open"]] = _occasion_open(state, questions, family_rows, calendar)
    out[:, column["category_recent"]] = _category_recent(state, unique_rows, inverse, category, calendar.day)
    return out


def _global_completion_rate(state: HistoryState) -> float:
    return float(state.question_completed.sum() / max(state.question_served.sum(), 1.0))


def _question_completion_rate(state: HistoryState, questions: np.ndarray) -> np.ndarray:
    global_rate = _global_completion_rate(state)
    return (state.question_completed[questions] + 10.0 * global_rate) / (state.question_served[questions] + 10.0)


def _occasion_open(
    state: HistoryState, questions: np.ndarray, family_rows: np.ndarray, calendar: DayCalendar
) -> np.ndarray:
    return calendar.question_occasion_active(state.bank.occasion_index[questions], family_rows)


def _overall_completion(state: HistoryState, rows: np.ndarray) -> np.ndarray:
    served_total = state.served_category[rows].sum(axis=1)
    return (state.completed_category[rows].sum(axis=1) + 0.5) / (served_total + 1.0)


def _category_affinity(
    state: HistoryState, family_rows: np.ndarray, category: np.ndarray, overall: np.ndarray
) -> np.ndarray:
    # Onboarding interests count as pseudo-completions until real history outweighs them.
    interest = state.families.interests[family_rows, category]
    return (state.completed_category[family_rows, category] + PRIOR_WEIGHT * (overall + 0.3 * interest)) / (
        state.served_category[family_rows, category] + PRIOR_WEIGHT
    )


def _difficulty_affinity_levels(state: HistoryState, rows: np.ndarray, overall: np.ndarray) -> np.ndarray:
    """(U, 3) completion rate at each depth of families `rows`, shrunk to their overall rate."""
    return (state.completed_difficulty[rows] + PRIOR_WEIGHT * overall[:, None]) / (
        state.served_difficulty[rows] + PRIOR_WEIGHT
    )


def _depth_lean(state: HistoryState, rows: np.ndarray) -> np.ndarray:
    """Mean depth (1-3) of what the family completed minus that of what it was served, shrunk to 0."""
    depth = np.arange(1, 4, dtype=np.float32)
    completed, served = state.completed_difficulty[rows], state.served_difficulty[rows]
    completed_mean = (completed @ depth + 2.0 * PRIOR_WEIGHT) / (completed.sum(axis=1) + PRIOR_WEIGHT)
    served_mean = (served @ depth + 2.0 * PRIOR_WEIGHT) / (served.sum(axis=1) + PRIOR_WEIGHT)
    return completed_mean - served_mean


def _category_recent(
    state: HistoryState, unique_rows: np.ndarray, inverse: np.ndarray, category: np.ndarray, day: date
) -> np.ndarray:
    return state.recent_category.at(unique_rows, day.toordinal())[inverse, category]


def _question_block(
    state: HistoryState, out: np.ndarray, questions: np.ndarray, family_rows: np.ndarray, calendar: DayCalendar
) -> None:
    bank = state.bank
    served = state.question_served[questions]
    global_rate = _global_completion_rate(state)
    out[:, 0] = bank.category_index[questions]
    out[:, 1] = bank.difficulty[questions]
    out[:, 2] = bank.min_age[questions]
    occasion = bank.occasion_index[questions]
    out[:, 3] = occasion >= 0
    out[:, 4] = _occasion_open(state, questions, family_rows, calendar)
    out[:, 5] = _question_completion_rate(state, questions)
    out[:, 6] = np.log1p(served)
    out[:, 7] = state.question_rating[questions] / (served + 10.0)
    # The same question's and category's record among families like this one (with children, seniors, other).
    segment = state.families.segment(calendar.day)[family_rows]
    segment_served = state.segment_question_served[segment, questions]
    out[:, 8] = (state.segment_question_completed[segment, questions] + 10.0 * out[:, 5]) / (segment_served + 10.0)
    category = bank.category_index[questions]
    out[:, 9] = (state.segment_category_completed[segment, category] + 10.0 * global_rate) / (
        state.segment_category_served[segment, category] + 10.0
    )
    global_answer_rate = state.question_answered.sum() / max(state.question_member_served.sum(), 1.0)
    out[:, 10] = (state.question_answered[questions] + 10.0 * global_answer_rate) / (
        state.question_member_served[questions] + 10.0
    )
    out[:, 11 : 11 + TEXT_DIMENSIONS] = state.embeddings[questions]


def _family_block(state: HistoryState, rows: np.ndarray, day: date) -> np.ndarray:
    ordinal = day.toordinal()
    block = np.empty((len(rows), len(FAMILY_FEATURES)), dtype=np.float32)
    block[:, 0:6] = state.families.age_profile(day)[rows]
    first = state.first_served_day[rows]
    block[:, 6] = np.where(first == NOT_YET, 0, ordinal - first)
    alive = state.last_completed_day[rows] >= ordinal - 1
    block[:, 7] = np.where(alive, state.streak[rows], 0)
    recent_served = state.recent_served.at(rows, ordinal)
    block[:, 8] = (state.recent_completed.at(rows, ordinal) + 0.5) / (recent_served + 1.0)
    served_total = state.served_category[rows].sum(axis=1)
    block[:, 9] = _overall_completion(state, rows)
    # Mood proxy: recent answers per member per recent question, against the long-run level.
    size = np.maximum(block[:, 0], 1.0)
    recent_rate = state.recent_answers.at(rows, ordinal) / (size * (recent_served + 1.0))
    long_rate = state.answered_category[rows].sum(axis=1) / (size * (served_total + 1.0))
    block[:, 10] = recent_rate - long_rate
    block[:, 11] = day.weekday()
    block[:, 12] = day.weekday() >= 5
    return block


def _cross_block(
    state: HistoryState,
    out: np.ndarray,
    family_rows: np.ndarray,
    questions: np.ndarray,
    unique_rows: np.ndarray,
    inverse: np.ndarray,
    family_block: np.ndarray,
    day: date,
) -> None:
    bank = state.bank
    ordinal = day.toordinal()
    category = bank.category_index[questions]
    difficulty = bank.difficulty[questions] - 1
    family_overall = family_block[:, FAMILY_FEATURES.index("overall_completion")]
    overall = family_overall[inverse]
    interest = state.families.interests[family_rows, category]
    served = state.served_category[family_rows, category]
    out[:, _CROSS["interest"]] = interest
    out[:, _CROSS["category_affinity"]] = _category_affinity(state, family_rows, category, overall)
    size = np.maximum(family_block[inverse, 0], 1.0)
    out[:, _CROSS["category_answer_share"]] = (
        state.answered_category[family_rows, category] / size + PRIOR_WEIGHT * overall
    ) / (served + PRIOR_WEIGHT)
    # Families write more about what they care for: answer length by category against their own average.
    lengths = state.answer_length_category[family_rows]
    answers = state.answered_category[family_rows]
    family_mean = lengths.sum(axis=1) / np.maximum(answers.sum(axis=1), 1.0)
    category_mean = (lengths[np.arange(len(category)), category] + PRIOR_WEIGHT * family_mean) / (
        answers[np.arange(len(category)), category] + PRIOR_WEIGHT
    )
    out[:, _CROSS["category_answer_length"]] = category_mean / np.maximum(family_mean, 1.0) - (family_mean > 0)
    out[:, _CROSS["weakest_member_category_rate"]] = _weakest_member(state, unique_rows, inverse, category, overall)
    out[:, _CROSS["category_served"]] = served
    last = state.last_category_day[family_rows, category]
    out[:, _CROSS["days_since_category"]] = np.where(last == NEVER, 60, np.minimum(ordinal - last, 60))
    out[:, _CROSS["category_recent"]] = _category_recent(state, unique_rows, inverse, category, day)
    out[:, _CROSS["category_rating"]] = state.rating_category[family_rows, category] / (served + 1.0)
    levels = _difficulty_affinity_levels(state, unique_rows, family_overall)
    out[:, _CROSS["difficulty_affinity"]] = levels[inverse, difficulty]
    # Depth preference is sharp (a deep question for a family that likes light ones costs dearly):
    # how this depth compares with the family's best depth so far, and which way the family leans.
    out[:, _CROSS["difficulty_affinity_gap"]] = out[:, _CROSS["difficulty_affinity"]] - levels.max(axis=1)[inverse]
    out[:, _CROSS["depth_lean"]] = _depth_lean(state, unique_rows)[inverse]
    out[:, _CROSS["depth_gap_for_children"]] = family_block[inverse, 1] * difficulty
    loved = state.loved_embedding[unique_rows]
    norms = np.linalg.norm(loved, axis=1, keepdims=True)
    loved = loved / np.where(norms == 0, 1.0, norms)
    out[:, _CROSS["content_similarity"]] = np.einsum("ij,ij->i", loved[inverse], state.embeddings[questions])
    out[:, _CROSS["collaborative"]] = _collaborative(state, unique_rows, inverse, questions)
    # The answer model's view: every member's answers apportioned to family, member, taste, depth and appeal.
    response = state.response_as_of(day)
    out[:, _CROSS["response_log_completion"]] = response.log_completion(
        families=family_rows, questions=questions, category=category, depth=difficulty
    )
    out[:, _CROSS["response_appeal"]] = response.appeal.mean[questions]
    out[:, _CROSS["response_taste"]] = response.taste_mean(family_rows, category)


def _weakest_member(
    state: HistoryState, unique_rows: np.ndarray, inverse: np.ndarray, category: np.ndarray, overall: np.ndarray
) -> np.ndarray:
    """The lowest answer rate in the candidate's category among the family's members (shrunk to overall)."""
    slots = state.families.member_slots[unique_rows]  # (U, S)
    present = slots >= 0
    answered = state.member_answered_category[np.where(present, slots, 0)]  # (U, S, C)
    served = state.served_category[unique_rows][:, None, :]  # (U, 1, C)
    member_overall = answered.sum(axis=2, keepdims=True) / np.maximum(served.sum(axis=2, keepdims=True), 1.0)
    rates = (answered + PRIOR_WEIGHT * member_overall) / (served + PRIOR_WEIGHT)
    never = served.sum(axis=2, keepdims=True) == 0
    rates = np.where(never, np.nan, rates)
    weakest = np.where(present[:, :, None], rates, np.inf).min(axis=1)  # (U, C)
    value = weakest[inverse, category]
    # No history yet: fall back to the family's overall completion, as the other affinities do.
    return np.where(np.isfinite(value), value, overall).astype(np.float32)


def _collaborative(
    state: HistoryState, unique_rows: np.ndarray, inverse: np.ndarray, questions: np.ndarray
) -> np.ndarray:
    """How strongly families who completed what this family completed also completed the candidate."""
    popularity = np.sqrt(np.maximum(state.question_completed, 1.0))
    completed = state.completed[unique_rows]
    counts = np.maximum(completed.sum(axis=1), 1)
    touched = np.flatnonzero(completed.any(axis=0))
    if len(touched) == 0:
        return np.zeros(len(questions), dtype=np.float32)
    # Only the rows of questions someone in this batch completed matter: keeps serving one family cheap.
    lift = state.co_completed[touched] / (popularity[touched, None] * popularity[None, :])
    scores = (completed[:, touched].astype(np.float32) @ lift) / counts[:, None]
    return np.asarray(scores[inverse, questions], dtype=np.float32)
