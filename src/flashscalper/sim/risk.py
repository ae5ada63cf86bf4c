"""Order checks: synchronous request validation (HTTP 400 answers) and admission checks (CLOSED orders).

Kept apart from matching so the rules read in one place, in the order a venue applies them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from flashscalper.domain import ZERO, OrderRequest, OrderType, Side, TimeInForce, is_multiple
from flashscalper.sim.accounts import Account
from flashscalper.sim.markets import MarketSpec
from flashscalper.sim.orders import CancelReason, OrderValidationError, SimOrder

if TYPE_CHECKING:
    from flashscalper.sim.engine import SimExchange

_LIMIT_TIFS = frozenset({TimeInForce.IOC, TimeInForce.FOK, TimeInForce.POST_ONLY})
MAX_CLIENT_ID_LENGTH = 64


def validate_request(spec: MarketSpec, acct: Account, req: OrderRequest, mark: Decimal) -> None:
    """Raise OrderValidationError for anything a venue refuses before accepting the order."""
    market = spec.market
    if not isinstance(req.size, Decimal) or not req.size.is_finite():
        raise OrderValidationError("INVALID_ORDER_SIZE", f"size must be a finite Decimal, got {req.size!r}")
    if req.close_position:
        if not req.type.is_conditional:
            raise OrderValidationError("VALIDATION_ERROR", "close_position needs a stop or take-profit type")
        if req.size < 0:
            raise OrderValidationError("INVALID_ORDER_SIZE", "size must be 0 (whole position) or positive")
    elif req.size <= 0:
        raise OrderValidationError("INVALID_ORDER_SIZE", f"size must be positive, got {req.size}")
    if req.size and not is_multiple(req.size, market.step_size):
        raise OrderValidationError(
            "INVALID_ORDER_SIZE", f"size {req.size} is not a multiple of the step {market.step_size}")
    if market.max_order_size is not None and req.size > market.max_order_size:
        raise OrderValidationError(
            "INVALID_ORDER_SIZE", f"size {req.size} is above the maximum {market.max_order_size}")
    if req.type.has_limit_price:
        _check_price("price", req.price, market.tick_size)
    if req.type.is_conditional:
        _check_price("trigger_price", req.trigger_price, market.tick_size)
    if req.tif in _LIMIT_TIFS and not req.type.has_limit_price:
        raise OrderValidationError("VALIDATION_ERROR", f"{req.tif} needs a limit order type, not {req.type}")
    if req.tif is TimeInForce.POST_ONLY and req.type is OrderType.TAKE_PROFIT_LIMIT:
        raise OrderValidationError("VALIDATION_ERROR", "POST_ONLY is only for LIMIT and STOP_LIMIT")
    if len(req.client_id) > MAX_CLIENT_ID_LENGTH:
        raise OrderValidationError("VALIDATION_ERROR", f"client_id longer than {MAX_CLIENT_ID_LENGTH} characters")
    if req.client_id and req.client_id in acct.client_ids:
        raise OrderValidationError("DUPLICATED_CLIENT_ID", f"an open order already uses client_id {req.client_id!r}")
    reduce_only = req.reduce_only or req.close_position
    if not reduce_only and market.min_notional and req.size * mark < market.min_notional:
        raise OrderValidationError(
            "INVALID_ORDER_SIZE",
            f"notional {req.size * mark} (size x mark) is below the minimum {market.min_notional} USD")


def _check_price(name: str, price: Decimal | None, tick: Decimal) -> None:
    if price is None or not isinstance(price, Decimal) or not price.is_finite() or price <= 0:
        raise OrderValidationError("VALIDATION_ERROR", f"{name} must be a positive Decimal, got {price!r}")
    if not is_multiple(price, tick):
        raise OrderValidationError("VALIDATION_ERROR", f"{name} {price} is not a multiple of the tick {tick}")


def reducible(position: Decimal, side: Side) -> Decimal:
    """How much an order on ``side`` can trade without growing the position."""
    if side is Side.BUY:
        return -position if position < 0 else ZERO
    return position if position > 0 else ZERO


def admission_reason(ex: SimExchange, acct: Account, spec: MarketSpec, order: SimOrder) -> str:
    """The cancel_reason that closes ``order`` before matching, or "" to let it trade."""
    m = order.market
    pos = acct.position_size(m)
    if order.reduce_only:
        room = reducible(pos, order.side)
        if room <= 0 or (order.remaining > room and not order.triggered):
            return CancelReason.REDUCE_ONLY_WOULD_INCREASE
        return ""  # reducing needs no margin and cannot breach limits
    market = spec.market
    might_rest = order.type.has_limit_price and order.tif in (TimeInForce.GTC, TimeInForce.POST_ONLY)
    if might_rest and acct.open_count.get(m, 0) >= market.max_open_orders:
        return CancelReason.MAX_OPEN_ORDERS_EXCEEDED
    size = order.remaining
    if market.position_limit is not None:
        if order.side is Side.BUY:
            worst = pos + acct.open_buy.get(m, ZERO) + size
        else:
            worst = -(pos - acct.open_sell.get(m, ZERO) - size)
        if worst > market.position_limit:
            return CancelReason.ORDER_EXCEEDS_POSITION_LIMIT
    if acct.internal:
        return ""
    # only this market's requirement changes; look at the rest of the account only if it grows
    mark = ex.marks[m]
    before = acct.market_margin(m, mark, spec)
    if order.side is Side.BUY:
        after = acct.market_margin(m, mark, spec, extra_buy=size)
    else:
        after = acct.market_margin(m, mark, spec, extra_sell=size)
    if after > before:
        fee = size * mark * ex.taker_fee if ex.taker_fee > 0 else ZERO
        marks = ex.marks
        if acct.account_value(marks) - acct.initial_margin(marks, ex.specs) - (after - before) - fee < 0:
            return CancelReason.NOT_ENOUGH_MARGIN
    return ""
