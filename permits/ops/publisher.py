"""Keeps the static list files current: publishes a new signed version when something changed.

In production one publisher runs in the supervising process (`permits serve --production`),
so the N API workers never race to write the files. Every write goes to a unique temporary
file that is flushed to disk and then renamed over the old one: a reader (or a CDN) sees the
old file or the new one, never half of one, even if the process is killed mid-write.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from permits.db import write_session
from permits.errors import PermitsError
from permits.trust.keystore import KeyStore

log = logging.getLogger("permits.ops.publisher")


def publish_once(
    engine: Engine,
    *,
    keystore: KeyStore,
    out_dir: Path,
    now: datetime,
    refresh_after: timedelta,
) -> list[Path]:
    """Write the current signed lists (and the root public key) into `out_dir`.

    A new version is signed only when the lists changed or the last one is older than
    `refresh_after`. Returns the files written.
    """
    from permits.policy.service import policy_at
    from permits.trust.lists import export_lists

    with write_session(engine) as session:
        return export_lists(
            session,
            out_dir=out_dir,
            keystore=keystore,
            policy=policy_at(session, now),
            now=now,
            refresh_after=refresh_after,
        )


class ListPublisher:
    """A daemon thread that calls `publish_once` every `every` seconds until stopped.

    A database outage is logged and retried at the next round; the files already written
    keep being served (devices see their age and warn when they grow stale).
    """

    def __init__(
        self,
        engine: Engine,
        *,
        keystore: KeyStore,
        out_dir: Path,
        clock: Callable[[], datetime],
        refresh_after: timedelta,
        every: float = 10.0,
    ) -> None:
        self.engine = engine
        self.keystore = keystore
        self.out_dir = out_dir
        self.clock = clock
        self.refresh_after = refresh_after
        self.every = every
        self.rounds = 0
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="list-publisher", daemon=True)

    def start(self) -> ListPublisher:
        """Start publishing in the background."""
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the current round."""
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                publish_once(
                    self.engine,
                    keystore=self.keystore,
                    out_dir=self.out_dir,
                    now=self.clock(),
                    refresh_after=self.refresh_after,
                )
                self.rounds += 1
            except (SQLAlchemyError, PermitsError, OSError) as exc:
                self.failures += 1
                log.warning("publishing the lists failed (retrying): %s", type(exc).__name__)
            self._stop.wait(self.every)
