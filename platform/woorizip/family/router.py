"""`/v1/families` (families, members, invitations) and `/v1/invitations/{code}` (the invitee's side).

Who may call a family route is declared by its dependency (`FamilyMember`, `FamilyManager`,
`FamilyOwner` from `dependencies.py`); no route checks membership or roles itself. Routes are plain
`def`: FastAPI runs them in its thread pool, so their database work never blocks the event loop.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Request

from woorizip.auth.dependencies import CurrentUser
from woorizip.dependencies import DbSession
from woorizip.family import errors, service
from woorizip.family.dependencies import FamilyManager, FamilyMember, FamilyOwner
from woorizip.family.schemas import (
    HEX_ID,
    FamilyCreate,
    FamilyPage,
    FamilyRead,
    FamilyUpdate,
    InvitationAccept,
    InvitationCreate,
    InvitationPage,
    InvitationPreview,
    InvitationRead,
    Joined,
    ManagedMemberCreate,
    MemberPage,
    MemberProfileUpdate,
    MemberRead,
    MemberUpdate,
    OwnershipTransfer,
    OwnershipTransferred,
)
from woorizip.openapi import ContractRoute, problems
from woorizip.pagination import PageParams

MemberId = Annotated[str, Path(pattern=HEX_ID, description="32 lowercase hex characters")]
InvitationId = Annotated[str, Path(pattern=HEX_ID, description="32 lowercase hex characters")]
Code = Annotated[
    str,
    Path(min_length=8, max_length=16, pattern=r"^[A-Za-z0-9 -]+$",
         description="8 characters, case-insensitive; spaces and dashes are ignored"),
]  # fmt: skip

families = APIRouter(prefix="/v1/families", tags=["families"], route_class=ContractRoute)
invitations = APIRouter(prefix="/v1/invitations", tags=["families"], route_class=ContractRoute)


def _quotas(request: Request) -> service.Quotas:
    settings = request.app.state.settings
    return service.Quotas(
        families_per_user=settings.max_families_per_user,
        members_per_family=settings.max_members_per_family,
        open_invitations_per_family=settings.max_open_invitations_per_family,
    )


@families.post("", status_code=201, response_model=FamilyRead, responses=problems(errors.QUOTA_EXCEEDED))
def create_family(body: FamilyCreate, request: Request, user: CurrentUser, session: DbSession) -> FamilyRead:
    """Create a family; I become its owner."""
    return service.create_family(session=session, user=user, family_create=body, quotas=_quotas(request))


@families.get("", response_model=FamilyPage)
def list_my_families(user: CurrentUser, session: DbSession, page: PageParams) -> FamilyPage:
    """The families I am an active member of, oldest first."""
    return service.my_families(session=session, user_id=user.id, page=page)


@families.get("/{family_id}", response_model=FamilyRead)
def get_family(membership: FamilyMember) -> FamilyRead:
    """One of my families."""
    return service.family_read(family=membership.family, member=membership.member)


@families.patch("/{family_id}", response_model=FamilyRead, responses=problems(errors.CATEGORY_CONFLICT))
def update_family(body: FamilyUpdate, membership: FamilyManager, session: DbSession) -> FamilyRead:
    """Name, time zone, question time, interests, blocked categories (owner and guardians)."""
    return service.update_family(session=session, membership=membership, family_update=body)


@families.get("/{family_id}/members", response_model=MemberPage)
def list_family_members(membership: FamilyMember, session: DbSession, page: PageParams) -> MemberPage:
    """The family's active members, by the time they joined."""
    return service.member_page(session=session, family_id=membership.family.id, page=page)


@families.post(
    "/{family_id}/members", status_code=201, response_model=MemberRead,
    responses=problems(errors.GUARDIAN_CONSENT_REQUIRED, errors.QUOTA_EXCEEDED),
)  # fmt: skip
def add_managed_member(
    body: ManagedMemberCreate, request: Request, membership: FamilyManager, session: DbSession
) -> MemberRead:
    """A profile without an account, e.g. a young child (owner and guardians)."""
    return service.add_managed_member(
        session=session, membership=membership, member_create=body, quotas=_quotas(request)
    )


# Declared before `/members/{member_id}` so that "me" is not taken for a (malformed) member id.
@families.patch("/{family_id}/members/me", response_model=MemberRead)
def update_my_member_profile(body: MemberProfileUpdate, membership: FamilyMember, session: DbSession) -> MemberRead:
    """My own nickname and birthday in this family."""
    return service.update_my_profile(session=session, membership=membership, profile_update=body)


@families.patch(
    "/{family_id}/members/{member_id}", response_model=MemberRead,
    responses=problems(errors.MEMBER_NOT_FOUND, errors.OWNER_ROLE_FIXED, errors.MANAGED_PROFILE,
                       errors.FAMILY_CHANGED),
)  # fmt: skip
def update_family_member(
    member_id: MemberId, body: MemberUpdate, membership: FamilyManager, session: DbSession
) -> MemberRead:
    """Any member's profile or role (owner and guardians)."""
    return service.update_member(session=session, membership=membership, member_id=member_id, member_update=body)


@families.delete(
    "/{family_id}/members/{member_id}", status_code=204,
    responses=problems(errors.MEMBER_NOT_FOUND, errors.OWNER_CANNOT_BE_REMOVED, errors.FAMILY_CHANGED),
)  # fmt: skip
def remove_family_member(member_id: MemberId, membership: FamilyManager, session: DbSession) -> None:
    """Remove a member (owner and guardians; never the owner). Their answers keep their author."""
    service.remove_member(session=session, membership=membership, member_id=member_id)


@families.post("/{family_id}/leave", status_code=204, responses=problems(errors.OWNER_MUST_TRANSFER))
def leave_family(membership: FamilyMember, session: DbSession) -> None:
    """Leave the family (the owner transfers ownership first)."""
    service.leave(session=session, membership=membership)


@families.post(
    "/{family_id}/ownership", response_model=OwnershipTransferred,
    responses=problems(errors.MEMBER_NOT_FOUND, errors.ALREADY_OWNER, errors.MANAGED_PROFILE, errors.FAMILY_CHANGED),
)  # fmt: skip
def transfer_ownership(body: OwnershipTransfer, membership: FamilyOwner, session: DbSession) -> OwnershipTransferred:
    """Make another member with an account the owner; I become a guardian (owner only)."""
    return service.transfer_ownership(session=session, membership=membership, member_id=body.member_id)


@families.post(
    "/{family_id}/invitations", status_code=201, response_model=InvitationRead,
    responses=problems(errors.QUOTA_EXCEEDED),
)  # fmt: skip
def create_invitation(
    body: InvitationCreate, request: Request, membership: FamilyManager, session: DbSession
) -> InvitationRead:
    """An invitation code and link (owner and guardians)."""
    return service.create_invitation(
        session=session, membership=membership, invitation_create=body, quotas=_quotas(request)
    )


@families.get("/{family_id}/invitations", response_model=InvitationPage)
def list_invitations(membership: FamilyManager, session: DbSession, page: PageParams) -> InvitationPage:
    """The family's invitations, oldest first (owner and guardians)."""
    return service.list_invitations(session=session, membership=membership, page=page)


@families.delete(
    "/{family_id}/invitations/{invitation_id}", status_code=204, responses=problems(errors.INVITATION_NOT_FOUND)
)
def revoke_invitation(invitation_id: InvitationId, membership: FamilyManager, session: DbSession) -> None:
    """Revoke an invitation; its code stops working at once (owner and guardians)."""
    service.revoke_invitation(session=session, membership=membership, invitation_id=invitation_id)


_UNUSABLE = (errors.INVITATION_NOT_FOUND, errors.INVITATION_REVOKED, errors.INVITATION_EXPIRED,
             errors.INVITATION_USED_UP)  # fmt: skip


@invitations.get("/{code}", response_model=InvitationPreview, responses=problems(*_UNUSABLE))
def preview_invitation(code: Code, user: CurrentUser, session: DbSession) -> InvitationPreview:
    """What the invitation link's landing screen shows before accepting."""
    return service.preview_invitation(session=session, code=code)


@invitations.post(
    "/{code}/accept", status_code=201, response_model=Joined,
    responses=problems(*_UNUSABLE, errors.ALREADY_MEMBER, errors.QUOTA_EXCEEDED),
)  # fmt: skip
def accept_invitation(
    code: Code,
    request: Request,
    user: CurrentUser,
    session: DbSession,
    body: Annotated[InvitationAccept | None, Body()] = None,
) -> Joined:
    """Join the family with my profile in it."""
    return service.accept_invitation(
        session=session, user=user, code=code, accept=body or InvitationAccept(), quotas=_quotas(request)
    )


# app.py includes this one router.
router = APIRouter()
router.include_router(families)
router.include_router(invitations)
