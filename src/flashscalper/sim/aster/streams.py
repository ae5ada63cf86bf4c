"""Engine events → Aster stream payloads (protocol/aster.md §11–§13), venue state kept per order.

``MarketRenderer`` turns public engine events into ``(stream, payload)`` pairs: diff depth (with U/u/pu
chained on ``pu``), partial depth, bookTicker, aggTrade and markPriceUpdate. ``UserRenderer`` turns one
account's private events into ORDER_TRADE_UPDATE / ACCOUNT_UPDATE payloads: the engine publishes an
order's post-fill state *before* the fill, so that order is held back and sent together with its fill
as one ``x=TRADE`` update, and an unchanged (status, type) view is never repeated.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from flashscalper.domain import ZERO, BookLevel, MarkPrice, Order, OrderStatus, Quote
from flashscalper.exchanges.aster.mapping import (
    DepthDiff,
    WalletChange,
    account_update_to_json,
    depth_update_to_json,
    mark_price_to_json,
    order_trade_update_to_json,
    quote_to_book_ticker,
    trade_to_agg_trade,
)
from flashscalper.sim.aster.registry import ASSET
from flashscalper.sim.aster.render import fill_view, order_view, position_view, trade_view
from flashscalper.sim.events import (
    BookDeltaEvent,
    FillEvent,
    FundingEvent,
    MarkPriceEvent,
    OrderEvent,
    PositionEvent,
    SimEvent,
    TradeEvent,
)

if TYPE_CHECKING:
    from flashscalper.sim.aster.registry import AsterRegistry

PARTIAL_DEPTHS = (5, 10, 20)


def depth_update_id(book_seq: int) -> int:
    """Aster-style update id of an engine book sequence: increasing but not contiguous (§13)."""
    return 1_000_000 + book_seq * 7


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One payload for the wire; ``order_id`` lets the sender drop orders REST rejected synchronously."""

    stream: str
    payload: dict[str, Any]
    order_id: str = ""
    public: bool = True


class MarketRenderer:
    """Public engine events → stream payloads, for the streams someone listens to."""

    def __init__(self, reg: AsterRegistry) -> None:
        self.reg = reg
        self._last_quote: dict[str, tuple[Decimal, Decimal, Decimal, Decimal]] = {}

    def render(self, event: SimEvent, wanted: set[str]) -> Iterator[Outgoing]:
        if isinstance(event, BookDeltaEvent):
            yield from self._depth(event, wanted)
        elif isinstance(event, TradeEvent):
            symbol = self.reg.aster_symbol(event.trade.market)
            if symbol and f"{symbol.lower()}@aggTrade" in wanted:
                tid = int(event.trade.id)
                trade = trade_view(self.reg, event.trade)
                yield Outgoing(f"{symbol.lower()}@aggTrade",
                               trade_to_agg_trade(trade, first_trade_id=tid, last_trade_id=tid,
                                                  event_time=self.reg.sim.clock.time_ms()))
        elif isinstance(event, MarkPriceEvent):
            symbol = self.reg.aster_symbol(event.mark.market)
            if symbol:
                mark = MarkPrice(symbol, event.mark.mark, event.mark.ts, event.mark.index, event.mark.funding_rate)
                next_funding = getattr(self.reg.sim.exchange, "_next_funding_ms", 0)
                payload = mark_price_to_json(mark, next_funding_time=next_funding)
                for name in (f"{symbol.lower()}@markPrice", f"{symbol.lower()}@markPrice@1s"):
                    if name in wanted:
                        yield Outgoing(name, payload)

    def _depth(self, event: BookDeltaEvent, wanted: set[str]) -> Iterator[Outgoing]:
        reg = self.reg
        symbol = reg.aster_symbol(event.market)
        if symbol is None:
            return
        low = symbol.lower()
        u = depth_update_id(event.seq_no)
        diff_names = [n for n in (f"{low}@depth", f"{low}@depth@100ms", f"{low}@depth@250ms", f"{low}@depth@500ms",
                                  f"{low}@depth@0ms") if n in wanted]
        if diff_names:
            if reg.skip_depth_events > 0:
                reg.skip_depth_events -= 1  # a lost packet: the client must notice the pu gap
            else:
                bids = tuple(_level(c) for c in event.changes if c.side.value == "BUY")
                asks = tuple(_level(c) for c in event.changes if c.side.value == "SELL")
                now = reg.sim.clock.time_ms()
                payload = depth_update_to_json(DepthDiff(symbol, u, u, depth_update_id(event.seq_no - 1), bids, asks,
                                                         event.ts, now))
                for name in diff_names:
                    yield Outgoing(name, payload)
        partial = [(n, d) for d in PARTIAL_DEPTHS for n in (f"{low}@depth{d}", f"{low}@depth{d}@100ms",
                                                             f"{low}@depth{d}@500ms") if n in wanted]
        if partial:
            book = reg.sim.exchange.book_snapshot(event.market, max(d for _, d in partial))
            for name, d in partial:
                diff = DepthDiff(symbol, u, u, depth_update_id(event.seq_no - 1), book.bids[:d], book.asks[:d],
                                 event.ts, reg.sim.clock.time_ms())
                yield Outgoing(name, depth_update_to_json(diff))
        ticker = f"{low}@bookTicker"
        if ticker in wanted:
            quote = reg.sim.exchange.bbo(event.market)
            if quote is not None:
                key = (quote.bid, quote.bid_size, quote.ask, quote.ask_size)
                if self._last_quote.get(symbol) != key:
                    self._last_quote[symbol] = key
                    view = Quote(symbol, quote.bid, quote.bid_size, quote.ask, quote.ask_size, event.ts)
                    yield Outgoing(ticker, quote_to_book_ticker(view, update_id=u, event_time=reg.sim.clock.time_ms()))


def _level(change: Any) -> BookLevel:
    return BookLevel(change.price, change.size)


class UserRenderer:
    """One simulator's private engine events → user-data-stream payloads, per engine account."""

    def __init__(self, reg: AsterRegistry) -> None:
        self.reg = reg
        self._pending: dict[str, Order] = {}  # order id -> post-fill state waiting for its fill
        self._filled: dict[str, Decimal] = {}
        self._shown: dict[str, tuple[str, str]] = {}

    def render(self, event: SimEvent) -> Iterator[Outgoing]:
        reg = self.reg
        now = reg.sim.clock.time_ms()
        if isinstance(event, OrderEvent):
            order = event.order
            if order.filled_size > self._filled.get(order.id, ZERO):
                self._pending[order.id] = order
                return
            view = order_view(reg, order)
            shown = (view.status.value, view.type.value)
            if self._shown.get(order.id) == shown:
                return
            self._shown[order.id] = shown
            yield Outgoing("", order_trade_update_to_json(
                view, execution_type=_execution_type(view), event_time=now,
                close_position=reg.extras_of(order.id).close_position), order.id, public=False)
            self._forget_if_done(view)
        elif isinstance(event, FillEvent):
            fill = event.fill
            order = self._pending.pop(fill.order_id, None)
            if order is None:
                return  # a liquidation fill has no order
            self._filled[order.id] = order.filled_size
            view = order_view(reg, order)
            self._shown[order.id] = (view.status.value, view.type.value)
            yield Outgoing("", order_trade_update_to_json(
                view, execution_type="TRADE", event_time=now, fill=fill_view(reg, fill),
                close_position=reg.extras_of(order.id).close_position), order.id, public=False)
            self._forget_if_done(view)
        elif isinstance(event, PositionEvent):
            yield Outgoing("", self._account_update("ORDER", event.account, [event.position], ZERO, now),
                           public=False)
        elif isinstance(event, FundingEvent):
            position = reg.sim.exchange.position(event.account, event.payment.market)
            yield Outgoing("", self._account_update("FUNDING_FEE", event.account, [position], event.payment.amount,
                                                    now), public=False)

    def _account_update(self, reason: str, account: str, positions: list[Any], change: Decimal, now: int) -> dict:
        summary = self.reg.sim.exchange.account_summary(account)
        wallet = WalletChange(ASSET, summary.total_collateral, summary.total_collateral, change)
        return account_update_to_json(reason, [wallet], [position_view(self.reg, p) for p in positions],
                                      event_time=now)

    def _forget_if_done(self, view: Order) -> None:
        if view.status.is_terminal:
            self._filled.pop(view.id, None)
            self._shown.pop(view.id, None)


def _execution_type(order: Order) -> str:
    if order.status is OrderStatus.CANCELED:
        return "CANCELED"
    if order.status in (OrderStatus.EXPIRED, OrderStatus.REJECTED):
        return "EXPIRED"
    return "NEW"
