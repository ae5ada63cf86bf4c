"""Order latency in virtual time: a venue wrapper that delays what orders and cancels do.

``place_order`` answers at once with a provisional acknowledgement (status NEW, no venue id yet),
as a live venue's REST ack would, and the order reaches the engine only once the clock has passed
``sent + latency_ms``; cancels are delayed the same way, so an order can still fill while its
cancel is on the wire. A rejection on arrival comes back as an ``OrderUpdate`` with status REJECTED.
The backtest driver calls :meth:`release_due` as virtual time moves.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from flashscalper.clock import Clock
from flashscalper.domain import Order, OrderRequest, OrderStatus, OrderUpdate
from flashscalper.errors import ExchangeError
from flashscalper.exchanges.local import LocalExchange

__all__ = ["LatencyExchange"]


@dataclass(slots=True)
class _Delayed:
    due_ms: int
    kind: str  # "place" / "cancel" / "cancel_all"
    request: OrderRequest | None = None
    market: str | None = None
    order_id: str | None = None
    client_id: str | None = None


class LatencyExchange:
    """Wraps a :class:`LocalExchange` (e.g. the backtest venue); everything not overridden passes through."""

    def __init__(self, venue: LocalExchange, clock: Clock, latency_ms: int) -> None:
        if latency_ms < 0:
            raise ValueError("latency_ms must not be negative")
        self.venue = venue
        self.clock = clock
        self.latency_ms = latency_ms
        self._pending: deque[_Delayed] = deque()  # FIFO: a constant latency keeps due times ordered
        self._provisional: dict[str, Order] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.venue, name)

    @property
    def pending(self) -> int:
        return len(self._pending)

    def next_due(self) -> int | None:
        return self._pending[0].due_ms if self._pending else None

    async def place_order(self, request: OrderRequest) -> Order:
        now = self.clock.time_ms()
        self._pending.append(_Delayed(now + self.latency_ms, "place", request=request))
        ack = Order(id="", client_id=request.client_id, market=request.market, side=request.side,
                    type=request.type, size=request.size, status=OrderStatus.NEW, price=request.price,
                    trigger_price=request.trigger_price, tif=request.tif, reduce_only=request.reduce_only,
                    created_at=now, updated_at=now)
        self._provisional[request.client_id] = ack
        return ack

    async def cancel_order(self, market: str, *, order_id: str | None = None, client_id: str | None = None) -> bool:
        self._pending.append(_Delayed(self.clock.time_ms() + self.latency_ms, "cancel", market=market,
                                      order_id=order_id, client_id=client_id))
        return True

    async def cancel_all(self, market: str | None = None) -> None:
        self._pending.append(_Delayed(self.clock.time_ms() + self.latency_ms, "cancel_all", market=market))

    async def get_order(self, market: str, *, order_id: str | None = None, client_id: str | None = None) -> Order:
        if client_id is not None and client_id in self._provisional:
            return self._provisional[client_id]
        return await self.venue.get_order(market, order_id=order_id, client_id=client_id)

    async def release_due(self, now_ms: int) -> int:
        """Deliver every delayed operation due at or before ``now_ms``; returns how many."""
        done = 0
        while self._pending and self._pending[0].due_ms <= now_ms:
            op = self._pending.popleft()
            done += 1
            if op.kind == "place" and op.request is not None:
                request = op.request
                self._provisional.pop(request.client_id, None)
                try:
                    await self.venue.place_order(request)
                except ExchangeError as exc:
                    self.venue._emit(OrderUpdate(Order(
                        id="", client_id=request.client_id, market=request.market, side=request.side,
                        type=request.type, size=request.size, status=OrderStatus.REJECTED, price=request.price,
                        trigger_price=request.trigger_price, tif=request.tif, reduce_only=request.reduce_only,
                        cancel_reason=getattr(exc, "reason", "") or type(exc).__name__,
                        created_at=op.due_ms, updated_at=op.due_ms, seq_no=1)))
            elif op.kind == "cancel" and op.market is not None:
                await self.venue.cancel_order(op.market, order_id=op.order_id, client_id=op.client_id)
            elif op.kind == "cancel_all":
                await self.venue.cancel_all(op.market)
        return done
