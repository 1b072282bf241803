"""The `woorizip` command line as a user runs it: a real process in a fresh data directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

WOORIZIP = str(Path(sys.executable).with_name("woorizip"))


def run(*args: str, data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "WOORIZIP_DATA_DIR": str(data_dir), "WOORIZIP_LOG_JSON": "false", **env}
    return subprocess.run([WOORIZIP, *args], env=environment, capture_output=True, text=True, timeout=300)


def test_doctor_json_reports_each_backend_and_fails_before_migration(data_dir: Path, mongo_url: str) -> None:
    before = run("doctor", "--json", data_dir=data_dir, WOORIZIP_MONGO_URL=mongo_url)
    assert before.returncode == 1
    report = json.loads(before.stdout)
    assert report["ok"] is False
    assert {b["concern"] for b in report["backends"]} == {"database", "content", "cache", "queue", "object_store"}

    upgraded = run("db", "upgrade", data_dir=data_dir)
    assert upgraded.returncode == 0, upgraded.stderr
    after = run("doctor", "--json", data_dir=data_dir, WOORIZIP_MONGO_URL=mongo_url)
    assert after.returncode == 0, after.stdout
    assert all(b["ok"] for b in json.loads(after.stdout)["backends"])


def test_doctor_names_an_unreachable_backend(data_dir: Path, mongo_url: str) -> None:
    result = run("doctor", data_dir=data_dir, WOORIZIP_MONGO_URL=mongo_url, WOORIZIP_REDIS_URL="redis://127.0.0.1:1")
    assert result.returncode == 1
    line = next(line for line in result.stdout.splitlines() if " cache " in line)
    assert line.startswith("FAIL") and "redis" in line


@pytest.mark.slow
def test_demo_prepares_the_embedded_installation_end_to_end(data_dir: Path, tmp_path: Path) -> None:
    models = str(tmp_path / "models")
    try:
        result = run("demo", "--no-serve", "--families", "120", "--days", "30", data_dir=data_dir,
                     WOORIZIP_MODELS_DIR=models)  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr[-3000:]
        assert "✓ every backing service answers" in result.stdout
        assert "✓ question bank: 616 questions (616 new" in result.stdout
        assert "✓ history: simulated 120 families x 30 days" in result.stdout
        assert "✓ trained version 1 on snapshot" in result.stdout and "promoted to champion" in result.stdout
        assert "✓ tomorrow's questions:" in result.stdout
        assert "MLflow UI:" in result.stdout and "Prefect UI:" in result.stdout
        assert (tmp_path / "models" / "CHAMPION.md").is_file()
        again = run("demo", "--no-serve", data_dir=data_dir, WOORIZIP_MODELS_DIR=models)
        assert again.returncode == 0, again.stdout + again.stderr[-3000:]
        assert "✓ question bank: 616 questions (0 new, 0 updated)" in again.stdout
        assert "✓ history: the content store already has events (kept)" in again.stdout
        assert "✓ champion: version 1" in again.stdout
        doctor = run("doctor", "--json", data_dir=data_dir)
        backends = {b["concern"]: b for b in json.loads(doctor.stdout)["backends"]}
        assert backends["content"]["backend"] == "secantusdb-embedded" and backends["content"]["ok"]
    finally:
        run("content", "stop", data_dir=data_dir)
