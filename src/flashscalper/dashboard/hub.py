"""LiveHub: follows the bot's bus, keeps the DashboardState, and pushes frames to WebSocket clients.

Push, not polling: a client gets one ``snapshot`` frame when it connects, then a ``delta`` frame
whenever something changed (bus events are drained and coalesced into one frame per wake-up).
Market data is sampled at 4 Hz into ``market_points`` deltas. Each frame is serialized once per
audience (full / privacy) and the privacy form is built by :mod:`flashscalper.dashboard.privacy`.

Clients have bounded queues; a client that falls too far behind is disconnected and reconnects to
a fresh snapshot rather than slowing anyone else (the bot never waits for the dashboard).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import orjson

from flashscalper.dashboard import privacy
from flashscalper.dashboard.metrics import Metrics
from flashscalper.dashboard.state import DashboardState
from flashscalper.trading.bus import BotEvent, EventBus, FillReport, RiskStateChanged, TradeClosed

__all__ = ["Client", "LiveHub", "event_payload"]

log = logging.getLogger(__name__)

SAMPLE_INTERVAL_S = 0.25
CLIENT_QUEUE = 512


def event_payload(event: BotEvent, state: DashboardState) -> dict[str, Any] | None:
    """The toast-worthy events in full form (fills, closed trades, risk changes); None for the rest."""
    if isinstance(event, FillReport):
        return {"kind": "fill", **state.fills[0], "engine_ts": event.fill.ts} if state.fills else None
    if isinstance(event, TradeClosed):
        return {"kind": "trade_closed", **state.trades[0]} if state.trades else None
    if isinstance(event, RiskStateChanged):
        return {"kind": "risk_state", "ts": event.ts, "state": event.to_state.value, "text": event.reason}
    return None


class Client:
    """One connected WebSocket: its audience and its outgoing frame queue."""

    def __init__(self, private: bool) -> None:
        self.private = private
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=CLIENT_QUEUE)
        self.overflowed = False

    def push(self, frame: bytes) -> None:
        if self.overflowed:
            return
        if self.queue.full():
            # too far behind: end this connection (None), the page reconnects to a fresh snapshot
            self.overflowed = True
            self.queue.get_nowait()
            self.queue.put_nowait(None)
            return
        self.queue.put_nowait(frame)


class LiveHub:
    """Owns the state, the bus subscription, the market sampler and the set of clients."""

    def __init__(self, state: DashboardState, bus: EventBus, metrics: Metrics, *, force_privacy: bool = False) -> None:
        self.state = state
        self.bus = bus
        self.metrics = metrics
        self.force_privacy = force_privacy
        self.clients: set[Client] = set()
        self._sub = None
        self._tasks: list[asyncio.Task[None]] = []

    # ---- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        if self._tasks:
            return
        self._sub = self.bus.subscribe(maxsize=5000)
        self._tasks = [asyncio.create_task(self._follow(), name="dashboard-bus"),
                       asyncio.create_task(self._sample(), name="dashboard-markets")]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._sub is not None:
            self._sub.close()
            self._sub = None
        for client in list(self.clients):
            with contextlib.suppress(asyncio.QueueFull):
                client.queue.put_nowait(None)

    # ---- clients ---------------------------------------------------------------------------------

    def connect(self, *, private: bool) -> Client:
        """Register a client and queue its snapshot first (later deltas follow it in order)."""
        client = Client(private or self.force_privacy)
        snap = self.state.snapshot()
        state = privacy.private_snapshot(snap) if client.private else snap
        client.push(orjson.dumps({"type": "snapshot", "seq": self.state.seq, "state": state}))
        self.clients.add(client)
        self.metrics.clients = len(self.clients)
        return client

    def disconnect(self, client: Client) -> None:
        self.clients.discard(client)
        self.metrics.clients = len(self.clients)

    def view(self, *, private: bool) -> dict[str, Any]:
        """The state as ``GET /api/state`` serves it."""
        snap = self.state.snapshot()
        return privacy.private_snapshot(snap) if private or self.force_privacy else snap

    # ---- pushing ---------------------------------------------------------------------------------

    def broadcast(self, changed: set[str], events: list[dict[str, Any]] | None = None,
                  extra: dict[str, Any] | None = None) -> None:
        """Send the changed sections (plus toast events and raw extra sections) to every client."""
        if not changed and not events and not extra:
            return
        self.state.seq += 1
        full_changes = {name: self.state.section(name) for name in changed}
        full_changes.update(extra or {})
        events = events or []
        frames: dict[bool, bytes] = {}
        for client in list(self.clients):
            frame = frames.get(client.private)
            if frame is None:
                if client.private:
                    changes = {k: privacy.private_section(k, v) for k, v in full_changes.items()}
                    changes = {k: v for k, v in changes.items() if v is not None or k == "signal"}
                    evs = [e for e in (privacy.private_event(e) for e in events) if e is not None]
                else:
                    changes, evs = full_changes, events
                frame = orjson.dumps({"type": "delta", "seq": self.state.seq, "ts": _now_ms(),
                                      "changes": changes, "events": evs})
                frames[client.private] = frame
            client.push(frame)

    async def _follow(self) -> None:
        assert self._sub is not None
        while True:
            first = await self._sub.get()
            changed: set[str] = set()
            events: list[dict[str, Any]] = []
            for event in [first, *self._sub.drain()]:
                try:
                    changed |= self.state.apply(event)
                    self.metrics.observe(event)
                    payload = event_payload(event, self.state)
                    if payload is not None:
                        events.append(payload)
                except Exception:  # one odd event must not stop the dashboard
                    log.exception("dashboard could not fold %s", getattr(event, "kind", event))
            self.broadcast(changed, events)

    async def _sample(self) -> None:
        while True:
            await asyncio.sleep(SAMPLE_INTERVAL_S)
            points = self.state.sample_markets(_now_ms())
            if points:
                quotes = {s: self.state.watch[s].view() for s in points}
                self.broadcast(set(), extra={"market_points": points, "market_quotes": quotes})


def _now_ms() -> int:
    return time.time_ns() // 1_000_000
