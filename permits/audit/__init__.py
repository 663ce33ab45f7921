"""The tamper-evident audit trail of every state change."""
