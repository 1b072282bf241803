"""Question banks built in tests: a synthetic balanced bank that passes validation, and JSONL writers."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from recsys.catalog import Category, Question, QuestionBank
from recsys.catalog.schema import MIN_AGE_FOR_DIFFICULTY

HANGUL_FIRST, HANGUL_COUNT = 0xAC00, 11172


def _random_text(rng: np.random.Generator) -> str:
    # Random syllables share almost no character n-grams, so no pair is a near-duplicate.
    words = ["".join(chr(HANGUL_FIRST + int(c)) for c in rng.integers(HANGUL_COUNT, size=3)) for _ in range(4)]
    return " ".join(words) + "?"


def synthetic_questions(*, per_cell: int = 20, seed: int = 0) -> list[Question]:
    """`per_cell` questions for every category × difficulty, each at its difficulty's youngest age."""
    rng = np.random.default_rng(seed)
    questions = []
    for category in Category:
        for number in range(3 * per_cell):
            difficulty = number // per_cell + 1
            questions.append(
                Question(
                    id=f"{category.value}-{number + 1:03d}",
                    text=_random_text(rng),
                    category=category,
                    difficulty=difficulty,
                    min_age=MIN_AGE_FOR_DIFFICULTY[difficulty],
                )
            )
    return questions


def synthetic_bank(*, per_cell: int = 20, seed: int = 0) -> QuestionBank:
    return QuestionBank(synthetic_questions(per_cell=per_cell, seed=seed))


def record(**overrides: Any) -> dict[str, Any]:
    """One valid JSONL record, with fields replaced or added."""
    values: dict[str, Any] = {
        "id": "memories-001",
        "text": "가장 기억에 남는 가족 여행은 어디였나요?",
        "category": "memories",
        "difficulty": 1,
        "min_age": 4,
        "max_age": None,
        "tags": ["여행"],
        "occasion": None,
        "wordings": {"child": "제일 기억나는 가족 여행은 어디예요?"},
    }
    values.update(overrides)
    return values


def write_jsonl(path: Path, records: Iterable[dict[str, Any] | str]) -> Path:
    """Write records (dicts as JSON, strings verbatim) one per line."""
    lines = [item if isinstance(item, str) else json.dumps(item, ensure_ascii=False) for item in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_bank(path: Path, questions: Iterable[Question]) -> Path:
    return write_jsonl(path, (question.model_dump(mode="json") for question in questions))
