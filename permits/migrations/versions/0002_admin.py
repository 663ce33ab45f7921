"""The regional administration: the checkpoint registry, and indexes for the dashboard,
the anomaly scan and a permit's history.

Revision ID: 0002_admin
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_admin"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "checkpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=100), nullable=False),
        sa.Column("name_ka", sa.String(length=200), nullable=False),
        sa.Column("name_az", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("municipality", sa.Integer(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("checkpoint", schema=None) as batch_op:
        batch_op.create_index("ix_checkpoint_code", ["code"], unique=True)
    # The dashboard groups permits issued in a period by category, issuer, municipality and
    # status: one covering index answers each grouping from the index alone.
    with op.batch_alter_table("permit", schema=None) as batch_op:
        batch_op.create_index(
            "ix_admin_permit_issued",
            [
                "issued_at",
                "category",
                "organisation_id",
                "route_to_municipality",
                "status",
                "valid_until",
            ],
            unique=False,
        )
        batch_op.create_index("ix_admin_permit_kid", ["kid", "status"], unique=False)
    with op.batch_alter_table("permit_check", schema=None) as batch_op:
        batch_op.create_index(
            "ix_admin_check_at", ["checked_at", "checkpoint", "result"], unique=False
        )
        batch_op.create_index("ix_admin_check_permit_at", ["permit_id", "checked_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("permit_check", schema=None) as batch_op:
        batch_op.drop_index("ix_admin_check_permit_at")
        batch_op.drop_index("ix_admin_check_at")
    with op.batch_alter_table("permit", schema=None) as batch_op:
        batch_op.drop_index("ix_admin_permit_kid")
        batch_op.drop_index("ix_admin_permit_issued")
    with op.batch_alter_table("checkpoint", schema=None) as batch_op:
        batch_op.drop_index("ix_checkpoint_code")
    op.drop_table("checkpoint")
