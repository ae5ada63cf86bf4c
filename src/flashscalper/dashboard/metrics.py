"""Prometheus text exposition (format 0.0.4) for ``GET /metrics``, written by hand (no client library).

Counters: orders, fills, rejects, reconnects, bus events. Gauges: risk state, equity, open
positions, dashboard clients. Histogram: signal → order acknowledgement latency (bot clock, ms).
"""

from __future__ import annotations

import math
from bisect import bisect_left

from flashscalper.trading.bus import (
    BotEvent,
    ConnectionHealth,
    EquitySample,
    FillReport,
    OrderReport,
    PositionReport,
    RiskStateChanged,
    SignalReport,
)

__all__ = ["Histogram", "Metrics"]

_RISK_LEVEL = {"ACTIVE": 0, "REDUCING": 1, "HALTED": 2}
_ACKED = {"NEW", "OPEN", "UNTRIGGERED", "FILLED"}


class Histogram:
    """Cumulative-bucket histogram; ``buckets`` are upper bounds in the observed unit."""

    def __init__(self, buckets: tuple[float, ...]) -> None:
        self.bounds = tuple(sorted(buckets))
        self.counts = [0] * (len(self.bounds) + 1)  # the last slot is +Inf
        self.total = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.total += value
        self.count += 1

    def lines(self, name: str) -> list[str]:
        out, running = [], 0
        for bound, n in zip((*self.bounds, math.inf), self.counts, strict=True):
            running += n
            le = "+Inf" if bound == math.inf else _fmt(bound)
            out.append(f'{name}_bucket{{le="{le}"}} {running}')
        out += [f"{name}_sum {_fmt(self.total)}", f"{name}_count {self.count}"]
        return out


def _fmt(value: float) -> str:
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


class Metrics:
    """Counts bus events as they pass; ``render()`` produces the exposition text."""

    def __init__(self, *, expose_equity: bool = True) -> None:
        self.expose_equity = expose_equity
        self.orders = 0
        self.fills = 0
        self.rejects = 0
        self.reconnects = 0
        self.events = 0
        self.risk_level = 0
        self.equity: float | None = None
        self.positions: set[str] = set()
        self.clients = 0
        self.signal_to_ack = Histogram((1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500))
        self._pending_signal: dict[str, int] = {}  # market → ts of the acted signal awaiting its ack
        self._disconnected: set[str] = set()
        self._acked: dict[str, None] = {}  # insertion-ordered set of acknowledged client ids

    def observe(self, event: BotEvent) -> None:
        """Account for one bus event."""
        self.events += 1
        if isinstance(event, OrderReport):
            status = event.order.status.value
            if status == "REJECTED":
                self.rejects += 1
            elif status in _ACKED and event.order.client_id not in self._acked:
                self._acked[event.order.client_id] = None
                self.orders += 1
                if len(self._acked) > 10_000:  # bounded: forget the oldest ids
                    del self._acked[next(iter(self._acked))]
            started = self._pending_signal.get(event.order.market)
            if started is not None and event.purpose == "ENTRY" and status in _ACKED:
                self.signal_to_ack.observe(max(event.ts - started, 0))
                del self._pending_signal[event.order.market]
        elif isinstance(event, SignalReport) and event.acted:
            self._pending_signal[event.signal.market] = event.ts
        elif isinstance(event, FillReport):
            self.fills += 1
        elif isinstance(event, RiskStateChanged):
            self.risk_level = _RISK_LEVEL.get(event.to_state.value, 0)
        elif isinstance(event, EquitySample):
            self.equity = float(event.equity)
        elif isinstance(event, PositionReport):
            if event.side is None or event.size == 0:
                self.positions.discard(event.market)
            else:
                self.positions.add(event.market)
        elif isinstance(event, ConnectionHealth):
            if event.state.value == "DISCONNECTED":
                self._disconnected.add(event.venue)
            elif event.venue in self._disconnected:
                self._disconnected.discard(event.venue)
                self.reconnects += 1

    def render(self) -> str:
        """The Prometheus text format, one metric family after another."""
        lines: list[str] = []

        def family(name: str, kind: str, help_text: str, samples: list[str]) -> None:
            lines.append(f"# HELP {name} {help_text}")
            lines.append(f"# TYPE {name} {kind}")
            lines.extend(samples)

        family("flashscalper_orders_total", "counter", "Orders the venue accepted.",
               [f"flashscalper_orders_total {self.orders}"])
        family("flashscalper_fills_total", "counter", "Fills received.", [f"flashscalper_fills_total {self.fills}"])
        family("flashscalper_rejects_total", "counter", "Orders the venue rejected.",
               [f"flashscalper_rejects_total {self.rejects}"])
        family("flashscalper_reconnects_total", "counter", "Venue reconnections after a drop.",
               [f"flashscalper_reconnects_total {self.reconnects}"])
        family("flashscalper_bus_events_total", "counter", "Bot events seen by the dashboard.",
               [f"flashscalper_bus_events_total {self.events}"])
        family("flashscalper_risk_state", "gauge", "Risk state: 0 ACTIVE, 1 REDUCING, 2 HALTED.",
               [f"flashscalper_risk_state {self.risk_level}"])
        if self.expose_equity and self.equity is not None:
            family("flashscalper_equity", "gauge", "Account equity in the settlement currency.",
                   [f"flashscalper_equity {_fmt(self.equity)}"])
        family("flashscalper_open_positions", "gauge", "Open positions.",
               [f"flashscalper_open_positions {len(self.positions)}"])
        family("flashscalper_dashboard_clients", "gauge", "Connected dashboard/overlay WebSocket clients.",
               [f"flashscalper_dashboard_clients {self.clients}"])
        family("flashscalper_signal_to_ack_ms", "histogram",
               "Milliseconds from an acted signal to the entry order's acknowledgement.",
               self.signal_to_ack.lines("flashscalper_signal_to_ack_ms"))
        return "\n".join(lines) + "\n"
