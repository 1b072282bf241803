"""The problems social sign-in answers with."""

from __future__ import annotations

from woorizip.problems import ProblemType

UNKNOWN_PROVIDER = ProblemType("unknown-provider", 404, "Sign-in with this provider is not offered here.")
INVALID_ID_TOKEN = ProblemType(
    "invalid-id-token", 401, "The provider's ID token was refused; `detail` names the failed check."
)
INVALID_ACCESS_TOKEN = ProblemType("invalid-access-token", 401, "The provider refused the access token.")
INVALID_GRANT = ProblemType("invalid-grant", 401, "The provider refused the authorization code.")
PROVIDER_DENIED = ProblemType("provider-denied", 401, "The person did not authorize the sign-in at the provider.")
ACCOUNT_DELETED = ProblemType("account-deleted", 401, "The account linked to this provider account is deleted.")
INVALID_STATE = ProblemType("invalid-state", 400, "The web flow's state is missing, unknown, spent or not yours.")
INVALID_REDIRECT = ProblemType("invalid-redirect", 400, "`redirect_after` must be a path on this site.")
LINK_REQUIRED = ProblemType(
    "link-required", 409, "An account has this e-mail: sign in to it, then link the provider under /v1/me/identities."
)
IDENTITY_TAKEN = ProblemType("identity-taken", 409, "This provider account is linked to another account.")
PROVIDER_ALREADY_LINKED = ProblemType(
    "provider-already-linked", 409, "Another account of this provider is linked: unlink it first."
)
LAST_SIGN_IN_METHOD = ProblemType(
    "last-sign-in-method", 409, "This is the account's only way to sign in: add another before removing it."
)
SIGN_IN_CONFLICT = ProblemType("sign-in-conflict", 409, "The account is being created by a simultaneous request.")
IDENTITY_NOT_FOUND = ProblemType("identity-not-found", 404, "No account of this provider is linked.")
PROVIDER_UNAVAILABLE = ProblemType("provider-unavailable", 502, "The identity provider could not be reached; retry.")
