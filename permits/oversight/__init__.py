"""The regional administration's oversight: checkpoints, anomalies, organisations and keys,
policy changes, published lists and the audit chain."""
