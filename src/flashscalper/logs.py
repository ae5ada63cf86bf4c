"""Logging set-up: readable console logs, with known secrets scrubbed from every record."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from rich.console import Console
from rich.logging import RichHandler

_REDACTED = "***"


class SecretScrubber(logging.Filter):
    """Replaces any registered secret (and its 0x-less form) in a record's final message."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()

    def register(self, secrets: Iterable[str]) -> None:
        for secret in secrets:
            if secret and len(secret) >= 8:
                self._secrets.add(secret)
                self._secrets.add(secret.lower().removeprefix("0x"))

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        scrubbed = message
        for secret in self._secrets:
            if secret in scrubbed:
                scrubbed = scrubbed.replace(secret, _REDACTED)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        return True


scrubber = SecretScrubber()


def setup_logging(level: str = "INFO", *, console: Console | None = None, secrets: Iterable[str] = ()) -> None:
    """Configure the root logger once; safe to call again (handlers are replaced, not stacked)."""
    scrubber.register(secrets)
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_flashscalper", False):
            root.removeHandler(handler)
    handler = RichHandler(console=console or Console(stderr=True), show_path=False, rich_tracebacks=False)
    handler.addFilter(scrubber)
    handler._flashscalper = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("aiohttp.access", "uvicorn.access", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
