"""Tables of social sign-in: which provider account (provider, subject) belongs to which user."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from woorizip.db.base import Base


class Identity(Base):
    """A provider account linked to a user; never found by e-mail, only by (provider, subject)."""

    __tablename__ = "identities"
    __table_args__ = (
        UniqueConstraint("provider", "subject"),
        # One account per provider per user keeps `DELETE /v1/me/identities/{provider}` unambiguous.
        UniqueConstraint("user_id", "provider"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320))  # as the provider reported it when linked
    # The provider's refresh token, Fernet-encrypted, kept only to revoke the grant at account deletion.
    grant_token: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
