"""The one place family-scoped authorization happens: membership, then role.

`FamilyMember` loads the family in the path and the caller's *active* membership on every request,
so a removed member's still-valid access token stops working for that family at once. A family the
caller does not belong to answers 404 whether it exists or not: ids of other families leak nothing
(OWASP API1, broken object-level authorization).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Path

from woorizip.auth.dependencies import CurrentUser
from woorizip.dependencies import DbSession
from woorizip.family import service
from woorizip.family.errors import FAMILY_NOT_FOUND, FORBIDDEN_ROLE
from woorizip.family.schemas import HEX_ID, Role
from woorizip.family.service import Membership
from woorizip.problems import raises

FamilyId = Annotated[str, Path(pattern=HEX_ID, description="32 lowercase hex characters")]


@raises(FAMILY_NOT_FOUND)
def family_membership(family_id: FamilyId, user: CurrentUser, session: DbSession) -> Membership:
    found = service.active_membership(session=session, family_id=family_id, user_id=user.id)
    if found is None:
        raise FAMILY_NOT_FOUND.error("no such family among yours")
    family, member = found
    return Membership(family=family, member=member, user=user)


FamilyMember = Annotated[Membership, Depends(family_membership)]


def require_role(*roles: Role) -> Callable[[Membership], Membership]:
    """A dependency: my active membership, refused with 403 when my role is not one of `roles`."""
    allowed = frozenset(roles)

    @raises(FORBIDDEN_ROLE)
    def check(membership: FamilyMember) -> Membership:
        if membership.member.role not in allowed:
            raise FORBIDDEN_ROLE.error(f"this needs one of the roles: {', '.join(sorted(allowed))}")
        return membership

    return check


FamilyManager = Annotated[Membership, Depends(require_role(Role.OWNER, Role.GUARDIAN))]
FamilyOwner = Annotated[Membership, Depends(require_role(Role.OWNER))]
