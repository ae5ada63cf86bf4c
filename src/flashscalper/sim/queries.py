"""Read-only views of the exchange that the wire dialects serve (REST GETs, WS snapshots)."""

from __future__ import annotations

from collections import deque
from decimal import Decimal
from typing import TYPE_CHECKING

from flashscalper.domain import BookLevel, BookUpdate, Order, Position, Quote, Side
from flashscalper.sim.accounts import Account, AccountSummary
from flashscalper.sim.events import FillEvent, TradeEvent
from flashscalper.sim.orders import SimOrder, SimOrderNotFound

if TYPE_CHECKING:
    from flashscalper.clock import Clock
    from flashscalper.sim.book import OrderBook
    from flashscalper.sim.markets import MarketSpec


class ExchangeQueries:
    """Queries mixed into SimExchange; every result is a copy, safe to keep or serialise."""

    clock: Clock
    specs: dict[str, MarketSpec]
    marks: dict[str, Decimal]
    _accounts: dict[str, Account]
    _books: dict[str, OrderBook]
    _last: dict[str, Decimal | None]
    _book_seq: dict[str, int]
    _orders: dict[str, SimOrder]
    _order_log: dict[str, deque[SimOrder]]
    _fills: dict[str, deque[FillEvent]]
    _trades: dict[str, deque[TradeEvent]]

    def _spec(self, market: str) -> MarketSpec:
        raise NotImplementedError

    def _account(self, account_id: str) -> Account:
        raise NotImplementedError

    def open_orders(self, account_id: str, market: str | None = None) -> list[Order]:
        """Open and untriggered orders of an account, oldest first."""
        acct = self._account(account_id)
        return [o.snapshot() for o in acct.open_orders.values() if market is None or o.market == market]

    def get_order(self, order_id: str, account_id: str | None = None) -> Order:
        """Any order ever accepted (open or closed). Raises SimOrderNotFound."""
        order = self._orders.get(order_id)
        if order is None or (account_id is not None and order.account != account_id):
            raise SimOrderNotFound("ORDER_ID_NOT_FOUND", f"no order {order_id}")
        return order.snapshot()

    def get_order_by_client_id(self, account_id: str, client_id: str) -> Order:
        """The open order with ``client_id``. Raises SimOrderNotFound."""
        acct = self._account(account_id)
        order_id = acct.client_ids.get(client_id)
        if order_id is None:
            raise SimOrderNotFound("CLIENT_ORDER_ID_NOT_FOUND", f"no open order with client id {client_id!r}")
        return acct.open_orders[order_id].snapshot()

    def order_history(self, account_id: str, market: str | None = None) -> list[Order]:
        """Every order of the account (bounded by ``history_limit``), oldest first."""
        self._account(account_id)
        return [o.snapshot() for o in self._order_log.get(account_id, ())
                if market is None or o.market == market]

    def fills(self, account_id: str, market: str | None = None) -> list[FillEvent]:
        self._account(account_id)
        return [f for f in self._fills.get(account_id, ()) if market is None or f.fill.market == market]

    def positions(self, account_id: str) -> list[Position]:
        """Every position the account has held (flat ones included, size 0)."""
        acct = self._account(account_id)
        ts = self.clock.time_ms()
        return [acct.position_view(m, self.marks[m], self.specs, self.marks, ts, acct.seq_no)
                for m in acct.positions]

    def position(self, account_id: str, market: str) -> Position:
        acct = self._account(account_id)
        self._spec(market)
        return acct.position_view(market, self.marks[market], self.specs, self.marks, self.clock.time_ms(),
                                  acct.seq_no)

    def account_summary(self, account_id: str) -> AccountSummary:
        return self._account(account_id).summary(self.marks, self.specs)

    def accounts(self) -> list[str]:
        return list(self._accounts)

    def book_snapshot(self, market: str, depth: int = 15) -> BookUpdate:
        self._spec(market)
        book = self._books[market]
        return BookUpdate(
            market=market,
            bids=tuple(BookLevel(p, s) for p, s in book.depth(Side.BUY, depth)),
            asks=tuple(BookLevel(p, s) for p, s in book.depth(Side.SELL, depth)),
            ts=self.clock.time_ms(), seq_no=self._book_seq[market], is_snapshot=True,
        )

    def bbo(self, market: str) -> Quote | None:
        """Best bid and offer, or None while either side is empty."""
        self._spec(market)
        book = self._books[market]
        bid, ask = book.best_bid(), book.best_ask()
        if bid is None or ask is None:
            return None
        return Quote(market, bid, book.level_size(Side.BUY, bid), ask, book.level_size(Side.SELL, ask),
                     self.clock.time_ms(), self._book_seq[market])

    def recent_trades(self, market: str, limit: int = 100) -> list[TradeEvent]:
        """Newest last."""
        self._spec(market)
        trades = self._trades[market]
        return list(trades)[-limit:] if limit else []

    def mark_price(self, market: str) -> Decimal:
        self._spec(market)
        return self.marks[market]

    def last_price(self, market: str) -> Decimal | None:
        self._spec(market)
        return self._last[market]

    def markets(self) -> dict[str, MarketSpec]:
        return dict(self.specs)

    def mid_price(self, market: str) -> Decimal | None:
        book = self._books[market]
        bid, ask = book.best_bid(), book.best_ask()
        return (bid + ask) / 2 if bid is not None and ask is not None else None
