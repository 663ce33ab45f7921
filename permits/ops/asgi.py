"""The production ASGI entry point, one per worker process: `permits.ops.asgi:app`.

Each worker builds its own engine, with a connection pool sized so that all workers
together stay under the database's connection limit (see `permits.ops.serve`).
"""

from __future__ import annotations

from permits.app import create_app
from permits.db import make_engine
from permits.ops.serve import pool_from_environment
from permits.settings import get_settings

_settings = get_settings()
app = create_app(
    _settings,
    engine=make_engine(_settings.database_url, echo=_settings.sql_echo, **pool_from_environment()),
)
