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
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from decimal import Decimal

from flashscalper.clock import Clock
from flashscalper.domain import (
    ZERO,
    Liquidity,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    TriggerSource,
)
from flashscalper.sim.accounts import Account, AccountSummary
from flashscalper.sim.book import OrderBook
from flashscalper.sim.events import (
    BookDeltaEvent,
    EventBus,
    FillEvent,
    LevelChange,
    Listener,
    TradeEvent,
    TradeType,
)
from flashscalper.sim.ledger import Ledger
from flashscalper.sim.markets import MarketSpec, default_markets
from flashscalper.sim.orders import (
    CancelReason,
    OrderValidationError,
    SelfTradePrevention,
    SimOrder,
    SimOrderNotFound,
    status_for_reason,
)
from flashscalper.sim.queries import ExchangeQueries
from flashscalper.sim.risk import admission_reason, reducible, validate_request

__all__ = ["INSURANCE_ACCOUNT", "OrderValidationError", "SelfTradePrevention", "SimExchange", "SimOrderNotFound"]

INSURANCE_ACCOUNT = "insurance"
_MARKET_LIKE = frozenset({OrderType.MARKET, OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET})


class SimExchange(ExchangeQueries, Ledger):
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

    # ---- order entry ---------------------------------------------------------------------------

    def submit_order(
        self,
        account_id: str,
        request: OrderRequest,
        *,
        stp: SelfTradePrevention = SelfTradePrevention.EXPIRE_TAKER,
        trigger_source: TriggerSource = TriggerSource.MARK,
    ) -> Order:
        """Accept, check and execute one order; returns its state after matching."""
        spec = self._spec(request.market)
        acct = self._account(account_id)
        validate_request(spec, acct, request, self.marks[request.market])
        ts = self.clock.time_ms()
        tif = request.tif
        if request.type in _MARKET_LIKE:
            tif = TimeInForce.IOC
        order = SimOrder(
            id=self._new_id(), account=account_id, client_id=request.client_id, market=request.market,
            side=request.side, type=request.type, size=request.size, price=request.price,
            trigger_price=request.trigger_price, tif=tif,
            reduce_only=request.reduce_only or request.close_position, close_position=request.close_position,
            stp=stp, trigger_source=trigger_source, ts=ts,
        )
        self._orders[order.id] = order
        log = self._order_log.get(account_id)
        if log is None:
            log = self._order_log[account_id] = deque(maxlen=self._history_limit)
        log.append(order)
        acct.open_orders[order.id] = order
        if order.client_id:
            acct.client_ids[order.client_id] = order.id
        if self._bus.active:
            self._emit_order(acct, order)
        if request.type.is_conditional:
            order.status = OrderStatus.UNTRIGGERED
            self._untriggered[order.market].append(order)
            if order.reduce_only:
                acct.reduce_only_count[order.market] = acct.reduce_only_count.get(order.market, 0) + 1
            self._emit_order(acct, order)
        else:
            self._execute(order, acct, spec, ts)
        self._after_operation(ts)
        return order.snapshot()

    def _execute(self, order: SimOrder, acct: Account, spec: MarketSpec, ts: int) -> None:
        """Risk-check a live (non-conditional or just triggered) order, match it, rest or close the rest."""
        market = order.market
        book = self._books[market]
        reason = admission_reason(self, acct, spec, order)
        if reason:
            self._close(order, acct, reason, ts)
            return
        is_market = order.type in _MARKET_LIKE
        if is_market:
            slip = self.marks[market] * spec.max_slippage
            limit = spec.market.round_price(self.marks[market] + slip if order.side is Side.BUY
                                            else self.marks[market] - slip, order.side)
        else:
            limit = order.price  # type: ignore[assignment]
        opposite = order.side.opposite
        best = book.best(opposite)
        crosses = best is not None and (best <= limit if order.side is Side.BUY else best >= limit)
        if order.tif is TimeInForce.POST_ONLY and crosses:
            self._close(order, acct, CancelReason.POST_ONLY_WOULD_CROSS, ts)
            return
        if order.tif is TimeInForce.FOK and not self._fok_fillable(order, book, limit):
            self._close(order, acct, CancelReason.EXPIRED, ts)
            return
        if crosses and not self._match(order, acct, book, limit, ts):
            return  # closed during matching (self-trade, reduce-only exhausted)
        if order.remaining <= 0:
            return
        if is_market or order.tif in (TimeInForce.IOC, TimeInForce.FOK):
            self._close(order, acct, CancelReason.EXPIRED, ts)
            return
        order.status = OrderStatus.OPEN
        order.updated_at = ts
        book.add(order)
        acct.open_count[market] = acct.open_count.get(market, 0) + 1
        if order.reduce_only:
            acct.reduce_only_count[market] = acct.reduce_only_count.get(market, 0) + 1
        else:
            side_book = acct.open_buy if order.side is Side.BUY else acct.open_sell
            side_book[market] = side_book.get(market, ZERO) + order.remaining
        if self._bus.active:
            self._emit_order(acct, order)

    def _fok_fillable(self, order: SimOrder, book: OrderBook, limit: Decimal) -> bool:
        available = ZERO
        for maker in book.orders_crossing(order.side, limit):
            if maker.account == order.account:
                if order.stp is SelfTradePrevention.EXPIRE_TAKER:
                    break
                continue
            available += maker.remaining
            if available >= order.remaining:
                return True
        return available >= order.remaining

    def _match(self, order: SimOrder, acct: Account, book: OrderBook, limit: Decimal, ts: int) -> bool:
        """Trade ``order`` against the book up to ``limit``. False if the taker was closed here."""
        side = order.side
        opposite = side.opposite
        is_buy = side is Side.BUY
        accounts = self._accounts
        while order.remaining > 0:
            price = book.best(opposite)
            if price is None or (price > limit if is_buy else price < limit):
                return True
            maker: SimOrder = book.level(opposite, price)[0]  # type: ignore[assignment]
            if maker.account == order.account:
                if order.stp is not SelfTradePrevention.EXPIRE_TAKER:
                    self._close(maker, acct, CancelReason.SELF_TRADE, ts)
                if order.stp is not SelfTradePrevention.EXPIRE_MAKER:
                    self._close(order, acct, CancelReason.SELF_TRADE, ts)
                    return False
                continue
            size = min(order.remaining, maker.remaining)
            maker_acct = accounts[maker.account]
            if maker.reduce_only:
                room = reducible(maker_acct.position_size(order.market), opposite)
                if room <= 0:
                    self._close(maker, maker_acct, CancelReason.REDUCE_ONLY_EXCEEDS_POSITION, ts)
                    continue
                size = min(size, room)
            if order.reduce_only:
                room = reducible(acct.position_size(order.market), side)
                if room <= 0:
                    self._close(order, acct, CancelReason.REDUCE_ONLY_EXCEEDS_POSITION, ts)
                    return False
                size = min(size, room)
            self._trade(maker, maker_acct, order, acct, price, size, ts)
        return True

    def _trade(self, maker: SimOrder, maker_acct: Account, taker: SimOrder, taker_acct: Account,
               price: Decimal, size: Decimal, ts: int) -> None:
        trade_id = self._new_id()
        market = taker.market
        book = self._books[market]
        # maker first: its book level shrinks before the taker's state is published
        if not maker.reduce_only:
            side_book = maker_acct.open_buy if maker.side is Side.BUY else maker_acct.open_sell
            side_book[market] -= size
        maker.record_fill(price, size)
        book.filled(maker, size)
        if maker.remaining <= 0:
            self._finish(maker, maker_acct, OrderStatus.FILLED, "", ts, on_book=False)
        self._book_fill(maker_acct, maker, maker.side, price, size, Liquidity.MAKER, trade_id,
                        TradeType.FILL, ts)
        taker.record_fill(price, size)
        if taker.remaining <= 0:
            self._finish(taker, taker_acct, OrderStatus.FILLED, "", ts, on_book=False)
        self._book_fill(taker_acct, taker, taker.side, price, size, Liquidity.TAKER, trade_id,
                        TradeType.FILL, ts)
        self._publish_trade(market, trade_id, price, size, taker.side, TradeType.FILL, ts)
        if self._untriggered[market]:
            self._pending_last_triggers.add(market)

    # ---- closing orders ------------------------------------------------------------------------

    def _close(self, order: SimOrder, acct: Account, reason: str, ts: int) -> None:
        """Close a live order with a venue reason (its status follows from the reason)."""
        self._finish(order, acct, status_for_reason(reason), reason, ts, on_book=order.status is OrderStatus.OPEN)

    def _finish(self, order: SimOrder, acct: Account, status: OrderStatus, reason: str, ts: int, *,
                on_book: bool) -> None:
        market = order.market
        if on_book:
            self._books[market].remove(order)
            if not order.reduce_only:
                side_book = acct.open_buy if order.side is Side.BUY else acct.open_sell
                side_book[market] -= order.remaining
        if order.status is OrderStatus.OPEN:
            acct.open_count[market] -= 1
        if order.reduce_only and (order.status is OrderStatus.OPEN or order.status is OrderStatus.UNTRIGGERED):
            acct.reduce_only_count[market] -= 1
        if order.status is OrderStatus.UNTRIGGERED:
            self._untriggered[market].remove(order)
        order.status = status
        order.cancel_reason = reason
        order.updated_at = ts
        del acct.open_orders[order.id]
        if order.client_id and acct.client_ids.get(order.client_id) == order.id:
            del acct.client_ids[order.client_id]
        if reason:  # a fill publishes its own order update; closes without a fill publish here
            self._emit_order(acct, order)

    # ---- cancel / modify -----------------------------------------------------------------------

    def _open_order(self, acct: Account, order_id: str) -> SimOrder:
        order = acct.open_orders.get(order_id)
        if order is None:
            known = self._orders.get(order_id)
            if known is not None and known.account == acct.id:
                raise SimOrderNotFound("ORDER_IS_CLOSED", f"order {order_id} is already closed")
            raise SimOrderNotFound("ORDER_ID_NOT_FOUND", f"no open order {order_id}")
        return order

    def cancel_order(self, account_id: str, order_id: str) -> Order:
        """Cancel an open or untriggered order (USER_CANCELED). Raises SimOrderNotFound otherwise."""
        acct = self._account(account_id)
        order = self._open_order(acct, order_id)
        ts = self.clock.time_ms()
        self._close(order, acct, CancelReason.USER_CANCELED, ts)
        self._after_operation(ts)
        return order.snapshot()

    def cancel_order_by_client_id(self, account_id: str, client_id: str, market: str | None = None) -> Order:
        acct = self._account(account_id)
        order_id = acct.client_ids.get(client_id)
        if order_id is None or (market is not None and acct.open_orders[order_id].market != market):
            raise SimOrderNotFound("CLIENT_ORDER_ID_NOT_FOUND", f"no open order with client id {client_id!r}")
        return self.cancel_order(account_id, order_id)

    def cancel_all(self, account_id: str, market: str | None = None) -> list[Order]:
        acct = self._account(account_id)
        ts = self.clock.time_ms()
        closed = []
        for order in list(acct.open_orders.values()):
            if market is None or order.market == market:
                self._close(order, acct, CancelReason.USER_CANCELED, ts)
                closed.append(order.snapshot())
        self._after_operation(ts)
        return closed

    def modify_order(self, account_id: str, order_id: str, *, size: Decimal | None = None,
                     price: Decimal | None = None, trigger_price: Decimal | None = None) -> Order:
        """Change size/price of a resting LIMIT or an untriggered order, keeping its id. Priority is
        kept only when the price is unchanged and the size does not grow."""
        acct = self._account(account_id)
        order = self._open_order(acct, order_id)
        spec = self._spec(order.market)
        new = OrderRequest(
            market=order.market, side=order.side, type=order.type,
            size=order.size if size is None else size, client_id="",
            price=order.price if price is None else price,
            trigger_price=order.trigger_price if trigger_price is None else trigger_price,
            tif=order.tif if order.type.has_limit_price else TimeInForce.GTC,
            reduce_only=order.reduce_only, close_position=order.close_position,
        )
        validate_request(spec, acct, new, self.marks[order.market])
        if new.size <= order.filled_size and not order.close_position:
            raise OrderValidationError("INVALID_ORDER_SIZE", "new size must exceed the filled size")
        ts = self.clock.time_ms()
        if order.status is OrderStatus.UNTRIGGERED:
            order.size, order.price, order.trigger_price = new.size, new.price, new.trigger_price
            order.updated_at = ts
            self._emit_order(acct, order)
        elif new.price == order.price and new.size <= order.size:
            delta = order.size - new.size
            self._books[order.market].resize(order, -delta)
            if not order.reduce_only:
                side_book = acct.open_buy if order.side is Side.BUY else acct.open_sell
                side_book[order.market] -= delta
            order.size = new.size
            order.updated_at = ts
            self._emit_order(acct, order)
        else:  # lose priority: take it off and run it again as a fresh order with the same id
            self._finish(order, acct, OrderStatus.NEW, "", ts, on_book=True)
            order.status = OrderStatus.NEW
            order.size, order.price = new.size, new.price
            acct.open_orders[order.id] = order
            if order.client_id:
                acct.client_ids[order.client_id] = order.id
            self._execute(order, acct, spec, ts)
        self._after_operation(ts)
        return order.snapshot()

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
