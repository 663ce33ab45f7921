"""Keep secrets out of the logs: bearer links are redacted from access log lines.

A holder's link (/h/<token>) opens that holder's certificate without logging in, so the
token is a secret; an access log line would otherwise keep it for anyone who reads the logs.
(Production serving turns the access log off altogether; `permits serve` keeps it on.)
SQL parameters never reach error messages or logs either: engines are created with
hide_parameters (permits.db).
"""

from __future__ import annotations

import logging
import re

_SECRET_PATHS = re.compile(r"(/h/)[^/?#\s]+")
_SECRET_QUERY = re.compile(r"((?:^|[?&])(?:token|password|passphrase|secret)=)[^&#\s]*", re.I)
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """Return `text` with holder-link tokens and secret query values replaced."""
    return _SECRET_QUERY.sub(rf"\1{REDACTED}", _SECRET_PATHS.sub(rf"\1{REDACTED}", text))


class RedactSecrets(logging.Filter):
    """A logging filter that redacts secrets from a record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; always keep it."""
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install_log_redaction(names: tuple[str, ...] = ("uvicorn.access", "uvicorn.error")) -> None:
    """Add the redacting filter to these loggers (once)."""
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())
