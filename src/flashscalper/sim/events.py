"""Typed events the simulator publishes, and the bus that delivers them in the order they were produced.

Private events carry the account id and a per-account ``seq_no`` that increases by one per event of that
account. Public events (trades, book deltas, mark prices, funding rates) carry per-market sequence numbers.
Wire dialects turn these into Paradex / Aster messages; nothing here knows a wire format.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from flashscalper.domain import Fill, FundingPayment, MarkPrice, Order, Position, Side, Trade
from flashscalper.sim.accounts import AccountSummary


class TradeType:
    """Paradex ``trade_type`` / ``fill_type`` values the simulator produces."""

    FILL = "FILL"
    LIQUIDATION = "LIQUIDATION"


# ---- private -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """An order changed state (NEW, UNTRIGGERED, OPEN, partial fill, CLOSED with a reason)."""

    account: str
    seq_no: int
    order: Order


@dataclass(frozen=True, slots=True)
class FillEvent:
    """One side of one trade. ``fill.side`` is this account's side."""

    account: str
    seq_no: int
    fill: Fill
    trade_id: str
    trade_type: str
    remaining_size: Decimal  # of the order after this fill
    book_seq_no: int


@dataclass(frozen=True, slots=True)
class PositionEvent:
    account: str
    seq_no: int
    position: Position


@dataclass(frozen=True, slots=True)
class AccountEvent:
    """Collateral or margin changed (fills, fees, funding, deposits, liquidation)."""

    account: str
    seq_no: int
    summary: AccountSummary


@dataclass(frozen=True, slots=True)
class FundingEvent:
    account: str
    seq_no: int
    payment: FundingPayment  # amount signed: positive received
    rate: Decimal
    mark_price: Decimal
    position_size: Decimal


@dataclass(frozen=True, slots=True)
class LiquidationEvent:
    """An account fell below maintenance margin and one of its positions was closed at mark."""

    account: str
    seq_no: int
    market: str
    size: Decimal  # signed size that was closed
    price: Decimal
    trade_id: str
    ts: int


# ---- public --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TradeEvent:
    trade: Trade
    trade_type: str
    book_seq_no: int


@dataclass(frozen=True, slots=True)
class LevelChange:
    side: Side
    price: Decimal
    size: Decimal  # new aggregate size at the level; 0 means the level is gone


@dataclass(frozen=True, slots=True)
class BookDeltaEvent:
    """Levels that changed in one engine operation. ``seq_no`` is per market and contiguous, so a dialect
    can emit deltas (and detect that it missed none) or recompute the BBO."""

    market: str
    seq_no: int
    changes: tuple[LevelChange, ...]
    ts: int


@dataclass(frozen=True, slots=True)
class MarkPriceEvent:
    mark: MarkPrice


@dataclass(frozen=True, slots=True)
class FundingRateEvent:
    """A funding settlement on a market (the public ``funding_data`` row)."""

    market: str
    rate: Decimal
    premium: Decimal
    mark_price: Decimal
    funding_index: Decimal
    ts: int


SimEvent = (OrderEvent | FillEvent | PositionEvent | AccountEvent | FundingEvent | LiquidationEvent
            | TradeEvent | BookDeltaEvent | MarkPriceEvent | FundingRateEvent)
Listener = Callable[[SimEvent], None]


class EventBus:
    """Queues events during an engine operation and delivers them afterwards, in production order.

    Delivery after the operation means a listener that calls back into the engine (places an order
    from an event handler) sees a consistent engine and its own events queue behind the current ones.
    """

    __slots__ = ("_delivering", "_listeners", "_queue")

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._queue: list[SimEvent] = []
        self._delivering = False

    @property
    def active(self) -> bool:
        """True when someone listens; the engine skips building events otherwise."""
        return bool(self._listeners)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Register ``listener``; returns a function that unregisters it."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def publish(self, event: SimEvent) -> None:
        self._queue.append(event)

    def flush(self) -> None:
        """Deliver everything queued (including events produced by listeners while delivering)."""
        if self._delivering:
            return
        self._delivering = True
        try:
            queue = self._queue
            i = 0
            while i < len(queue):
                event = queue[i]
                i += 1
                for listener in list(self._listeners):
                    listener(event)
        finally:
            del queue[:i]  # a listener that raised must not get the same events twice
            self._delivering = False
