"""Paradex JSON ↔ domain types. Venue JSON dies here (protocol/paradex.md §2).

Every reader is strict: a required field that is missing, of the wrong type or not a decimal raises
``MalformedMessage`` naming the field. Decimals are built from strings (or ints) only, never via float.

This module holds the readers of markets, market data, orders, fills, positions and balances. The
field readers live in :mod:`.fields` and the order-request builders in :mod:`.order_requests`; both
are re-exported here, so ``mapping.req_dec`` or ``mapping.order_body`` keep working.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
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
    OrderStatus,
    OrderType,
    Position,
    Quote,
    TimeInForce,
    Trade,
)
from flashscalper.errors import MalformedMessage
from flashscalper.exchanges.paradex.fields import (
    dec_str,
    opt_dec,
    opt_int,
    opt_str,
    req,
    req_dec,
    req_int,
    req_str,
    require_list,
    require_obj,
    results,
    side_of,
    to_decimal,
)
from flashscalper.exchanges.paradex.order_requests import order_body, order_flags, signed_price, venue_order_type

__all__ = [  # public names, the re-exported ones included
    "EXPIRE_REASONS", "REJECT_REASONS", "FundingObservation", "OnboardingStatus", "SystemConfig", "balance_from",
    "book_from", "dec_str", "fill_from", "funding_observation_from", "funding_payment_from", "mark_price_from",
    "market_from", "onboarding_from", "opt_dec", "opt_int", "opt_str", "order_body", "order_flags", "order_from",
    "order_status_of", "position_from", "quote_from", "req", "req_dec", "req_int", "req_str", "require_list",
    "require_obj", "results", "side_of", "signed_price", "system_config_from", "to_decimal", "token_balances_from",
    "trade_from", "venue_order_type",
]

# cancel_reason values that mean the venue refused the order rather than someone cancelling it.
# Paradex publishes no complete list (§2.4), so anything else reads as a cancel.
REJECT_REASONS = frozenset({"NOT_ENOUGH_MARGIN", "ORDER_EXCEEDS_POSITION_LIMIT", "POST_ONLY_WOULD_CROSS"})
EXPIRE_REASONS = frozenset({"EXPIRED"})

VENUE_TYPES: dict[str, OrderType] = {
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
    if venue_type not in VENUE_TYPES:
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
        type=VENUE_TYPES[venue_type],
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
