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
    return subprocess.run([WOORIZIP, *args], env=environment, capture_output=True, text=True, timeout=120)


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
def test_demo_prepares_the_embedded_installation(data_dir: Path) -> None:
    try:
        result = run("demo", "--no-serve", data_dir=data_dir)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "✓ every backing service answers" in result.stdout
        assert "✓ question bank: 616 questions (616 new" in result.stdout
        again = run("demo", "--no-serve", data_dir=data_dir)
        assert "✓ question bank: 616 questions (0 new, 0 updated)" in again.stdout
        doctor = run("doctor", "--json", data_dir=data_dir)
        backends = {b["concern"]: b for b in json.loads(doctor.stdout)["backends"]}
        assert backends["content"]["backend"] == "secantusdb-embedded" and backends["content"]["ok"]
    finally:
        run("content", "stop", data_dir=data_dir)
