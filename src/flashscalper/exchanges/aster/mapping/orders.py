"""Orders both ways: the REST order object ↔ domain ``Order``, and ``OrderRequest`` ↔ new-order params."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flashscalper.domain import ZERO, Order, OrderRequest, OrderType, TimeInForce
from flashscalper.errors import InvalidOrder, MalformedMessage
from flashscalper.exchanges.aster.errors import AsterApiError

from .common import _dec, _dec_or_zero, _enum, _flag, _int, _obj, _opt_dec, _plain, _str, _wire_id
from .vocabulary import (
    _SIDES,
    _TIF_IN,
    _TIF_OUT,
    _TYPE_IN,
    _TYPE_OUT,
    _current_type_out,
    _status_out,
    order_status_from_aster,
)


@dataclass(frozen=True, slots=True)
class _OrderKeys:
    """Where an order's fields sit: the REST order object and the stream's ORDER_TRADE_UPDATE ``o`` carry
    the same order under different keys, so one reader serves both."""

    id: str
    client_id: str
    market: str
    side: str
    current_type: str  # turns MARKET/LIMIT once a conditional order triggers
    original_type: str
    status: str
    size: str
    price: str
    trigger_price: str
    tif: str
    reduce_only: str
    filled_size: str
    avg_fill_price: str
    updated_at: str


_REST_ORDER_KEYS = _OrderKeys(
    id="orderId", client_id="clientOrderId", market="symbol", side="side", current_type="type",
    original_type="origType", status="status", size="origQty", price="price", trigger_price="stopPrice",
    tif="timeInForce", reduce_only="reduceOnly", filled_size="executedQty", avg_fill_price="avgPrice",
    updated_at="updateTime",
)  # fmt: skip
_STREAM_ORDER_KEYS = _OrderKeys(
    id="i", client_id="c", market="s", side="S", current_type="o", original_type="ot", status="X", size="q",
    price="p", trigger_price="sp", tif="f", reduce_only="R", filled_size="z", avg_fill_price="ap", updated_at="T",
)  # fmt: skip


def _order_from(
    obj: dict[str, Any],
    keys: _OrderKeys,
    where: str,
    *,
    updated_default: int,
    created_at: Callable[[int], int],
    seq_no: int = 0,
) -> Order:
    """An order read with ``keys``; ``created_at`` maps the update time to the creation time."""
    current = _str(obj, keys.current_type, where)
    original = str(obj.get(keys.original_type) or current)
    try:
        status = order_status_from_aster(_str(obj, keys.status, where), current)
    except ValueError:
        raise MalformedMessage(f"Aster {where}: field '{keys.status}' has unknown value {obj[keys.status]!r}") from None
    updated = _int(obj, keys.updated_at, where, default=updated_default)
    return Order(
        id=_str(obj, keys.id, where),
        client_id=str(obj.get(keys.client_id, "")),
        market=_str(obj, keys.market, where),
        side=_enum(_SIDES, obj, keys.side, where),
        type=_enum(_TYPE_IN, {keys.original_type: original}, keys.original_type, where),
        size=_dec(obj, keys.size, where),
        status=status,
        price=_opt_dec(obj, keys.price, where),
        trigger_price=_opt_dec(obj, keys.trigger_price, where),
        tif=_enum(_TIF_IN, obj, keys.tif, where) if keys.tif in obj else TimeInForce.GTC,
        reduce_only=_flag(obj, keys.reduce_only, where),
        filled_size=_dec_or_zero(obj, keys.filled_size, where),
        avg_fill_price=_opt_dec(obj, keys.avg_fill_price, where),
        created_at=created_at(updated),
        updated_at=updated,
        seq_no=seq_no,
    )


def order_from_json(obj: Any) -> Order:
    """An order object from new / query / cancel / openOrders / allOrders (§8.1)."""
    where = "order"
    obj = _obj(obj, where)
    return _order_from(
        obj,
        _REST_ORDER_KEYS,
        where,
        updated_default=0,
        created_at=lambda updated: _int(obj, "time", where, default=updated),
    )


def order_to_json(
    order: Order,
    *,
    close_position: bool = False,
    position_side: str = "BOTH",
    working_type: str = "CONTRACT_PRICE",
    price_protect: bool = False,
) -> dict[str, Any]:
    """The order object the simulator serves from REST (§8.1), ``time`` included."""
    avg = order.avg_fill_price or ZERO
    return {
        "orderId": _wire_id(order.id),
        "symbol": order.market,
        "status": _status_out(order),
        "clientOrderId": order.client_id,
        "price": _plain(order.price),
        "avgPrice": _plain(avg),
        "origQty": _plain(order.size),
        "executedQty": _plain(order.filled_size),
        "cumQty": _plain(order.filled_size),
        "cumQuote": _plain(order.filled_size * avg),
        "timeInForce": _TIF_OUT[order.tif],
        "type": _current_type_out(order),
        "origType": _TYPE_OUT[order.type],
        "side": order.side.value,
        "positionSide": position_side,
        "reduceOnly": order.reduce_only,
        "closePosition": close_position,
        "stopPrice": _plain(order.trigger_price),
        "workingType": working_type,
        "priceProtect": price_protect,
        "time": order.created_at,
        "updateTime": order.updated_at,
    }


CLIENT_ID_PATTERN = re.compile(r"^[.A-Z:/a-z0-9_-]{1,36}$")
_DECIMAL_PARAM = re.compile(r"^\d+(\.\d+)?$")


def order_request_to_params(req: OrderRequest) -> dict[str, str]:
    """New-order params (§7) for a domain request, in a stable order. InvalidOrder before anything is signed."""
    if not CLIENT_ID_PATTERN.match(req.client_id):
        raise InvalidOrder(
            f"client id {req.client_id!r} must be 1-36 chars of letters, digits, '.', ':', '/', '_' or '-'",
            rule="client_id",
        )
    if req.tif is TimeInForce.POST_ONLY and req.type is not OrderType.LIMIT:
        raise InvalidOrder(f"post-only applies to LIMIT orders, not {req.type}", rule="tif")
    if req.close_position and req.type not in (OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET):
        raise InvalidOrder("close_position needs a STOP_MARKET or TAKE_PROFIT_MARKET order", rule="close_position")
    params = {"symbol": req.market, "side": req.side.value, "type": _TYPE_OUT[req.type]}
    if req.type.has_limit_price:
        if req.price is None:
            raise InvalidOrder(f"a {req.type} order needs a price", rule="price")
        params["timeInForce"] = _TIF_OUT[req.tif]
    if not req.close_position:
        params["quantity"] = _plain(req.size)
    if req.type.has_limit_price:
        params["price"] = _plain(req.price)
    if req.type.is_conditional:
        if req.trigger_price is None:
            raise InvalidOrder(f"a {req.type} order needs a trigger price", rule="trigger_price")
        params["stopPrice"] = _plain(req.trigger_price)
    if req.close_position:
        params["closePosition"] = "true"
    elif req.reduce_only:
        params["reduceOnly"] = "true"
    params["newClientOrderId"] = req.client_id
    return params


def _param_decimal(params: Mapping[str, str], key: str) -> Decimal | None:
    value = params.get(key)
    if value is None or value == "":
        return None
    if not _DECIMAL_PARAM.match(value):
        raise AsterApiError(-1102, f"Parameter '{key}' was malformed: {value!r}.")
    return Decimal(value)


def _param_flag(params: Mapping[str, str], key: str) -> bool:
    value = params.get(key, "false").lower()
    if value not in ("true", "false"):
        raise AsterApiError(-1102, f"Parameter '{key}' must be 'true' or 'false'.")
    return value == "true"


def _required(params: Mapping[str, str], key: str) -> str:
    value = params.get(key)
    if not value:
        raise AsterApiError(-1102, f"Mandatory parameter '{key}' was not sent, was empty/null, or malformed.")
    return value


def order_request_from_params(params: Mapping[str, str]) -> OrderRequest:
    """What the simulator makes of new-order params; AsterApiError carries the code to answer with.

    Structural checks only (mandatory fields, vocabularies, combinations); the market's filters are the
    matching engine's job. ``client_id`` is empty when none was sent: the simulator assigns one.
    """
    symbol = _required(params, "symbol")
    side = _SIDES.get(_required(params, "side"))
    if side is None:
        raise AsterApiError(-1117)
    raw_type = _required(params, "type")
    if raw_type not in _TYPE_OUT.values():
        raise AsterApiError(-1116)  # TRAILING_STOP_MARKET is not simulated
    otype = _TYPE_IN[raw_type]
    if params.get("positionSide", "BOTH") != "BOTH":
        raise AsterApiError(-4061)  # the simulator runs accounts in one-way mode
    tif = TimeInForce.GTC
    if otype is OrderType.LIMIT:
        tif = _TIF_IN.get(_required(params, "timeInForce"))  # type: ignore[assignment]
    elif "timeInForce" in params and otype.has_limit_price:
        tif = _TIF_IN.get(params["timeInForce"])  # type: ignore[assignment]
    if tif is None:
        raise AsterApiError(-1115)
    close_position = _param_flag(params, "closePosition")
    reduce_only = _param_flag(params, "reduceOnly")
    quantity = _param_decimal(params, "quantity")
    if close_position:
        if otype not in (OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET):
            raise AsterApiError(-1106, "Parameter 'closePosition' sent when not required.")
        if quantity is not None:
            raise AsterApiError(-4137)
        if "reduceOnly" in params:
            raise AsterApiError(-4138)
    elif quantity is None:
        _required(params, "quantity")
    elif quantity <= 0:
        raise AsterApiError(-4003)
    price = _param_decimal(params, "price")
    if otype.has_limit_price and price is None:
        _required(params, "price")
    if not otype.has_limit_price and price is not None:
        raise AsterApiError(-1106, "Parameter 'price' sent when not required.")
    stop = _param_decimal(params, "stopPrice")
    if otype.is_conditional and stop is None:
        _required(params, "stopPrice")
    client_id = params.get("newClientOrderId", "")
    if client_id and not CLIENT_ID_PATTERN.match(client_id):
        raise AsterApiError(-4015)
    return OrderRequest(
        market=symbol,
        side=side,
        type=otype,
        size=quantity or ZERO,
        client_id=client_id,
        price=price,
        trigger_price=stop if otype.is_conditional else None,
        tif=tif,
        reduce_only=reduce_only or close_position,
        close_position=close_position,
    )
