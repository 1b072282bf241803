"""Loading the question bank into the content store, over the MongoDB wire protocol, and its CLI."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient
from pymongo.database import Database
from typer.testing import CliRunner

from recsys.catalog import QuestionBank, load_bank
from tests.recsys.banks import synthetic_questions, write_bank, write_jsonl
from woorizip.recommender.bank import HASH_FIELD, LoadReport, content_hash, load_question_bank
from woorizip.recommender.questions_cli import questions_app
from woorizip.settings import get_settings


@pytest.fixture
def database_name() -> str:
    return f"wz_questions_{uuid.uuid4().hex[:10]}"


@pytest.fixture
def client(mongo_url: str) -> Iterator[MongoClient[dict[str, Any]]]:
    connection: MongoClient[dict[str, Any]] = MongoClient(mongo_url, tz_aware=True)
    try:
        yield connection
    finally:
        connection.close()


@pytest.fixture
def content(client: MongoClient[dict[str, Any]], database_name: str) -> Iterator[Database[dict[str, Any]]]:
    yield client[database_name]
    client.drop_database(database_name)


def test_loading_twice_writes_nothing_the_second_time(content: Database[dict[str, Any]]) -> None:
    bank = load_bank()
    first = load_question_bank(content=content, bank=bank)
    assert first == LoadReport(inserted=len(bank), updated=0, unchanged=0, total=len(bank))
    second = load_question_bank(content=content, bank=bank)
    assert second == LoadReport(inserted=0, updated=0, unchanged=len(bank), total=len(bank))

    assert content["questions"].count_documents({}) == len(bank)
    question = bank[0]
    stored = content["questions"].find_one({"_id": question.id})
    assert stored is not None
    assert {key: value for key, value in stored.items() if key not in ("_id", HASH_FIELD)} == question.model_dump(
        mode="json", exclude={"id"}
    )
    assert stored[HASH_FIELD] == content_hash(question)


def test_a_changed_text_counts_as_one_update(content: Database[dict[str, Any]]) -> None:
    bank = load_bank()
    load_question_bank(content=content, bank=bank)
    changed = bank[3].model_copy(update={"text": bank[3].text + " (수정)"})
    edited = QuestionBank([changed if question.id == changed.id else question for question in bank])

    report = load_question_bank(content=content, bank=edited)
    assert report == LoadReport(inserted=0, updated=1, unchanged=len(bank) - 1, total=len(bank))
    stored = content["questions"].find_one({"_id": changed.id})
    assert stored is not None and stored["text"] == changed.text
    assert load_question_bank(content=content, bank=edited).updated == 0


def test_new_questions_are_inserted_beside_existing_ones(content: Database[dict[str, Any]]) -> None:
    questions = synthetic_questions(per_cell=2)
    load_question_bank(content=content, bank=QuestionBank(questions[:10]))
    report = load_question_bank(content=content, bank=QuestionBank(questions))
    assert report == LoadReport(inserted=len(questions) - 10, updated=0, unchanged=10, total=len(questions))


def test_the_recommender_indexes_exist(content: Database[dict[str, Any]]) -> None:
    load_question_bank(content=content, bank=QuestionBank(synthetic_questions(per_cell=1)))
    keys = {tuple(index["key"].items()) for index in content["questions"].list_indexes()}
    assert {
        (("category", 1),),
        (("difficulty", 1),),
        (("min_age", 1),),
        (("category", 1), ("difficulty", 1)),
    } <= keys


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, mongo_url: str, database_name: str) -> Iterator[None]:
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    monkeypatch.setenv("WOORIZIP_MONGO_URL", mongo_url)
    monkeypatch.setenv("WOORIZIP_MONGO_DATABASE", database_name)
    monkeypatch.setenv("WOORIZIP_DATA_DIR", str(data_dir))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("cli_env")
def test_cli_loads_a_valid_bank_idempotently(tmp_path: Path, content: Database[dict[str, Any]]) -> None:
    questions = synthetic_questions(per_cell=20)
    path = write_bank(tmp_path / "bank.jsonl", questions)
    runner = CliRunner()

    first = runner.invoke(questions_app, ["load", "--path", str(path)])
    assert first.exit_code == 0, first.output
    assert f"{len(questions)} inserted, 0 updated, 0 unchanged, {len(questions)} total" in first.stdout
    second = runner.invoke(questions_app, ["load", "--path", str(path)])
    assert second.exit_code == 0, second.output
    assert f"0 inserted, 0 updated, {len(questions)} unchanged" in second.stdout
    assert content["questions"].count_documents({}) == len(questions)


@pytest.mark.usefixtures("cli_env")
def test_cli_refuses_a_bank_with_problems_unless_forced(tmp_path: Path, content: Database[dict[str, Any]]) -> None:
    questions = synthetic_questions(per_cell=1)
    path = write_bank(tmp_path / "small.jsonl", questions)
    runner = CliRunner()

    refused = runner.invoke(questions_app, ["load", "--path", str(path)])
    assert refused.exit_code == 1
    assert f"problem: the bank has {len(questions)} questions; at least 600 are needed" in refused.stderr
    assert "refusing to load" in refused.stderr
    assert content["questions"].count_documents({}) == 0

    forced = runner.invoke(questions_app, ["load", "--path", str(path), "--force"])
    assert forced.exit_code == 0, forced.output
    assert f"{len(questions)} inserted" in forced.stdout
    assert content["questions"].count_documents({}) == len(questions)


@pytest.mark.usefixtures("cli_env")
def test_cli_names_the_bad_line_of_an_unreadable_bank(tmp_path: Path, content: Database[dict[str, Any]]) -> None:
    path = write_jsonl(tmp_path / "broken.jsonl", ['{"id": "memories-001",'])
    result = CliRunner().invoke(questions_app, ["load", "--path", str(path), "--force"])
    assert result.exit_code == 1
    assert "cannot read the question bank: broken.jsonl line 1: malformed JSON" in result.stderr
    assert content["questions"].count_documents({}) == 0


@pytest.mark.usefixtures("cli_env")
def test_cli_loads_the_packaged_bank_by_default(content: Database[dict[str, Any]]) -> None:
    # --force: the packaged bank's own quality is the data tests' business, not the loader's.
    result = CliRunner().invoke(questions_app, ["load", "--force"])
    assert result.exit_code == 0, result.output
    assert content["questions"].count_documents({}) == len(load_bank())
