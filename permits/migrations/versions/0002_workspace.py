"""The clinic and agency workspace: browser sessions, login attempts, bulk-upload jobs,
password bookkeeping on users, and indexes for the register's searches.

Revision ID: 0002_workspace
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_workspace"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("password_set_at", TS, nullable=True))
        batch_op.add_column(sa.Column("last_login_at", TS, nullable=True))

    op.create_table(
        "web_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_seen_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("ended_at", TS, nullable=True),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("web_session", schema=None) as batch_op:
        batch_op.create_index("ix_web_session_token_hash", ["token_hash"], unique=True)
        batch_op.create_index("ix_web_session_user_id", ["user_id"], unique=False)

    op.create_table(
        "login_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.create_index("ix_login_attempt_username_at", ["username", "at"], unique=False)
        batch_op.create_index("ix_login_attempt_address_at", ["address", "at"], unique=False)

    op.create_table(
        "bulk_job",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("defaults", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=False),
        sa.Column("checked_rows", sa.Integer(), nullable=False),
        sa.Column("valid_rows", sa.Integer(), nullable=False),
        sa.Column("invalid_rows", sa.Integer(), nullable=False),
        sa.Column("duplicate_rows", sa.Integer(), nullable=False),
        sa.Column("existing_rows", sa.Integer(), nullable=False),
        sa.Column("issued_rows", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("bulk_job", schema=None) as batch_op:
        batch_op.create_index(
            "ix_bulk_job_org_created", ["organisation_id", "created_at"], unique=False
        )

    op.create_table(
        "bulk_row",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Uuid(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("source", sa.JSON(), nullable=False),
        sa.Column("request", sa.JSON(), nullable=True),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("duplicate_of", sa.Integer(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=100), nullable=True),
        sa.Column("permit_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(["job_id"], ["bulk_job.id"]),
        sa.ForeignKeyConstraint(["permit_id"], ["permit.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("bulk_row", schema=None) as batch_op:
        batch_op.create_index("ix_bulk_row_job_line", ["job_id", "line"], unique=False)

    _search_indexes()


def _search_indexes() -> None:
    """Indexes for the register: one organisation's permits by status and date, people by
    personal number, and name and plate fragments (trigram indexes)."""
    with op.batch_alter_table("permit", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ws_permit_org_status_until",
            ["organisation_id", "status", "valid_until"],
            unique=False,
        )
    with op.batch_alter_table("permit_person", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ws_person_document_permit", ["document", "permit_id"], unique=False
        )
        # names are searched by their beginning: a range over these indexes
        batch_op.create_index("ix_ws_person_first_name", ["first_name", "permit_id"], unique=False)
        batch_op.create_index("ix_ws_person_last_name", ["last_name", "permit_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("permit_person", schema=None) as batch_op:
        batch_op.drop_index("ix_ws_person_last_name")
        batch_op.drop_index("ix_ws_person_first_name")
        batch_op.drop_index("ix_ws_person_document_permit")
    with op.batch_alter_table("permit", schema=None) as batch_op:
        batch_op.drop_index("ix_ws_permit_org_status_until")
    op.drop_table("bulk_row")
    op.drop_table("bulk_job")
    op.drop_table("login_attempt")
    op.drop_table("web_session")
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_column("last_login_at")
        batch_op.drop_column("password_set_at")
