"""Event fan-out: one publisher (the bot), many subscribers (dashboard, journal, CLI log).

Each subscriber gets its own bounded queue. ``publish`` never waits: when a subscriber's queue is
full its oldest event is dropped (and counted), so a slow dashboard can never block trading.
Synchronous listeners (``add_listener``) are called inline and must be quick; their exceptions are
logged and swallowed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from flashscalper.domain import ConnectionState, Fill, Order, Side
from flashscalper.strategy.base import Signal
from flashscalper.trading.exits import ClosedTrade
from flashscalper.trading.risk import RiskState, RiskTransition

log = logging.getLogger(__name__)

__all__ = [
    "BotEvent",
    "ConnectionHealth",
    "EquitySample",
    "EventBus",
    "FillReport",
    "OrderReport",
    "PositionReport",
    "ReconcileAction",
    "RiskStateChanged",
    "SignalReport",
    "Subscription",
    "TradeClosed",
]


@dataclass(frozen=True, slots=True)
class SignalReport:
    """A strategy signal and what the bot did with it (``acted`` False: ``note`` says why not)."""

    signal: Signal
    acted: bool
    note: str
    ts: int
    kind: str = "signal"


@dataclass(frozen=True, slots=True)
class OrderReport:
    """An order of ours changed state. ``purpose`` is ENTRY / STOP / TAKE_PROFIT / EXIT;
    ``note`` explains rejects and losses in words."""

    order: Order
    purpose: str
    note: str
    ts: int
    kind: str = "order"


@dataclass(frozen=True, slots=True)
class FillReport:
    fill: Fill
    purpose: str
    ts: int
    kind: str = "fill"


@dataclass(frozen=True, slots=True)
class PositionReport:
    """A live position with real-time P&L. ``roe`` is % of initial margin (entry notional / leverage);
    ``liquidation_distance_percent`` is how far the mark is from the liquidation price."""

    market: str
    side: Side | None
    size: Decimal
    entry_price: Decimal
    mark_price: Decimal
    unrealized_pnl: Decimal
    roe: Decimal
    margin: Decimal
    leverage: Decimal
    stop_price: Decimal | None
    take_profit_price: Decimal | None
    trailing_active: bool
    liquidation_price: Decimal | None
    liquidation_distance_percent: Decimal | None
    opened_at: int
    ts: int
    kind: str = "position"


@dataclass(frozen=True, slots=True)
class TradeClosed:
    trade: ClosedTrade
    ts: int
    kind: str = "trade_closed"


@dataclass(frozen=True, slots=True)
class RiskStateChanged:
    from_state: RiskState
    to_state: RiskState
    reason: str
    ts: int
    kind: str = "risk_state"

    @classmethod
    def of(cls, transition: RiskTransition) -> RiskStateChanged:
        return cls(transition.from_state, transition.to_state, transition.reason, transition.ts)


@dataclass(frozen=True, slots=True)
class ReconcileAction:
    """One thing reconciliation did (or found), with why. ``action`` is one of ADOPT_POSITION,
    REPROTECT, CANCEL_ORPHAN, POSITION_GONE, FIX_SIZE, ORDER_RESOLVED, IN_SYNC."""

    action: str
    market: str
    reason: str
    ts: int
    detail: dict[str, str] = field(default_factory=dict)
    kind: str = "reconcile"


@dataclass(frozen=True, slots=True)
class ConnectionHealth:
    venue: str
    state: ConnectionState
    detail: str
    ts: int
    kind: str = "connection"


@dataclass(frozen=True, slots=True)
class EquitySample:
    equity: Decimal
    wallet: Decimal
    available: Decimal
    margin_in_use: Decimal
    margin_utilisation_percent: Decimal | None
    ts: int
    kind: str = "equity"


BotEvent = (
    SignalReport | OrderReport | FillReport | PositionReport | TradeClosed | RiskStateChanged
    | ReconcileAction | ConnectionHealth | EquitySample
)


class Subscription:
    """One subscriber's bounded queue. Iterate it (``async for event in sub``) or ``await sub.get()``."""

    def __init__(self, bus: EventBus, maxsize: int, kinds: frozenset[str] | None) -> None:
        self._bus = bus
        self.queue: asyncio.Queue[BotEvent] = asyncio.Queue(maxsize=maxsize)
        self.kinds = kinds
        self.dropped = 0

    def offer(self, event: BotEvent) -> None:
        if self.kinds is not None and event.kind not in self.kinds:
            return
        if self.queue.full():
            # drop the oldest: a slow reader sees fresh state rather than stale history
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(event)

    async def get(self) -> BotEvent:
        return await self.queue.get()

    def drain(self) -> list[BotEvent]:
        """Everything queued now, without waiting."""
        items = []
        while not self.queue.empty():
            items.append(self.queue.get_nowait())
        return items

    def close(self) -> None:
        self._bus.unsubscribe(self)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> BotEvent:
        return await self.queue.get()


class EventBus:
    """Typed fan-out of :data:`BotEvent` to bounded subscriber queues and quick sync listeners."""

    def __init__(self) -> None:
        self._subs: list[Subscription] = []
        self._listeners: list[Callable[[BotEvent], None]] = []
        self.published = 0

    def subscribe(self, maxsize: int = 1000, kinds: set[str] | None = None) -> Subscription:
        """A new subscriber queue holding at most ``maxsize`` events (only ``kinds`` if given)."""
        sub = Subscription(self, maxsize, frozenset(kinds) if kinds else None)
        self._subs.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        if sub in self._subs:
            self._subs.remove(sub)

    def add_listener(self, listener: Callable[[BotEvent], None]) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[BotEvent], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def publish(self, event: BotEvent) -> None:
        """Deliver ``event`` to everyone without ever waiting."""
        self.published += 1
        for sub in self._subs:
            sub.offer(event)
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:  # a broken observer must not break trading
                log.exception("bus listener failed on %s", event.kind)
