"""exchangeInfo filters as the simulated venue enforces them on a new order (protocol/aster.md §5).

The order of the checks follows Binance: precision (``-1111``) before tick/step, price filter, lot size,
PERCENT_PRICE, MIN_NOTIONAL, and finally "would immediately trigger" for conditional orders.
"""

from __future__ import annotations

from decimal import Decimal

from flashscalper.domain import OrderRequest, OrderType, Side
from flashscalper.exchanges.aster.errors import AsterApiError
from flashscalper.exchanges.aster.mapping import SymbolRules

_STOPS = frozenset({OrderType.STOP_MARKET, OrderType.STOP_LIMIT})


def _decimals(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(-exponent, 0) if isinstance(exponent, int) else 0


def _off_grid(value: Decimal, base: Decimal, step: Decimal) -> bool:
    return step > 0 and (value - base) % step != 0


def check_order(rules: SymbolRules, req: OrderRequest, *, mark: Decimal, last: Decimal | None) -> None:
    """Raise AsterApiError with the filter's code for the first rule ``req`` breaks."""
    tick_places, step_places = _decimals(rules.tick_size), _decimals(rules.step_size)
    for value in (req.price, req.trigger_price):
        if value is not None and _decimals(value) > tick_places:
            raise AsterApiError(-1111)
    if req.size and _decimals(req.size) > step_places:
        raise AsterApiError(-1111)
    if req.price is not None:
        _check_price(rules, req.price, (-4013, -4002))
    if req.trigger_price is not None:
        _check_price(rules, req.trigger_price, (-4006, -4007))
    if req.size:
        _check_quantity(rules, req)
    if req.type is OrderType.LIMIT and req.price is not None:
        up, down = rules.multiplier_up, rules.multiplier_down
        if up is not None and req.side is Side.BUY and req.price > mark * up:
            raise AsterApiError(-4016, f"Price higher than the cap {mark * up:f} (mark × {up}).")
        if down is not None and req.side is Side.SELL and req.price < mark * down:
            raise AsterApiError(-4024, f"Price lower than the floor {mark * down:f} (mark × {down}).")
    if not (req.reduce_only or req.close_position) and rules.min_notional > 0:
        reference = req.price if req.type.has_limit_price and req.price is not None else mark
        if req.size * reference < rules.min_notional:
            raise AsterApiError(
                -4164, f"Order's notional must be no smaller than {rules.min_notional:f} (unless you choose reduce "
                "only).")
    if req.type.is_conditional and req.trigger_price is not None:
        reference = last if last is not None else mark
        stop = req.type in _STOPS
        fires = reference >= req.trigger_price if (req.side is Side.BUY) is stop else reference <= req.trigger_price
        if fires:
            raise AsterApiError(-2021)


def _check_price(rules: SymbolRules, price: Decimal, codes: tuple[int, int]) -> None:
    if price <= 0 or (rules.min_price > 0 and price < rules.min_price):
        raise AsterApiError(codes[0])
    if rules.max_price > 0 and price > rules.max_price:
        raise AsterApiError(codes[1])
    if _off_grid(price, rules.min_price, rules.tick_size):
        raise AsterApiError(-4014)


def _check_quantity(rules: SymbolRules, req: OrderRequest) -> None:
    market_like = req.type in (OrderType.MARKET, OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET)
    if market_like and rules.market_step_size > 0:
        min_qty, max_qty, step = rules.market_min_qty, rules.market_max_qty, rules.market_step_size
    else:
        min_qty, max_qty, step = rules.min_qty, rules.max_qty, rules.step_size
    if req.size < min_qty:
        raise AsterApiError(-4004)
    if max_qty > 0 and req.size > max_qty:
        raise AsterApiError(-4005)
    if _off_grid(req.size, min_qty, step):
        raise AsterApiError(-4023)
