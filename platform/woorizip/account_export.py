"""`GET /v1/me/export`: everything we hold about an account, gathered from every domain that holds some.

It lives above the domains (like `app.py`) because it reads several of them; each domain contributes
through its service module.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter
from pydantic import BaseModel

from woorizip.auth import service as auth_service
from woorizip.auth.dependencies import CurrentUser
from woorizip.auth.schemas import AccountExport
from woorizip.dependencies import DbSession
from woorizip.family import service as family_service
from woorizip.family.schemas import ExportedMembership
from woorizip.openapi import ContractRoute

router = APIRouter(prefix="/v1/me", tags=["accounts"], route_class=ContractRoute)


class Export(BaseModel):
    """The account's data (Korean privacy law's access right), as JSON."""

    exported_at: datetime
    account: AccountExport
    families: list[ExportedMembership]


@router.get("/export", response_model=Export)
def export_my_data(user: CurrentUser, session: DbSession) -> Export:
    """Everything we hold about my account."""
    return Export(
        exported_at=datetime.now(UTC),
        account=auth_service.export_account(session=session, user=user),
        families=family_service.families_of(session=session, user_id=user.id),
    )
