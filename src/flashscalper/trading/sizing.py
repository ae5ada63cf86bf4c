"""Entry sizing: how much to buy or sell, fitted to a market's precision and limits.

Pure functions, no state. The risk engine calls them with its effective limits; the executor and
backtests may call them directly. Every size is a ``Decimal`` rounded *down* to the market's step,
so sizing never asks for more exposure than the budget allows.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flashscalper.domain import ZERO, Market, Side

HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class SizingResult:
    """Outcome of sizing one order.

    ``size`` is zero when the order was rejected; ``reasons`` explains every adjustment
    (leverage cap, clamps) and every rejection, in words fit to show on stream.
    """

    size: Decimal
    price: Decimal
    leverage: Decimal
    reasons: tuple[str, ...] = ()
    rejected: bool = False

    @property
    def accepted(self) -> bool:
        return not self.rejected and self.size > 0

    @property
    def notional(self) -> Decimal:
        return self.size * self.price

    @property
    def margin(self) -> Decimal:
        """Collateral this order ties up at the sizing leverage."""
        return self.notional / self.leverage if self.leverage > 0 else self.notional

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons) if self.reasons else "sized within all limits"


def initial_margin(market: Market, notional: Decimal, leverage: Decimal) -> Decimal:
    """Initial margin for ``notional`` on a cross-margin perp: notional × max(1/leverage, imf_base)."""
    fraction = max(Decimal(1) / leverage, market.imf_base) if leverage > 0 else Decimal(1)
    return abs(notional) * fraction


def capped_leverage(market: Market, leverage: Decimal) -> tuple[Decimal, str | None]:
    """The leverage actually usable on ``market`` and, if it was lowered, why."""
    if leverage > market.max_leverage:
        return market.max_leverage, (
            f"leverage {leverage:f}x capped to {market.symbol}'s maximum {market.max_leverage:f}x"
        )
    return leverage, None


def size_entry(
    market: Market,
    price: Decimal,
    available_collateral: Decimal,
    *,
    position_size_percent: Decimal,
    leverage: Decimal,
    current_position: Decimal = ZERO,
    side: Side | None = None,
) -> SizingResult:
    """Size a new entry: collateral × size% × leverage / price, then fit it to the market.

    ``available_collateral`` is the free collateral (not equity); ``position_size_percent`` of it
    becomes the margin of this entry. ``current_position`` is the signed position already held in
    this market, used for the market's position limit.
    """
    _require_positive("price", price)
    if available_collateral < 0:
        raise ValueError(f"available_collateral must not be negative, got {available_collateral}")
    usable_leverage, cap_note = capped_leverage(market, leverage)
    notes = [cap_note] if cap_note else []
    if available_collateral == 0:
        return SizingResult(ZERO, price, usable_leverage, (*notes, "no free collateral to size an entry"), True)
    margin_budget = available_collateral * position_size_percent / HUNDRED
    raw_size = margin_budget * usable_leverage / price
    fitted = fit_size(market, raw_size, price, current_position=current_position, side=side)
    return SizingResult(
        fitted.size, price, usable_leverage, (*notes, *fitted.reasons), fitted.rejected
    )


def fit_size(
    market: Market,
    size: Decimal,
    price: Decimal,
    *,
    current_position: Decimal = ZERO,
    side: Side | None = None,
    leverage: Decimal = Decimal(1),
) -> SizingResult:
    """Fit a wanted size to ``market``: step (round down), max order size (clamp), position limit
    (clamp, or reject when there is no room left) and min notional (reject if below).

    The checks run in that order so that min notional is judged on the size that would really be sent.
    """
    _require_positive("price", price)
    if size < 0:
        raise ValueError(f"size must not be negative, got {size}")
    reasons: list[str] = []

    def reject(why: str) -> SizingResult:
        return SizingResult(ZERO, price, leverage, (*reasons, why), True)

    fitted = market.round_size(size)
    if fitted != size:
        reasons.append(f"size {_short(size)} rounded down to step {market.step_size:f}: {fitted:f}")
    if fitted <= 0:
        return reject(f"size is below one step ({market.step_size:f} {market.base}) of {market.symbol}")

    if market.max_order_size is not None and fitted > market.max_order_size:
        fitted = market.round_size(market.max_order_size)
        reasons.append(f"clamped to {market.symbol}'s max order size {market.max_order_size:f}")

    if market.position_limit is not None:
        room = _position_room(market.position_limit, current_position, side)
        if room <= 0:
            return reject(
                f"{market.symbol} position limit {market.position_limit:f} reached "
                f"(holding {abs(current_position):f})"
            )
        if fitted > room:
            fitted = market.round_size(room)
            reasons.append(
                f"clamped to {fitted:f} to stay within {market.symbol}'s position limit "
                f"{market.position_limit:f}"
            )
            if fitted <= 0:
                return reject(f"room under {market.symbol}'s position limit is below one step")

    notional = fitted * price
    if notional < market.min_notional:
        return reject(
            f"notional {notional:f} {market.quote} is below {market.symbol}'s minimum "
            f"{market.min_notional:f} {market.quote}"
        )
    return SizingResult(fitted, price, leverage, tuple(reasons))


def _position_room(limit: Decimal, current_position: Decimal, side: Side | None) -> Decimal:
    """How much more can be added in ``side``'s direction before |position| exceeds ``limit``."""
    if side is None or current_position == 0:
        return limit - abs(current_position)
    if side.sign * current_position > 0:  # adding to the same direction
        return limit - abs(current_position)
    # an opposite order first closes the current position, then may open up to the limit
    return abs(current_position) + limit


def _short(value: Decimal) -> str:
    """A raw computed size for display: at most 8 decimals (the exact value is not the point)."""
    if value.as_tuple().exponent < -8:  # type: ignore[operator]
        value = value.quantize(Decimal("1e-8"))
    return f"{value.normalize():f}"


def _require_positive(name: str, value: Decimal) -> None:
    if not isinstance(value, Decimal):
        raise TypeError(f"{name} must be a Decimal, got {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {value}")
