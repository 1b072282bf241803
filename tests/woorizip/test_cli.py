"""The `woorizip` command line as a user runs it: a real process in a fresh data directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

WOORIZIP = str(Path(sys.executable).with_name("woorizip"))


def run(*args: str, data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "WOORIZIP_DATA_DIR": str(data_dir), **env}
    return subprocess.run([WOORIZIP, *args], env=environment, capture_output=True, text=True, timeout=300)


def json_log_lines(*outputs: str) -> list[str]:
    return [line for output in outputs for line in output.splitlines() if line.lstrip().startswith("{")]


def test_commands_log_plain_warnings_only_unless_verbose(tmp_path: Path) -> None:
    quiet = run("db", "upgrade", data_dir=tmp_path / "quiet", WOORIZIP_LOG_JSON="true")  # JSON is for services
    assert quiet.returncode == 0, quiet.stderr
    assert json_log_lines(quiet.stderr) == []
    assert [line for line in quiet.stderr.splitlines() if line.startswith("INFO")] == []

    verbose = run("-v", "db", "upgrade", data_dir=tmp_path / "verbose", WOORIZIP_LOG_JSON="true")
    assert verbose.returncode == 0, verbose.stderr
    assert json_log_lines(verbose.stderr) == []
    assert "INFO alembic.runtime.migration: Running upgrade  -> 0001" in verbose.stderr
    assert verbose.stdout.startswith("database at revision")


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
        assert json_log_lines(result.stdout, result.stderr) == [], "the console is for a person: no JSON log lines"
        again = run("demo", "--no-serve", data_dir=data_dir, WOORIZIP_MODELS_DIR=models)
        assert again.returncode == 0, again.stdout + again.stderr[-3000:]
        assert "✓ question bank: 616 questions (0 new, 0 updated)" in again.stdout
        assert "✓ history: the content store already has events (kept)" in again.stdout
        assert "✓ champion: version 1" in again.stdout
        doctor = run("doctor", "--json", data_dir=data_dir)
        backends = {b["concern"]: b for b in json.loads(doctor.stdout)["backends"]}
        assert backends["content"]["backend"] == "secantusdb-embedded" and backends["content"]["ok"]
        _serve_then_stop(data_dir=data_dir, models=models)
    finally:
        run("content", "stop", data_dir=data_dir)


def _serve_then_stop(*, data_dir: Path, models: str) -> None:
    """`woorizip demo` serving, stopped as a service manager stops it, leaves no Prefect server behind."""
    import signal
    import socket
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # No PREFECT_API_URL: the demo's flows start Prefect's temporary server, as on a fresh machine.
    environment = {key: value for key, value in os.environ.items() if key != "PREFECT_API_URL"}
    environment |= {"WOORIZIP_DATA_DIR": str(data_dir), "WOORIZIP_LOG_JSON": "false", "WOORIZIP_MODELS_DIR": models}
    demo = subprocess.Popen(
        [WOORIZIP, "demo", "--port", str(port)], env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        prefect_servers: list[psutil.Process] = []
        deadline = time.monotonic() + 240
        while True:
            assert demo.poll() is None, demo.stderr.read().decode()[-3000:] if demo.stderr else ""
            prefect_servers += [child for child in _prefect_servers_under(demo.pid) if child not in prefect_servers]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
                    if json.loads(response.read())["status"] == "ready":
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the demo never became ready"
            time.sleep(0.2)
        assert prefect_servers, "the demo's flows should have started Prefect's temporary server"
        demo.send_signal(signal.SIGTERM)
        assert demo.wait(timeout=30) is not None
        _, alive = psutil.wait_procs(prefect_servers, timeout=10)
        assert not alive, f"Prefect's temporary server outlived the demo: {[p.pid for p in alive]}"
    finally:
        if demo.poll() is None:
            demo.kill()


def _prefect_servers_under(pid: int) -> list[psutil.Process]:
    found = []
    for child in psutil.Process(pid).children(recursive=True):
        try:
            if "prefect.server.api.server:create_app" in " ".join(child.cmdline()):
                found.append(child)
        except psutil.Error:  # it ended between the listing and the look
            continue
    return found
