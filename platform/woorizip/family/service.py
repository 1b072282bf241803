"""Families, members and invitations: the rules, callable from routes, workers, CLIs and tests.

Every state change that races (accepting an invitation, moving ownership, leaving, removal) is a
conditional UPDATE whose row count decides the outcome, backed by partial unique indexes, so the
rules hold under concurrent requests on SQLite and PostgreSQL alike. Functions only `flush`: the
caller's unit of work (the request, or a CLI's `session.begin()`) commits or rolls back once.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol

from sqlalchemy import CursorResult, and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from woorizip.family import errors
from woorizip.family.models import Family, FamilyMember, Invitation
from woorizip.family.schemas import (
    Birthday,
    Category,
    ExportedMembership,
    FamilyCreate,
    FamilyPage,
    FamilyRead,
    FamilyUpdate,
    Household,
    HouseholdMember,
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
    OwnershipTransferred,
    Role,
)
from woorizip.pagination import PageRequest, encode_cursor

logger = logging.getLogger(__name__)

# No 0/O, 1/I/L: codes are read aloud and typed from a KakaoTalk message.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
INVITE_LINK_BASE = "https://woorizip.app/invite/"
# Korean privacy law: consent of a legal guardian below this age (만 14세 미만).
CONSENT_AGE = 14


class Account(Protocol):
    """What the family rules need to know of a signed-in account."""

    @property
    def id(self) -> str: ...

    @property
    def display_name(self) -> str: ...


@dataclass(frozen=True)
class Quotas:
    """Per-account and per-family limits (from settings)."""

    families_per_user: int = 20
    members_per_family: int = 16
    open_invitations_per_family: int = 20


@dataclass(frozen=True)
class Membership:
    """The family a request is about and the caller's active place in it."""

    family: Family
    member: FamilyMember
    user: Account


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; every stored moment is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _new_id() -> str:
    return uuid.uuid4().hex


def _rowcount(result: Any) -> int:
    assert isinstance(result, CursorResult)
    return result.rowcount


# --- reading -------------------------------------------------------------------------------------


def active_membership(*, session: Session, family_id: str, user_id: str) -> tuple[Family, FamilyMember] | None:
    """The family and the user's active membership, or None (also when the family does not exist)."""
    row = session.execute(
        select(Family, FamilyMember)
        .join(FamilyMember, FamilyMember.family_id == Family.id)
        .where(Family.id == family_id, FamilyMember.user_id == user_id, FamilyMember.removed_at.is_(None))
    ).one_or_none()
    return None if row is None else (row[0], row[1])


def family_read(*, family: Family, member: FamilyMember) -> FamilyRead:
    return FamilyRead(
        id=family.id, name=family.name, timezone=family.timezone,
        question_time=family.question_time.strftime("%H:%M"),
        interests=list(family.interests), blocked_categories=list(family.blocked_categories),
        created_at=_aware(family.created_at), my_member_id=member.id, my_role=member.role,
    )  # fmt: skip


def _birthday(month: int | None, day: int | None, *, lunar: bool) -> Birthday | None:
    return None if month is None or day is None else Birthday(month=month, day=day, lunar=lunar)


def member_read(member: FamilyMember) -> MemberRead:
    birthday = _birthday(member.birthday_month, member.birthday_day, lunar=member.birthday_lunar)
    return MemberRead(
        id=member.id, family_id=member.family_id, user_id=member.user_id, managed=member.user_id is None,
        nickname=member.nickname, role=member.role, birth_year=member.birth_year,
        birthday=birthday,
        guardian_consent_at=_aware(member.guardian_consent_at) if member.guardian_consent_at else None,
        joined_at=_aware(member.joined_at),
    )  # fmt: skip


def _after(query: Any, moment: Any, key: Any, page: PageRequest) -> Any:
    """Keyset pagination on (moment, key): the rows after the cursor, one more than the page holds."""
    if page.after is not None:
        at, last = page.after
        query = query.where(or_(moment > at, and_(moment == at, key > last)))
    return query.order_by(moment, key).limit(page.limit + 1)


def _cursor(rows: list[Any], page: PageRequest, sort_key: Any) -> str | None:
    if len(rows) <= page.limit:
        return None
    moment, key = sort_key(rows[page.limit - 1])
    return encode_cursor(_aware(moment), key)


def my_families(*, session: Session, user_id: str, page: PageRequest) -> FamilyPage:
    """The families I am an active member of, oldest first."""
    query = (
        select(Family, FamilyMember)
        .join(FamilyMember, FamilyMember.family_id == Family.id)
        .where(FamilyMember.user_id == user_id, FamilyMember.removed_at.is_(None))
    )
    rows: list[Any] = list(session.execute(_after(query, Family.created_at, Family.id, page)).tuples())
    return FamilyPage(
        items=[family_read(family=family, member=member) for family, member in rows[: page.limit]],
        next_cursor=_cursor(rows, page, lambda row: (row[0].created_at, row[0].id)),
    )


def active_members(*, session: Session, family_id: str) -> list[FamilyMember]:
    """Every active member of a family (bounded by the members-per-family quota)."""
    return list(
        session.scalars(
            select(FamilyMember)
            .where(FamilyMember.family_id == family_id, FamilyMember.removed_at.is_(None))
            .order_by(FamilyMember.joined_at, FamilyMember.id)
        )
    )


def member_page(*, session: Session, family_id: str, page: PageRequest) -> MemberPage:
    """A page of the family's active members, by the time they joined."""
    query = select(FamilyMember).where(FamilyMember.family_id == family_id, FamilyMember.removed_at.is_(None))
    rows = list(session.scalars(_after(query, FamilyMember.joined_at, FamilyMember.id, page)))
    return MemberPage(
        items=[member_read(member) for member in rows[: page.limit]],
        next_cursor=_cursor(rows, page, lambda member: (member.joined_at, member.id)),
    )


def families_of(*, session: Session, user_id: str) -> list[ExportedMembership]:
    """Every family the account belongs or belonged to, with its own membership (for the data export)."""
    rows = session.execute(
        select(Family, FamilyMember)
        .join(FamilyMember, FamilyMember.family_id == Family.id)
        .where(FamilyMember.user_id == user_id)
        .order_by(FamilyMember.joined_at)
    ).all()
    return [
        ExportedMembership(
            family_id=family.id,
            family_name=family.name,
            membership=member_read(member),
            removed_at=_aware(member.removed_at) if member.removed_at else None,
        )
        for family, member in rows
    ]


def households(*, session: Session, family_ids: list[str]) -> list[Household]:
    """The families among `family_ids` that exist, with their active members (for the recommender).

    Columns rather than entities: batch scoring reads thousands of families a second through here.
    """
    if not family_ids:
        return []
    families = {
        row.id: row
        for row in session.execute(
            select(Family.id, Family.created_at, Family.timezone, Family.interests, Family.blocked_categories).where(
                Family.id.in_(family_ids)
            )
        )
    }
    members: dict[str, list[HouseholdMember]] = {family_id: [] for family_id in families}
    rows = session.execute(
        select(FamilyMember.id, FamilyMember.family_id, FamilyMember.role, FamilyMember.birth_year,
               FamilyMember.birthday_month, FamilyMember.birthday_day, FamilyMember.birthday_lunar)
        .where(FamilyMember.family_id.in_(list(families)), FamilyMember.removed_at.is_(None))
        .order_by(FamilyMember.joined_at, FamilyMember.id)
    )  # fmt: skip
    for member in rows:
        birthday = _birthday(member.birthday_month, member.birthday_day, lunar=member.birthday_lunar)
        # Rows of our own tables were validated on the way in: built without validating them again.
        members[member.family_id].append(
            HouseholdMember.model_construct(member_id=member.id, role=Role(member.role), birth_year=member.birth_year,
                                            birthday=birthday)
        )  # fmt: skip
    return [
        Household.model_construct(
            family_id=family.id,
            created_at=_aware(family.created_at),
            timezone=family.timezone,
            interests=[Category(c) for c in family.interests],
            blocked_categories=[Category(c) for c in family.blocked_categories],
            members=members[family.id],
        )
        for family in (families[family_id] for family_id in family_ids if family_id in families)
    ]


def family_ids_page(*, session: Session, after: str | None, limit: int) -> list[str]:
    """Family ids in id order, `limit` at a time after `after` (batch work streams through all families)."""
    query = select(Family.id).order_by(Family.id).limit(limit)
    if after is not None:
        query = query.where(Family.id > after)
    return list(session.scalars(query))


# --- families ------------------------------------------------------------------------------------


def _parse_time(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def _count(session: Session, query: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def create_family(*, session: Session, user: Account, family_create: FamilyCreate, quotas: Quotas) -> FamilyRead:
    """A new family whose creator is its owner."""
    mine = select(FamilyMember.id).where(FamilyMember.user_id == user.id, FamilyMember.removed_at.is_(None))
    if _count(session, mine) >= quotas.families_per_user:
        raise errors.QUOTA_EXCEEDED.error(f"an account belongs to at most {quotas.families_per_user} families")
    now = _now()
    family = Family(
        id=_new_id(), name=family_create.name, timezone=str(family_create.timezone.value),
        question_time=_parse_time(family_create.question_time),
        interests=[category.value for category in family_create.interests],
        blocked_categories=[category.value for category in family_create.blocked_categories],
        created_by=user.id, created_at=now,
    )  # fmt: skip
    owner = FamilyMember(
        id=_new_id(), family_id=family.id, user_id=user.id, role="owner",
        nickname=family_create.nickname or user.display_name[:20], birth_year=family_create.birth_year,
        birthday_lunar=False, joined_at=now,
    )  # fmt: skip
    session.add(family)
    session.flush()  # the family row first: the member's foreign key points at it
    session.add(owner)
    session.flush()
    logger.info("family created", extra={"family_id": family.id})
    return family_read(family=family, member=owner)


def update_family(*, session: Session, membership: Membership, family_update: FamilyUpdate) -> FamilyRead:
    family = membership.family
    changes = family_update.model_dump(exclude_unset=True)
    if changes.get("name") is not None:
        family.name = changes["name"]
    if changes.get("timezone") is not None:
        family.timezone = str(family_update.timezone.value)  # type: ignore[union-attr]
    if changes.get("question_time") is not None:
        family.question_time = _parse_time(changes["question_time"])
    interests = family.interests if changes.get("interests") is None else [c.value for c in changes["interests"]]
    blocked = (
        family.blocked_categories
        if changes.get("blocked_categories") is None
        else [c.value for c in changes["blocked_categories"]]
    )
    # Checked against the stored lists too: liking a category that is blocked must unblock it first.
    overlap = set(interests) & set(blocked)
    if overlap:
        raise errors.CATEGORY_CONFLICT.error(f"a category cannot be both liked and blocked: {sorted(overlap)}")
    family.interests, family.blocked_categories = list(interests), list(blocked)
    session.flush()
    return family_read(family=family, member=membership.member)


# --- members -------------------------------------------------------------------------------------


def _member_in(*, session: Session, family_id: str, member_id: str) -> FamilyMember:
    member = session.get(FamilyMember, member_id)
    if member is None or member.family_id != family_id or member.removed_at is not None:
        raise errors.MEMBER_NOT_FOUND.error("no such member in this family")
    return member


def _may_be_under(age: int, *, birth_year: int, birthday: Birthday | None, today: date) -> bool:
    """True when the person may be younger than `age`; without a (solar) birthday, assume the younger case."""
    if birthday is not None and not birthday.lunar:
        had_birthday = (today.month, today.day) >= (birthday.month, birthday.day)
        return today.year - birth_year - (0 if had_birthday else 1) < age
    return today.year - birth_year - 1 < age


def _check_member_quota(session: Session, *, family_id: str, quotas: Quotas) -> None:
    members = select(FamilyMember.id).where(FamilyMember.family_id == family_id, FamilyMember.removed_at.is_(None))
    if _count(session, members) >= quotas.members_per_family:
        raise errors.QUOTA_EXCEEDED.error(f"a family has at most {quotas.members_per_family} members")


def add_managed_member(
    *, session: Session, membership: Membership, member_create: ManagedMemberCreate, quotas: Quotas
) -> MemberRead:
    """A profile without an account; under 14 it needs a guardian's recorded consent."""
    now = _now()
    needs_consent = _may_be_under(
        CONSENT_AGE, birth_year=member_create.birth_year, birthday=member_create.birthday, today=now.date()
    )
    if needs_consent and not member_create.guardian_consent:
        raise errors.GUARDIAN_CONSENT_REQUIRED.error(
            "a child under 14 needs a legal guardian's consent: send guardian_consent: true"
        )
    _check_member_quota(session, family_id=membership.family.id, quotas=quotas)
    consented = member_create.guardian_consent
    birthday = member_create.birthday
    member = FamilyMember(
        id=_new_id(), family_id=membership.family.id, user_id=None, role=member_create.role.value,
        nickname=member_create.nickname, birth_year=member_create.birth_year,
        birthday_month=birthday.month if birthday else None, birthday_day=birthday.day if birthday else None,
        birthday_lunar=birthday.lunar if birthday else False,
        guardian_consent_by=membership.user.id if consented else None,
        guardian_consent_at=now if consented else None, joined_at=now,
    )  # fmt: skip
    session.add(member)
    session.flush()
    return member_read(member)


def _apply_profile(target: FamilyMember, changes: dict[str, Any], birthday: Birthday | None) -> None:
    for field in ("nickname", "birth_year"):
        if changes.get(field) is not None:
            setattr(target, field, changes[field])
    if "birthday" in changes:  # an explicit null clears it
        target.birthday_month = birthday.month if birthday else None
        target.birthday_day = birthday.day if birthday else None
        target.birthday_lunar = birthday.lunar if birthday else False


def update_my_profile(*, session: Session, membership: Membership, profile_update: MemberProfileUpdate) -> MemberRead:
    """My own nickname and birthday in this family."""
    member = membership.member
    _apply_profile(member, profile_update.model_dump(exclude_unset=True), profile_update.birthday)
    session.flush()
    return member_read(member)


def update_member(
    *, session: Session, membership: Membership, member_id: str, member_update: MemberUpdate
) -> MemberRead:
    """Any member's profile or role, by the owner or a guardian (the route's dependency checks who)."""
    target = _member_in(session=session, family_id=membership.family.id, member_id=member_id)
    changes = member_update.model_dump(exclude_unset=True)
    role = None if member_update.role is None else member_update.role.value
    if role is not None and target.role == "owner":
        raise errors.OWNER_ROLE_FIXED.error("the owner's role changes only by transferring ownership")
    if role == "guardian" and target.user_id is None:
        raise errors.MANAGED_PROFILE.error("a profile without an account cannot be guardian")
    _apply_profile(target, changes, member_update.birthday)
    session.flush()
    if role is not None:
        # Conditional, so a concurrent transfer that just made the target owner is not overwritten.
        changed = session.execute(
            update(FamilyMember)
            .where(FamilyMember.id == target.id, FamilyMember.role != "owner", FamilyMember.removed_at.is_(None))
            .values(role=role)
        )
        if _rowcount(changed) != 1:
            raise errors.FAMILY_CHANGED.error("the member changed meanwhile: reload and try again")
        session.refresh(target)
    return member_read(target)


def transfer_ownership(*, session: Session, membership: Membership, member_id: str) -> OwnershipTransferred:
    """The target (an active member with an account) becomes owner; the old owner becomes guardian."""
    family_id = membership.family.id
    target = _member_in(session=session, family_id=family_id, member_id=member_id)
    if target.id == membership.member.id:
        raise errors.ALREADY_OWNER.error("you are the owner already")
    if target.user_id is None:
        raise errors.MANAGED_PROFILE.error("a profile without an account cannot own a family")
    # Demote first: the one-owner index refuses two owners even for an instant.
    demoted = session.execute(
        update(FamilyMember)
        .where(FamilyMember.id == membership.member.id, FamilyMember.role == "owner", FamilyMember.removed_at.is_(None))
        .values(role="guardian")
    )
    if _rowcount(demoted) != 1:
        raise errors.FAMILY_CHANGED.error("the family changed meanwhile: reload and try again")
    promoted = session.execute(
        update(FamilyMember)
        .where(FamilyMember.id == target.id, FamilyMember.removed_at.is_(None), FamilyMember.user_id.is_not(None))
        .values(role="owner")
    )
    if _rowcount(promoted) != 1:
        raise errors.FAMILY_CHANGED.error("the family changed meanwhile: reload and try again")
    session.refresh(target)
    session.refresh(membership.member)
    return OwnershipTransferred(owner=member_read(target), previous_owner=member_read(membership.member))


def leave(*, session: Session, membership: Membership) -> None:
    """Soft removal of my own membership; the owner hands the family over first."""
    if membership.member.role == "owner":
        raise errors.OWNER_MUST_TRANSFER.error("transfer ownership to another member before leaving")
    left = session.execute(
        update(FamilyMember)
        .where(FamilyMember.id == membership.member.id, FamilyMember.role != "owner", FamilyMember.removed_at.is_(None))
        .values(removed_at=_now())
    )
    if _rowcount(left) != 1:  # became owner meanwhile
        raise errors.OWNER_MUST_TRANSFER.error("transfer ownership to another member before leaving")


def remove_member(*, session: Session, membership: Membership, member_id: str) -> None:
    """Soft removal by the owner or a guardian; nobody removes the owner."""
    family_id = membership.family.id
    target = _member_in(session=session, family_id=family_id, member_id=member_id)
    if target.role == "owner":
        raise errors.OWNER_CANNOT_BE_REMOVED.error("the owner cannot be removed")
    removed = session.execute(
        update(FamilyMember)
        .where(FamilyMember.id == target.id, FamilyMember.role != "owner", FamilyMember.removed_at.is_(None))
        .values(removed_at=_now())
    )
    if _rowcount(removed) != 1:
        raise errors.FAMILY_CHANGED.error("the member changed meanwhile: reload and try again")


# --- invitations ---------------------------------------------------------------------------------


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(code: str) -> str:
    """Codes are case-insensitive and may be pasted with spaces or dashes."""
    return code.strip().upper().replace("-", "").replace(" ", "")


def invitation_read(invitation: Invitation) -> InvitationRead:
    return InvitationRead(
        id=invitation.id, family_id=invitation.family_id, code=invitation.code,
        link=INVITE_LINK_BASE + invitation.code, role=invitation.role,
        max_uses=invitation.max_uses, uses=invitation.uses, created_at=_aware(invitation.created_at),
        expires_at=_aware(invitation.expires_at),
        revoked_at=_aware(invitation.revoked_at) if invitation.revoked_at else None,
    )  # fmt: skip


def create_invitation(
    *, session: Session, membership: Membership, invitation_create: InvitationCreate, quotas: Quotas
) -> InvitationRead:
    now = _now()
    open_ones = select(Invitation.id).where(
        Invitation.family_id == membership.family.id, Invitation.revoked_at.is_(None),
        Invitation.expires_at > now, Invitation.uses < Invitation.max_uses,
    )  # fmt: skip
    if _count(session, open_ones) >= quotas.open_invitations_per_family:
        raise errors.QUOTA_EXCEEDED.error(
            f"a family has at most {quotas.open_invitations_per_family} open invitations: revoke one first"
        )
    for _ in range(5):
        invitation = Invitation(
            id=_new_id(), family_id=membership.family.id, code=new_code(), role=invitation_create.role.value,
            max_uses=invitation_create.max_uses, uses=0, created_by=membership.user.id, created_at=now,
            expires_at=now + timedelta(days=invitation_create.expires_in_days), revoked_at=None,
        )  # fmt: skip
        try:
            with session.begin_nested():  # a code collision (31^8 codes: rare) undoes this draw only
                session.add(invitation)
        except IntegrityError:
            continue
        return invitation_read(invitation)
    raise RuntimeError("could not draw a unique invitation code")


def list_invitations(*, session: Session, membership: Membership, page: PageRequest) -> InvitationPage:
    query = select(Invitation).where(Invitation.family_id == membership.family.id)
    rows = list(session.scalars(_after(query, Invitation.created_at, Invitation.id, page)))
    return InvitationPage(
        items=[invitation_read(invitation) for invitation in rows[: page.limit]],
        next_cursor=_cursor(rows, page, lambda invitation: (invitation.created_at, invitation.id)),
    )


def revoke_invitation(*, session: Session, membership: Membership, invitation_id: str) -> None:
    invitation = session.get(Invitation, invitation_id)
    if invitation is None or invitation.family_id != membership.family.id:
        raise errors.INVITATION_NOT_FOUND.error("no such invitation in this family")
    if invitation.revoked_at is None:
        invitation.revoked_at = _now()
        session.flush()


def _usable(invitation: Invitation | None, *, now: datetime) -> Invitation:
    if invitation is None:
        raise errors.INVITATION_NOT_FOUND.error("no invitation has this code")
    if invitation.revoked_at is not None:
        raise errors.INVITATION_REVOKED.error("this invitation was revoked")
    if _aware(invitation.expires_at) <= now:
        raise errors.INVITATION_EXPIRED.error("this invitation has expired")
    if invitation.uses >= invitation.max_uses:
        raise errors.INVITATION_USED_UP.error("this invitation has been used up")
    return invitation


def _by_code(*, session: Session, code: str) -> Invitation | None:
    return session.scalars(select(Invitation).where(Invitation.code == normalise_code(code))).one_or_none()


def preview_invitation(*, session: Session, code: str) -> InvitationPreview:
    invitation = _usable(_by_code(session=session, code=code), now=_now())
    family = session.get(Family, invitation.family_id)
    assert family is not None
    return InvitationPreview(
        code=invitation.code, family_name=family.name, role=invitation.role,
        expires_at=_aware(invitation.expires_at),
    )  # fmt: skip


def accept_invitation(
    *, session: Session, user: Account, code: str, accept: InvitationAccept, quotas: Quotas
) -> Joined:
    """Join the family; the use is counted by a conditional UPDATE so `max_uses` holds under races."""
    now = _now()
    found = _by_code(session=session, code=code)
    # Membership first: tapping the link again after joining says "already in", not "used up".
    if found is not None and active_membership(session=session, family_id=found.family_id, user_id=user.id):
        raise errors.ALREADY_MEMBER.error("you are a member of this family already")
    invitation = _usable(found, now=now)
    _check_member_quota(session, family_id=invitation.family_id, quotas=quotas)
    mine = select(FamilyMember.id).where(FamilyMember.user_id == user.id, FamilyMember.removed_at.is_(None))
    if _count(session, mine) >= quotas.families_per_user:
        raise errors.QUOTA_EXCEEDED.error(f"an account belongs to at most {quotas.families_per_user} families")
    counted = session.execute(
        update(Invitation)
        .where(
            Invitation.id == invitation.id, Invitation.uses < Invitation.max_uses,
            Invitation.revoked_at.is_(None), Invitation.expires_at > now,
        )
        .values(uses=Invitation.uses + 1)
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    if _rowcount(counted) != 1:
        session.expire_all()
        _usable(session.get(Invitation, invitation.id), now=now)  # says which: used up, revoked or expired
        raise errors.INVITATION_USED_UP.error("this invitation has been used up")
    birthday = accept.birthday
    member = FamilyMember(
        id=_new_id(), family_id=invitation.family_id, user_id=user.id, role=invitation.role,
        nickname=accept.nickname or user.display_name[:20], birth_year=accept.birth_year,
        birthday_month=birthday.month if birthday else None, birthday_day=birthday.day if birthday else None,
        birthday_lunar=birthday.lunar if birthday else False, joined_at=now,
    )  # fmt: skip
    session.add(member)
    try:
        session.flush()
    except IntegrityError:  # the same account accepted twice at once: the request rolls back, use and all
        raise errors.ALREADY_MEMBER.error("you are a member of this family already") from None
    family = session.get(Family, invitation.family_id)
    assert family is not None
    logger.info("invitation accepted", extra={"family_id": family.id, "invitation_id": invitation.id})
    return Joined(family=family_read(family=family, member=member), member=member_read(member))
