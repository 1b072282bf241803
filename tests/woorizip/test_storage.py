"""The object-store contract on a local directory and on S3 (moto's real HTTP server)."""

from __future__ import annotations

import pytest

from tests.woorizip.conftest import SettingsFactory
from woorizip.storage import ObjectNotFound, ObjectStore, build_object_store


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, make_settings: SettingsFactory) -> ObjectStore:
    if request.param == "s3":
        settings = make_settings(
            s3_bucket=request.getfixturevalue("s3_bucket"), s3_endpoint_url=request.getfixturevalue("s3_endpoint")
        )
    else:
        settings = make_settings()
    built = build_object_store(settings)
    assert built.backend == request.param
    return built


def test_round_trip(store: ObjectStore) -> None:
    payload = "우리집 사진".encode() * 1000
    store.put("families/f1/photo.jpg", payload, content_type="image/jpeg")
    assert store.exists("families/f1/photo.jpg")
    assert store.get("families/f1/photo.jpg") == payload
    store.put("families/f1/photo.jpg", b"replaced")
    assert store.get("families/f1/photo.jpg") == b"replaced"
    store.delete("families/f1/photo.jpg")
    assert not store.exists("families/f1/photo.jpg")


def test_missing_object(store: ObjectStore) -> None:
    with pytest.raises(ObjectNotFound):
        store.get("nothing/here")


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs", "a/../../b", "a//b", "", "space here"])
def test_keys_cannot_escape(store: ObjectStore, key: str) -> None:
    with pytest.raises(ValueError, match="invalid object key"):
        store.put(key, b"x")


def test_ping(store: ObjectStore) -> None:
    store.ping()


def test_s3_presigned_url_serves_the_object(make_settings: SettingsFactory, s3_bucket: str, s3_endpoint: str) -> None:
    import httpx

    from woorizip.storage.s3 import S3ObjectStore

    store = build_object_store(make_settings(s3_bucket=s3_bucket, s3_endpoint_url=s3_endpoint))
    assert isinstance(store, S3ObjectStore)
    store.put("answers/a1.txt", "고마워요".encode(), content_type="text/plain")
    response = httpx.get(store.presigned_get_url("answers/a1.txt", expires_in=60))
    assert response.status_code == 200
    assert response.content == "고마워요".encode()
