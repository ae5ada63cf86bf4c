"""Paradex order requests: the ``POST /orders`` body and the parts of it the signature also covers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flashscalper.domain import ZERO, OrderRequest, OrderType
from flashscalper.exchanges.paradex.fields import dec_str


def venue_order_type(request: OrderRequest) -> str:
    """The Paradex type string for a request: close-position stops become the TP/SL STOP_LOSS_* types."""
    if request.close_position and request.type in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT):
        return "STOP_LOSS_MARKET" if request.type is OrderType.STOP_MARKET else "STOP_LOSS_LIMIT"
    return request.type.value


def order_flags(request: OrderRequest) -> list[str]:
    # TP/SL types must carry REDUCE_ONLY (§2.4), so close-position and take-profit orders always do.
    reduce = request.reduce_only or request.close_position or request.type in (
        OrderType.TAKE_PROFIT_MARKET,
        OrderType.TAKE_PROFIT_LIMIT,
    )
    return ["REDUCE_ONLY"] if reduce else []


def signed_price(request: OrderRequest) -> Decimal:
    """The price that goes into the Order signature: the limit price, 0 for market-style orders."""
    return request.price if request.type.has_limit_price and request.price is not None else ZERO


def order_body(
    request: OrderRequest,
    *,
    signature: str,
    signature_timestamp_ms: int,
    recv_window_ms: int | None = None,
    stp: str | None = None,
) -> dict[str, Any]:
    """OrderRequest → the ``POST /orders`` body of §5. Market-style orders omit ``price`` like paradex-py."""
    body: dict[str, Any] = {
        "market": request.market,
        "side": request.side.value,
        "type": venue_order_type(request),
        "size": dec_str(request.size),
        "instruction": request.tif.value,
        "signature": signature,
        "signature_timestamp": signature_timestamp_ms,
    }
    if request.client_id:
        body["client_id"] = request.client_id
    if request.type.has_limit_price and request.price is not None:
        body["price"] = dec_str(request.price)
    if request.trigger_price is not None:
        body["trigger_price"] = dec_str(request.trigger_price)
    flags = order_flags(request)
    if flags:
        body["flags"] = flags
    if recv_window_ms is not None:
        body["recv_window"] = recv_window_ms
    if stp is not None:
        body["stp"] = stp
    return body
