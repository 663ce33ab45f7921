"""Settings from the environment (prefix PERMITS_), refusing demo secrets outside demo mode."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEMO_PASSPHRASE = "demo-only-key-passphrase"  # noqa: S105 - refused outside demo/test mode
DEMO_SECRET = "demo-only-session-secret"  # noqa: S105 - refused outside demo/test mode


class Settings(BaseSettings):
    """Everything the service reads from its environment.

    `env` is "demo" for `make run`, "test" for the suite and "production" otherwise; in
    production the demo passphrase and secret are refused at start-up.
    """

    model_config = SettingsConfigDict(env_prefix="PERMITS_", env_file=".env", extra="ignore")

    env: Literal["demo", "test", "production"] = "demo"
    database_url: str = "sqlite:///var/permits.db"
    keys_dir: Path = Path("keys")
    lists_dir: Path = Path("var/lists")
    key_passphrase: SecretStr = SecretStr(DEMO_PASSPHRASE)
    key_kdf_rounds: int = 600_000
    secret_key: SecretStr = SecretStr(DEMO_SECRET)
    public_base_url: str = "http://127.0.0.1:8000"
    list_refresh_seconds: int = 3600
    sql_echo: bool = False
    # Checks before issuing on a busy worker (permits.ops.priority): issuing's threads run
    # at this CPU niceness (0: as every other thread), and at most this many issuing requests
    # are under way at once in a worker that is answering online checks.
    issuing_nice: int = Field(default=15, ge=0, le=19)
    issuing_while_checking: int = Field(default=2, ge=1)

    @model_validator(mode="after")
    def _refuse_demo_secrets(self) -> Settings:
        if self.env == "production":
            if self.key_passphrase.get_secret_value() == DEMO_PASSPHRASE:
                raise ValueError("PERMITS_KEY_PASSPHRASE must be set in production")
            if self.secret_key.get_secret_value() == DEMO_SECRET:
                raise ValueError("PERMITS_SECRET_KEY must be set in production")
            if len(self.key_passphrase.get_secret_value()) < 16:
                raise ValueError("PERMITS_KEY_PASSPHRASE must be at least 16 characters")
            if self.key_kdf_rounds < 100_000:
                raise ValueError("PERMITS_KEY_KDF_ROUNDS must be at least 100000 in production")
        return self

    @property
    def is_sqlite(self) -> bool:
        """True when the database URL names an embedded SQLite file."""
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings, read once from the environment."""
    return Settings()
