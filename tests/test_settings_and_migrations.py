"""Settings refuse demo secrets in production; the migrations build exactly the models' schema."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from pydantic import ValidationError
from sqlalchemy.engine import Engine

from permits.settings import Settings
from permits.tables import metadata


def test_production_refuses_demo_secrets() -> None:
    with pytest.raises(ValidationError, match="PERMITS_KEY_PASSPHRASE"):
        Settings(env="production", secret_key="x" * 40)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="PERMITS_SECRET_KEY"):
        Settings(env="production", key_passphrase="a-long-production-passphrase")  # type: ignore[arg-type]
    ok = Settings(
        env="production", key_passphrase="a-long-production-passphrase", secret_key="s" * 40
    )  # type: ignore[arg-type]
    assert ok.key_kdf_rounds >= 100_000


def test_migrations_match_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = compare_metadata(context, metadata)
    assert differences == []
