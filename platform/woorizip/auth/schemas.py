"""Request and response bodies of the accounts routes (unknown fields are refused)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from email_validator import SPECIAL_USE_DOMAIN_NAMES
from pydantic import BaseModel, ConfigDict, EmailStr, Field

from woorizip.auth.passwords import MAX_LENGTH, MIN_LENGTH
from woorizip.text import SingleLine

# email-validator refuses the special-use domains (RFC 6761) that `format: email` alone would allow.
_SPECIAL_USE = "|".join("".join(f"[{c.upper()}{c}]" for c in name) for name in SPECIAL_USE_DOMAIN_NAMES)
Email = Annotated[
    EmailStr,
    Field(max_length=254, json_schema_extra={"pattern": rf"^(?![\s\S]*\.(?:{_SPECIAL_USE})\.?$)[\s\S]+$"}),
]
DisplayName = Annotated[str, SingleLine(min_length=1, max_length=64)]
# Characters, not bytes (64 Hangul are 192 bytes); the policy also refuses the e-mail and common passwords.
NewPassword = Annotated[
    str,
    Field(min_length=MIN_LENGTH, max_length=MAX_LENGTH,
          description="12 to 1,024 characters of any script; not the e-mail, not a common password"),
]  # fmt: skip
# What is checked against a stored hash: accounts made before the rule may have shorter passwords.
Password = Annotated[str, Field(min_length=1, max_length=MAX_LENGTH)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SignUp(Strict):
    email: Email
    password: NewPassword
    display_name: DisplayName


class Login(Strict):
    email: Email
    password: Password


class RefreshRequest(Strict):
    refresh_token: Annotated[str, Field(min_length=20, max_length=200)]


class PasswordChange(Strict):
    current_password: Password
    new_password: NewPassword


class AccountDeletion(Strict):
    password: Password | None = None  # required when the account has a password


class ProfileUpdate(Strict):
    display_name: DisplayName


class Tokens(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    refresh_token: str
    refresh_expires_at: datetime


class Profile(BaseModel):
    id: str
    email: str | None
    display_name: str
    created_at: datetime


class SignedUp(BaseModel):
    user: Profile
    tokens: Tokens


class Deleted(BaseModel):
    deleted_at: datetime
    recoverable_until: datetime


class ExportedSession(BaseModel):
    """One sign-in session (a refresh-token chain) of the account."""

    session: str
    issued_at: datetime | None
    used_at: datetime | None
    revoked_at: datetime | None


class AccountExport(BaseModel):
    """What the accounts domain holds about an account."""

    profile: Profile
    sessions: list[ExportedSession]
