"""Request and response bodies of the accounts routes (unknown fields are refused)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
# Length is checked by the password policy (characters, not bytes: 64 Hangul are 192 bytes).
Password = Annotated[str, Field(min_length=1, max_length=1024)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SignUp(Strict):
    email: EmailStr
    password: Password
    display_name: DisplayName


class Login(Strict):
    email: EmailStr
    password: Password


class RefreshRequest(Strict):
    refresh_token: Annotated[str, Field(min_length=20, max_length=200)]


class PasswordChange(Strict):
    current_password: Password
    new_password: Password


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


class Export(BaseModel):
    exported_at: datetime
    profile: Profile
    sessions: list[dict[str, Any]]
    families: list[dict[str, Any]] = Field(default_factory=list)
