"""Object storage for media and snapshots: a local directory by default, S3 in production."""

from woorizip.storage.base import ObjectNotFound, ObjectStore, validate_key
from woorizip.storage.factory import build_object_store

__all__ = ["ObjectNotFound", "ObjectStore", "build_object_store", "validate_key"]
