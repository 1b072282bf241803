"""`woorizip serve` on the embedded default migrates its own database first; an external one it leaves alone."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from tests.conftest import free_port
from woorizip import cli
from woorizip.db import migrate
from woorizip.settings import Settings, get_settings

WOORIZIP = str(Path(sys.executable).with_name("woorizip"))


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """`serve` up to uvicorn: logging set-up recorded instead of done, uvicorn's run recorded."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr("woorizip.logs.configure_logging", lambda **kwargs: calls.append({"logging": kwargs}))
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: calls.append({"uvicorn": app, **kwargs}))
    get_settings.cache_clear()
    yield calls
    get_settings.cache_clear()


def test_only_the_embedded_database_is_migrated_by_serve() -> None:
    assert cli.migrates_on_serve(Settings(_env_file=None))  # type: ignore[call-arg]
    for url in ("postgresql+psycopg://woorizip@db.internal/woorizip", "sqlite:////srv/shared/woorizip.db"):
        assert not cli.migrates_on_serve(Settings(_env_file=None, database_url=url))  # type: ignore[call-arg]


def test_serve_migrates_the_embedded_database_before_serving(
    served: list[dict[str, Any]], data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WOORIZIP_DATA_DIR", str(data_dir))
    url = get_settings().resolved_database_url
    monkeypatch.setattr(
        uvicorn, "run", lambda app, **kwargs: served.append({"revision": migrate.current_revision_at(url)})
    )

    cli.serve(host=None, port=None, workers=1)

    assert served[0] == {"logging": {"level": "INFO", "json_lines": True}}
    assert served[1] == {"revision": migrate.head_revision()}


def test_serve_leaves_an_external_database_to_db_upgrade(
    served: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WOORIZIP_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/x")

    def refuse(**_: Any) -> None:
        raise AssertionError("serve must not migrate an external database")

    monkeypatch.setattr(migrate, "upgrade", refuse)

    cli.serve(host=None, port=None, workers=1)

    assert served[-1]["uvicorn"] == "woorizip.app:create_app"


def test_a_newcomers_serve_comes_up_ready_and_logs_json_lines(data_dir: Path, mongo_url: str, tmp_path: Path) -> None:
    port = free_port()
    environment = {**os.environ, "WOORIZIP_DATA_DIR": str(data_dir), "WOORIZIP_MONGO_URL": mongo_url}
    log = tmp_path / "serve.log"
    with log.open("w") as stderr:
        server = subprocess.Popen(
            [WOORIZIP, "serve", "--port", str(port)], env=environment, stdout=subprocess.DEVNULL, stderr=stderr
        )
        try:
            readiness, deadline = None, time.monotonic() + 90
            while readiness is None:  # 200 once every backend answers, the migrated database included
                assert server.poll() is None, log.read_text()[-3000:]
                assert time.monotonic() < deadline, f"never ready:\n{log.read_text()[-3000:]}"
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
                        readiness = json.loads(response.read())
                except OSError:  # not listening yet, or 503
                    time.sleep(0.2)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    database = next(backend for backend in readiness["backends"] if backend["concern"] == "database")
    assert database["ok"] and readiness["status"] in ("ready", "degraded: no model")  # no model trained yet
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert any(record["message"].startswith("embedded database at revision") for record in records)
