"""Register search by the middle of a plate: each permit keeps its plate without the first
two letters (`plate_tail`, "AB123CD" -> "123CD"), indexed per organisation, so "777" finds
MN-777-OP with a range over an index, as a search by the plate's beginning does.

Revision ID: 0003_plate_tail
Revises: 0002_workspace
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_plate_tail"
down_revision = "0002_workspace"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("permit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("plate_tail", sa.String(length=16), nullable=True))
    op.execute("UPDATE permit SET plate_tail = substr(plate, 3) WHERE plate IS NOT NULL")
    with op.batch_alter_table("permit", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ws_permit_org_plate_tail", ["organisation_id", "plate_tail"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("permit", schema=None) as batch_op:
        batch_op.drop_index("ix_ws_permit_org_plate_tail")
        batch_op.drop_column("plate_tail")
