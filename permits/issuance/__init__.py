"""Issuing permits: validation, signing, storage, replacement, revocation, delivery receipts."""
