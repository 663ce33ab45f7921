"""Every table of the service, imported in one place for Alembic and the tests."""

from sqlmodel import SQLModel

from permits.accounts.models import ApiToken, LoginAttempt, User, WebSession
from permits.audit.models import AuditEvent, AuditHead
from permits.checks.models import Check
from permits.issuance.models import Permit, PermitPerson
from permits.organisations.models import Organisation
from permits.oversight.models import Checkpoint
from permits.policy.models import PolicyVersion
from permits.trust.models import IssuerKey, ListState, PublishedList
from permits.workspace.models import BulkJob, BulkRow

metadata = SQLModel.metadata

__all__ = [
    "ApiToken",
    "AuditEvent",
    "AuditHead",
    "BulkJob",
    "BulkRow",
    "Check",
    "Checkpoint",
    "IssuerKey",
    "ListState",
    "LoginAttempt",
    "Organisation",
    "Permit",
    "PermitPerson",
    "PolicyVersion",
    "PublishedList",
    "User",
    "WebSession",
    "metadata",
]
