"""Pre-trade validation of an OrderRequest against a Paradex market's rules (protocol/paradex.md §2.4).

Runs before anything is signed, so a bad order costs microseconds instead of a signature and a round trip.
Each failure raises ``InvalidOrder(rule=...)`` whose message names the value, the rule and the nearest
valid value, e.g. "price 65000.03 is not a multiple of the BTC-USD-PERP tick 0.1; nearest valid: 65000.0".
"""

from __future__ import annotations

from decimal import Decimal

from flashscalper.domain import (
    ZERO,
    Market,
    OrderRequest,
    OrderType,
    Side,
    TimeInForce,
    is_multiple,
    quantize_down,
    quantize_nearest,
    quantize_up,
)
from flashscalper.errors import InvalidOrder

# Paradex instructions are GTC, IOC, POST_ONLY (and RPI); there is no fill-or-kill.
_POST_ONLY_TYPES = frozenset({OrderType.LIMIT, OrderType.STOP_LIMIT, OrderType.TAKE_PROFIT_LIMIT})


def _fmt(value: Decimal) -> str:
    return format(value, "f")


def _nearest_multiple(value: Decimal, step: Decimal) -> Decimal:
    """Nearest multiple of ``step``, never zero for a positive value (zero is never a valid answer)."""
    nearest = quantize_nearest(value, step)
    return nearest if nearest > 0 else step


def validate_order(
    request: OrderRequest,
    market: Market,
    *,
    mark_price: Decimal | None = None,
    position_size: Decimal | None = None,
) -> None:
    """Check ``request`` against ``market``; raise ``InvalidOrder`` on the first broken rule.

    ``mark_price`` lets market orders be checked for min notional (limit orders use their price).
    ``position_size`` (signed) enables the position-limit, reduce-only and whole-close exemptions; without it
    those checks assume a flat account and give reduce-only orders the benefit of the doubt.
    """
    symbol = market.symbol
    if request.market != symbol:
        raise InvalidOrder(f"order is for {request.market} but was checked against {symbol}", rule="market")
    _check_type_fields(request, symbol)
    _check_prices(request, market)
    _check_size(request, market)
    _check_notional(request, market, mark_price, position_size)
    _check_position(request, market, position_size)


def _check_type_fields(request: OrderRequest, symbol: str) -> None:
    kind = request.type
    if request.tif is TimeInForce.FOK:
        raise InvalidOrder(f"{symbol}: Paradex has no FOK orders; use IOC (nearest valid: IOC)", rule="tif")
    if request.tif is TimeInForce.POST_ONLY and kind not in _POST_ONLY_TYPES:
        raise InvalidOrder(
            f"{symbol}: POST_ONLY needs a limit-type order, not {kind.value}; nearest valid: GTC", rule="tif"
        )
    if kind.has_limit_price and (request.price is None or request.price <= 0):
        shown = "missing" if request.price is None else _fmt(request.price)
        raise InvalidOrder(f"{symbol}: {kind.value} order needs a positive limit price (got {shown})", rule="price")
    if kind.is_conditional and (request.trigger_price is None or request.trigger_price <= 0):
        shown = "missing" if request.trigger_price is None else _fmt(request.trigger_price)
        raise InvalidOrder(
            f"{symbol}: {kind.value} order needs a positive trigger price (got {shown})", rule="trigger"
        )
    if not kind.is_conditional and request.trigger_price is not None:
        raise InvalidOrder(
            f"{symbol}: {kind.value} order cannot carry a trigger price ({_fmt(request.trigger_price)}); "
            "use a STOP_* or TAKE_PROFIT_* type",
            rule="trigger",
        )
    if request.close_position and not kind.is_conditional:
        raise InvalidOrder(
            f"{symbol}: close_position only applies to stop / take-profit orders, not {kind.value}", rule="type"
        )


def _check_prices(request: OrderRequest, market: Market) -> None:
    tick = market.tick_size
    for label, value in (("price", request.price), ("trigger price", request.trigger_price)):
        if value is None or (label == "price" and not request.type.has_limit_price):
            continue  # market-style orders send no price, so whatever was passed is not checked
        if not is_multiple(value, tick):
            raise InvalidOrder(
                f"{label} {_fmt(value)} is not a multiple of the {market.symbol} tick {_fmt(tick)}; "
                f"nearest valid: {_fmt(_nearest_multiple(value, tick))}",
                rule="tick",
            )


def _check_size(request: OrderRequest, market: Market) -> None:
    size, step = request.size, market.step_size
    if request.close_position and size == 0:
        return  # "size 0" on a TP/SL means "the whole position"
    if size <= 0:
        raise InvalidOrder(
            f"size {_fmt(size)} must be positive on {market.symbol}; nearest valid: {_fmt(step)}", rule="size"
        )
    if not is_multiple(size, step):
        raise InvalidOrder(
            f"size {_fmt(size)} is not a multiple of the {market.symbol} size increment {_fmt(step)}; "
            f"nearest valid: {_fmt(_nearest_multiple(size, step))}",
            rule="step",
        )
    if market.max_order_size is not None and size > market.max_order_size:
        raise InvalidOrder(
            f"size {_fmt(size)} is above the {market.symbol} max order size {_fmt(market.max_order_size)}; "
            f"nearest valid: {_fmt(quantize_down(market.max_order_size, step))}",
            rule="max_order_size",
        )


def _closes_whole_position(request: OrderRequest, position_size: Decimal | None) -> bool:
    if request.close_position:
        return True
    if not request.reduce_only:
        return False
    # Unknown position: let the venue judge; known: the order must cover all of it.
    return position_size is None or request.size >= abs(position_size)


def _check_notional(
    request: OrderRequest, market: Market, mark_price: Decimal | None, position_size: Decimal | None
) -> None:
    if market.min_notional <= 0 or _closes_whole_position(request, position_size):
        return
    reference = request.price if request.type.has_limit_price else mark_price
    if reference is None or reference <= 0:
        return  # a market order without a known mark cannot be checked here; the venue will
    notional = request.size * reference
    if notional < market.min_notional:
        minimum = quantize_up(market.min_notional / reference, market.step_size)
        raise InvalidOrder(
            f"notional {_fmt(notional)} (size {_fmt(request.size)} × {_fmt(reference)}) is below the "
            f"{market.symbol} minimum {_fmt(market.min_notional)}; nearest valid: size {_fmt(minimum)}",
            rule="min_notional",
        )


def _check_position(request: OrderRequest, market: Market, position_size: Decimal | None) -> None:
    current = position_size if position_size is not None else ZERO
    signed = request.size * request.side.sign
    if request.reduce_only and position_size is not None and not request.type.is_conditional:
        # Resting stops may be placed ahead of the position, so only immediate orders are checked.
        if current == 0 or (current > 0) == (request.side is Side.BUY):
            raise InvalidOrder(
                f"reduce-only {request.side.value} {_fmt(request.size)} would not reduce the {market.symbol} "
                f"position {_fmt(current)}; nearest valid: a {request.side.opposite.value} order or no order",
                rule="reduce_only",
            )
        return
    limit = market.position_limit
    if limit is None or request.reduce_only or request.close_position:
        return
    resulting = current + signed
    if abs(resulting) > limit and abs(resulting) > abs(current):
        headroom = limit - current if request.side is Side.BUY else limit + current
        allowed = quantize_down(max(headroom, ZERO), market.step_size)
        raise InvalidOrder(
            f"{request.side.value} {_fmt(request.size)} would take the {market.symbol} position to "
            f"{_fmt(resulting)}, beyond the position limit {_fmt(limit)}; nearest valid: size {_fmt(allowed)}",
            rule="position_limit",
        )
