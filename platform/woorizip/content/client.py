"""pymongo client for the configured content store (a URL, or the embedded server)."""

from __future__ import annotations

from typing import Any

from pymongo import MongoClient
from pymongo.database import Database

from woorizip.content.embedded import ensure_server
from woorizip.settings import Settings

ContentDatabase = Database[dict[str, Any]]


def content_uri(settings: Settings) -> str:
    """The MongoDB URI in use, starting the embedded server when no URL is configured."""
    if settings.mongo_url:
        return settings.mongo_url
    return ensure_server(settings.content_dir).uri


def build_client(settings: Settings) -> MongoClient[dict[str, Any]]:
    return MongoClient(
        content_uri(settings),
        serverSelectionTimeoutMS=int(settings.backend_timeout_seconds * 1000),
        tz_aware=True,
    )


def backend_name(settings: Settings) -> str:
    return "mongodb" if settings.mongo_url else "secantusdb-embedded"
