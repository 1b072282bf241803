"""The problems the family domain answers with."""

from __future__ import annotations

from woorizip.problems import ProblemType

FAMILY_NOT_FOUND = ProblemType(
    "family-not-found", 404, "No such family among yours (also for families that exist but are not yours)."
)
FORBIDDEN_ROLE = ProblemType("forbidden-role", 403, "Your role in this family may not do this.")
MEMBER_NOT_FOUND = ProblemType("member-not-found", 404, "No such member in this family.")
CATEGORY_CONFLICT = ProblemType("category-conflict", 422, "A category cannot be both an interest and blocked.")
GUARDIAN_CONSENT_REQUIRED = ProblemType(
    "guardian-consent-required", 422, "A child under 14 needs a legal guardian's consent (`guardian_consent: true`)."
)
OWNER_ROLE_FIXED = ProblemType("owner-role-fixed", 409, "The owner's role changes only by transferring ownership.")
MANAGED_PROFILE = ProblemType(
    "managed-profile", 409, "A profile without an account cannot be guardian or owner."
)
ALREADY_OWNER = ProblemType("already-owner", 409, "You are the owner already.")
OWNER_MUST_TRANSFER = ProblemType("owner-must-transfer", 409, "The owner transfers ownership before leaving.")
OWNER_CANNOT_BE_REMOVED = ProblemType("owner-cannot-be-removed", 409, "Nobody removes the owner.")
FAMILY_CHANGED = ProblemType(
    "family-changed", 409, "The family changed during the request (a simultaneous change won): reload and retry."
)
INVITATION_NOT_FOUND = ProblemType("invitation-not-found", 404, "No invitation has this code or id.")
INVITATION_REVOKED = ProblemType("invitation-revoked", 410, "The invitation was revoked.")
INVITATION_EXPIRED = ProblemType("invitation-expired", 410, "The invitation has expired.")
INVITATION_USED_UP = ProblemType("invitation-used-up", 410, "The invitation has been used as often as it allows.")
ALREADY_MEMBER = ProblemType("already-member", 409, "You are a member of this family already.")
QUOTA_EXCEEDED = ProblemType(
    "quota-exceeded", 409, "A limit is reached: families per account, members per family or open invitations."
)
