"""The content store: pymongo against SecantusDB, and the embedded launcher shared by processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pymongo import ASCENDING, MongoClient

from tests.woorizip.conftest import SettingsFactory
from woorizip.content.client import build_client
from woorizip.content.embedded import ensure_server, running_server, stop_server


def test_crud_and_indexes_over_the_wire(make_settings: SettingsFactory) -> None:
    client = build_client(make_settings(mongo_database="wz_crud"))
    try:
        questions = client["wz_crud"]["questions"]
        questions.drop()
        questions.create_index([("category", ASCENDING), ("difficulty", ASCENDING)])
        questions.insert_many([{"_id": f"q{i}", "category": "memories", "difficulty": i % 3 + 1} for i in range(30)])
        assert questions.count_documents({"difficulty": 2}) == 10
        counts = {
            row["_id"]: row["n"] for row in questions.aggregate([{"$group": {"_id": "$difficulty", "n": {"$sum": 1}}}])
        }
        assert counts == {1: 10, 2: 10, 3: 10}
        assert any("category" in index["key"] for index in questions.list_indexes())
    finally:
        client.close()


@pytest.mark.slow
def test_embedded_server_is_shared_between_processes_and_keeps_data(tmp_path: Path) -> None:
    storage = tmp_path / "content"
    code = (
        "import sys, pathlib; from woorizip.content.embedded import ensure_server;"
        "r = ensure_server(pathlib.Path(sys.argv[1])); print(r.pid, r.port)"
    )
    try:
        # Two processes race to start it: exactly one server results and both get its address.
        runs = [
            subprocess.Popen(
                [sys.executable, "-c", code, str(storage)],
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        outputs = {run.communicate(timeout=90)[0].strip() for run in runs}
        assert len(outputs) == 1, outputs
        record = running_server(storage)
        assert record is not None
        assert outputs == {f"{record.pid} {record.port}"}

        with MongoClient(record.uri) as client:
            client["wz"]["answers"].insert_one({"_id": "a1", "text": "오늘 고마웠어요"})
        assert stop_server(storage)
        assert running_server(storage) is None

        restarted = ensure_server(storage)
        assert restarted.pid != record.pid
        with MongoClient(restarted.uri) as client:
            assert client["wz"]["answers"].find_one({"_id": "a1"}) == {"_id": "a1", "text": "오늘 고마웠어요"}
    finally:
        stop_server(storage)
