"""The order side of the local exchange: entry, matching, closing, cancel and modify.

``OrderMatching`` is a base class of :class:`~flashscalper.sim.engine.SimExchange`, which owns the state
(books, accounts, marks) and the clock; the fills it produces are booked by :class:`~flashscalper.sim.ledger.Ledger`.
Price-time priority; a market-style order is an IOC limit at the mark ± the market's max slippage.
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal

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
from flashscalper.sim.accounts import Account
from flashscalper.sim.book import OrderBook
from flashscalper.sim.events import TradeType
from flashscalper.sim.ledger import Ledger
from flashscalper.sim.markets import MarketSpec
from flashscalper.sim.orders import (
    CancelReason,
    OrderValidationError,
    SelfTradePrevention,
    SimOrder,
    SimOrderNotFound,
    status_for_reason,
)
from flashscalper.sim.risk import admission_reason, reducible, validate_request

_MARKET_LIKE = frozenset({OrderType.MARKET, OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET})


class OrderMatching(Ledger):
    """Order entry and matching. Subclassed by SimExchange, which provides the state below."""

    # provided by SimExchange (besides what Ledger lists)
    _untriggered: dict[str, list[SimOrder]]
    _orders: dict[str, SimOrder]
    _order_log: dict[str, deque[SimOrder]]
    _pending_last_triggers: set[str]

    # implemented by SimExchange
    def _spec(self, market: str) -> MarketSpec:
        raise NotImplementedError

    def _account(self, account_id: str) -> Account:
        raise NotImplementedError

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
