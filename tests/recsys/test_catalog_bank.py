"""The question bank: packaged data, numpy columns, Parquet round-trip and precise load errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recsys.catalog import (
    CATEGORIES,
    OCCASIONS,
    BankError,
    Category,
    Occasion,
    Question,
    QuestionBank,
    load_bank,
)
from recsys.catalog.bank import NO_MAX_AGE, NO_OCCASION
from tests.recsys.banks import record, write_bank, write_jsonl


def test_the_packaged_bank_loads_sorted_by_id_with_consistent_columns() -> None:
    bank = load_bank()
    ids = [question.id for question in bank]
    assert len(bank) > 0 and ids == sorted(ids)
    assert bank.ids.tolist() == ids
    for position, question in enumerate(bank):
        assert CATEGORIES[bank.category_index[position]] is question.category
        assert bank.difficulty[position] == question.difficulty
        assert bank.min_age[position] == question.min_age
        assert bank.max_age[position] == (NO_MAX_AGE if question.max_age is None else question.max_age)
        expected = NO_OCCASION if question.occasion is None else OCCASIONS.index(question.occasion)
        assert bank.occasion_index[position] == expected
    assert any(question.occasion is not None for question in bank)


def test_lookups_by_position_and_id() -> None:
    bank = load_bank()
    last = bank[len(bank) - 1]
    assert bank[-1] == last
    assert bank.position(last.id) == len(bank) - 1
    assert bank.by_id(last.id) is last
    assert bank.positions(np.array([last.id, bank[0].id], dtype=object)).tolist() == [len(bank) - 1, 0]
    with pytest.raises(KeyError, match="nope-001"):
        bank.by_id("nope-001")
    with pytest.raises(KeyError, match="nope-002"):
        bank.positions([bank[0].id, "nope-002"])


def test_columns_are_read_only() -> None:
    bank = load_bank()
    with pytest.raises(ValueError, match="read-only"):
        bank.difficulty[0] = 3


def test_a_bank_refuses_repeated_ids() -> None:
    question = Question.model_validate(record())
    with pytest.raises(BankError, match="duplicate id 'memories-001'"):
        QuestionBank([question, question])


def test_round_trip_through_parquet(tmp_path: Path) -> None:
    bank = load_bank()
    frame = bank.to_frame()
    assert len(frame) == len(bank)
    assert list(frame.columns) == [
        "id",
        "text",
        "category",
        "difficulty",
        "min_age",
        "max_age",
        "tags",
        "occasion",
        "wordings",
    ]
    path = tmp_path / "questions.parquet"
    frame.to_parquet(path, index=False)

    loaded = load_bank(path)
    assert list(loaded) == list(bank)
    assert np.array_equal(loaded.occasion_index, bank.occasion_index)
    assert np.array_equal(loaded.max_age, bank.max_age)
    stored = pd.read_parquet(path)
    first_with_wordings = next(i for i, question in enumerate(bank) if question.wordings)
    assert (
        json.loads(stored["wordings"][first_with_wordings])
        == bank[first_with_wordings].model_dump(mode="json")["wordings"]
    )
    assert list(stored["tags"][0]) == bank[0].tags


def test_a_directory_of_jsonl_files_loads_sorted(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "b.jsonl", [record(id="memories-002"), record(id="dreams-001", category="dreams")])
    write_jsonl(tmp_path / "a.jsonl", [record(id="memories-001", occasion="chuseok", max_age=80)])
    (tmp_path / "notes.txt").write_text("not a bank file")
    bank = load_bank(tmp_path)
    assert bank.ids.tolist() == ["dreams-001", "memories-001", "memories-002"]
    assert bank.by_id("dreams-001").category is Category.DREAMS
    assert bank.occasion_index.tolist() == [NO_OCCASION, OCCASIONS.index(Occasion.CHUSEOK), NO_OCCASION]
    assert bank.max_age.tolist() == [NO_MAX_AGE, 80, NO_MAX_AGE]


def test_blank_lines_are_ignored(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "questions.jsonl", [record(), "", "   ", record(id="memories-002")])
    assert len(load_bank(path)) == 2


def _load_error(path: Path) -> str:
    with pytest.raises(BankError) as caught:
        load_bank(path)
    return str(caught.value)


def test_a_malformed_json_line_is_named(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "questions.jsonl", [record(), '{"id": "memories-002", "text": '])
    assert _load_error(path).startswith("questions.jsonl line 2: malformed JSON: ")


def test_a_line_that_is_not_an_object_is_named(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "questions.jsonl", [record(), "[1, 2]"])
    assert _load_error(path) == "questions.jsonl line 2: expected a JSON object, got list"


def test_a_wrong_type_names_the_field(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "questions.jsonl", [record(), record(id="memories-002", min_age="four")])
    assert _load_error(path).startswith("questions.jsonl line 2, field 'min_age': Input should be a valid integer")


def test_an_unknown_field_is_named(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "questions.jsonl", [record(colour="blue")])
    assert _load_error(path) == "questions.jsonl line 1, field 'colour': unknown field (not in the schema)"


def test_an_out_of_range_difficulty_is_named(tmp_path: Path) -> None:
    lines = [record(id=f"memories-{n:03d}") for n in range(1, 12)] + [record(id="memories-012", difficulty=4)]
    path = write_jsonl(tmp_path / "questions.jsonl", lines)
    assert _load_error(path) == "questions.jsonl line 12, field 'difficulty': Input should be less than or equal to 3"


def test_a_cross_field_rule_names_the_line(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "questions.jsonl", [record(difficulty=3, min_age=8)])
    assert _load_error(path) == "questions.jsonl line 1: Value error, difficulty 3 needs min_age >= 12"


def test_a_nested_field_is_named_with_its_path(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "questions.jsonl", [record(wordings={"toddler": "안녕?"})])
    assert _load_error(path).startswith("questions.jsonl line 1, field 'wordings.toddler.[key]': Input should be")


def test_a_duplicate_id_names_both_lines(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "questions.jsonl", [record(), record(id="memories-002"), record(text="다른 질문이에요?")]
    )
    assert _load_error(path) == (
        "questions.jsonl line 3, field 'id': duplicate id 'memories-001' (first at questions.jsonl line 1)"
    )


def test_a_duplicate_id_across_files_names_both_files(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "a.jsonl", [record()])
    write_jsonl(tmp_path / "b.jsonl", [record(id="memories-002"), record()])
    assert _load_error(tmp_path) == "b.jsonl line 2, field 'id': duplicate id 'memories-001' (first at a.jsonl line 1)"


def test_a_bad_parquet_row_is_named_by_row(tmp_path: Path) -> None:
    questions = [Question.model_validate(record(id=f"memories-{n:03d}")) for n in range(1, 4)]
    frame = QuestionBank(questions).to_frame()
    frame.loc[1, "difficulty"] = 7
    path = tmp_path / "bad.parquet"
    frame.to_parquet(path, index=False)
    assert _load_error(path) == "bad.parquet row 1, field 'difficulty': Input should be less than or equal to 3"


def test_a_duplicate_parquet_id_names_both_rows(tmp_path: Path) -> None:
    questions = [Question.model_validate(record(id=f"memories-{n:03d}")) for n in range(1, 4)]
    frame = QuestionBank(questions).to_frame()
    frame.loc[2, "id"] = "memories-001"
    path = tmp_path / "dup.parquet"
    frame.to_parquet(path, index=False)
    assert (
        _load_error(path) == "dup.parquet row 2, field 'id': duplicate id 'memories-001' (first at dup.parquet row 0)"
    )


def test_unusable_paths_are_bank_errors(tmp_path: Path) -> None:
    assert "no such file" in _load_error(tmp_path / "missing.jsonl")
    assert "expected a .jsonl or .parquet" in _load_error(write_jsonl(tmp_path / "questions.csv", [record()]))
    assert "no .jsonl files" in _load_error(tmp_path)
    (tmp_path / "broken.parquet").write_bytes(b"not parquet")
    assert _load_error(tmp_path / "broken.parquet").startswith("broken.parquet: not a readable Parquet file")


def test_from_frame_keeps_row_order(tmp_path: Path) -> None:
    questions = [Question.model_validate(record(id=f"memories-{n:03d}")) for n in (3, 1, 2)]
    bank = QuestionBank.from_frame(QuestionBank(questions).to_frame())
    assert bank.ids.tolist() == ["memories-003", "memories-001", "memories-002"]
    assert list(load_bank(write_bank(tmp_path / "q.jsonl", questions))) == sorted(questions, key=lambda q: q.id)
