"""Shared fixtures: real backing services on loopback, and settings pointing at them.

PostgreSQL and Redis are the machine's own servers. Locally a test that needs one and finds
none is skipped with the reason; under CI=true it fails instead. SecantusDB and moto's S3
server are started here, on free loopback ports, on every run.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"
POSTGRES_URL = os.environ.get("WOORIZIP_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("WOORIZIP_TEST_REDIS_URL", "redis://127.0.0.1:6379")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _unavailable(what: str, error: BaseException) -> None:
    message = f"{what} is not reachable: {error}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true requires it)")
    pytest.skip(message)


def _worker_index() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(worker.removeprefix("gw") or 0)


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """The machine's PostgreSQL `test` database, or skip/fail."""
    import sqlalchemy as sa

    engine = sa.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except Exception as error:
        _unavailable("PostgreSQL", error)
    finally:
        engine.dispose()
    return POSTGRES_URL


@contextmanager
def postgres_schema(server_url: str) -> Iterator[str]:
    """A URL whose search_path is a fresh schema, dropped afterwards: tests never share tables."""
    import sqlalchemy as sa

    schema = f"wz_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server_url)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{server_url}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    with postgres_schema(postgres_server_url) as url:
        yield url


@pytest.fixture
def redis_url() -> str:
    """A Redis database of its own for this xdist worker, emptied before the test."""
    import redis

    url = f"{REDIS_URL}/{15 - _worker_index()}"
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.flushdb()
    except Exception as error:
        _unavailable("Redis", error)
    finally:
        client.close()
    return url


@pytest.fixture(scope="session")
def mongo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A SecantusDB server (MongoDB wire protocol) started through the project's own launcher."""
    from woorizip.content.embedded import ensure_server, stop_server

    storage = tmp_path_factory.mktemp("secantus")
    record = ensure_server(storage)
    yield record.uri
    stop_server(storage)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server speaking real S3 HTTP on a loopback port."""
    from moto.server import ThreadedMotoServer

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint: str) -> str:
    import boto3

    name = f"wz-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="ap-northeast-2").create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": "ap-northeast-2"}
    )
    return name


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "var"
    path.mkdir()
    return path


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's .env or WOORIZIP_* variables by accident."""
    for key in list(os.environ):
        if key.startswith("WOORIZIP_") and not key.startswith("WOORIZIP_TEST_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
