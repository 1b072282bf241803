"""the recommender's per-family states

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "recommender_family_states",
        sa.Column("family_id", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("folded_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("state", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["family_id"],
            ["families.id"],
            name=op.f("fk_recommender_family_states_family_id_families"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("family_id", name=op.f("pk_recommender_family_states")),
    )


def downgrade() -> None:
    op.drop_table("recommender_family_states")
