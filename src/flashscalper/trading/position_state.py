"""The bot's record of one open position, and the exit settings it is managed by.

*_ROE values are percent of margin, where margin = entry notional / leverage (see
:mod:`flashscalper.trading.exits`). :class:`~flashscalper.trading.positions.PositionManager` owns the
records and decides the exits; the record does its own bookkeeping: averaging in, booking a reducing
trade, the closed-trade record and the position report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from flashscalper.domain import ZERO, Fill, Market, Side
from flashscalper.trading import exits
from flashscalper.trading.bus import PositionReport
from flashscalper.trading.exits import HUNDRED, ClosedTrade, ExitReason, TrailingStop
from flashscalper.trading.orders import Purpose, TrackedOrder

__all__ = ["HUNDRED", "ExitConfig", "ManagedPosition", "alive"]


@dataclass(frozen=True, slots=True)
class ExitConfig:
    """Exit rules. ROE values are percent of margin; a trailing activation of 0 disables trailing,
    ``max_holding_seconds`` 0 disables the time limit."""

    take_profit_roe: Decimal = Decimal("1.5")
    stop_loss_roe: Decimal = Decimal("-0.5")
    trailing_activation_roe: Decimal = Decimal("1.0")
    trailing_callback_roe: Decimal = Decimal("0.4")
    max_holding_seconds: int = 300
    trail_min_interval_s: float = 1.0
    report_interval_ms: int = 250

    def exit_prices(self, pos: ManagedPosition) -> tuple[Decimal, Decimal]:
        """The stop-loss and take-profit triggers for ``pos`` at its entry and leverage, on the tick."""
        sl = exits.stop_price(pos.market, pos.side, pos.entry_price, self.stop_loss_roe, pos.leverage)
        tp = exits.take_profit_price(pos.market, pos.side, pos.entry_price, self.take_profit_roe, pos.leverage)
        return sl, tp


@dataclass(slots=True)
class ManagedPosition:
    """One open position as the bot manages it. ``size`` is absolute; ``side`` gives the direction."""

    market: Market
    side: Side
    size: Decimal
    entry_price: Decimal
    leverage: Decimal
    opened_at: int
    trailing: TrailingStop
    adopted: bool = False
    signal: dict[str, object] = field(default_factory=dict)
    mark: Decimal = ZERO
    max_size: Decimal = ZERO
    fees: Decimal = ZERO
    realized: Decimal = ZERO
    exit_value: Decimal = ZERO
    exit_size: Decimal = ZERO
    stop: TrackedOrder | None = None
    take_profit: TrackedOrder | None = None
    stop_price: Decimal | None = None
    take_profit_price: Decimal | None = None
    trail_moved: bool = False
    last_trail_ms: int = 0
    closing: TrackedOrder | None = None
    close_reason: ExitReason | None = None  # why we asked to close (market exits)
    fill_reason: ExitReason | None = None  # what the last reducing fill says
    liquidated: bool = False
    liquidation_price: Decimal | None = None
    last_report_ms: int = 0
    last_close_ms: int = 0
    close_pending: bool = False  # a close job is queued or running
    trail_target: Decimal | None = None  # the stop price a queued "move stop" job will place

    @property
    def symbol(self) -> str:
        return self.market.symbol

    @property
    def signed_size(self) -> Decimal:
        return self.size * self.side.sign

    @property
    def margin(self) -> Decimal:
        return self.entry_price * self.size / self.leverage

    @property
    def unrealized_pnl(self) -> Decimal:
        if not self.mark:
            return ZERO
        return (self.mark - self.entry_price) * self.signed_size

    @property
    def roe(self) -> Decimal:
        return self.unrealized_pnl / self.margin * HUNDRED if self.margin > 0 else ZERO

    def adopt_exit(self, tracked: TrackedOrder) -> None:
        """Take over an exit of ours found resting on the venue (an empty slot only)."""
        trigger = tracked.request.trigger_price
        if tracked.purpose is Purpose.STOP and self.stop is None:
            self.stop, self.stop_price = tracked, trigger
        elif tracked.purpose is Purpose.TAKE_PROFIT and self.take_profit is None:
            self.take_profit, self.take_profit_price = tracked, trigger

    def add(self, price: Decimal, size: Decimal) -> None:
        """An entry fill in the position's direction: new average entry, larger size."""
        total = self.size + size
        self.entry_price = (self.entry_price * self.size + price * size) / total
        self.size = total
        self.max_size = max(self.max_size, total)

    def reduce(self, price: Decimal, size: Decimal) -> Decimal:
        """Book an exit of up to ``size`` at ``price``; returns the size it closed (at most the position)."""
        closed = min(size, self.size)
        self.realized += (price - self.entry_price) * closed * self.side.sign
        self.exit_value += price * closed
        self.exit_size += closed
        self.size -= closed
        return closed

    def exit_reason(self, fill: Fill, tracked: TrackedOrder | None) -> ExitReason:
        """Why a reducing fill happened: the exit order it belongs to, our close, or the venue."""
        if tracked is not None:
            if tracked.purpose is Purpose.STOP:
                return ExitReason.TRAIL if self.trail_moved else ExitReason.SL
            if tracked.purpose is Purpose.TAKE_PROFIT:
                return ExitReason.TP
            if tracked.exit_reason:
                return ExitReason(tracked.exit_reason)
            return self.close_reason or ExitReason.MANUAL
        if not fill.order_id or self.liquidated:
            return ExitReason.LIQUIDATION  # the venue's liquidation engine trades without an order of ours
        return ExitReason.EXTERNAL

    def closed_trade(self, now: int) -> ClosedTrade:
        """The round trip of a position that just went flat."""
        reason = self.fill_reason or self.close_reason or ExitReason.EXTERNAL
        exit_price = self.exit_value / self.exit_size if self.exit_size else self.mark
        margin = self.entry_price * self.max_size / self.leverage if self.leverage else ZERO
        return ClosedTrade(
            market=self.symbol, side=self.side, size=self.max_size, entry_price=self.entry_price,
            exit_price=exit_price, pnl=self.realized, fees=self.fees, opened_at=self.opened_at, closed_at=now,
            reason=reason, leverage=self.leverage, roe=self.realized / margin * HUNDRED if margin else ZERO,
            adopted=self.adopted, signal=self.signal,
        )

    def report(self, ts: int) -> PositionReport:
        """The position's live state for the bus (dashboard, journal)."""
        liq = self.liquidation_price
        distance = abs(self.mark - liq) / self.mark * HUNDRED if liq is not None and self.mark else None
        return PositionReport(
            market=self.symbol, side=self.side, size=self.size, entry_price=self.entry_price, mark_price=self.mark,
            unrealized_pnl=self.unrealized_pnl, roe=self.roe, margin=self.margin, leverage=self.leverage,
            stop_price=self.stop_price, take_profit_price=self.take_profit_price,
            trailing_active=self.trailing.active, liquidation_price=liq, liquidation_distance_percent=distance,
            opened_at=self.opened_at, ts=ts,
        )


def alive(tracked: TrackedOrder | None) -> bool:
    """The order is known and still working on the venue."""
    return tracked is not None and not tracked.is_done
