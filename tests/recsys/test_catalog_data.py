"""Data tests: the packaged bank is fit to serve, and the validator catches what it should."""

from __future__ import annotations

from recsys.catalog import AgeGroup, Category, Question, QuestionBank, load_bank, validate_bank
from tests.recsys.banks import synthetic_bank, synthetic_questions


def test_the_packaged_bank_passes_every_quality_check() -> None:
    problems = validate_bank(load_bank())
    assert problems == [], "\n".join(problems)


def test_a_balanced_distinct_bank_passes() -> None:
    # Proves the checks can pass: 11 categories × 3 difficulties × 20 questions with unrelated texts.
    assert validate_bank(synthetic_bank(per_cell=20)) == []


def test_an_injected_near_duplicate_is_reported_with_both_ids() -> None:
    bank = load_bank()
    original = bank.by_id("family_story-001")
    variant = original.model_copy(
        update={"id": "family_story-999", "text": original.text.replace("가장", "제일")}, deep=True
    )
    assert variant.text != original.text
    problems = validate_bank(QuestionBank([*bank, variant]))
    near = [problem for problem in problems if problem.startswith("near-duplicate")]
    assert len(near) == 1 and "family_story-001" in near[0] and "family_story-999" in near[0]


def test_a_rephrased_question_is_not_a_near_duplicate() -> None:
    questions = synthetic_questions()
    questions[0] = questions[0].model_copy(update={"text": "가장 기억에 남는 가족 여행은 어디였나요?"})
    questions[1] = questions[1].model_copy(update={"text": "다음 휴가에는 어떤 도시에 가 보고 싶나요?"})
    assert validate_bank(QuestionBank(questions)) == []


def test_an_exact_duplicate_text_is_reported_once() -> None:
    questions = synthetic_questions()
    questions[5] = questions[5].model_copy(update={"text": questions[0].text})
    problems = validate_bank(QuestionBank(questions))
    assert problems == [f"duplicate text in {questions[0].id}, {questions[5].id}: {questions[0].text!r}"]


def test_an_unbalanced_bank_names_the_thin_cell() -> None:
    questions = synthetic_questions(per_cell=20)
    thin = [q for q in questions if not (q.category is Category.VALUES and q.difficulty == 3)][:-1]
    thin += [q for q in questions if q.category is Category.VALUES and q.difficulty == 3][:14]
    assert len(thin) == len(questions) - 7
    assert validate_bank(QuestionBank(thin)) == [
        "category 'values' × difficulty 3 has 14 questions; at least 15 are needed"
    ]


def test_a_small_bank_with_few_categories_is_reported() -> None:
    questions = [q for q in synthetic_questions(per_cell=15) if q.category in (Category.DAILY, Category.DREAMS)]
    problems = validate_bank(QuestionBank(questions))
    assert problems[0] == "the bank has 90 questions; at least 600 are needed"
    assert problems[1].startswith("2 categories are used; at least 10 are needed (unused: memories, gratitude,")
    assert len(problems) == 2


def test_age_rules_are_checked_even_for_unvalidated_questions() -> None:
    questions = synthetic_questions()
    # model_construct skips the schema's validators, as a frame assembled elsewhere might.
    questions[0] = Question.model_construct(**{**questions[0].model_dump(), "difficulty": 3, "min_age": 10})
    questions[1] = Question.model_construct(**{**questions[1].model_dump(), "difficulty": 2, "min_age": 6})
    questions[2] = questions[2].model_copy(update={"min_age": 13, "wordings": {AgeGroup.CHILD: "너는 어때?"}})
    problems = validate_bank(QuestionBank(questions))
    assert problems == [
        f"{questions[0].id}: difficulty 3 needs min_age >= 12, got 10",
        f"{questions[1].id}: difficulty 2 needs min_age >= 7, got 6",
        f"{questions[2].id}: has a child wording but min_age 13 excludes children (under 13)",
    ]


def test_a_child_wording_is_fine_below_13() -> None:
    questions = synthetic_questions()
    questions[2] = questions[2].model_copy(update={"min_age": 12, "wordings": {AgeGroup.CHILD: "너는 어때?"}})
    assert validate_bank(QuestionBank(questions)) == []
