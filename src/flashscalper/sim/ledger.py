"""Clearing side of the exchange: booking fills, publishing private/public events, funding, liquidation.

``Ledger`` is the base class of :class:`~flashscalper.sim.engine.SimExchange`; it owns everything that
moves money, so conservation (USDC + unrealized P&L is only changed by deposits) is checked in one file.
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal
from typing import TYPE_CHECKING

from flashscalper.domain import ZERO, Fill, FundingPayment, Liquidity, MarkPrice, OrderStatus, Side, Trade
from flashscalper.sim.accounts import Account, AccountStatus
from flashscalper.sim.events import (
    AccountEvent,
    FillEvent,
    FundingEvent,
    FundingRateEvent,
    LiquidationEvent,
    MarkPriceEvent,
    OrderEvent,
    PositionEvent,
    TradeEvent,
    TradeType,
)
from flashscalper.sim.orders import CancelReason, SimOrder
from flashscalper.sim.risk import reducible

if TYPE_CHECKING:
    from flashscalper.clock import Clock
    from flashscalper.sim.book import OrderBook
    from flashscalper.sim.events import EventBus
    from flashscalper.sim.markets import MarketSpec

_RATE_QUANTUM = Decimal("1e-9")
_HOUR_MS = 3_600_000


class Ledger:
    """Money movements and their events. Subclassed by SimExchange, which provides the state below."""

    # provided by SimExchange
    clock: Clock
    specs: dict[str, MarketSpec]
    marks: dict[str, Decimal]
    maker_fee: Decimal
    taker_fee: Decimal
    funding_interval_ms: int
    _bus: EventBus
    _accounts: dict[str, Account]
    _books: dict[str, OrderBook]
    _last: dict[str, Decimal | None]
    _book_seq: dict[str, int]
    _fills: dict[str, deque[FillEvent]]
    _trades: dict[str, deque[TradeEvent]]
    _history_limit: int

    def __init__(self) -> None:
        self.deposits = ZERO  # net USDC ever funded into the exchange
        self.funding_index: dict[str, Decimal] = dict.fromkeys(self.specs, ZERO)
        self._funding_rows: dict[str, deque[FundingRateEvent]] = {m: deque(maxlen=10_000) for m in self.specs}
        self._funding_payments: dict[str, deque[FundingEvent]] = {}
        self._liquidations: list[LiquidationEvent] = []

    # implemented by SimExchange
    def _new_id(self) -> str:
        raise NotImplementedError

    def _close(self, order: SimOrder, acct: Account, reason: str, ts: int) -> None:
        raise NotImplementedError

    def mid_price(self, market: str) -> Decimal | None:
        raise NotImplementedError

    def _after_operation(self, ts: int) -> None:
        raise NotImplementedError

    # ---- events --------------------------------------------------------------------------------

    def _emit_order(self, acct: Account, order: SimOrder) -> None:
        if self._bus.active:
            order.seq_no = acct.next_seq()
            self._bus.publish(OrderEvent(acct.id, order.seq_no, order.snapshot()))

    def _emit_account(self, acct: Account, ts: int) -> None:
        acct.updated_at = ts
        if self._bus.active:
            seq = acct.next_seq()
            self._bus.publish(AccountEvent(acct.id, seq, acct.summary(self.marks, self.specs)))

    def _emit_position(self, acct: Account, market: str, ts: int) -> None:
        if self._bus.active:
            seq = acct.next_seq()
            view = acct.position_view(market, self.marks[market], self.specs, self.marks, ts, seq)
            self._bus.publish(PositionEvent(acct.id, seq, view))

    def _publish_mark(self, market: str, ts: int) -> None:
        if self._bus.active:
            self._bus.publish(MarkPriceEvent(MarkPrice(market, self.marks[market], ts, self.marks[market])))

    def _publish_trade(self, market: str, trade_id: str, price: Decimal, size: Decimal, taker_side: Side,
                       trade_type: str, ts: int) -> None:
        self._last[market] = price
        event = TradeEvent(Trade(market, trade_id, price, size, taker_side, ts), trade_type,
                           self._book_seq[market])
        self._trades[market].append(event)
        if self._bus.active:
            self._bus.publish(event)

    # ---- fills ---------------------------------------------------------------------------------

    def _book_fill(self, acct: Account, order: SimOrder | None, side: Side, price: Decimal, size: Decimal,
                   liquidity: Liquidity, trade_id: str, trade_type: str, ts: int,
                   fee_rate: Decimal | None = None) -> None:
        """Move a fill into the account: position, realized P&L, fee (paid to the insurance fund)."""
        market = order.market if order is not None else self._liquidating_market
        if fee_rate is None:
            fee_rate = self.maker_fee if liquidity is Liquidity.MAKER else self.taker_fee
        fee = price * size * fee_rate
        pos = acct.position(market)
        if not pos.size:
            pos.created_at = ts
        realized = pos.apply_fill(side, size, price)
        acct.collateral += realized - fee
        if fee:
            self._accounts["insurance"].collateral += fee
        fill_id = self._new_id()
        pos.last_fill_id = fill_id
        pos.updated_at = ts
        acct.updated_at = ts
        fill = Fill(fill_id, order.id if order else "", order.client_id if order else "", market, side, price,
                    size, liquidity, fee, realized, ts)
        event = FillEvent(acct.id, 0, fill, trade_id, trade_type, order.remaining if order else ZERO,
                          self._book_seq[market])
        history = self._fills.get(acct.id)
        if history is None:
            history = self._fills[acct.id] = deque(maxlen=self._history_limit)
        if self._bus.active:
            if order is not None:
                self._emit_order(acct, order)
            event = FillEvent(acct.id, acct.next_seq(), fill, trade_id, trade_type, event.remaining_size,
                              event.book_seq_no)
            self._bus.publish(event)
            self._emit_position(acct, market, ts)
            self._emit_account(acct, ts)
        history.append(event)
        if acct.reduce_only_count.get(market):
            self._sweep_reduce_only(acct, market, ts)

    _liquidating_market = ""

    def _sweep_reduce_only(self, acct: Account, market: str, ts: int) -> None:
        """Cancel reduce-only orders that the (shrunk or flipped) position no longer covers."""
        pos = acct.position_size(market)
        for order in list(acct.open_orders.values()):
            if order.market != market or not order.reduce_only:
                continue
            room = reducible(pos, order.side)
            if order.close_position and order.status is OrderStatus.UNTRIGGERED:
                if room <= 0:
                    self._close(order, acct, CancelReason.OCO if pos == 0
                                else CancelReason.REDUCE_ONLY_EXCEEDS_POSITION, ts)
            elif order.remaining > room:
                self._close(order, acct, CancelReason.REDUCE_ONLY_EXCEEDS_POSITION, ts)

    # ---- funding -------------------------------------------------------------------------------

    def _settle_funding(self, ts: int) -> None:
        """Pay funding for one interval on every market: longs pay shorts when the book trades above
        mark. Every payment is exact, and positions sum to zero, so payments sum to zero."""
        for market, spec in self.specs.items():
            mark = self.marks[market]
            mid = self.mid_price(market)
            premium = (mid - mark) / mark if mid is not None else ZERO
            cap = spec.max_funding_rate
            clamped = min(max(premium, -cap), cap)
            period_ms = spec.market.funding_period_hours * _HOUR_MS
            rate = (clamped * self.funding_interval_ms / period_ms).quantize(_RATE_QUANTUM)
            self.funding_index[market] += rate * mark
            row = FundingRateEvent(market, rate, premium.quantize(_RATE_QUANTUM), mark,
                                   self.funding_index[market], ts)
            self._funding_rows[market].append(row)
            if self._bus.active:
                self._bus.publish(row)
            if not rate:
                continue
            for acct in self._accounts.values():
                pos = acct.positions.get(market)
                if pos is None or not pos.size:
                    continue
                amount = -pos.size * mark * rate
                acct.collateral += amount
                pos.funding_pnl += amount
                payment = FundingPayment(market, amount, ts, self._new_id())
                seq = acct.next_seq()
                event = FundingEvent(acct.id, seq, payment, rate, mark, pos.size)
                self._funding_payments.setdefault(acct.id, deque(maxlen=self._history_limit)).append(event)
                if self._bus.active:
                    self._bus.publish(event)
                    self._emit_account(acct, ts)

    def funding_history(self, market: str) -> list[FundingRateEvent]:
        """Funding settlements of a market, oldest first."""
        return list(self._funding_rows[market])

    def funding_payments(self, account_id: str, market: str | None = None) -> list[FundingEvent]:
        return [e for e in self._funding_payments.get(account_id, ()) if market is None
                or e.payment.market == market]

    # ---- liquidation ---------------------------------------------------------------------------

    def _check_liquidations(self, ts: int) -> None:
        for acct in list(self._accounts.values()):
            if acct.internal or not any(p.size for p in acct.positions.values()):
                continue
            if acct.account_value(self.marks) < acct.maintenance_margin(self.marks, self.specs):
                self._liquidate(acct, ts)

    def _liquidate(self, acct: Account, ts: int) -> None:
        """Cancel every order, then hand every position to the insurance fund at mark price."""
        acct.status = AccountStatus.LIQUIDATION
        self._emit_account(acct, ts)
        for order in list(acct.open_orders.values()):
            self._close(order, acct, CancelReason.LIQUIDATION, ts)
        insurance = self._accounts["insurance"]
        for market, pos in acct.positions.items():
            if not pos.size:
                continue
            size, price = pos.size, self.marks[market]
            side = Side.SELL if size > 0 else Side.BUY
            trade_id = self._new_id()
            self._liquidating_market = market
            self._book_fill(insurance, None, side.opposite, price, abs(size), Liquidity.MAKER, trade_id,
                            TradeType.LIQUIDATION, ts, fee_rate=ZERO)
            self._book_fill(acct, None, side, price, abs(size), Liquidity.TAKER, trade_id,
                            TradeType.LIQUIDATION, ts, fee_rate=ZERO)
            self._publish_trade(market, trade_id, price, abs(size), side, TradeType.LIQUIDATION, ts)
            event = LiquidationEvent(acct.id, acct.next_seq(), market, size, price, trade_id, ts)
            self._liquidations.append(event)
            if self._bus.active:
                self._bus.publish(event)
        acct.status = AccountStatus.ACTIVE
        self._emit_account(acct, ts)

    def force_liquidate(self, account_id: str) -> None:
        """Admin hook: liquidate an account now, whatever its margin."""
        acct = self._accounts[account_id]
        ts = self.clock.time_ms()
        self._liquidate(acct, ts)
        self._after_operation(ts)

    def liquidations(self, account_id: str | None = None) -> list[LiquidationEvent]:
        return [e for e in self._liquidations if account_id is None or e.account == account_id]

    # ---- audit ---------------------------------------------------------------------------------

    def total_equity(self) -> Decimal:
        """USDC + unrealized P&L over every account, insurance included. Equals ``deposits`` always."""
        return sum((a.account_value(self.marks) for a in self._accounts.values()), ZERO)
