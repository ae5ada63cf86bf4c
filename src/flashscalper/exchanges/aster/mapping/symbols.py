"""exchangeInfo ↔ ``SymbolRules`` ↔ domain ``Market``: one symbol's filters, precisions and margin rules."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flashscalper.domain import ZERO, Market
from flashscalper.errors import MalformedMessage

from .common import _dec, _dec_or_zero, _get, _int, _obj, _opt_dec, _plain, _str
from .vocabulary import _TIF_IN, _TYPE_IN


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
        return _dec_or_zero(src, key, f"{where} {label}")

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
