"""Request and response bodies of the family routes (unknown fields are refused)."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime
from functools import cache
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from recsys.catalog.schema import Category

HEX_ID = r"^[0-9a-f]{32}$"
Id = Annotated[str, Field(pattern=HEX_ID, examples=["0123456789abcdef0123456789abcdef"])]
FamilyName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Nickname = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
BirthYear = Annotated[int, Field(ge=1900, le=2100)]
QuestionTime = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", examples=["08:00"])]
Categories = Annotated[list[Category], Field(max_length=len(Category))]
Role = Literal["owner", "guardian", "member", "child"]


@cache
def _zones() -> frozenset[str]:
    # A closed list, not ZoneInfo(name): that would also accept file-system paths and odd aliases.
    return frozenset(zoneinfo.available_timezones())


def _check_timezone(name: str | None) -> str | None:
    if name is not None and name not in _zones():
        raise ValueError(f"unknown IANA time zone {name!r} (e.g. 'Asia/Seoul')")
    return name


def _check_categories(interests: list[Category] | None, blocked: list[Category] | None) -> None:
    overlap = set(interests or ()) & set(blocked or ())
    if overlap:
        raise ValueError(f"a category cannot be both liked and blocked: {sorted(overlap)}")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Birthday(Strict):
    month: Annotated[int, Field(ge=1, le=12)]
    day: Annotated[int, Field(ge=1, le=31)]
    lunar: bool = False

    @model_validator(mode="after")
    def _real_day(self) -> Birthday:
        if self.lunar:
            # Lunar months have 29 or 30 days.
            if self.day > 30:
                raise ValueError("a lunar month has at most 30 days")
        else:
            date(2000, self.month, self.day)  # a leap year, so 2/29 is allowed; raises ValueError otherwise
        return self


class FamilyCreate(Strict):
    name: FamilyName
    timezone: str = "Asia/Seoul"
    question_time: QuestionTime = "08:00"
    interests: Categories = Field(default_factory=list)
    blocked_categories: Categories = Field(default_factory=list)
    nickname: Nickname | None = Field(default=None, description="the creator's nickname; defaults to the display name")
    birth_year: BirthYear | None = None

    _timezone = field_validator("timezone")(_check_timezone)

    @model_validator(mode="after")
    def _no_overlap(self) -> FamilyCreate:
        _check_categories(self.interests, self.blocked_categories)
        return self


class FamilyUpdate(Strict):
    name: FamilyName | None = None
    timezone: str | None = None
    question_time: QuestionTime | None = None
    interests: Categories | None = None
    blocked_categories: Categories | None = None

    _timezone = field_validator("timezone")(_check_timezone)

    @model_validator(mode="after")
    def _no_overlap(self) -> FamilyUpdate:
        _check_categories(self.interests, self.blocked_categories)
        return self


class FamilyRead(BaseModel):
    id: str
    name: str
    timezone: str
    question_time: str
    interests: list[Category]
    blocked_categories: list[Category]
    created_at: datetime
    my_member_id: str
    my_role: Role


class MemberRead(BaseModel):
    id: str
    family_id: str
    user_id: str | None
    managed: bool = Field(description="a profile without an account, looked after by the owner or a guardian")
    nickname: str
    role: Role
    birth_year: int | None
    birthday: Birthday | None
    guardian_consent_at: datetime | None
    joined_at: datetime


class ManagedMemberCreate(Strict):
    """A profile without an account, e.g. a young child."""

    nickname: Nickname
    birth_year: BirthYear
    birthday: Birthday | None = None
    role: Literal["child", "member"] = "child"
    guardian_consent: bool = Field(
        default=False, description="required (true) under 14: a legal guardian consents to the child's data"
    )


class MemberProfileUpdate(Strict):
    """My own profile in a family (roles are not mine to change)."""

    nickname: Nickname | None = None
    birth_year: BirthYear | None = None
    birthday: Birthday | None = None


class MemberUpdate(Strict):
    nickname: Nickname | None = None
    birth_year: BirthYear | None = None
    birthday: Birthday | None = None
    role: Literal["guardian", "member", "child"] | None = Field(
        default=None, description="owner or guardian only; ownership moves with POST .../ownership"
    )


class OwnershipTransfer(Strict):
    member_id: Id


class InvitationCreate(Strict):
    role: Literal["member", "guardian"] = "member"
    expires_in_days: Annotated[int, Field(ge=1, le=30)] = 7
    max_uses: Annotated[int, Field(ge=1, le=20)] = 1


class InvitationRead(BaseModel):
    id: str
    family_id: str
    code: str
    link: str
    role: Literal["member", "guardian"]
    max_uses: int
    uses: int
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


class InvitationPreview(BaseModel):
    """What the deep link's landing screen shows before the invitee accepts."""

    code: str
    family_name: str
    role: Literal["member", "guardian"]
    expires_at: datetime


class InvitationAccept(Strict):
    nickname: Nickname | None = None
    birth_year: BirthYear | None = None
    birthday: Birthday | None = None


class Joined(BaseModel):
    family: FamilyRead
    member: MemberRead
