"""The venue-neutral local exchange: books, matching, cross margin, funding, liquidation, events.

Public API (all prices/sizes ``Decimal``; time only from the injected clock)::

    ex = SimExchange(clock, markets=None, *, maker_fee=0, taker_fee=0, funding_interval_ms=3_600_000,
                     default_leverage=10)
    unsubscribe = ex.subscribe(listener)            # listener(event) for every sim.events.SimEvent
    ex.create_account(account_id, collateral=0)      # -> AccountSummary
    ex.fund_account(account_id, amount)              # deposit (negative: withdraw)
    ex.set_leverage(account_id, market, leverage)
    ex.submit_order(account_id, OrderRequest, stp=SelfTradePrevention.EXPIRE_TAKER,
                    trigger_source=TriggerSource.MARK) -> Order
        # raises OrderValidationError(code, message) for what a venue answers with HTTP 400;
        # risk rejections come back as a closed Order (REJECTED / CANCELED / EXPIRED) with cancel_reason
    ex.cancel_order(account_id, order_id) / cancel_order_by_client_id(account_id, client_id, market=None)
    ex.cancel_all(account_id, market=None) -> list[Order]
    ex.modify_order(account_id, order_id, size=None, price=None, trigger_price=None) -> Order
    ex.set_mark_price(market, price)                 # oracle/mark update (also the admin "price jump")
    ex.tick()                                        # funding, triggers and liquidations at clock now
    ex.force_liquidate(account_id)
    queries: open_orders, get_order, get_order_by_client_id, order_history, fills, positions, position,
             account_summary, book_snapshot, bbo, recent_trades, funding_history, funding_payments,
             liquidations, mark_price, last_price, markets, accounts, total_equity

This module holds the exchange's state, accounts, mark prices, triggers and time; order entry and
matching are in :mod:`flashscalper.sim.matching`, money movements in :mod:`flashscalper.sim.ledger`,
the read-only queries in :mod:`flashscalper.sim.queries`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from decimal import Decimal

from flashscalper.clock import Clock
from flashscalper.domain import ZERO, OrderStatus, OrderType, Side, TriggerSource
from flashscalper.sim.accounts import Account, AccountSummary
from flashscalper.sim.book import OrderBook
from flashscalper.sim.events import BookDeltaEvent, EventBus, FillEvent, LevelChange, Listener, TradeEvent
from flashscalper.sim.markets import MarketSpec, default_markets
from flashscalper.sim.matching import OrderMatching
from flashscalper.sim.orders import (
    CancelReason,
    OrderValidationError,
    SelfTradePrevention,
    SimOrder,
    SimOrderNotFound,
)
from flashscalper.sim.queries import ExchangeQueries
from flashscalper.sim.risk import reducible

__all__ = ["INSURANCE_ACCOUNT", "OrderValidationError", "SelfTradePrevention", "SimExchange", "SimOrderNotFound"]

INSURANCE_ACCOUNT = "insurance"


class SimExchange(ExchangeQueries, OrderMatching):
    """One exchange: a book per market plus the accounts that trade on it. See the module docstring."""

    def __init__(
        self,
        clock: Clock,
        markets: dict[str, MarketSpec] | None = None,
        *,
        maker_fee: Decimal = ZERO,
        taker_fee: Decimal = ZERO,
        funding_interval_ms: int = 3_600_000,
        default_leverage: Decimal = Decimal(10),
        history_limit: int = 100_000,
    ) -> None:
        self.clock = clock
        self.specs = dict(markets if markets is not None else default_markets())
        self.maker_fee = maker_fee
        self.taker_fee = taker_fee
        self.default_leverage = default_leverage
        self.funding_interval_ms = funding_interval_ms
        self._bus = EventBus()
        self._accounts: dict[str, Account] = {}
        self._books = {m: OrderBook(m) for m in self.specs}
        self.marks: dict[str, Decimal] = {m: s.initial_price for m, s in self.specs.items()}
        self._last: dict[str, Decimal | None] = dict.fromkeys(self.specs)
        self._book_seq = dict.fromkeys(self.specs, 0)
        self._untriggered: dict[str, list[SimOrder]] = {m: [] for m in self.specs}
        self._orders: dict[str, SimOrder] = {}  # every order ever accepted (history)
        self._order_log: dict[str, deque[SimOrder]] = {}
        self._fills: dict[str, deque[FillEvent]] = {}
        self._trades = {m: deque[TradeEvent](maxlen=1000) for m in self.specs}
        self._history_limit = history_limit
        self._next_id = 0
        self._pending_last_triggers: set[str] = set()
        super().__init__()
        self._accounts[INSURANCE_ACCOUNT] = Account(INSURANCE_ACCOUNT, default_leverage=default_leverage,
                                                    internal=True)
        self._next_funding_ms = clock.time_ms() + funding_interval_ms

    # ---- plumbing ------------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Deliver every event to ``listener`` (synchronously, in production order). Returns an
        unsubscribe callable."""
        return self._bus.subscribe(listener)

    def _new_id(self) -> str:
        self._next_id += 1
        return str(1_000_000_000 + self._next_id)

    def _spec(self, market: str) -> MarketSpec:
        spec = self.specs.get(market)
        if spec is None:
            raise OrderValidationError("MARKET_NOT_FOUND", f"unknown market {market!r}; known: "
                                       f"{', '.join(sorted(self.specs))}")
        return spec

    def _account(self, account_id: str) -> Account:
        acct = self._accounts.get(account_id)
        if acct is None:
            raise OrderValidationError("ACCOUNT_NOT_FOUND", f"no account {account_id!r}; create it first")
        return acct

    # ---- accounts ------------------------------------------------------------------------------

    def create_account(self, account_id: str, collateral: Decimal = ZERO,
                       leverage: Decimal | None = None) -> AccountSummary:
        """Open an account with ``collateral`` USDC (idempotent on an existing id: it only deposits)."""
        acct = self._accounts.get(account_id)
        if acct is None:
            acct = self._accounts[account_id] = Account(account_id,
                                                        default_leverage=leverage or self.default_leverage)
        if collateral:
            self.fund_account(account_id, collateral)
        return self.account_summary(account_id)

    def fund_account(self, account_id: str, amount: Decimal) -> AccountSummary:
        """Admin deposit (positive) or withdrawal (negative) of USDC. Deposits are the only way money
        enters or leaves the exchange."""
        acct = self._account(account_id)
        acct.collateral += amount
        self.deposits += amount
        self._emit_account(acct, self.clock.time_ms())
        self._bus.flush()
        return self.account_summary(account_id)

    def set_leverage(self, account_id: str, market: str, leverage: Decimal) -> None:
        spec = self._spec(market)
        if not 1 <= leverage <= spec.max_leverage:
            raise OrderValidationError("VALIDATION_ERROR", f"leverage must be between 1 and {spec.max_leverage}")
        acct = self._account(account_id)
        acct.leverage[market] = Decimal(leverage)
        self._emit_account(acct, self.clock.time_ms())
        self._bus.flush()

    # ---- prices, triggers, time ----------------------------------------------------------------

    def set_mark_price(self, market: str, price: Decimal) -> None:
        """Set the mark (oracle) price, then fire mark triggers and liquidations. Also the admin
        "price jump" hook."""
        spec = self._spec(market)
        mark = spec.market.round_price(Decimal(price))
        if mark <= 0:
            raise OrderValidationError("VALIDATION_ERROR", "mark price must be positive")
        ts = self.clock.time_ms()
        self.marks[market] = mark
        self._publish_mark(market, ts)
        self._run_triggers(market, TriggerSource.MARK, mark, ts)
        self._check_liquidations(ts)
        self._after_operation(ts)

    def tick(self) -> None:
        """Advance to the clock's now: settle due funding, fire triggers, liquidate."""
        ts = self.clock.time_ms()
        for _ in range(10_000):  # catch up on missed periods, bounded
            if ts < self._next_funding_ms:
                break
            self._settle_funding(self._next_funding_ms)
            self._next_funding_ms += self.funding_interval_ms
        for market, mark in self.marks.items():
            self._run_triggers(market, TriggerSource.MARK, mark, ts)
        self._check_liquidations(ts)
        self._after_operation(ts)

    def _after_operation(self, ts: int) -> None:
        """Finish an operation: last-price triggers, book deltas, then deliver events."""
        for _ in range(100):  # a triggered order can trade and trigger more; bounded
            if not self._pending_last_triggers:
                break
            markets = sorted(self._pending_last_triggers)
            self._pending_last_triggers.clear()
            for market in markets:
                last = self._last[market]
                if last is not None:
                    self._run_triggers(market, TriggerSource.LAST, last, ts)
        for market, book in self._books.items():
            changes = book.take_changes()
            if changes:
                self._book_seq[market] += 1
                if self._bus.active:
                    self._bus.publish(BookDeltaEvent(
                        market, self._book_seq[market],
                        tuple(LevelChange(side, price, size) for side, price, size in changes), ts))
        self._bus.flush()

    def _run_triggers(self, market: str, source: TriggerSource, price: Decimal, ts: int) -> None:
        waiting = self._untriggered[market]
        if not waiting:
            return
        fired = [o for o in waiting if o.trigger_source is source and _is_triggered(o, price)]
        for order in fired:
            if order.status is not OrderStatus.UNTRIGGERED:
                continue  # closed by an earlier trigger in this batch (OCO, reduce-only sweep)
            acct = self._accounts[order.account]
            waiting.remove(order)
            if order.reduce_only:
                acct.reduce_only_count[market] -= 1
            order.triggered = True
            order.status = OrderStatus.NEW
            order.updated_at = ts
            if order.close_position:
                pos = acct.position_size(market)
                room = reducible(pos, order.side)
                if room <= 0:
                    self._close(order, acct, CancelReason.NO_POSITION, ts)
                    continue
                order.size = room
            self._emit_order(acct, order)
            self._execute(order, acct, self.specs[market], ts)


def _is_triggered(order: SimOrder, price: Decimal) -> bool:
    trigger = order.trigger_price
    assert trigger is not None
    stop = order.type in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT)
    # stops fire when price moves against the side's direction of entry; take-profits the other way
    if (order.side is Side.BUY) is stop:
        return price >= trigger
    return price <= trigger
