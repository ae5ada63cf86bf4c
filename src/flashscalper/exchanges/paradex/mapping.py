"""Paradex JSON ↔ domain types. Venue JSON dies here (protocol/paradex.md §2).

Every reader is strict: a required field that is missing, of the wrong type or not a decimal raises
``MalformedMessage`` naming the field. Decimals are built from strings (or ints) only, never via float.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from flashscalper.domain import (
    ONE,
    ZERO,
    Balance,
    BookLevel,
    BookUpdate,
    Fill,
    FundingPayment,
    Liquidity,
    Market,
    MarkPrice,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    Quote,
    Side,
    TimeInForce,
    Trade,
)
from flashscalper.errors import MalformedMessage

# cancel_reason values that mean the venue refused the order rather than someone cancelling it.
# Paradex publishes no complete list (§2.4), so anything else reads as a cancel.
REJECT_REASONS = frozenset({"NOT_ENOUGH_MARGIN", "ORDER_EXCEEDS_POSITION_LIMIT", "POST_ONLY_WOULD_CROSS"})
EXPIRE_REASONS = frozenset({"EXPIRED"})

_VENUE_TYPES: dict[str, OrderType] = {
    "MARKET": OrderType.MARKET,
    "LIMIT": OrderType.LIMIT,
    "STOP_MARKET": OrderType.STOP_MARKET,
    "STOP_LIMIT": OrderType.STOP_LIMIT,
    "TAKE_PROFIT_MARKET": OrderType.TAKE_PROFIT_MARKET,
    "TAKE_PROFIT_LIMIT": OrderType.TAKE_PROFIT_LIMIT,
    # TP/SL stop-losses are stops bound to the position (reduce-only); the domain has one stop type.
    "STOP_LOSS_MARKET": OrderType.STOP_MARKET,
    "STOP_LOSS_LIMIT": OrderType.STOP_LIMIT,
}
_INSTRUCTIONS: dict[str, TimeInForce] = {
    "": TimeInForce.GTC,
    "GTC": TimeInForce.GTC,
    "IOC": TimeInForce.IOC,
    "POST_ONLY": TimeInForce.POST_ONLY,
    # RPI orders rest on the book like GTC ones; we never send them ourselves.
    "RPI": TimeInForce.GTC,
}
_OPEN_STATUSES = {"NEW": OrderStatus.NEW, "UNTRIGGERED": OrderStatus.UNTRIGGERED, "OPEN": OrderStatus.OPEN}


# ------------------------------------------------------------------------------------------ accessors


def _where(context: str, key: str) -> str:
    return f"{context}.{key}" if context else key


def require_obj(value: Any, context: str) -> Mapping[str, Any]:
    """``value`` as a JSON object, or MalformedMessage naming ``context``."""
    if not isinstance(value, Mapping):
        raise MalformedMessage(f"{context or 'message'}: expected a JSON object, got {type(value).__name__}")
    return value


def require_list(value: Any, context: str) -> list[Any]:
    if not isinstance(value, list):
        raise MalformedMessage(f"{context}: expected a JSON array, got {type(value).__name__}")
    return value


def results(payload: Any, context: str) -> list[Any]:
    """The ``results`` array of a list endpoint."""
    return require_list(require_obj(payload, context).get("results"), _where(context, "results"))


def req(obj: Mapping[str, Any], key: str, context: str = "") -> Any:
    if key not in obj or obj[key] is None:
        raise MalformedMessage(f"missing field {_where(context, key)}")
    return obj[key]


def req_str(obj: Mapping[str, Any], key: str, context: str = "") -> str:
    value = req(obj, key, context)
    if not isinstance(value, str):
        raise MalformedMessage(f"field {_where(context, key)} must be a string, got {type(value).__name__}")
    return value


def opt_str(obj: Mapping[str, Any], key: str, context: str = "", default: str = "") -> str:
    if obj.get(key) is None:
        return default
    return req_str(obj, key, context)


def to_decimal(value: Any, where: str) -> Decimal:
    """A decimal from a JSON string or int. Floats are refused: they already lost precision."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise MalformedMessage(f"field {where} must be a decimal string, got {type(value).__name__}")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise MalformedMessage(f"field {where} is not a decimal: {str(value)[:40]!r}") from None
    if not number.is_finite():
        raise MalformedMessage(f"field {where} is not a finite decimal: {value!r}")
    return number


def req_dec(obj: Mapping[str, Any], key: str, context: str = "") -> Decimal:
    return to_decimal(req(obj, key, context), _where(context, key))


def opt_dec(obj: Mapping[str, Any], key: str, context: str = "") -> Decimal | None:
    """A decimal, or None when the field is absent, null or "" (Paradex writes "" for 'no value')."""
    value = obj.get(key)
    if value is None or value == "":
        return None
    return to_decimal(value, _where(context, key))


def req_int(obj: Mapping[str, Any], key: str, context: str = "") -> int:
    """An integer from a JSON int or a string of digits (ms timestamps come both ways)."""
    value = req(obj, key, context)
    if isinstance(value, bool):
        raise MalformedMessage(f"field {_where(context, key)} must be an integer, got bool")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            pass
    raise MalformedMessage(f"field {_where(context, key)} must be an integer, got {str(value)[:40]!r}")


def opt_int(obj: Mapping[str, Any], key: str, context: str = "", default: int = 0) -> int:
    if obj.get(key) is None or obj.get(key) == "":
        return default
    return req_int(obj, key, context)


def side_of(value: Any, where: str) -> Side:
    try:
        return Side(value)
    except ValueError:
        raise MalformedMessage(f"field {where} must be BUY or SELL, got {str(value)[:20]!r}") from None


def dec_str(value: Decimal) -> str:
    """Plain decimal notation for the wire ("10", never "1E+1")."""
    text = format(value, "f")
    return "0" if text in ("-0", "") else text


# -------------------------------------------------------------------------------------- system/market


@dataclass(frozen=True, slots=True)
class SystemConfig:
    """The parts of ``/system/config`` the client needs; ``raw`` keeps the rest."""

    starknet_chain_id: str
    l1_chain_id: str
    account_hash: str
    account_proxy_hash: str
    decimals: int
    raw: Mapping[str, Any] = field(repr=False, default_factory=dict)


def system_config_from(payload: Any) -> SystemConfig:
    obj = require_obj(payload, "system_config")
    ctx = "system_config"
    return SystemConfig(
        starknet_chain_id=req_str(obj, "starknet_chain_id", ctx),
        l1_chain_id=str(req(obj, "l1_chain_id", ctx)),
        account_hash=req_str(obj, "paraclear_account_hash", ctx),
        account_proxy_hash=req_str(obj, "paraclear_account_proxy_hash", ctx),
        decimals=opt_int(obj, "paraclear_decimals", ctx, default=8),
        raw=dict(obj),
    )


@dataclass(frozen=True, slots=True)
class OnboardingStatus:
    address: str
    exists: bool


def onboarding_from(payload: Any) -> OnboardingStatus:
    obj = require_obj(payload, "onboarding")
    exists = req(obj, "exists", "onboarding")
    if not isinstance(exists, bool):
        raise MalformedMessage("field onboarding.exists must be a boolean")
    return OnboardingStatus(address=opt_str(obj, "address", "onboarding"), exists=exists)


def market_from(obj: Any) -> Market:
    """A ``/markets`` result → Market. Max leverage is 1 / imf_base (the cross-margin floor)."""
    obj = require_obj(obj, "market")
    ctx = f"market[{obj.get('symbol', '?')}]"
    margin = require_obj(req(obj, "delta1_cross_margin_params", ctx), f"{ctx}.delta1_cross_margin_params")
    mctx = f"{ctx}.delta1_cross_margin_params"
    imf_base = req_dec(margin, "imf_base", mctx)
    max_open = opt_int(obj, "max_open_orders", ctx, default=100)
    # A JSON number here (e.g. 8 or 8.0): whole hours, so an integral float is exact.
    period = opt_int(obj, "funding_period_hours", ctx, default=8)
    return Market(
        symbol=req_str(obj, "symbol", ctx),
        base=req_str(obj, "base_currency", ctx),
        quote=req_str(obj, "quote_currency", ctx),
        tick_size=req_dec(obj, "price_tick_size", ctx),
        step_size=req_dec(obj, "order_size_increment", ctx),
        min_notional=opt_dec(obj, "min_notional", ctx) or ZERO,
        max_order_size=opt_dec(obj, "max_order_size", ctx),
        position_limit=opt_dec(obj, "position_limit", ctx),
        max_open_orders=max_open,
        max_leverage=(ONE / imf_base).quantize(Decimal("0.01")) if imf_base > 0 else Decimal(50),
        imf_base=imf_base,
        mmf_factor=req_dec(margin, "mmf_factor", mctx),
        funding_period_hours=period,
    )


def mark_price_from(obj: Any) -> MarkPrice:
    """A ``/markets/summary`` result (or ``markets_summary`` WS payload) → MarkPrice."""
    obj = require_obj(obj, "market_summary")
    ctx = f"market_summary[{obj.get('symbol', '?')}]"
    return MarkPrice(
        market=req_str(obj, "symbol", ctx),
        mark=req_dec(obj, "mark_price", ctx),
        ts=opt_int(obj, "created_at", ctx),
        index=opt_dec(obj, "underlying_price", ctx),
        funding_rate=opt_dec(obj, "funding_rate", ctx),
    )


@dataclass(frozen=True, slots=True)
class FundingObservation:
    """One ``/funding/data`` row: an observation of the continuously accruing rate, not a settlement."""

    market: str
    funding_rate: Decimal
    funding_index: Decimal | None
    funding_rate_8h: Decimal | None
    ts: int


def funding_observation_from(obj: Any) -> FundingObservation:
    obj = require_obj(obj, "funding_data")
    ctx = "funding_data"
    return FundingObservation(
        market=req_str(obj, "market", ctx),
        funding_rate=req_dec(obj, "funding_rate", ctx),
        funding_index=opt_dec(obj, "funding_index", ctx),
        funding_rate_8h=opt_dec(obj, "funding_rate_8h", ctx),
        ts=req_int(obj, "created_at", ctx),
    )


# ---------------------------------------------------------------------------------------- market data


def quote_from(obj: Any) -> Quote:
    """``/bbo/{market}`` or the ``bbo.{market}`` payload → Quote."""
    obj = require_obj(obj, "bbo")
    ctx = f"bbo[{obj.get('market', '?')}]"
    return Quote(
        market=req_str(obj, "market", ctx),
        bid=req_dec(obj, "bid", ctx),
        bid_size=req_dec(obj, "bid_size", ctx),
        ask=req_dec(obj, "ask", ctx),
        ask_size=req_dec(obj, "ask_size", ctx),
        ts=req_int(obj, "last_updated_at", ctx),
        seq_no=opt_int(obj, "seq_no", ctx),
    )


def _levels(raw: Any, where: str) -> tuple[BookLevel, ...]:
    levels = []
    for i, level in enumerate(require_list(raw, where)):
        pair = require_list(level, f"{where}[{i}]")
        if len(pair) < 2:
            raise MalformedMessage(f"{where}[{i}]: expected [price, size]")
        levels.append(BookLevel(to_decimal(pair[0], f"{where}[{i}].price"), to_decimal(pair[1], f"{where}[{i}].size")))
    return tuple(levels)


def book_from(obj: Any) -> BookUpdate:
    """``/orderbook/{market}`` → a snapshot BookUpdate (best level first on both sides)."""
    obj = require_obj(obj, "orderbook")
    ctx = f"orderbook[{obj.get('market', '?')}]"
    return BookUpdate(
        market=req_str(obj, "market", ctx),
        bids=_levels(req(obj, "bids", ctx), f"{ctx}.bids"),
        asks=_levels(req(obj, "asks", ctx), f"{ctx}.asks"),
        ts=req_int(obj, "last_updated_at", ctx),
        seq_no=opt_int(obj, "seq_no", ctx),
        is_snapshot=True,
    )


def trade_from(obj: Any) -> Trade:
    """A public trade; Paradex's ``side`` is the taker side."""
    obj = require_obj(obj, "trade")
    ctx = f"trade[{obj.get('id', '?')}]"
    return Trade(
        market=req_str(obj, "market", ctx),
        id=str(req(obj, "id", ctx)),
        price=req_dec(obj, "price", ctx),
        size=req_dec(obj, "size", ctx),
        taker_side=side_of(req(obj, "side", ctx), f"{ctx}.side"),
        ts=req_int(obj, "created_at", ctx),
    )


# ------------------------------------------------------------------------------------------- orders


def order_status_of(status: str, cancel_reason: str, remaining: Decimal) -> OrderStatus:
    """Venue status + cancel_reason + remaining size → domain status (§2.4 lifecycle)."""
    if status in _OPEN_STATUSES:
        return _OPEN_STATUSES[status]
    if status != "CLOSED":
        raise MalformedMessage(f"unknown order status {status[:30]!r}")
    if not cancel_reason:
        # An empty reason on a closed order means it traded out; a remainder without a reason is a cancel.
        return OrderStatus.FILLED if remaining == 0 else OrderStatus.CANCELED
    if cancel_reason in REJECT_REASONS:
        return OrderStatus.REJECTED
    if cancel_reason in EXPIRE_REASONS:
        return OrderStatus.EXPIRED
    return OrderStatus.CANCELED


def order_from(obj: Any) -> Order:
    """A REST/WS Order object → domain Order (filled size = size − remaining_size)."""
    obj = require_obj(obj, "order")
    ctx = f"order[{obj.get('id', '?')}]"
    venue_type = req_str(obj, "type", ctx)
    if venue_type not in _VENUE_TYPES:
        raise MalformedMessage(f"field {ctx}.type has unknown order type {venue_type[:30]!r}")
    instruction = opt_str(obj, "instruction", ctx)
    if instruction not in _INSTRUCTIONS:
        raise MalformedMessage(f"field {ctx}.instruction has unknown value {instruction[:30]!r}")
    flags = obj.get("flags") or []
    flags = require_list(flags, f"{ctx}.flags")
    size = req_dec(obj, "size", ctx)
    remaining = req_dec(obj, "remaining_size", ctx)
    cancel_reason = opt_str(obj, "cancel_reason", ctx)
    price = opt_dec(obj, "price", ctx)
    trigger = opt_dec(obj, "trigger_price", ctx)
    return Order(
        id=str(req(obj, "id", ctx)),
        client_id=opt_str(obj, "client_id", ctx),
        market=req_str(obj, "market", ctx),
        side=side_of(req(obj, "side", ctx), f"{ctx}.side"),
        type=_VENUE_TYPES[venue_type],
        size=size,
        status=order_status_of(req_str(obj, "status", ctx), cancel_reason, remaining),
        price=price if price else None,  # "0" on market orders means "no price"
        trigger_price=trigger if trigger else None,
        tif=_INSTRUCTIONS[instruction],
        reduce_only="REDUCE_ONLY" in flags or venue_type.startswith(("STOP_LOSS_", "TAKE_PROFIT_")),
        filled_size=max(size - remaining, ZERO),
        avg_fill_price=opt_dec(obj, "avg_fill_price", ctx) or None,
        cancel_reason=cancel_reason,
        created_at=opt_int(obj, "created_at", ctx),
        updated_at=opt_int(obj, "last_updated_at", ctx),
        seq_no=opt_int(obj, "seq_no", ctx),
    )


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


# ---------------------------------------------------------------------------------- account & fills


def fill_from(obj: Any) -> Fill:
    """A ``/fills`` row (or ``fills.*`` payload) → Fill. ``side`` is taken as the account's side."""
    obj = require_obj(obj, "fill")
    ctx = f"fill[{obj.get('id', '?')}]"
    liquidity = req_str(obj, "liquidity", ctx)
    if liquidity not in ("MAKER", "TAKER"):
        raise MalformedMessage(f"field {ctx}.liquidity must be MAKER or TAKER, got {liquidity[:20]!r}")
    return Fill(
        id=str(req(obj, "id", ctx)),
        order_id=str(req(obj, "order_id", ctx)),
        client_id=opt_str(obj, "client_id", ctx),
        market=req_str(obj, "market", ctx),
        side=side_of(req(obj, "side", ctx), f"{ctx}.side"),
        price=req_dec(obj, "price", ctx),
        size=req_dec(obj, "size", ctx),
        liquidity=Liquidity(liquidity),
        fee=opt_dec(obj, "fee", ctx) or ZERO,
        realized_pnl=opt_dec(obj, "realized_pnl", ctx) or ZERO,
        ts=req_int(obj, "created_at", ctx),
    )


def position_from(obj: Any) -> Position:
    """A ``/positions`` row → Position with a signed size (negative when short)."""
    obj = require_obj(obj, "position")
    ctx = f"position[{obj.get('market', '?')}]"
    size = req_dec(obj, "size", ctx)
    # The size is documented as signed; if a venue ever sends it unsigned, the side still decides.
    if opt_str(obj, "side", ctx) == "SHORT" and size > 0:
        size = -size
    return Position(
        market=req_str(obj, "market", ctx),
        size=size,
        entry_price=opt_dec(obj, "average_entry_price", ctx) or ZERO,
        unrealized_pnl=opt_dec(obj, "unrealized_pnl", ctx) or ZERO,
        realized_pnl=opt_dec(obj, "realized_positional_pnl", ctx) or ZERO,
        leverage=opt_dec(obj, "leverage", ctx),
        liquidation_price=opt_dec(obj, "liquidation_price", ctx),
        updated_at=opt_int(obj, "last_updated_at", ctx),
        seq_no=opt_int(obj, "seq_no", ctx),
    )


def token_balances_from(payload: Any) -> dict[str, Decimal]:
    """``/balance`` → {token: size}."""
    out: dict[str, Decimal] = {}
    for i, row in enumerate(results(payload, "balance")):
        row = require_obj(row, f"balance.results[{i}]")
        out[req_str(row, "token", f"balance.results[{i}]")] = req_dec(row, "size", f"balance.results[{i}]")
    return out


def balance_from(account: Any, tokens: Mapping[str, Decimal]) -> Balance:
    """``/account`` + ``/balance`` → Balance. Wallet is the settlement token's balance (0 if none held)."""
    obj = require_obj(account, "account")
    ctx = "account"
    asset = opt_str(obj, "settlement_asset", ctx, default="USDC")
    return Balance(
        asset=asset,
        wallet=tokens.get(asset, ZERO),
        equity=req_dec(obj, "account_value", ctx),
        available=req_dec(obj, "free_collateral", ctx),
        initial_margin=opt_dec(obj, "initial_margin_requirement", ctx) or ZERO,
        maintenance_margin=opt_dec(obj, "maintenance_margin_requirement", ctx) or ZERO,
        updated_at=opt_int(obj, "updated_at", ctx),
    )


def funding_payment_from(obj: Any) -> FundingPayment:
    obj = require_obj(obj, "funding_payment")
    ctx = f"funding_payment[{obj.get('id', '?')}]"
    return FundingPayment(
        market=req_str(obj, "market", ctx),
        amount=req_dec(obj, "payment", ctx),
        ts=req_int(obj, "created_at", ctx),
        id=str(obj.get("id") or ""),
    )
