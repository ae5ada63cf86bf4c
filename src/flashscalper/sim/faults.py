"""Fault injection for the simulator: a switchboard the wire dialects consult on every request and frame.

Switched at run time from the admin endpoint (``POST /admin/faults``), a CLI profile or a test.
Everything defaults to "no fault".
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, fields

from flashscalper.clock import Clock


@dataclass(slots=True)
class FaultSettings:
    rest_429_burst: int = 0  # the next N REST requests answer 429
    rest_5xx_burst: int = 0  # the next N REST requests answer 503
    ack_delay_ms: int = 0  # order-entry answers are held this long
    refuse_ws_until_ms: int = 0  # WebSocket upgrades answer 503 until this time
    ws_stall_ms: int = 0  # connected sockets stop sending frames for this long (from when it is set)
    market_data_delay_ms: int = 0  # public frames are held this long before sending
    rest_error_rate: float = 0.0  # probability that any REST request answers 503 (chaos runs)


@dataclass(slots=True)
class FaultInjector:
    clock: Clock
    settings: FaultSettings = field(default_factory=FaultSettings)
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    stall_until_ms: int = 0
    # Set by the WebSocket dialect: closes every open socket (what "drop the connection" does).
    drop_hooks: list = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)

    def _count(self, name: str) -> None:
        self.counters[name] = self.counters.get(name, 0) + 1

    def rest_fault(self) -> int | None:
        """HTTP status to answer instead of serving the request, or None."""
        s = self.settings
        if s.rest_429_burst > 0:
            s.rest_429_burst -= 1
            self._count("rest_429")
            return 429
        if s.rest_5xx_burst > 0:
            s.rest_5xx_burst -= 1
            self._count("rest_5xx")
            return 503
        if s.rest_error_rate and self.rng.random() < s.rest_error_rate:
            self._count("rest_5xx")
            return 503
        return None

    def ws_refused(self) -> bool:
        refused = self.clock.time_ms() < self.settings.refuse_ws_until_ms
        if refused:
            self._count("ws_refused")
        return refused

    def ws_stalled(self) -> bool:
        return self.clock.time_ms() < self.stall_until_ms

    async def drop_connections(self) -> int:
        """Close every WebSocket the dialects registered; returns how many hooks ran."""
        self._count("ws_drop")
        for hook in list(self.drop_hooks):
            await hook()
        return len(self.drop_hooks)

    def apply(self, changes: dict[str, object]) -> FaultSettings:
        """Update settings from a JSON object; unknown names raise ValueError naming them."""
        known = {f.name: f.type for f in fields(FaultSettings)}
        unknown = sorted(set(changes) - set(known) - {"refuse_ws_for_ms", "drop_ws"})
        if unknown:
            raise ValueError(f"unknown fault setting(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        now = self.clock.time_ms()
        for name, value in changes.items():
            if name == "refuse_ws_for_ms":
                self.settings.refuse_ws_until_ms = now + int(value)  # type: ignore[arg-type]
            elif name == "ws_stall_ms":
                self.settings.ws_stall_ms = int(value)  # type: ignore[arg-type]
                self.stall_until_ms = now + int(value)  # type: ignore[arg-type]
            elif name == "rest_error_rate":
                rate = float(value)  # type: ignore[arg-type]
                if not 0 <= rate <= 1:
                    raise ValueError("rest_error_rate must be between 0 and 1")
                self.settings.rest_error_rate = rate
            elif name != "drop_ws":
                number = int(value)  # type: ignore[arg-type]
                if number < 0:
                    raise ValueError(f"{name} must not be negative")
                setattr(self.settings, name, number)
        return self.settings

    def clear(self) -> None:
        self.settings = FaultSettings()
        self.stall_until_ms = 0
