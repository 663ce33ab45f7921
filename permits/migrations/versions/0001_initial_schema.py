"""Initial schema: organisations, users, keys, policy versions, permits, checks, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 03:04:06.465552
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    audit_head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(audit_head, [{"id": 1, "seq": 0, "last_hash": "0" * 64}])
    list_state = op.create_table(
        "list_state",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("counter", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind"),
    )
    op.bulk_insert(
        list_state, [{"kind": "trust", "counter": 0}, {"kind": "revocation", "counter": 0}]
    )
    op.create_table(
        "organisation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("name_ka", sa.String(length=300), nullable=False),
        sa.Column("name_az", sa.String(length=300), nullable=False),
        sa.Column("name_en", sa.String(length=300), nullable=False),
        sa.Column("municipality", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("head_name", sa.String(length=200), nullable=True),
        sa.Column("languages", sa.String(length=16), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=True),
        sa.Column("next_serial", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_organisation_code"), ["code"], unique=True)

    op.create_table(
        "published_list",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "version"),
    )
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("roles", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("must_change_password", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_app_user_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_app_user_username"), ["username"], unique=True)

    op.create_table(
        "issuer_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("kid", sa.String(length=16), nullable=False),
        sa.Column("public_key_der", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("issuer_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_issuer_key_kid"), ["kid"], unique=True)
        batch_op.create_index(
            batch_op.f("ix_issuer_key_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_issuer_key_status"), ["status"], unique=False)

    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_token_token_hash"), ["token_hash"], unique=True)
        batch_op.create_index(batch_op.f("ix_api_token_user_id"), ["user_id"], unique=False)

    op.create_table(
        "audit_event",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("subject_type", sa.String(length=40), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_user_id"],
            ["app_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
        ),
        sa.PrimaryKeyConstraint("seq"),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_event_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_event_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_event_subject_id"), ["subject_id"], unique=False)

    op.create_table(
        "policy_version",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["app_user.id"],
        ),
        sa.PrimaryKeyConstraint("version"),
    )
    with op.batch_alter_table("policy_version", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_policy_version_effective_from"), ["effective_from"], unique=False
        )

    op.create_table(
        "permit",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("cti", sa.String(length=10), nullable=False),
        sa.Column("serial", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("issued_by_user_id", sa.Integer(), nullable=False),
        sa.Column("kid", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("windows", sa.JSON(), nullable=False),
        sa.Column("weekdays", sa.Integer(), nullable=True),
        sa.Column("vehicle_kind", sa.String(length=16), nullable=True),
        sa.Column("make_model", sa.String(length=60), nullable=True),
        sa.Column("plate", sa.String(length=16), nullable=True),
        sa.Column("plate_freeform", sa.Boolean(), nullable=False),
        sa.Column("route_from_address", sa.String(length=200), nullable=True),
        sa.Column("route_from_municipality", sa.Integer(), nullable=True),
        sa.Column("route_to_address", sa.String(length=200), nullable=True),
        sa.Column("route_to_municipality", sa.Integer(), nullable=True),
        sa.Column("route_note", sa.String(length=60), nullable=True),
        sa.Column("purpose_detail", sa.Text(), nullable=True),
        sa.Column("beneficiary", sa.String(length=200), nullable=True),
        sa.Column("reference_document", sa.String(length=100), nullable=True),
        sa.Column("qr_text", sa.Text(), nullable=False),
        sa.Column("holder_token", sa.String(length=32), nullable=False),
        sa.Column("idempotency_key", sa.String(length=100), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by_user_id", sa.Integer(), nullable=True),
        sa.Column("revoke_reason", sa.String(length=500), nullable=True),
        sa.Column("replaced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replaced_by_id", sa.Uuid(), nullable=True),
        sa.Column("replaces_id", sa.Uuid(), nullable=True),
        sa.Column("receipt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("receipt_by_name", sa.String(length=200), nullable=True),
        sa.Column("receipt_recorded_by_user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["issued_by_user_id"],
            ["app_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
        ),
        sa.ForeignKeyConstraint(
            ["policy_version"],
            ["policy_version.version"],
        ),
        sa.ForeignKeyConstraint(
            ["receipt_recorded_by_user_id"],
            ["app_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["replaced_by_id"],
            ["permit.id"],
        ),
        sa.ForeignKeyConstraint(
            ["replaces_id"],
            ["permit.id"],
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_user_id"],
            ["app_user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("holder_token"),
        sa.UniqueConstraint("organisation_id", "idempotency_key"),
        sa.UniqueConstraint("serial"),
    )
    with op.batch_alter_table("permit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_permit_category"), ["category"], unique=False)
        batch_op.create_index(batch_op.f("ix_permit_cti"), ["cti"], unique=True)
        batch_op.create_index(
            "ix_permit_org_issued", ["organisation_id", "issued_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_permit_plate"), ["plate"], unique=False)
        batch_op.create_index("ix_permit_status_until", ["status", "valid_until"], unique=False)

    op.create_table(
        "permit_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("permit_id", sa.Uuid(), nullable=True),
        sa.Column("cti", sa.String(length=10), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checkpoint", sa.String(length=100), nullable=False),
        sa.Column("officer_user_id", sa.Integer(), nullable=True),
        sa.Column("result", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("device_check_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["officer_user_id"],
            ["app_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["permit_id"],
            ["permit.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("device_check_id"),
    )
    with op.batch_alter_table("permit_check", schema=None) as batch_op:
        batch_op.create_index("ix_check_checkpoint_at", ["checkpoint", "checked_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_permit_check_checked_at"), ["checked_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_permit_check_permit_id"), ["permit_id"], unique=False)

    op.create_table(
        "permit_person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("permit_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("first_name", sa.String(length=60), nullable=False),
        sa.Column("last_name", sa.String(length=60), nullable=False),
        sa.Column("document", sa.String(length=20), nullable=False),
        sa.Column("foreign_document", sa.Boolean(), nullable=False),
        sa.Column("job_position", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["permit_id"],
            ["permit.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("permit_person", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_permit_person_document"), ["document"], unique=False)
        batch_op.create_index(batch_op.f("ix_permit_person_permit_id"), ["permit_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("permit_person", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_permit_person_permit_id"))
        batch_op.drop_index(batch_op.f("ix_permit_person_document"))

    op.drop_table("permit_person")
    with op.batch_alter_table("permit_check", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_permit_check_permit_id"))
        batch_op.drop_index(batch_op.f("ix_permit_check_checked_at"))
        batch_op.drop_index("ix_check_checkpoint_at")

    op.drop_table("permit_check")
    with op.batch_alter_table("permit", schema=None) as batch_op:
        batch_op.drop_index("ix_permit_status_until")
        batch_op.drop_index(batch_op.f("ix_permit_plate"))
        batch_op.drop_index("ix_permit_org_issued")
        batch_op.drop_index(batch_op.f("ix_permit_cti"))
        batch_op.drop_index(batch_op.f("ix_permit_category"))

    op.drop_table("permit")
    with op.batch_alter_table("policy_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_policy_version_effective_from"))

    op.drop_table("policy_version")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_subject_id"))
        batch_op.drop_index(batch_op.f("ix_audit_event_at"))
        batch_op.drop_index(batch_op.f("ix_audit_event_action"))

    op.drop_table("audit_event")
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_token_user_id"))
        batch_op.drop_index(batch_op.f("ix_api_token_token_hash"))

    op.drop_table("api_token")
    with op.batch_alter_table("issuer_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_issuer_key_status"))
        batch_op.drop_index(batch_op.f("ix_issuer_key_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_issuer_key_kid"))

    op.drop_table("issuer_key")
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_app_user_username"))
        batch_op.drop_index(batch_op.f("ix_app_user_organisation_id"))

    op.drop_table("app_user")
    op.drop_table("published_list")
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organisation_code"))

    op.drop_table("organisation")
    op.drop_table("list_state")
    op.drop_table("audit_head")
