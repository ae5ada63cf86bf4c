"""Exit math and the closed-trade record.

ROE convention (shared with :mod:`flashscalper.trading.positions` and the config): every ``*_roe``
setting is a percent of the position's initial margin, where margin = entry notional / leverage.
``+1.5`` means "P&L equals 1.5 % of the margin"; at 10x leverage that is a 0.15 % price move.

So for a position of side ``s`` (+1 long, -1 short) opened at ``entry`` with leverage ``L``::

    roe(price)   = s · (price − entry) / entry · L · 100
    price(roe)   = entry · (1 + s · roe / (100 · L))

Exit prices are rounded to the tick so that they are never looser than asked: a stop is rounded
towards the entry (a smaller loss), a take-profit away from the entry (at least the asked profit).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from flashscalper.domain import ZERO, Market, Side, quantize_down, quantize_up

HUNDRED = Decimal(100)


class ExitReason(StrEnum):
    """Why a position closed (journal, dashboard, stats)."""

    SL = "SL"  # stop-loss
    TP = "TP"  # take-profit
    TRAIL = "TRAIL"  # trailing stop (a stop that had been moved into profit)
    TIME = "TIME"  # max holding time
    EMERGENCY = "EMERGENCY"  # flatten(): cancel all, market out, risk HALT
    MANUAL = "MANUAL"  # closed on request of a person / code
    LIQUIDATION = "LIQUIDATION"  # the venue liquidated the account
    EXTERNAL = "EXTERNAL"  # closed out of band (another client, the venue UI)
    PROTECTION_FAILED = "PROTECTION_FAILED"  # the stop could not be placed, so we closed at market


def roe_percent(side: Side, entry: Decimal, price: Decimal, leverage: Decimal) -> Decimal:
    """Return on margin, in percent, of a position opened at ``entry`` if closed at ``price``."""
    if entry <= 0 or leverage <= 0:
        return ZERO
    return side.sign * (price - entry) / entry * leverage * HUNDRED


def price_at_roe(side: Side, entry: Decimal, roe: Decimal, leverage: Decimal) -> Decimal:
    """The (unrounded) price at which the position's ROE equals ``roe`` percent."""
    return entry * (1 + side.sign * roe / (HUNDRED * leverage))


def stop_price(market: Market, side: Side, entry: Decimal, roe: Decimal, leverage: Decimal) -> Decimal:
    """Stop trigger for a position of ``side`` at ``roe`` (negative for a loss, positive for a trail),
    rounded towards the entry-side of the book so the stop is never looser than asked."""
    raw = price_at_roe(side, entry, roe, leverage)
    # long: the stop sells below; rounding up keeps it tighter. short: rounding down.
    price = quantize_up(raw, market.tick_size) if side is Side.BUY else quantize_down(raw, market.tick_size)
    return max(price, market.tick_size)


def take_profit_price(market: Market, side: Side, entry: Decimal, roe: Decimal, leverage: Decimal) -> Decimal:
    """Take-profit trigger at ``roe`` percent (positive), rounded away from the entry."""
    raw = price_at_roe(side, entry, roe, leverage)
    price = quantize_up(raw, market.tick_size) if side is Side.BUY else quantize_down(raw, market.tick_size)
    return max(price, market.tick_size)


def stop_hit(side: Side, stop: Decimal, price: Decimal) -> bool:
    """True when ``price`` has reached the stop of a position of ``side``."""
    return price <= stop if side is Side.BUY else price >= stop


def take_profit_hit(side: Side, target: Decimal, price: Decimal) -> bool:
    return price >= target if side is Side.BUY else price <= target


@dataclass(slots=True)
class TrailingStop:
    """Trailing stop in ROE terms: once ROE reaches ``activation_roe``, keep the stop
    ``callback_roe`` ROE points below the best ROE seen (never moving it back)."""

    activation_roe: Decimal
    callback_roe: Decimal
    active: bool = False
    best_roe: Decimal = ZERO

    def update(self, roe: Decimal) -> Decimal | None:
        """Feed the current ROE; return the ROE level the stop should now sit at, or None if inactive."""
        if not self.active:
            if roe < self.activation_roe:
                return None
            self.active = True
            self.best_roe = roe
        elif roe > self.best_roe:
            self.best_roe = roe
        return self.best_roe - self.callback_roe


def improves(side: Side, current: Decimal | None, candidate: Decimal, tick: Decimal) -> bool:
    """True if ``candidate`` is a tighter stop than ``current`` by at least one tick."""
    if current is None:
        return True
    move = (candidate - current) * side.sign
    return move >= tick


@dataclass(frozen=True, slots=True)
class ClosedTrade:
    """One round trip, as the journal, the stats and the dashboard see it.

    ``pnl`` is realized price P&L (before fees); ``net_pnl`` subtracts fees. ``signal`` is the
    snapshot of the signal that opened the trade (confidence, reasons, features, setup) when known.
    """

    market: str
    side: Side
    size: Decimal
    entry_price: Decimal
    exit_price: Decimal
    pnl: Decimal
    fees: Decimal
    opened_at: int
    closed_at: int
    reason: ExitReason
    leverage: Decimal
    roe: Decimal
    adopted: bool = False  # the bot did not open this position (found at reconciliation)
    signal: dict[str, object] = field(default_factory=dict)

    @property
    def net_pnl(self) -> Decimal:
        return self.pnl - self.fees

    @property
    def duration_ms(self) -> int:
        return max(self.closed_at - self.opened_at, 0)

    @property
    def is_win(self) -> bool:
        return self.net_pnl > 0
