"""Cursor pagination for every list that can grow: `?limit=&cursor=` in, `{"items", "next_cursor"}` out.

Cursors are opaque to clients: the sort key of the last item handed out, so a page is the same
however many items were added before it meanwhile (keyset pagination, no OFFSET).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, Field

from woorizip.problems import INVALID_CURSOR, raises

DEFAULT_LIMIT = 50
MAX_LIMIT = 100

Item = TypeVar("Item")


class Page(BaseModel, Generic[Item]):
    """One page of a list; pass `next_cursor` back as `cursor` for the next one (null: this was the last)."""

    items: list[Item]
    next_cursor: str | None = Field(description="the `cursor` of the next page; null on the last page")


@dataclass(frozen=True)
class PageRequest:
    """What page the client asked for: at most `limit` items after the sort key `after` (None: from the start)."""

    limit: int
    after: tuple[datetime, str] | None


def encode_cursor(moment: datetime, item_id: str) -> str:
    raw = json.dumps([moment.isoformat(), item_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        moment, item_id = json.loads(raw)
        return datetime.fromisoformat(moment), str(item_id)
    except (binascii.Error, ValueError, TypeError) as error:
        raise INVALID_CURSOR.error("the cursor is not one this list handed out: start from the first page") from error


@raises(INVALID_CURSOR)
def page_request(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="items per page")] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None,
        Query(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_-]+$", description="`next_cursor` of the last page"),
    ] = None,
) -> PageRequest:
    return PageRequest(limit=limit, after=None if cursor is None else _decode(cursor))


PageParams = Annotated[PageRequest, Depends(page_request)]
