"""Aster (Binance-fapi-shaped) JSON ↔ domain types, in both directions.

The client reads venue JSON with the ``*_from_*`` functions; the simulator serves domain state with the
``*_to_*`` functions, so both sides agree on one wire shape. Parsing is lenient where the live API drifts
from the docs (numbers as strings or JSON numbers, ``minNotional``/``notional``, ``orderTypes``/``OrderType``,
a missing ``maker``) and strict where a missing field would corrupt state: those raise ``MalformedMessage``
naming the payload and the field. Field names follow protocol/aster.md §5, §8, §11 and §12.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from flashscalper.domain import (
    ZERO,
    AccountSnapshot,
    Balance,
    BookLevel,
    BookUpdate,
    ConnectionEvent,
    ConnectionState,
    Event,
    Fill,
    FillEvent,
    FundingPayment,
    Liquidity,
    Market,
    MarkPrice,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Position,
    PositionUpdate,
    Quote,
    Side,
    TimeInForce,
    Trade,
)
from flashscalper.errors import InvalidOrder, MalformedMessage
from flashscalper.exchanges.aster.auth import encode_value
from flashscalper.exchanges.aster.errors import AsterApiError

VENUE = "aster"

# ---- field readers: every failure names the payload and the field ------------------------------------


def _obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedMessage(f"Aster {where}: expected a JSON object, got {type(value).__name__}")
    return value


def _get(obj: Mapping[str, Any], key: str, where: str) -> Any:
    try:
        return obj[key]
    except KeyError:
        raise MalformedMessage(f"Aster {where}: missing field '{key}'") from None


def _to_dec(value: Any, key: str, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise MalformedMessage(f"Aster {where}: field '{key}' is not a number: {value!r}")
    try:
        result = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        raise MalformedMessage(f"Aster {where}: field '{key}' is not a number: {value!r}") from None
    if not result.is_finite():
        raise MalformedMessage(f"Aster {where}: field '{key}' is not finite: {value!r}")
    return result


def _dec(obj: Mapping[str, Any], key: str, where: str) -> Decimal:
    return _to_dec(_get(obj, key, where), key, where)


def _opt_dec(obj: Mapping[str, Any], key: str, where: str, *, zero_is_none: bool = True) -> Decimal | None:
    """An optional number; Aster writes "0" for "not set" (price of a market order, stopPrice, avgPrice)."""
    value = obj.get(key)
    if value is None or value == "":
        return None
    result = _to_dec(value, key, where)
    return None if zero_is_none and result == 0 else result


def _int(obj: Mapping[str, Any], key: str, where: str, default: int | None = None) -> int:
    value = obj.get(key) if default is not None else _get(obj, key, where)
    if value is None:
        return default  # type: ignore[return-value]
    if isinstance(value, bool):
        raise MalformedMessage(f"Aster {where}: field '{key}' is not an integer: {value!r}")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise MalformedMessage(f"Aster {where}: field '{key}' is not an integer: {value!r}") from None


def _str(obj: Mapping[str, Any], key: str, where: str) -> str:
    value = _get(obj, key, where)
    if isinstance(value, str | int) and not isinstance(value, bool):
        return str(value)
    raise MalformedMessage(f"Aster {where}: field '{key}' is not a string: {value!r}")


def _flag(obj: Mapping[str, Any], key: str, where: str) -> bool:
    """Booleans come as JSON booleans or as "true"/"false" strings; absent means false."""
    value = obj.get(key, False)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise MalformedMessage(f"Aster {where}: field '{key}' is not a boolean: {value!r}")


def _enum(table: Mapping[str, Any], obj: Mapping[str, Any], key: str, where: str) -> Any:
    value = _get(obj, key, where)
    try:
        return table[value]
    except (KeyError, TypeError):
        raise MalformedMessage(f"Aster {where}: field '{key}' has unknown value {value!r}") from None


def _plain(value: Decimal | None) -> str:
    return "0" if value is None else encode_value(value)


# ---- vocabularies ------------------------------------------------------------------------------------

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


# ---- exchangeInfo ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SymbolRules:
    """Every exchangeInfo rule of one symbol: what the simulator enforces and what Market is built from."""

    symbol: str
    base: str
    quote: str
    tick_size: Decimal
    step_size: Decimal
    status: str = "TRADING"
    margin_asset: str = "USDT"
    min_price: Decimal = ZERO
    max_price: Decimal = ZERO  # 0 disables the check
    min_qty: Decimal = ZERO
    max_qty: Decimal = ZERO
    market_min_qty: Decimal = ZERO
    market_max_qty: Decimal = ZERO
    market_step_size: Decimal = ZERO
    min_notional: Decimal = ZERO
    max_num_orders: int = 200
    max_num_algo_orders: int = 100
    multiplier_up: Decimal | None = None
    multiplier_down: Decimal | None = None
    required_margin_percent: Decimal | None = None
    maint_margin_percent: Decimal | None = None
    trigger_protect: Decimal | None = None
    order_types: tuple[str, ...] = tuple(_TYPE_IN)
    time_in_force: tuple[str, ...] = tuple(_TIF_IN)

    def to_market(self) -> Market:
        """The domain view. Size cap = the tighter of LOT_SIZE and MARKET_LOT_SIZE (a bot sends both)."""
        caps = [q for q in (self.max_qty, self.market_max_qty) if q > 0]
        extra: dict[str, Any] = {}
        req, maint = self.required_margin_percent, self.maint_margin_percent
        if req and req > 0:
            # requiredMarginPercent is the initial margin at max leverage, in percent
            extra["imf_base"] = req / 100
            extra["max_leverage"] = Decimal(100 // req) if req <= 100 else Decimal(1)
            if maint and maint > 0:
                extra["mmf_factor"] = maint / req
        return Market(
            symbol=self.symbol,
            base=self.base,
            quote=self.quote,
            tick_size=self.tick_size,
            step_size=self.step_size,
            min_notional=self.min_notional,
            max_order_size=min(caps) if caps else None,
            max_open_orders=self.max_num_orders,
            **extra,
        )

    @classmethod
    def from_market(cls, market: Market, **overrides: Any) -> SymbolRules:
        """Rules the simulator can serve for a domain Market (defaults shaped like a live symbol)."""
        values: dict[str, Any] = {
            "symbol": market.symbol,
            "base": market.base,
            "quote": market.quote,
            "margin_asset": market.quote,
            "tick_size": market.tick_size,
            "step_size": market.step_size,
            "min_price": market.tick_size,
            "min_qty": market.step_size,
            "max_qty": market.max_order_size or ZERO,
            "market_min_qty": market.step_size,
            "market_max_qty": market.max_order_size or ZERO,
            "market_step_size": market.step_size,
            "min_notional": market.min_notional,
            "max_num_orders": market.max_open_orders,
            "multiplier_up": Decimal("1.05"),
            "multiplier_down": Decimal("0.95"),
            "required_margin_percent": market.imf_base * 100,
            "maint_margin_percent": market.maintenance_fraction * 100,
        }
        values.update(overrides)
        return cls(**values)


def symbol_rules_from_json(obj: Any) -> SymbolRules:
    """One ``symbols[]`` entry of exchangeInfo."""
    where = "exchangeInfo symbol"
    obj = _obj(obj, where)
    symbol = _str(obj, "symbol", where)
    where = f"exchangeInfo symbol {symbol}"
    filters: dict[str, dict[str, Any]] = {}
    for raw in _get(obj, "filters", where) or []:
        entry = _obj(raw, f"{where} filters[]")
        filters[_str(entry, "filterType", f"{where} filters[]")] = entry
    price = filters.get("PRICE_FILTER")
    lot = filters.get("LOT_SIZE")
    if price is None or lot is None:
        missing = "PRICE_FILTER" if price is None else "LOT_SIZE"
        raise MalformedMessage(f"Aster {where}: missing field 'filters[{missing}]'")
    tick = _dec(price, "tickSize", f"{where} PRICE_FILTER")
    step = _dec(lot, "stepSize", f"{where} LOT_SIZE")
    # 0 disables a check; fall back on the precision fields so rounding still has a positive grid
    if tick <= 0:
        tick = Decimal(1).scaleb(-_int(obj, "pricePrecision", where))
    if step <= 0:
        step = Decimal(1).scaleb(-_int(obj, "quantityPrecision", where))
    mlot = filters.get("MARKET_LOT_SIZE", {})
    notional = filters.get("MIN_NOTIONAL", {})
    pct = filters.get("PERCENT_PRICE", {})

    def num(src: Mapping[str, Any], key: str, label: str) -> Decimal:
        return _opt_dec(src, key, f"{where} {label}", zero_is_none=False) or ZERO

    return SymbolRules(
        symbol=symbol,
        base=_str(obj, "baseAsset", where),
        quote=_str(obj, "quoteAsset", where),
        margin_asset=str(obj.get("marginAsset") or obj["quoteAsset"]),
        status=str(obj.get("status", "TRADING")),
        tick_size=tick,
        step_size=step,
        min_price=num(price, "minPrice", "PRICE_FILTER"),
        max_price=num(price, "maxPrice", "PRICE_FILTER"),
        min_qty=num(lot, "minQty", "LOT_SIZE"),
        max_qty=num(lot, "maxQty", "LOT_SIZE"),
        market_min_qty=num(mlot, "minQty", "MARKET_LOT_SIZE"),
        market_max_qty=num(mlot, "maxQty", "MARKET_LOT_SIZE"),
        market_step_size=num(mlot, "stepSize", "MARKET_LOT_SIZE"),
        min_notional=num(notional, "minNotional" if "minNotional" in notional else "notional", "MIN_NOTIONAL"),
        max_num_orders=_int(filters.get("MAX_NUM_ORDERS", {}), "limit", where, default=200),
        max_num_algo_orders=_int(filters.get("MAX_NUM_ALGO_ORDERS", {}), "limit", where, default=100),
        multiplier_up=_opt_dec(pct, "multiplierUp", f"{where} PERCENT_PRICE"),
        multiplier_down=_opt_dec(pct, "multiplierDown", f"{where} PERCENT_PRICE"),
        required_margin_percent=_opt_dec(obj, "requiredMarginPercent", where),
        maint_margin_percent=_opt_dec(obj, "maintMarginPercent", where),
        trigger_protect=_opt_dec(obj, "triggerProtect", where),
        order_types=tuple(obj.get("orderTypes") or obj.get("OrderType") or _TYPE_IN),
        time_in_force=tuple(obj.get("timeInForce") or _TIF_IN),
    )


def markets_from_exchange_info(obj: Any, *, tradable_only: bool = True) -> dict[str, Market]:
    """exchangeInfo → {symbol: Market}; by default only symbols whose status is TRADING."""
    rules = (symbol_rules_from_json(s) for s in _get(_obj(obj, "exchangeInfo"), "symbols", "exchangeInfo"))
    return {r.symbol: r.to_market() for r in rules if r.status == "TRADING" or not tradable_only}


def _precision(step: Decimal) -> int:
    return max(-step.normalize().as_tuple().exponent, 0)  # type: ignore[operator]


def symbol_rules_to_json(rules: SymbolRules) -> dict[str, Any]:
    """One exchangeInfo ``symbols[]`` entry, carrying both the documented and the live key spellings."""
    p = _plain
    filters: list[dict[str, Any]] = [
        {"filterType": "PRICE_FILTER", "minPrice": p(rules.min_price), "maxPrice": p(rules.max_price),
         "tickSize": p(rules.tick_size)},
        {"filterType": "LOT_SIZE", "minQty": p(rules.min_qty), "maxQty": p(rules.max_qty),
         "stepSize": p(rules.step_size)},
        {"filterType": "MARKET_LOT_SIZE", "minQty": p(rules.market_min_qty), "maxQty": p(rules.market_max_qty),
         "stepSize": p(rules.market_step_size)},
        {"filterType": "MAX_NUM_ORDERS", "limit": rules.max_num_orders},
        {"filterType": "MAX_NUM_ALGO_ORDERS", "limit": rules.max_num_algo_orders},
        {"filterType": "MIN_NOTIONAL", "notional": p(rules.min_notional), "minNotional": p(rules.min_notional)},
    ]  # fmt: skip
    if rules.multiplier_up is not None and rules.multiplier_down is not None:
        filters.append({"filterType": "PERCENT_PRICE", "multiplierUp": p(rules.multiplier_up),
                        "multiplierDown": p(rules.multiplier_down), "multiplierDecimal": "4"})  # fmt: skip
    return {
        "symbol": rules.symbol,
        "pair": rules.symbol,
        "contractType": "PERPETUAL",
        "status": rules.status,
        "baseAsset": rules.base,
        "quoteAsset": rules.quote,
        "marginAsset": rules.margin_asset,
        "pricePrecision": _precision(rules.tick_size),
        "quantityPrecision": _precision(rules.step_size),
        "requiredMarginPercent": p(rules.required_margin_percent),
        "maintMarginPercent": p(rules.maint_margin_percent),
        "triggerProtect": p(rules.trigger_protect),
        "underlyingType": "COIN",
        "filters": filters,
        "orderTypes": list(rules.order_types),
        "OrderType": list(rules.order_types),
        "timeInForce": list(rules.time_in_force),
    }


def exchange_info_to_json(rules: Iterable[SymbolRules], server_time: int) -> dict[str, Any]:
    """A whole exchangeInfo answer (rate limits are the docs' sample values)."""
    rules = list(rules)
    assets = sorted({r.margin_asset for r in rules})
    return {
        "timezone": "UTC",
        "serverTime": server_time,
        "rateLimits": [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 2400},
            {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
        ],
        "exchangeFilters": [],
        "assets": [{"asset": a, "marginAvailable": True, "autoAssetExchange": "0"} for a in assets],
        "symbols": [symbol_rules_to_json(r) for r in rules],
    }


# ---- orders ------------------------------------------------------------------------------------------


def order_from_json(obj: Any) -> Order:
    """An order object from new / query / cancel / openOrders / allOrders (§8.1)."""
    where = "order"
    obj = _obj(obj, where)
    current = _str(obj, "type", where)
    original = str(obj.get("origType") or current)
    try:
        status = order_status_from_aster(_str(obj, "status", where), current)
    except ValueError:
        raise MalformedMessage(f"Aster order: field 'status' has unknown value {obj['status']!r}") from None
    updated = _int(obj, "updateTime", where, default=0)
    return Order(
        id=_str(obj, "orderId", where),
        client_id=str(obj.get("clientOrderId", "")),
        market=_str(obj, "symbol", where),
        side=_enum(_SIDES, obj, "side", where),
        type=_enum(_TYPE_IN, {"origType": original}, "origType", where),
        size=_dec(obj, "origQty", where),
        status=status,
        price=_opt_dec(obj, "price", where),
        trigger_price=_opt_dec(obj, "stopPrice", where),
        tif=_enum(_TIF_IN, obj, "timeInForce", where) if "timeInForce" in obj else TimeInForce.GTC,
        reduce_only=_flag(obj, "reduceOnly", where),
        filled_size=_opt_dec(obj, "executedQty", where, zero_is_none=False) or ZERO,
        avg_fill_price=_opt_dec(obj, "avgPrice", where),
        created_at=_int(obj, "time", where, default=updated),
        updated_at=updated,
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
        "orderId": int(order.id) if order.id.isdigit() else order.id,
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


# ---- fills, positions, balances ----------------------------------------------------------------------


def fill_from_user_trade(obj: Any) -> Fill:
    """A ``/fapi/v1/userTrades`` row (§8.5). ``fee`` is Aster's commission: positive = paid."""
    where = "userTrades row"
    obj = _obj(obj, where)
    # some live rows lack buyer/maker: assume taker, the conservative side for fee accounting
    maker = _flag(obj, "maker", where)
    return Fill(
        id=_str(obj, "id", where),
        order_id=_str(obj, "orderId", where),
        client_id=str(obj.get("clientOrderId", "")),
        market=_str(obj, "symbol", where),
        side=_enum(_SIDES, obj, "side", where),
        price=_dec(obj, "price", where),
        size=_dec(obj, "qty", where),
        liquidity=Liquidity.MAKER if maker else Liquidity.TAKER,
        fee=_opt_dec(obj, "commission", where, zero_is_none=False) or ZERO,
        realized_pnl=_opt_dec(obj, "realizedPnl", where, zero_is_none=False) or ZERO,
        ts=_int(obj, "time", where),
    )


def fill_to_user_trade(fill: Fill, *, commission_asset: str = "USDT", position_side: str = "BOTH") -> dict[str, Any]:
    maker = fill.liquidity is Liquidity.MAKER
    return {
        "symbol": fill.market,
        "id": int(fill.id) if fill.id.isdigit() else fill.id,
        "orderId": int(fill.order_id) if fill.order_id.isdigit() else fill.order_id,
        "side": fill.side.value,
        "positionSide": position_side,
        "price": _plain(fill.price),
        "qty": _plain(fill.size),
        "quoteQty": _plain(fill.price * fill.size),
        "realizedPnl": _plain(fill.realized_pnl),
        "commission": _plain(fill.fee),
        "commissionAsset": commission_asset,
        "marginAsset": commission_asset,
        "time": fill.ts,
        "buyer": fill.side is Side.BUY,
        "maker": maker,
    }


def position_from_risk(obj: Any) -> Position:
    """A ``/fapi/v2/positionRisk`` row (§8.4): signed size in one-way mode."""
    where = "positionRisk row"
    obj = _obj(obj, where)
    return Position(
        market=_str(obj, "symbol", where),
        size=_dec(obj, "positionAmt", where),
        entry_price=_dec(obj, "entryPrice", where),
        mark_price=_opt_dec(obj, "markPrice", where, zero_is_none=False) or ZERO,
        unrealized_pnl=_opt_dec(obj, "unRealizedProfit", where, zero_is_none=False) or ZERO,
        leverage=_opt_dec(obj, "leverage", where),
        liquidation_price=_opt_dec(obj, "liquidationPrice", where),
        updated_at=_int(obj, "updateTime", where, default=0),
    )


def position_to_risk(
    position: Position, *, margin_type: str = "cross", max_notional: Decimal = Decimal(1_000_000)
) -> dict[str, Any]:
    return {
        "symbol": position.market,
        "positionAmt": _plain(position.size),
        "entryPrice": _plain(position.entry_price),
        "markPrice": _plain(position.mark_price),
        "unRealizedProfit": _plain(position.unrealized_pnl),
        "liquidationPrice": _plain(position.liquidation_price),
        "leverage": _plain(position.leverage or Decimal(20)),
        "maxNotionalValue": _plain(max_notional),
        "marginType": margin_type,
        "isolatedMargin": "0",
        "isAutoAddMargin": "false",
        "positionSide": "BOTH",
        "notional": _plain(position.size * (position.mark_price or position.entry_price)),
        "isolatedWallet": "0",
        "updateTime": position.updated_at,
    }


def balance_from_balances(rows: Any, asset: str = "USDT") -> Balance:
    """The ``asset`` row of ``/fapi/v2/balance`` (§8.3); a zero balance when the account has no such row."""
    if not isinstance(rows, list):
        raise MalformedMessage(f"Aster balance: expected a JSON array, got {type(rows).__name__}")
    for row in rows:
        row = _obj(row, "balance row")
        if row.get("asset") != asset:
            continue
        where = f"balance row {asset}"
        wallet = _dec(row, "balance", where)
        return Balance(
            asset=asset,
            wallet=wallet,
            equity=wallet + (_opt_dec(row, "crossUnPnl", where, zero_is_none=False) or ZERO),
            available=_dec(row, "availableBalance", where),
            updated_at=_int(row, "updateTime", where, default=0),
        )
    return Balance(asset=asset, wallet=ZERO, equity=ZERO, available=ZERO)


def balance_to_json(balance: Balance, *, unrealized_pnl: Decimal | None = None) -> dict[str, Any]:
    """One ``/fapi/v2/balance`` row."""
    upnl = balance.equity - balance.wallet if unrealized_pnl is None else unrealized_pnl
    return {
        "accountAlias": "FlashScalperSim",
        "asset": balance.asset,
        "balance": _plain(balance.wallet),
        "crossWalletBalance": _plain(balance.wallet),
        "crossUnPnl": _plain(upnl),
        "availableBalance": _plain(balance.available),
        "maxWithdrawAmount": _plain(max(balance.available, ZERO)),
        "marginAvailable": True,
        "updateTime": balance.updated_at,
    }


def balance_from_account(obj: Any, asset: str = "USDT") -> Balance:
    """The account-wide collateral view of ``/fapi/v4/account`` (§8.2), labelled with ``asset``."""
    where = "account"
    obj = _obj(obj, where)
    return Balance(
        asset=asset,
        wallet=_dec(obj, "totalWalletBalance", where),
        equity=_dec(obj, "totalMarginBalance", where),
        available=_dec(obj, "availableBalance", where),
        initial_margin=_opt_dec(obj, "totalInitialMargin", where, zero_is_none=False) or ZERO,
        maintenance_margin=_opt_dec(obj, "totalMaintMargin", where, zero_is_none=False) or ZERO,
        updated_at=_int(obj, "updateTime", where, default=0),
    )


def account_snapshot_from_json(
    account: Any, open_orders: Sequence[Any] = (), asset: str = "USDT", ts: int = 0
) -> AccountSnapshot:
    """Balance + non-flat positions of ``/fapi/v4/account`` + parsed open orders, for reconciliation."""
    where = "account positions[]"
    positions = []
    for raw in _obj(account, "account").get("positions") or []:
        row = _obj(raw, where)
        size = _dec(row, "positionAmt", where)
        if size == 0:
            continue  # the account lists every symbol
        positions.append(
            Position(
                market=_str(row, "symbol", where),
                size=size,
                entry_price=_dec(row, "entryPrice", where),
                unrealized_pnl=_opt_dec(row, "unrealizedProfit", where, zero_is_none=False) or ZERO,
                leverage=_opt_dec(row, "leverage", where),
                updated_at=_int(row, "updateTime", where, default=0),
            )
        )
    return AccountSnapshot(
        balance=balance_from_account(account, asset),
        positions=positions,
        open_orders=[order_from_json(o) for o in open_orders],
        ts=ts,
    )


def account_to_json(balance: Balance, positions: Iterable[Position] = ()) -> dict[str, Any]:
    """A ``/fapi/v4/account`` answer for a single-asset cross-margin account."""
    p = _plain
    upnl = balance.equity - balance.wallet
    asset_row = {
        "asset": balance.asset, "walletBalance": p(balance.wallet), "unrealizedProfit": p(upnl),
        "marginBalance": p(balance.equity), "maintMargin": p(balance.maintenance_margin),
        "initialMargin": p(balance.initial_margin), "positionInitialMargin": p(balance.initial_margin),
        "openOrderInitialMargin": "0", "crossWalletBalance": p(balance.wallet), "crossUnPnl": p(upnl),
        "availableBalance": p(balance.available), "maxWithdrawAmount": p(max(balance.available, ZERO)),
        "marginAvailable": True, "updateTime": balance.updated_at,
    }  # fmt: skip
    position_rows = [
        {
            "symbol": pos.market, "initialMargin": "0", "maintMargin": "0",
            "unrealizedProfit": p(pos.unrealized_pnl), "positionInitialMargin": "0", "openOrderInitialMargin": "0",
            "leverage": p(pos.leverage or Decimal(20)), "isolated": False, "entryPrice": p(pos.entry_price),
            "maxNotional": "1000000", "positionSide": "BOTH", "positionAmt": p(pos.size),
            "updateTime": pos.updated_at,
        }
        for pos in positions
    ]
    return {
        "feeTier": 0, "canTrade": True, "canDeposit": True, "canWithdraw": True, "updateTime": balance.updated_at,
        "totalInitialMargin": p(balance.initial_margin), "totalMaintMargin": p(balance.maintenance_margin),
        "totalWalletBalance": p(balance.wallet), "totalUnrealizedProfit": p(upnl),
        "totalMarginBalance": p(balance.equity), "totalPositionInitialMargin": p(balance.initial_margin),
        "totalOpenOrderInitialMargin": "0", "totalCrossWalletBalance": p(balance.wallet),
        "totalCrossUnPnl": p(upnl), "availableBalance": p(balance.available),
        "maxWithdrawAmount": p(max(balance.available, ZERO)), "assets": [asset_row], "positions": position_rows,
    }  # fmt: skip


# ---- market data -------------------------------------------------------------------------------------


def unwrap_stream(message: Any) -> tuple[str | None, dict[str, Any]]:
    """``{"stream": name, "data": payload}`` (combined) → (name, payload); a raw payload → (None, payload)."""
    message = _obj(message, "stream message")
    if "stream" in message and "data" in message:
        return str(message["stream"]), _obj(message["data"], f"stream {message['stream']} data")
    return None, message


def quote_from_book_ticker(obj: Any) -> Quote:
    """A ``bookTicker`` stream event, or a REST ``/fapi/v1/ticker/bookTicker`` object."""
    obj = _obj(obj, "bookTicker")
    if "s" in obj:
        where = "bookTicker event"
        return Quote(
            market=_str(obj, "s", where),
            bid=_dec(obj, "b", where),
            bid_size=_dec(obj, "B", where),
            ask=_dec(obj, "a", where),
            ask_size=_dec(obj, "A", where),
            ts=_int(obj, "T", where, default=0) or _int(obj, "E", where),
            seq_no=_int(obj, "u", where, default=0),
        )
    where = "bookTicker"
    return Quote(
        market=_str(obj, "symbol", where),
        bid=_dec(obj, "bidPrice", where),
        bid_size=_dec(obj, "bidQty", where),
        ask=_dec(obj, "askPrice", where),
        ask_size=_dec(obj, "askQty", where),
        ts=_int(obj, "time", where, default=0),
    )


def quote_to_book_ticker(quote: Quote, *, update_id: int, event_time: int | None = None) -> dict[str, Any]:
    """The ``<symbol>@bookTicker`` stream event."""
    return {
        "e": "bookTicker", "u": update_id, "E": quote.ts if event_time is None else event_time, "T": quote.ts,
        "s": quote.market, "b": _plain(quote.bid), "B": _plain(quote.bid_size),
        "a": _plain(quote.ask), "A": _plain(quote.ask_size),
    }  # fmt: skip


def _levels(raw: Any, key: str, where: str) -> tuple[BookLevel, ...]:
    if not isinstance(raw, list):
        raise MalformedMessage(f"Aster {where}: field '{key}' is not a list of [price, qty]")
    levels = []
    for item in raw:
        if not isinstance(item, list | tuple) or len(item) < 2:
            raise MalformedMessage(f"Aster {where}: field '{key}' has a level that is not [price, qty]: {item!r}")
        levels.append(BookLevel(_to_dec(item[0], key, where), _to_dec(item[1], key, where)))
    return tuple(levels)


def _sorted_book(bids: Iterable[BookLevel], asks: Iterable[BookLevel]) -> tuple[tuple[BookLevel, ...], ...]:
    return (
        tuple(sorted(bids, key=lambda lv: lv.price, reverse=True)),
        tuple(sorted(asks, key=lambda lv: lv.price)),
    )


def book_from_depth(obj: Any, symbol: str | None = None) -> BookUpdate:
    """A full view of the book: the REST ``/fapi/v1/depth`` snapshot (pass ``symbol``; it has none) or a
    partial-depth stream event ``<s>@depth5/10/20`` (which carries ``s``). Best level first on both sides."""
    obj = _obj(obj, "depth")
    if "lastUpdateId" in obj:
        where = "depth snapshot"
        if symbol is None:
            raise MalformedMessage("Aster depth snapshot: the caller must name the symbol")
        bids, asks = _levels(_get(obj, "bids", where), "bids", where), _levels(_get(obj, "asks", where), "asks", where)
        seq = _int(obj, "lastUpdateId", where)
        ts = _int(obj, "T", where, default=0) or _int(obj, "E", where, default=0)
    else:
        where = "depthUpdate event"
        symbol = _str(obj, "s", where)
        bids, asks = _levels(_get(obj, "b", where), "b", where), _levels(_get(obj, "a", where), "a", where)
        seq = _int(obj, "u", where)
        ts = _int(obj, "T", where, default=0) or _int(obj, "E", where)
    sorted_bids, sorted_asks = _sorted_book(bids, asks)
    return BookUpdate(symbol, sorted_bids, sorted_asks, ts=ts, seq_no=seq, is_snapshot=True)


def book_to_depth_snapshot(book: BookUpdate, *, last_update_id: int, event_time: int | None = None) -> dict:
    """The REST ``/fapi/v1/depth`` answer."""
    return {
        "lastUpdateId": last_update_id,
        "E": book.ts if event_time is None else event_time,
        "T": book.ts,
        "bids": [[_plain(lv.price), _plain(lv.size)] for lv in book.bids],
        "asks": [[_plain(lv.price), _plain(lv.size)] for lv in book.asks],
    }


@dataclass(frozen=True, slots=True)
class DepthDiff:
    """One diff-depth event (§13): absolute sizes per level, size 0 deletes; chain on ``prev_final_id``."""

    market: str
    first_id: int  # U
    final_id: int  # u
    prev_final_id: int  # pu
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]
    ts: int
    event_time: int = 0


def depth_diff_from_stream(obj: Any) -> DepthDiff:
    """A ``<s>@depth`` / ``@depth@100ms`` diff event."""
    where = "depthUpdate event"
    obj = _obj(obj, where)
    return DepthDiff(
        market=_str(obj, "s", where),
        first_id=_int(obj, "U", where),
        final_id=_int(obj, "u", where),
        prev_final_id=_int(obj, "pu", where),
        bids=_levels(_get(obj, "b", where), "b", where),
        asks=_levels(_get(obj, "a", where), "a", where),
        ts=_int(obj, "T", where, default=0) or _int(obj, "E", where),
        event_time=_int(obj, "E", where, default=0),
    )


def depth_update_to_json(diff: DepthDiff) -> dict[str, Any]:
    """A ``depthUpdate`` event (diff or, with the top N levels, partial)."""
    return {
        "e": "depthUpdate", "E": diff.event_time or diff.ts, "T": diff.ts, "s": diff.market,
        "U": diff.first_id, "u": diff.final_id, "pu": diff.prev_final_id,
        "b": [[_plain(lv.price), _plain(lv.size)] for lv in diff.bids],
        "a": [[_plain(lv.price), _plain(lv.size)] for lv in diff.asks],
    }  # fmt: skip


def trade_from_agg_trade(obj: Any) -> Trade:
    """An ``aggTrade`` event (stream; ``m`` = buyer is maker, so the taker sold)."""
    where = "aggTrade event"
    obj = _obj(obj, where)
    return Trade(
        market=_str(obj, "s", where),
        id=_str(obj, "a", where),
        price=_dec(obj, "p", where),
        size=_dec(obj, "q", where),
        taker_side=Side.SELL if _flag(obj, "m", where) else Side.BUY,
        ts=_int(obj, "T", where),
    )


def trade_from_rest(symbol: str, obj: Any) -> Trade:
    """A ``/fapi/v1/trades`` row."""
    where = "trades row"
    obj = _obj(obj, where)
    return Trade(
        market=symbol,
        id=_str(obj, "id", where),
        price=_dec(obj, "price", where),
        size=_dec(obj, "qty", where),
        taker_side=Side.SELL if _flag(obj, "isBuyerMaker", where) else Side.BUY,
        ts=_int(obj, "time", where),
    )


def trade_to_agg_trade(trade: Trade, *, first_trade_id: int, last_trade_id: int, event_time: int | None = None) -> dict:
    return {
        "e": "aggTrade", "E": trade.ts if event_time is None else event_time, "s": trade.market,
        "a": int(trade.id) if trade.id.isdigit() else trade.id, "p": _plain(trade.price), "q": _plain(trade.size),
        "f": first_trade_id, "l": last_trade_id, "T": trade.ts, "m": trade.taker_side is Side.SELL,
    }  # fmt: skip


def mark_price_from_json(obj: Any) -> MarkPrice:
    """A ``markPriceUpdate`` stream event or a REST ``/fapi/v1/premiumIndex`` object."""
    obj = _obj(obj, "markPrice")
    if "s" in obj:
        where = "markPriceUpdate event"
        return MarkPrice(
            market=_str(obj, "s", where),
            mark=_dec(obj, "p", where),
            ts=_int(obj, "E", where),
            index=_opt_dec(obj, "i", where),
            funding_rate=_opt_dec(obj, "r", where, zero_is_none=False),
        )
    where = "premiumIndex"
    return MarkPrice(
        market=_str(obj, "symbol", where),
        mark=_dec(obj, "markPrice", where),
        ts=_int(obj, "time", where, default=0),
        index=_opt_dec(obj, "indexPrice", where),
        funding_rate=_opt_dec(obj, "lastFundingRate", where, zero_is_none=False),
    )


def mark_price_to_json(mark: MarkPrice, *, next_funding_time: int) -> dict[str, Any]:
    """The ``<symbol>@markPrice`` stream event."""
    index = mark.index if mark.index is not None else mark.mark
    return {
        "e": "markPriceUpdate", "E": mark.ts, "s": mark.market, "p": _plain(mark.mark), "i": _plain(index),
        "P": _plain(mark.mark), "r": _plain(mark.funding_rate or ZERO), "T": next_funding_time,
    }  # fmt: skip


# ---- user data stream --------------------------------------------------------------------------------


def _order_from_update(o: dict[str, Any], event_time: int) -> Order:
    where = "ORDER_TRADE_UPDATE o"
    current = _str(o, "o", where)
    original = str(o.get("ot") or current)
    try:
        status = order_status_from_aster(_str(o, "X", where), current)
    except ValueError:
        raise MalformedMessage(f"Aster {where}: field 'X' has unknown value {o['X']!r}") from None
    trade_time = _int(o, "T", where, default=event_time)
    return Order(
        id=_str(o, "i", where),
        client_id=str(o.get("c", "")),
        market=_str(o, "s", where),
        side=_enum(_SIDES, o, "S", where),
        type=_enum(_TYPE_IN, {"ot": original}, "ot", where),
        size=_dec(o, "q", where),
        status=status,
        price=_opt_dec(o, "p", where),
        trigger_price=_opt_dec(o, "sp", where),
        tif=_enum(_TIF_IN, o, "f", where) if "f" in o else TimeInForce.GTC,
        reduce_only=_flag(o, "R", where),
        filled_size=_opt_dec(o, "z", where, zero_is_none=False) or ZERO,
        avg_fill_price=_opt_dec(o, "ap", where),
        created_at=trade_time if o.get("x") == "NEW" else 0,
        updated_at=trade_time,
        seq_no=event_time,
    )


def _fill_from_update(o: dict[str, Any], order: Order) -> Fill:
    where = "ORDER_TRADE_UPDATE o"
    return Fill(
        id=_str(o, "t", where),
        order_id=order.id,
        client_id=order.client_id,
        market=order.market,
        side=order.side,
        price=_dec(o, "L", where),
        size=_dec(o, "l", where),
        liquidity=Liquidity.MAKER if _flag(o, "m", where) else Liquidity.TAKER,
        fee=_opt_dec(o, "n", where, zero_is_none=False) or ZERO,  # absent when there is none
        realized_pnl=_opt_dec(o, "rp", where, zero_is_none=False) or ZERO,
        ts=order.updated_at,
    )


def _positions_from_account_update(a: dict[str, Any], event_time: int) -> list[Position]:
    where = "ACCOUNT_UPDATE a.P[]"
    positions = []
    for raw in a.get("P") or []:
        row = _obj(raw, where)
        positions.append(
            Position(
                market=_str(row, "s", where),
                size=_dec(row, "pa", where),
                entry_price=_dec(row, "ep", where),
                unrealized_pnl=_opt_dec(row, "up", where, zero_is_none=False) or ZERO,
                realized_pnl=_opt_dec(row, "cr", where, zero_is_none=False) or ZERO,
                updated_at=event_time,
                seq_no=event_time,
            )
        )
    return positions


def events_from_user_stream(obj: Any, *, venue: str = VENUE) -> list[Event]:
    """Domain events of one user-data-stream message (§12).

    * ORDER_TRADE_UPDATE → ``FillEvent`` (when it is a trade) then ``OrderUpdate``, so a FILLED order is
      seen after its fill.
    * ACCOUNT_UPDATE → ``PositionUpdate`` per listed position, plus ``FundingPayment`` per balance row when
      the reason is FUNDING_FEE. It carries no available balance (api-docs #115), so no ``BalanceUpdate``:
      poll ``/fapi/v2/balance`` after it.
    * listenKeyExpired → a DISCONNECTED ``ConnectionEvent``: no more events until a new listenKey.
    * anything else (MARGIN_CALL, ACCOUNT_CONFIG_UPDATE, new types) → no events.
    """
    obj = _obj(obj, "user stream event")
    kind = _str(obj, "e", "user stream event")
    event_time = _int(obj, "E", f"{kind} event")
    if kind == "ORDER_TRADE_UPDATE":
        o = _obj(_get(obj, "o", kind), f"{kind} o")
        order = _order_from_update(o, event_time)
        events: list[Event] = []
        if o.get("x") == "TRADE" and (_opt_dec(o, "l", f"{kind} o") or ZERO) > 0:
            events.append(FillEvent(_fill_from_update(o, order)))
        events.append(OrderUpdate(order))
        return events
    if kind == "ACCOUNT_UPDATE":
        a = _obj(_get(obj, "a", kind), f"{kind} a")
        positions = _positions_from_account_update(a, event_time)
        events = [PositionUpdate(p) for p in positions]
        if a.get("m") == "FUNDING_FEE":
            market = positions[0].market if len(positions) == 1 else ""  # cross funding names no symbol
            for raw in a.get("B") or []:
                row = _obj(raw, f"{kind} a.B[]")
                amount = _dec(row, "bc", f"{kind} a.B[]")
                events.append(FundingPayment(market=market, amount=amount, ts=event_time, id=f"{event_time}"))
        return events
    if kind == "listenKeyExpired":
        return [ConnectionEvent(venue, ConnectionState.DISCONNECTED, event_time, detail="listenKeyExpired")]
    return []


def order_trade_update_to_json(
    order: Order,
    *,
    execution_type: str,
    event_time: int,
    fill: Fill | None = None,
    commission_asset: str = "USDT",
    close_position: bool = False,
) -> dict[str, Any]:
    """An ORDER_TRADE_UPDATE event; ``execution_type`` ∈ NEW, CANCELED, CALCULATED, EXPIRED, TRADE."""
    p = _plain
    o: dict[str, Any] = {
        "s": order.market, "c": order.client_id, "S": order.side.value, "o": _current_type_out(order),
        "f": _TIF_OUT[order.tif], "q": p(order.size), "p": p(order.price), "ap": p(order.avg_fill_price),
        "sp": p(order.trigger_price), "x": execution_type, "X": _status_out(order),
        "i": int(order.id) if order.id.isdigit() else order.id, "l": p(fill.size if fill else ZERO),
        "z": p(order.filled_size), "L": p(fill.price if fill else ZERO), "T": fill.ts if fill else event_time,
        "t": int(fill.id) if fill and fill.id.isdigit() else (fill.id if fill else 0), "b": "0", "a": "0",
        "m": bool(fill and fill.liquidity is Liquidity.MAKER), "R": order.reduce_only,
        "wt": "CONTRACT_PRICE", "ot": _TYPE_OUT[order.type], "ps": "BOTH", "cp": close_position,
        "rp": p(fill.realized_pnl if fill else ZERO),
    }  # fmt: skip
    if fill is not None:
        o["N"], o["n"] = commission_asset, p(fill.fee)
    return {"e": "ORDER_TRADE_UPDATE", "E": event_time, "T": o["T"], "o": o}


@dataclass(frozen=True, slots=True)
class WalletChange:
    """One ACCOUNT_UPDATE balance row: wallet balance after the event and the change that caused it."""

    asset: str
    wallet: Decimal
    cross_wallet: Decimal
    change: Decimal = ZERO


def account_update_to_json(
    reason: str, balances: Iterable[WalletChange], positions: Iterable[Position], *, event_time: int
) -> dict[str, Any]:
    """An ACCOUNT_UPDATE event; ``reason`` ∈ ORDER, FUNDING_FEE, DEPOSIT, … (§12)."""
    p = _plain
    return {
        "e": "ACCOUNT_UPDATE",
        "E": event_time,
        "T": event_time,
        "a": {
            "m": reason,
            "B": [{"a": b.asset, "wb": p(b.wallet), "cw": p(b.cross_wallet), "bc": p(b.change)} for b in balances],
            "P": [
                {"s": pos.market, "pa": p(pos.size), "ep": p(pos.entry_price), "cr": p(pos.realized_pnl),
                 "up": p(pos.unrealized_pnl), "mt": "cross", "iw": "0", "ps": "BOTH", "ma": "USDT"}
                for pos in positions
            ],
        },
    }


def wallet_changes_from_account_update(obj: Any) -> list[WalletChange]:
    """The balance rows of an ACCOUNT_UPDATE, for a client that tracks wallet balance between polls."""
    a = _obj(_get(_obj(obj, "ACCOUNT_UPDATE"), "a", "ACCOUNT_UPDATE"), "ACCOUNT_UPDATE a")
    where = "ACCOUNT_UPDATE a.B[]"
    return [
        WalletChange(
            asset=_str(row, "a", where),
            wallet=_dec(row, "wb", where),
            cross_wallet=_opt_dec(row, "cw", where, zero_is_none=False) or ZERO,
            change=_opt_dec(row, "bc", where, zero_is_none=False) or ZERO,
        )
        for row in (_obj(r, where) for r in a.get("B") or [])
    ]
