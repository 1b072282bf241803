"""families, members, invitations

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "families",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("question_time", sa.Time(), nullable=False),
        sa.Column("interests", sa.JSON(), nullable=False),
        sa.Column("blocked_categories", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_families_created_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_families")),
    )
    op.create_table(
        "family_members",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("family_id", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("nickname", sa.String(20), nullable=False),
        sa.Column("birth_year", sa.Integer(), nullable=True),
        sa.Column("birthday_month", sa.Integer(), nullable=True),
        sa.Column("birthday_day", sa.Integer(), nullable=True),
        sa.Column("birthday_lunar", sa.Boolean(), nullable=False),
        sa.Column("guardian_consent_by", sa.String(32), nullable=True),
        sa.Column("guardian_consent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("role IN ('owner', 'guardian', 'member', 'child')", name=op.f("ck_family_members_role")),
        sa.ForeignKeyConstraint(
            ["family_id"], ["families.id"], name=op.f("fk_family_members_family_id_families"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_family_members_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["guardian_consent_by"],
            ["users.id"],
            name=op.f("fk_family_members_guardian_consent_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_family_members")),
    )
    op.create_index(op.f("ix_family_members_family_id"), "family_members", ["family_id"])
    op.create_index(op.f("ix_family_members_user_id"), "family_members", ["user_id"])
    op.create_index(
        "uq_family_members_one_owner", "family_members", ["family_id"], unique=True,
        sqlite_where=sa.text("role = 'owner' AND removed_at IS NULL"),
        postgresql_where=sa.text("role = 'owner' AND removed_at IS NULL"),
    )  # fmt: skip
    op.create_index(
        "uq_family_members_active_user", "family_members", ["family_id", "user_id"], unique=True,
        sqlite_where=sa.text("removed_at IS NULL"),
        postgresql_where=sa.text("removed_at IS NULL"),
    )  # fmt: skip
    op.create_table(
        "family_invitations",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("family_id", sa.String(32), nullable=False),
        sa.Column("code", sa.String(8), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("max_uses", sa.Integer(), nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("role IN ('member', 'guardian')", name=op.f("ck_family_invitations_role")),
        sa.CheckConstraint("uses >= 0 AND uses <= max_uses", name=op.f("ck_family_invitations_uses")),
        sa.ForeignKeyConstraint(
            ["family_id"],
            ["families.id"],
            name=op.f("fk_family_invitations_family_id_families"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_family_invitations_created_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_family_invitations")),
        sa.UniqueConstraint("code", name=op.f("uq_family_invitations_code")),
    )
    op.create_index(op.f("ix_family_invitations_family_id"), "family_invitations", ["family_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_family_invitations_family_id"), table_name="family_invitations")
    op.drop_table("family_invitations")
    op.drop_index("uq_family_members_active_user", table_name="family_members")
    op.drop_index("uq_family_members_one_owner", table_name="family_members")
    op.drop_index(op.f("ix_family_members_user_id"), table_name="family_members")
    op.drop_index(op.f("ix_family_members_family_id"), table_name="family_members")
    op.drop_table("family_members")
    op.drop_table("families")
