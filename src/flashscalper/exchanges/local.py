"""The Exchange interface straight on an in-process simulator engine, with no wire in between.

Used where the venue lives in the same process: paper mode (fills from the engine, prices from a real
venue), backtests in virtual time, and the trading core's own tests. The engine is the same one the
wire dialects serve, so fills, margin and rejections behave identically.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from decimal import Decimal

from flashscalper.clock import Clock
from flashscalper.domain import (
    AccountSnapshot,
    Balance,
    BalanceUpdate,
    BookUpdate,
    Event,
    Fill,
    FillEvent,
    Market,
    MarkPrice,
    Order,
    OrderRequest,
    OrderUpdate,
    Position,
    PositionUpdate,
    Quote,
    Trade,
)
from flashscalper.errors import InvalidOrder, OrderNotFound, OrderRejected
from flashscalper.exchanges.base import Capabilities
from flashscalper.exchanges.paradex.validation import validate_order
from flashscalper.sim import events as sim_events
from flashscalper.sim.engine import OrderValidationError, SimExchange, SimOrderNotFound


class LocalExchange:
    """One account on an in-process :class:`SimExchange`, seen through the venue-neutral interface."""

    capabilities = Capabilities(
        native_stop_orders=True, modify_order=True, post_only=True, batch_orders=False,
        cancel_on_disconnect=False, close_position_orders=True,
    )

    def __init__(
        self,
        engine: SimExchange,
        account_id: str,
        *,
        clock: Clock,
        collateral: Decimal | None = None,
        name: str = "local",
        queue_size: int = 100_000,
    ) -> None:
        self.name = name
        self.engine = engine
        self.account_id = account_id
        self.clock = clock
        if account_id not in engine.accounts():
            engine.create_account(account_id, collateral or Decimal(0))
        elif collateral:
            engine.fund_account(account_id, collateral)
        self._queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=queue_size)
        self._markets: set[str] = set()
        self._unsubscribe = engine.subscribe(self._on_engine_event)
        self._ids = itertools.count(1)
        self.dropped_events = 0

    # ---- lifecycle ----
    async def connect(self) -> None:
        return None

    async def close(self) -> None:
        self._unsubscribe()

    # ---- engine events → domain events ----
    def _emit(self, event: Event) -> None:
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped_events += 1

    def _on_engine_event(self, event: sim_events.SimEvent) -> None:
        account = getattr(event, "account", None)
        if account is not None:
            if account == self.account_id:
                self._on_private(event)
            return
        if isinstance(event, sim_events.BookDeltaEvent):
            if event.market in self._markets:
                quote = self.engine.bbo(event.market)
                if quote is not None:
                    self._emit(quote)
        elif isinstance(event, sim_events.TradeEvent):
            if event.trade.market in self._markets:
                self._emit(event.trade)
        elif isinstance(event, sim_events.MarkPriceEvent) and event.mark.market in self._markets:
            self._emit(event.mark)

    def _on_private(self, event: sim_events.SimEvent) -> None:
        if isinstance(event, sim_events.OrderEvent):
            self._emit(OrderUpdate(event.order))
        elif isinstance(event, sim_events.FillEvent):
            self._emit(FillEvent(event.fill))
        elif isinstance(event, sim_events.PositionEvent):
            self._emit(PositionUpdate(event.position))
        elif isinstance(event, sim_events.AccountEvent):
            self._emit(BalanceUpdate(event.summary.to_balance()))
        elif isinstance(event, sim_events.FundingEvent):
            self._emit(event.payment)

    def events(self) -> AsyncIterator[Event]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Event]:
        while True:
            yield await self._queue.get()

    def drain(self) -> list[Event]:
        """Everything queued right now, without waiting (virtual-time drivers)."""
        items: list[Event] = []
        while not self._queue.empty():
            items.append(self._queue.get_nowait())
        return items

    # ---- market data ----
    async def markets(self) -> dict[str, Market]:
        return {symbol: spec.market for symbol, spec in self.engine.markets().items()}

    async def quote(self, market: str) -> Quote:
        quote = self.engine.bbo(market)
        if quote is None:
            raise OrderNotFound(f"{market} has no two-sided book yet", code="NO_BBO")
        return quote

    async def order_book(self, market: str, depth: int = 15) -> BookUpdate:
        return self.engine.book_snapshot(market, depth)

    async def recent_trades(self, market: str, limit: int = 100) -> list[Trade]:
        return [event.trade for event in self.engine.recent_trades(market, limit)]

    async def mark_price(self, market: str) -> MarkPrice:
        return MarkPrice(market=market, mark=self.engine.mark_price(market), ts=self.clock.time_ms())

    async def subscribe_market_data(self, markets: list[str]) -> None:
        unknown = [m for m in markets if m not in self.engine.specs]
        if unknown:
            raise InvalidOrder(f"unknown market(s): {', '.join(unknown)}", rule="market")
        self._markets.update(markets)

    # ---- account ----
    async def balance(self) -> Balance:
        return self.engine.account_summary(self.account_id).to_balance()

    async def positions(self) -> list[Position]:
        return [p for p in self.engine.positions(self.account_id) if p.size != 0]

    async def open_orders(self, market: str | None = None) -> list[Order]:
        return self.engine.open_orders(self.account_id, market)

    async def fills(self, market: str | None = None, since_ms: int | None = None) -> list[Fill]:
        fills = [event.fill for event in self.engine.fills(self.account_id, market)]
        return [f for f in fills if since_ms is None or f.ts >= since_ms]

    async def snapshot(self) -> AccountSnapshot:
        return AccountSnapshot(
            balance=await self.balance(),
            positions=await self.positions(),
            open_orders=await self.open_orders(),
            ts=self.clock.time_ms(),
        )

    async def set_leverage(self, market: str, leverage: Decimal) -> None:
        self.engine.set_leverage(self.account_id, market, leverage)

    # ---- orders ----
    async def place_order(self, request: OrderRequest) -> Order:
        spec = self.engine.specs.get(request.market)
        if spec is None:
            raise InvalidOrder(f"unknown market {request.market}", rule="market")
        position = self.engine.position(self.account_id, request.market).size
        validate_order(request, spec.market, mark_price=self.engine.mark_price(request.market),
                       position_size=position)
        try:
            return self.engine.submit_order(self.account_id, request)
        except OrderValidationError as exc:
            raise OrderRejected(str(exc), reason=exc.code) from None

    async def cancel_order(self, market: str, *, order_id: str | None = None, client_id: str | None = None) -> bool:
        try:
            if order_id is not None:
                self.engine.cancel_order(self.account_id, order_id)
            elif client_id is not None:
                self.engine.cancel_order_by_client_id(self.account_id, client_id, market)
            else:
                raise ValueError("cancel_order needs order_id or client_id")
        except SimOrderNotFound:
            return False
        return True

    async def cancel_all(self, market: str | None = None) -> None:
        self.engine.cancel_all(self.account_id, market)

    async def get_order(self, market: str, *, order_id: str | None = None, client_id: str | None = None) -> Order:
        try:
            if order_id is not None:
                return self.engine.get_order(order_id, self.account_id)
            if client_id is not None:
                return self._order_by_client_id(market, client_id)
        except SimOrderNotFound:
            raise OrderNotFound(f"order {order_id or client_id} not found", code="ORDER_ID_NOT_FOUND") from None
        raise ValueError("get_order needs order_id or client_id")

    def _order_by_client_id(self, market: str, client_id: str) -> Order:
        try:
            return self.engine.get_order_by_client_id(self.account_id, client_id)
        except SimOrderNotFound:
            # Closed orders leave the open index; search the history (newest first).
            for order in reversed(self.engine.order_history(self.account_id, market)):
                if order.client_id == client_id:
                    return order
            raise

    def next_client_id(self, prefix: str = "fs") -> str:
        return f"{prefix}-{next(self._ids)}"


__all__ = ["LocalExchange"]
