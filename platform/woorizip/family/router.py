"""`/v1/families` (families, members, invitations) and `/v1/invitations/{code}` (the invitee's side).

Who may call a family route is declared by its dependency (`FamilyMember`, `FamilyManager`,
`FamilyOwner` from `dependencies.py`); no route checks membership or roles itself.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path

from woorizip.auth.dependencies import CurrentUser, DbSession
from woorizip.family import service
from woorizip.family.dependencies import FamilyManager, FamilyMember, FamilyOwner
from woorizip.family.schemas import (
    HEX_ID,
    FamilyCreate,
    FamilyRead,
    FamilyUpdate,
    InvitationAccept,
    InvitationCreate,
    InvitationPreview,
    InvitationRead,
    Joined,
    ManagedMemberCreate,
    MemberProfileUpdate,
    MemberRead,
    MemberUpdate,
    OwnershipTransfer,
)
from woorizip.problems import PROBLEM_MEDIA_TYPE, Problem

Responses = dict[int | str, dict[str, Any]]


def _problems(*statuses: int) -> Responses:
    return {status: {"model": Problem, "content": {PROBLEM_MEDIA_TYPE: {}}} for status in (401, 422, *statuses)}


MemberId = Annotated[str, Path(pattern=HEX_ID)]
InvitationId = Annotated[str, Path(pattern=HEX_ID)]
Code = Annotated[str, Path(min_length=1, max_length=32, description="8 characters, case-insensitive")]

families = APIRouter(prefix="/v1/families", tags=["families"])
invitations = APIRouter(prefix="/v1/invitations", tags=["families"])


@families.post("", status_code=201, response_model=FamilyRead, responses=_problems())
def create_family(body: FamilyCreate, user: CurrentUser, session: DbSession) -> FamilyRead:
    return service.create_family(session=session, user=user, family_create=body)


@families.get("", response_model=list[FamilyRead], responses=_problems())
def list_my_families(user: CurrentUser, session: DbSession) -> list[FamilyRead]:
    return service.my_families(session=session, user_id=user.id)


@families.get("/{family_id}", response_model=FamilyRead, responses=_problems(404))
def read_family(membership: FamilyMember) -> FamilyRead:
    return service.family_read(family=membership.family, member=membership.member)


@families.patch("/{family_id}", response_model=FamilyRead, responses=_problems(403, 404))
def update_family(body: FamilyUpdate, membership: FamilyManager, session: DbSession) -> FamilyRead:
    return service.update_family(session=session, membership=membership, family_update=body)


@families.get("/{family_id}/members", response_model=list[MemberRead], responses=_problems(404))
def list_members(membership: FamilyMember, session: DbSession) -> list[MemberRead]:
    return service.member_profiles(session=session, family_id=membership.family.id)


@families.post("/{family_id}/members", status_code=201, response_model=MemberRead, responses=_problems(403, 404))
def add_managed_member(body: ManagedMemberCreate, membership: FamilyManager, session: DbSession) -> MemberRead:
    return service.add_managed_member(session=session, membership=membership, member_create=body)


# Declared before `/members/{member_id}` so that "me" is not taken for a (malformed) member id.
@families.patch("/{family_id}/members/me", response_model=MemberRead, responses=_problems(404))
def update_my_profile(body: MemberProfileUpdate, membership: FamilyMember, session: DbSession) -> MemberRead:
    return service.update_my_profile(session=session, membership=membership, profile_update=body)


@families.patch("/{family_id}/members/{member_id}", response_model=MemberRead, responses=_problems(403, 404, 409))
def update_member(member_id: MemberId, body: MemberUpdate, membership: FamilyManager, session: DbSession) -> MemberRead:
    return service.update_member(session=session, membership=membership, member_id=member_id, member_update=body)


@families.delete("/{family_id}/members/{member_id}", status_code=204, responses=_problems(403, 404, 409))
def remove_member(member_id: MemberId, membership: FamilyManager, session: DbSession) -> None:
    service.remove_member(session=session, membership=membership, member_id=member_id)


@families.post("/{family_id}/leave", status_code=204, responses=_problems(404, 409))
def leave_family(membership: FamilyMember, session: DbSession) -> None:
    service.leave(session=session, membership=membership)


@families.post("/{family_id}/ownership", response_model=list[MemberRead], responses=_problems(403, 404, 409))
def transfer_ownership(body: OwnershipTransfer, membership: FamilyOwner, session: DbSession) -> list[MemberRead]:
    return service.transfer_ownership(session=session, membership=membership, member_id=body.member_id)


@families.post(
    "/{family_id}/invitations", status_code=201, response_model=InvitationRead, responses=_problems(403, 404)
)
def create_invitation(body: InvitationCreate, membership: FamilyManager, session: DbSession) -> InvitationRead:
    return service.create_invitation(session=session, membership=membership, invitation_create=body)


@families.get("/{family_id}/invitations", response_model=list[InvitationRead], responses=_problems(403, 404))
def list_invitations(membership: FamilyManager, session: DbSession) -> list[InvitationRead]:
    return service.list_invitations(session=session, membership=membership)


@families.delete("/{family_id}/invitations/{invitation_id}", status_code=204, responses=_problems(403, 404))
def revoke_invitation(invitation_id: InvitationId, membership: FamilyManager, session: DbSession) -> None:
    service.revoke_invitation(session=session, membership=membership, invitation_id=invitation_id)


@invitations.get("/{code}", response_model=InvitationPreview, responses=_problems(404, 410))
def preview_invitation(code: Code, user: CurrentUser, session: DbSession) -> InvitationPreview:
    return service.preview_invitation(session=session, code=code)


@invitations.post("/{code}/accept", status_code=201, response_model=Joined, responses=_problems(404, 409, 410))
def accept_invitation(
    code: Code, user: CurrentUser, session: DbSession, body: Annotated[InvitationAccept | None, Body()] = None
) -> Joined:
    return service.accept_invitation(session=session, user=user, code=code, accept=body or InvitationAccept())


# app.py includes this one router.
router = APIRouter()
router.include_router(families)
router.include_router(invitations)
