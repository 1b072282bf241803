"""Pick the object store from settings."""

from __future__ import annotations

from woorizip.settings import Settings
from woorizip.storage.base import ObjectStore
from woorizip.storage.local import LocalObjectStore
from woorizip.storage.s3 import S3ObjectStore


def build_object_store(settings: Settings) -> ObjectStore:
    if settings.s3_bucket:
        return S3ObjectStore(
            bucket=settings.s3_bucket,
            region=settings.s3_region,
            endpoint_url=settings.s3_endpoint_url,
            timeout_seconds=settings.backend_timeout_seconds,
        )
    return LocalObjectStore(root=settings.media_dir)
