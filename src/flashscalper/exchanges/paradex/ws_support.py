"""Settings, counters and throttled logging of the Paradex WebSocket client."""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flashscalper.clock import Clock


@dataclass(frozen=True, slots=True)
class WsConfig:
    """Tunables of ``ParadexWsClient``; the defaults suit a scalper on the live venue."""

    sbe_public: bool = True  # public channels as SBE binary frames; False keeps them JSON (simulator tests)
    sbe_schema_id: int = 1
    sbe_schema_version: int = 2
    request_timeout_s: float = 10.0  # JSON-RPC answers (auth, subscribe...)
    connect_timeout_s: float = 10.0
    # No frame at all for this long means a dead feed. The bbo channel of an active market is never this
    # quiet; a private-only connection should raise it above the server's 55 s ping interval.
    stale_after_s: float = 30.0
    heartbeat_s: float | None = None  # optional client-side pings (aiohttp closes on a missing pong)
    # A scalper must be back fast: the first retry comes after 50–100 ms, then 0.1–0.2 s, 0.2–0.4 s, …
    backoff_base_s: float = 0.1
    backoff_cap_s: float = 10.0
    jwt_refresh_margin_s: float = 60.0  # refresh before connecting when fewer seconds remain (paradex-py: 60)
    cancel_on_disconnect: bool = False
    queue_size: int = 10_000
    book_depth: int = 15
    book_rate: str = "50ms"
    dedup_size: int = 10_000
    log_interval_s: float = 10.0  # at most one log line per kind of problem per interval


@dataclass(slots=True)
class WsStats:
    """What the client has seen; ``reconnect_durations`` holds the last few outages in seconds."""

    messages: int = 0
    bytes: int = 0
    text_frames: int = 0
    binary_frames: int = 0
    decode_errors: int = 0
    mapping_errors: int = 0
    internal_errors: int = 0
    rpc_errors: int = 0
    reconnects: int = 0
    connect_failures: int = 0
    stale_disconnects: int = 0
    resnapshots: int = 0
    token_refreshes: int = 0
    reconnect_durations: deque[float] = field(default_factory=lambda: deque(maxlen=20))

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {name: getattr(self, name) for name in self.__slots__}  # type: ignore[attr-defined]
        out["reconnect_durations"] = list(self.reconnect_durations)
        return out


def with_sbe_query(url: str, config: WsConfig) -> str:
    """``url`` with ``sbeSchemaId``/``sbeSchemaVersion`` set (other query parameters are kept)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("sbeSchemaId", "sbeSchemaVersion")]
    query += [("sbeSchemaId", str(config.sbe_schema_id)), ("sbeSchemaVersion", str(config.sbe_schema_version))]
    return urlunsplit(parts._replace(query=urlencode(query)))


class ThrottledLog:
    """At most one line per ``key`` per interval; the next line says how many were suppressed."""

    def __init__(self, logger: logging.Logger, clock: Clock, interval_s: float) -> None:
        self._log = logger
        self._clock = clock
        self._interval = interval_s
        self._next: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}

    def _allow(self, key: str) -> str | None:
        now = self._clock.monotonic()
        if now < self._next.get(key, float("-inf")):
            self._suppressed[key] = self._suppressed.get(key, 0) + 1
            return None
        self._next[key] = now + self._interval
        skipped = self._suppressed.pop(key, 0)
        return f" ({skipped} similar suppressed)" if skipped else ""

    def warning(self, key: str, msg: str, *args: Any) -> None:
        suffix = self._allow(key)
        if suffix is not None:
            self._log.warning(msg + suffix, *args)

    def exception(self, key: str, msg: str, *args: Any) -> None:
        suffix = self._allow(key)
        if suffix is not None:
            self._log.exception(msg + suffix, *args)
