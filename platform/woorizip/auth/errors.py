"""The problems the accounts domain answers with."""

from __future__ import annotations

from woorizip.problems import ProblemType

WEAK_PASSWORD = ProblemType(
    "weak-password", 422, "The password breaks the rule: 12 to 1,024 characters, not the e-mail, not a common one."
)
INVALID_CREDENTIALS = ProblemType("invalid-credentials", 401, "The e-mail or the password is wrong (never says which).")
EMAIL_TAKEN = ProblemType("email-taken", 409, "An account with this e-mail exists.")
INVALID_REFRESH_TOKEN = ProblemType(
    "invalid-refresh-token", 401, "The refresh token is unknown, spent, revoked or expired: sign in again."
)
WRONG_PASSWORD = ProblemType("wrong-password", 403, "The current password, confirming a sensitive change, is wrong.")
