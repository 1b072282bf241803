"""Request and response bodies of the family routes: unknown fields are refused, numbers and booleans are
strict, and every constraint the server checks is stated in the schema."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime
from enum import Enum, StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, field_validator, model_validator

from recsys.catalog.schema import Category
from woorizip.pagination import Page
from woorizip.text import SingleLine

HEX_ID = r"^[0-9a-f]{32}$"
Id = Annotated[str, Field(pattern=HEX_ID, examples=["0123456789abcdef0123456789abcdef"])]
FamilyName = Annotated[str, SingleLine(min_length=1, max_length=40)]
Nickname = Annotated[str, SingleLine(min_length=1, max_length=20)]
# Nobody is born in the future; the bound is the current year when the process started.
BirthYear = Annotated[StrictInt, Field(ge=1900, le=date.today().year)]
QuestionTime = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", examples=["08:00"])]


class Role(StrEnum):
    """A member's place in the family: exactly one owner; owner and guardians manage it."""

    OWNER = "owner"
    GUARDIAN = "guardian"
    MEMBER = "member"
    CHILD = "child"


class AssignableRole(StrEnum):
    """The roles the owner or a guardian can give a member (ownership moves by transfer only)."""

    GUARDIAN = "guardian"
    MEMBER = "member"
    CHILD = "child"


class InvitationRole(StrEnum):
    """The role an invitation gives whoever accepts it."""

    MEMBER = "member"
    GUARDIAN = "guardian"


class ManagedRole(StrEnum):
    """The role of a profile without an account."""

    CHILD = "child"
    MEMBER = "member"


def _zone_names() -> dict[str, str]:
    # A closed list, not ZoneInfo(name): that would also accept file-system paths and odd aliases.
    return {name: name for name in sorted(zoneinfo.available_timezones()) if name not in ("Factory", "localtime")}


TimeZone = Enum("TimeZone", _zone_names(), type=str)  # type: ignore[misc]
TimeZone.__doc__ = "An IANA time zone name, e.g. Asia/Seoul."


def _unique(values: list[Category] | None) -> list[Category] | None:
    if values is not None and len(set(values)) != len(values):
        raise ValueError("each category may be listed once")
    return values


Categories = Annotated[list[Category], Field(max_length=len(Category), json_schema_extra={"uniqueItems": True})]


def _check_categories(interests: list[Category] | None, blocked: list[Category] | None) -> None:
    overlap = set(interests or ()) & set(blocked or ())
    if overlap:
        raise ValueError(f"a category cannot be both liked and blocked: {sorted(overlap)}")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Birthday(Strict):
    """A birthday without a year; a lunar one is celebrated on its solar date of each year."""

    month: Annotated[StrictInt, Field(ge=1, le=12)]
    day: Annotated[StrictInt, Field(ge=1, le=31)]
    lunar: StrictBool = False

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
    timezone: TimeZone = TimeZone("Asia/Seoul")
    question_time: QuestionTime = "08:00"
    interests: Categories = Field(default_factory=list)
    blocked_categories: Categories = Field(default_factory=list)
    nickname: Nickname | None = Field(default=None, description="the creator's nickname; defaults to the display name")
    birth_year: BirthYear | None = None

    _unique_lists = field_validator("interests", "blocked_categories")(_unique)

    @model_validator(mode="after")
    def _no_overlap(self) -> FamilyCreate:
        _check_categories(self.interests, self.blocked_categories)
        return self


class FamilyUpdate(Strict):
    name: FamilyName | None = None
    timezone: TimeZone | None = None
    question_time: QuestionTime | None = None
    interests: Categories | None = None
    blocked_categories: Categories | None = None

    _unique_lists = field_validator("interests", "blocked_categories")(_unique)

    @model_validator(mode="after")
    def _no_overlap(self) -> FamilyUpdate:
        _check_categories(self.interests, self.blocked_categories)
        return self


class FamilyRead(BaseModel):
    id: str
    name: str
    timezone: str = Field(description="IANA time zone name")
    question_time: str = Field(description="HH:MM, local to the family's time zone")
    interests: list[Category]
    blocked_categories: list[Category]
    created_at: datetime
    my_member_id: str
    my_role: Role


class FamilyPage(Page[FamilyRead]):
    """A page of my families, oldest first."""


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


class MemberPage(Page[MemberRead]):
    """A page of a family's active members, by the time they joined."""


class ManagedMemberCreate(Strict):
    """A profile without an account, e.g. a young child."""

    nickname: Nickname
    birth_year: BirthYear
    birthday: Birthday | None = None
    role: ManagedRole = ManagedRole.CHILD
    guardian_consent: StrictBool = Field(
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
    role: AssignableRole | None = Field(
        default=None, description="owner or guardian only; ownership moves with POST .../ownership"
    )


class OwnershipTransfer(Strict):
    member_id: Id


class OwnershipTransferred(BaseModel):
    """The two members whose roles changed: the new owner, and the old owner now guardian."""

    owner: MemberRead
    previous_owner: MemberRead


class InvitationCreate(Strict):
    role: InvitationRole = InvitationRole.MEMBER
    expires_in_days: Annotated[StrictInt, Field(ge=1, le=30)] = 7
    max_uses: Annotated[StrictInt, Field(ge=1, le=20)] = 1


class InvitationRead(BaseModel):
    id: str
    family_id: str
    code: str
    link: str
    role: InvitationRole
    max_uses: int
    uses: int
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


class InvitationPage(Page[InvitationRead]):
    """A page of a family's invitations, newest last."""


class InvitationPreview(BaseModel):
    """What the deep link's landing screen shows before the invitee accepts."""

    code: str
    family_name: str
    role: InvitationRole
    expires_at: datetime


class InvitationAccept(Strict):
    nickname: Nickname | None = None
    birth_year: BirthYear | None = None
    birthday: Birthday | None = None


class Joined(BaseModel):
    family: FamilyRead
    member: MemberRead


class ExportedMembership(BaseModel):
    """A family the account belongs or belonged to, with its own membership (for the data export)."""

    family_id: str
    family_name: str
    membership: MemberRead
    removed_at: datetime | None


class HouseholdMember(BaseModel):
    """What the recommender may know of an active member: role and age, never names."""

    member_id: str
    role: Role
    birth_year: int | None
    birthday: Birthday | None


class Household(BaseModel):
    """A family as the recommender sees it: its settings and the age mix of its active members."""

    family_id: str
    created_at: datetime
    timezone: str
    interests: list[Category]
    blocked_categories: list[Category]
    members: list[HouseholdMember]
