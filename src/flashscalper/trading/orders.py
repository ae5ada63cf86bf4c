"""Client order tracker: every order we send, by client id, until the venue says it is done.

The venue is the authority: a tracked order's state only changes from venue answers
(``OrderUpdate`` / ``FillEvent`` / ``get_order``). An order that has heard nothing for a while is
"in flight"; the executor queries it by client id and, after ``lost_after`` answers of "not found",
marks it lost (the hummingbot rule).

Client ids look like ``<prefix>-<session>-<n>``; reconciliation recognises our own orders by the
prefix, and our current session's by the session part.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from flashscalper.domain import ZERO, Fill, Order, OrderRequest, OrderStatus


class Purpose(StrEnum):
    """Why an order exists (drives what happens on its fills)."""

    ENTRY = "ENTRY"
    STOP = "STOP"
    TAKE_PROFIT = "TAKE_PROFIT"
    EXIT = "EXIT"  # a market reduce-only close (time limit, local SL/TP, emergency, manual)


class ClientIds:
    """Makes ``<prefix>-<session>-<n>`` ids and recognises them."""

    def __init__(self, prefix: str = "fs", session: str = "0") -> None:
        if "-" in prefix or not prefix:
            raise ValueError(f"client id prefix must be non-empty and contain no '-', got {prefix!r}")
        self.prefix = prefix
        self.session = session
        self._n = itertools.count(1)

    def next(self) -> str:
        return f"{self.prefix}-{self.session}-{next(self._n)}"

    def is_ours(self, client_id: str) -> bool:
        """Sent by a FlashScalper bot with this prefix (any session)."""
        return client_id.startswith(self.prefix + "-")

    def is_this_session(self, client_id: str) -> bool:
        return client_id.startswith(f"{self.prefix}-{self.session}-")


@dataclass(slots=True)
class TrackedOrder:
    """Our view of one order: the request, the latest venue state, and bookkeeping."""

    request: OrderRequest
    purpose: Purpose
    sent_at: int
    order: Order | None = None  # the venue's latest state (None until acknowledged)
    last_heard: int = 0
    not_found: int = 0
    lost: bool = False
    note: str = ""  # human-readable reason for a reject / loss / cancel
    fills: list[Fill] = field(default_factory=list)
    reprices: int = 0
    exit_reason: str = ""  # for EXIT / STOP / TAKE_PROFIT orders: the ExitReason it would realise
    reported: tuple[object, ...] = ()  # last state published on the bus

    @property
    def client_id(self) -> str:
        return self.request.client_id

    @property
    def market(self) -> str:
        return self.request.market

    @property
    def status(self) -> OrderStatus | None:
        return self.order.status if self.order else None

    @property
    def is_done(self) -> bool:
        return self.lost or (self.order is not None and self.order.status.is_terminal)

    @property
    def filled_size(self) -> Decimal:
        filled = sum((f.size for f in self.fills), ZERO)
        if self.order is not None:
            filled = max(filled, self.order.filled_size)
        return filled

    @property
    def remaining(self) -> Decimal:
        return max(self.request.size - self.filled_size, ZERO)


class OrderTracker:
    """All orders of this session, by client id, with the venue's word on each."""

    def __init__(self) -> None:
        self._orders: dict[str, TrackedOrder] = {}
        self._by_venue_id: dict[str, str] = {}

    def __contains__(self, client_id: str) -> bool:
        return client_id in self._orders

    def get(self, client_id: str) -> TrackedOrder | None:
        return self._orders.get(client_id)

    def by_venue_id(self, order_id: str) -> TrackedOrder | None:
        cid = self._by_venue_id.get(order_id)
        return self._orders.get(cid) if cid else None

    def track(self, request: OrderRequest, purpose: Purpose, now: int) -> TrackedOrder:
        tracked = TrackedOrder(request, purpose, sent_at=now, last_heard=now)
        self._orders[request.client_id] = tracked
        return tracked

    def adopt(self, order: Order, purpose: Purpose, now: int) -> TrackedOrder:
        """Track an order found on the venue (reconciliation)."""
        request = OrderRequest(order.market, order.side, order.type, order.size, order.client_id,
                               order.price, order.trigger_price, order.tif, order.reduce_only)
        tracked = self.track(request, purpose, now)
        self.apply(order, now)
        return tracked

    def apply(self, order: Order, now: int) -> TrackedOrder | None:
        """Take the venue's state of an order; stale updates (lower seq_no) are ignored."""
        tracked = self._orders.get(order.client_id) if order.client_id else self.by_venue_id(order.id)
        if tracked is None:
            return None
        previous = tracked.order
        if previous is not None and order.seq_no and previous.seq_no > order.seq_no:
            return tracked
        if previous is not None and previous.status.is_terminal and not order.status.is_terminal:
            return tracked  # an out-of-order update cannot reopen a closed order
        tracked.order = order
        tracked.last_heard = now
        tracked.not_found = 0
        tracked.lost = False
        if order.id:
            self._by_venue_id[order.id] = tracked.client_id
        return tracked

    def apply_fill(self, fill: Fill, now: int) -> TrackedOrder | None:
        tracked = self._orders.get(fill.client_id) if fill.client_id else self.by_venue_id(fill.order_id)
        if tracked is None:
            return None
        if any(f.id == fill.id for f in tracked.fills):
            return tracked  # duplicate delivery
        tracked.fills.append(fill)
        tracked.last_heard = now
        return tracked

    def open(self) -> list[TrackedOrder]:
        """Orders not known to be finished."""
        return [t for t in self._orders.values() if not t.is_done]

    def in_flight(self, now: int, timeout_ms: int) -> list[TrackedOrder]:
        """Orders we have heard nothing about for ``timeout_ms``: unacknowledged, or acknowledged as
        NEW (not yet resting or triggered)."""
        quiet = [t for t in self.open() if now - t.last_heard >= timeout_ms]
        return [t for t in quiet if t.order is None or t.order.status is OrderStatus.NEW]

    def forget_done(self, keep: int = 500) -> None:
        """Drop the oldest finished orders beyond ``keep`` (memory bound for long sessions)."""
        done = [cid for cid, t in self._orders.items() if t.is_done]
        for cid in done[: max(len(done) - keep, 0)]:
            tracked = self._orders.pop(cid)
            if tracked.order is not None:
                self._by_venue_id.pop(tracked.order.id, None)

    def all(self) -> list[TrackedOrder]:
        return list(self._orders.values())
