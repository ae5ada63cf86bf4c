"""Aster's words for sides, order types, time in force and order statuses, and their domain enums."""

from __future__ import annotations

from flashscalper.domain import Order, OrderStatus, OrderType, Side, TimeInForce

_SIDES = {"BUY": Side.BUY, "SELL": Side.SELL}
# TRAILING_STOP_MARKET has no domain type: it is a stop-market whose trigger moves, so it reads as one.
_TYPE_IN = {
    "MARKET": OrderType.MARKET,
    "LIMIT": OrderType.LIMIT,
    "STOP": OrderType.STOP_LIMIT,
    "STOP_MARKET": OrderType.STOP_MARKET,
    "TAKE_PROFIT": OrderType.TAKE_PROFIT_LIMIT,
    "TAKE_PROFIT_MARKET": OrderType.TAKE_PROFIT_MARKET,
    "TRAILING_STOP_MARKET": OrderType.STOP_MARKET,
}
_TYPE_OUT = {
    OrderType.MARKET: "MARKET",
    OrderType.LIMIT: "LIMIT",
    OrderType.STOP_LIMIT: "STOP",
    OrderType.STOP_MARKET: "STOP_MARKET",
    OrderType.TAKE_PROFIT_LIMIT: "TAKE_PROFIT",
    OrderType.TAKE_PROFIT_MARKET: "TAKE_PROFIT_MARKET",
}
# HIDDEN is a resting GTC order kept out of the public book; the domain has no such flag.
_TIF_IN = {
    "GTC": TimeInForce.GTC,
    "IOC": TimeInForce.IOC,
    "FOK": TimeInForce.FOK,
    "GTX": TimeInForce.POST_ONLY,
    "HIDDEN": TimeInForce.GTC,
}
_TIF_OUT = {TimeInForce.GTC: "GTC", TimeInForce.IOC: "IOC", TimeInForce.FOK: "FOK", TimeInForce.POST_ONLY: "GTX"}
_STATUSES = frozenset(
    {"NEW", "PARTIALLY_FILLED", "FILLED", "CANCELED", "REJECTED", "EXPIRED", "NEW_INSURANCE", "NEW_ADL"}
)
_TERMINAL_IN = {
    "FILLED": OrderStatus.FILLED,
    "CANCELED": OrderStatus.CANCELED,
    "REJECTED": OrderStatus.REJECTED,
    "EXPIRED": OrderStatus.EXPIRED,
}


def order_status_from_aster(status: str, current_type: str) -> OrderStatus:
    """Aster status + the order's *current* type (``type``/``o``, which turns MARKET/LIMIT on trigger).

    A conditional type still showing means the trigger has not fired (UNTRIGGERED); a live LIMIT rests on
    the book (OPEN); a live MARKET is accepted but not matched yet (NEW).
    """
    if status in _TERMINAL_IN:
        return _TERMINAL_IN[status]
    if status not in _STATUSES:
        raise ValueError(status)
    if current_type not in ("MARKET", "LIMIT"):
        return OrderStatus.UNTRIGGERED
    if status == "PARTIALLY_FILLED" or current_type == "LIMIT":
        return OrderStatus.OPEN
    return OrderStatus.NEW  # NEW / NEW_INSURANCE / NEW_ADL market orders


def _status_out(order: Order) -> str:
    if order.status in (OrderStatus.NEW, OrderStatus.UNTRIGGERED):
        return "NEW"
    if order.status is OrderStatus.OPEN:
        return "PARTIALLY_FILLED" if order.filled_size > 0 else "NEW"
    return order.status.value


def _current_type_out(order: Order) -> str:
    """Once triggered, a conditional order shows its child type (MARKET or LIMIT) as ``type``/``o``."""
    if order.type.is_conditional and order.status is not OrderStatus.UNTRIGGERED:
        return "LIMIT" if order.type.has_limit_price else "MARKET"
    return _TYPE_OUT[order.type]
