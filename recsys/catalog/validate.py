"""Data-quality checks on a question bank: size, coverage, balance, age fit and (near-)duplicates."""

from __future__ import annotations

from collections import Counter

import numpy as np

from recsys.catalog.bank import QuestionBank
from recsys.catalog.schema import MIN_AGE_FOR_DIFFICULTY, AgeGroup, Category

MIN_QUESTIONS = 600
MIN_CATEGORIES = 10
MIN_PER_CATEGORY_DIFFICULTY = 15
DIFFICULTIES = (1, 2, 3)
CHILD_AGE_LIMIT = 13  # AgeGroup.CHILD is under 13: a child wording is dead text when no child can get it
NEAR_DUPLICATE_COSINE = 0.8


def validate_bank(bank: QuestionBank) -> list[str]:
    """Every data-quality problem of the bank as a readable sentence; empty when the bank is fit to serve."""
    return [
        *_size_and_coverage(bank),
        *_balance(bank),
        *_age_fit(bank),
        *_duplicate_texts(bank),
        *_near_duplicate_texts(bank),
    ]


def _size_and_coverage(bank: QuestionBank) -> list[str]:
    problems = []
    if len(bank) < MIN_QUESTIONS:
        problems.append(f"the bank has {len(bank)} questions; at least {MIN_QUESTIONS} are needed")
    used = {question.category for question in bank}
    if len(used) < MIN_CATEGORIES:
        unused = ", ".join(category.value for category in Category if category not in used)
        problems.append(
            f"{len(used)} categories are used; at least {MIN_CATEGORIES} are needed (unused: {unused or 'none'})"
        )
    return problems


def _balance(bank: QuestionBank) -> list[str]:
    # Only used categories: an unused one is the coverage check's business, not 3 balance problems.
    cells = Counter((question.category, question.difficulty) for question in bank)
    used_categories = {category for category, _ in cells}
    return [
        f"category {category.value!r} × difficulty {difficulty} has {cells[category, difficulty]} questions; "
        f"at least {MIN_PER_CATEGORY_DIFFICULTY} are needed"
        for category in Category
        if category in used_categories
        for difficulty in DIFFICULTIES
        if cells[category, difficulty] < MIN_PER_CATEGORY_DIFFICULTY
    ]


def _age_fit(bank: QuestionBank) -> list[str]:
    # The schema enforces the first rule too, but a bank can be built from unvalidated records.
    problems = []
    for question in bank:
        needed = MIN_AGE_FOR_DIFFICULTY.get(question.difficulty)
        if needed is not None and question.min_age < needed:
            problems.append(
                f"{question.id}: difficulty {question.difficulty} needs min_age >= {needed}, got {question.min_age}"
            )
        if AgeGroup.CHILD in question.wordings and question.min_age >= CHILD_AGE_LIMIT:
            problems.append(
                f"{question.id}: has a child wording but min_age {question.min_age} excludes children "
                f"(under {CHILD_AGE_LIMIT})"
            )
    return problems


def _normalized(text: str) -> str:
    return " ".join(text.split())


def _duplicate_texts(bank: QuestionBank) -> list[str]:
    by_text: dict[str, list[str]] = {}
    for question in bank:
        by_text.setdefault(_normalized(question.text), []).append(question.id)
    return [f"duplicate text in {', '.join(ids)}: {text!r}" for text, ids in by_text.items() if len(ids) > 1]


def _near_duplicate_texts(bank: QuestionBank) -> list[str]:
    """Pairs whose character 2-3-gram TF-IDF vectors have cosine >= 0.8 (exact duplicates are reported above)."""
    if len(bank) < 2:
        return []
    # sklearn is imported on use: loading a bank must not pay for it.
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_similarity

    texts = [_normalized(question.text) for question in bank]
    vectors = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3)).fit_transform(texts)
    similarity = cosine_similarity(vectors)
    firsts, seconds = np.nonzero(np.triu(similarity >= NEAR_DUPLICATE_COSINE, k=1))
    pairs = sorted(
        (
            (float(similarity[i, j]), int(i), int(j))
            for i, j in zip(firsts, seconds, strict=True)
            if texts[i] != texts[j]
        ),
        reverse=True,
    )
    return [
        f"near-duplicate texts (cosine {score:.2f}): {bank[i].id} {texts[i]!r} ~ {bank[j].id} {texts[j]!r}"
        for score, i, j in pairs
    ]
