"""Tables of the family domain: families, their members (with or without an account) and invitations."""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import JSON, Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Time, text
from sqlalchemy.orm import Mapped, mapped_column

from woorizip.db.base import Base

ROLES = ("owner", "guardian", "member", "child")
_ROLE_LIST = ", ".join(f"'{role}'" for role in ROLES)


class Family(Base):
    __tablename__ = "families"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    timezone: Mapped[str] = mapped_column(String(64))
    # Local wall-clock time in `timezone`: 08:00 stays 08:00 across DST changes abroad.
    question_time: Mapped[time] = mapped_column(Time())
    interests: Mapped[list[str]] = mapped_column(JSON)
    blocked_categories: Mapped[list[str]] = mapped_column(JSON)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class FamilyMember(Base):
    """A person in a family; `user_id` is null for a managed profile (a young child without an account).

    Leaving or removal sets `removed_at` (never a hard delete) so answers keep their author.
    """

    __tablename__ = "family_members"
    __table_args__ = (
        CheckConstraint(f"role IN ({_ROLE_LIST})", name="role"),
        # The database itself keeps one active owner per family and one active membership per
        # account, so concurrent transfers or double accepts cannot break either rule.
        Index(
            "uq_family_members_one_owner", "family_id", unique=True,
            sqlite_where=text("role = 'owner' AND removed_at IS NULL"),
            postgresql_where=text("role = 'owner' AND removed_at IS NULL"),
        ),
        Index(
            "uq_family_members_active_user", "family_id", "user_id", unique=True,
            sqlite_where=text("removed_at IS NULL"),
            postgresql_where=text("removed_at IS NULL"),
        ),
    )  # fmt: skip

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    family_id: Mapped[str] = mapped_column(ForeignKey("families.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    nickname: Mapped[str] = mapped_column(String(20))
    birth_year: Mapped[int | None] = mapped_column(Integer)
    birthday_month: Mapped[int | None] = mapped_column(Integer)
    birthday_day: Mapped[int | None] = mapped_column(Integer)
    birthday_lunar: Mapped[bool] = mapped_column(Boolean, default=False)
    # Korean privacy law (PIPA art. 22-2): a child under 14 needs a legal guardian's consent;
    # we keep who gave it and when.
    guardian_consent_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    guardian_consent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    joined_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Invitation(Base):
    __tablename__ = "family_invitations"
    __table_args__ = (
        CheckConstraint("role IN ('member', 'guardian')", name="role"),
        CheckConstraint("uses >= 0 AND uses <= max_uses", name="uses"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    family_id: Mapped[str] = mapped_column(ForeignKey("families.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    max_uses: Mapped[int] = mapped_column(Integer)
    uses: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
