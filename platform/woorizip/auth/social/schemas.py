"""Request and response bodies of social sign-in (unknown fields are refused)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from woorizip.auth.schemas import Tokens


class Provider(StrEnum):
    """An identity provider; each is offered only where the installation configured its client id."""

    GOOGLE = "google"
    APPLE = "apple"
    KAKAO = "kakao"
    NAVER = "naver"


class SocialProof(BaseModel):
    """What the mobile SDK hands the app: an ID token with the nonce the app generated, or an access token."""

    model_config = ConfigDict(extra="forbid")

    id_token: Annotated[str | None, Field(min_length=10, max_length=8192)] = None
    nonce: Annotated[str | None, Field(min_length=8, max_length=256)] = None
    access_token: Annotated[str | None, Field(min_length=10, max_length=4096)] = None


class LinkProof(SocialProof):
    """As for sign-in, or the code and state the provider sent to the link page (web flow)."""

    code: Annotated[str | None, Field(min_length=1, max_length=4096)] = None
    state: Annotated[str | None, Field(min_length=1, max_length=256)] = None


class SocialSignIn(Tokens):
    """Our Tokens, plus who signed in and whether the account was just created."""

    user_id: str
    new_account: bool
    redirect_after: str | None = None


class IdentityRead(BaseModel):
    provider: Provider
    subject: str
    email: str | None
    created_at: datetime


class IdentityList(BaseModel):
    """The provider accounts linked to mine (at most one per provider)."""

    items: list[IdentityRead]


class AuthorizationUrl(BaseModel):
    authorization_url: str
