"""Checks made at checkpoints: online verifications and uploads from devices."""
