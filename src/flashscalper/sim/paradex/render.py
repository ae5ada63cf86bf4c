"""Engine objects → Paradex JSON shapes (protocol/paradex.md §2). Pure functions, shared by REST and WS.

Every amount is a plain decimal string, every timestamp integer ms, as the venue writes them. Nothing here
reads the simulator: callers pass in what a shape needs (mark price, funding index, wire metadata).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flashscalper.domain import ZERO, BookUpdate, Order, OrderStatus, Position, Quote
from flashscalper.sim.accounts import AccountSummary
from flashscalper.sim.events import FillEvent, FundingEvent, FundingRateEvent, TradeEvent
from flashscalper.sim.markets import MarketSpec

_HOUR_MS = 3_600_000
_CLOSED = frozenset({OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED})


@dataclass(frozen=True, slots=True)
class OrderMeta:
    """What the wire says about an order that the engine does not keep: the exact Paradex type string
    (STOP_LOSS_MARKET vs STOP_MARKET), instruction, flags, stp and the signed timestamp."""

    account: str
    venue_type: str
    instruction: str
    flags: tuple[str, ...]
    stp: str
    signature_timestamp: int
    received_at: int


def dec(value: Decimal | None, empty: str = "0") -> str:
    """Plain decimal notation without exponent or trailing zeros; ``empty`` for None."""
    if value is None:
        return empty
    if value == 0:
        return "0"
    text = format(value.normalize(), "f")
    return text


def error(code: str, message: str, data: Any = None) -> dict[str, Any]:
    """The venue's error body."""
    return {"error": code, "message": message, "data": data}


# ------------------------------------------------------------------------------------------- markets


def market(spec: MarketSpec, open_at: int = 0) -> dict[str, Any]:
    """A ``/markets`` row."""
    m = spec.market
    fee = {"fee": "0.00045", "fee_cap": "0.00045", "fee_floor": "0.00045"}
    maker = {"fee": "0.00003", "fee_cap": "0.00003", "fee_floor": "0.00003"}
    fees = {"maker_fee": maker, "taker_fee": fee}
    return {
        "symbol": m.symbol,
        "base_currency": m.base,
        "quote_currency": m.quote,
        "settlement_currency": spec.settlement_asset,
        "asset_kind": "PERP",
        "market_kind": "cross",
        "order_size_increment": dec(m.step_size),
        "price_tick_size": dec(m.tick_size),
        "min_notional": dec(m.min_notional),
        "max_order_size": dec(m.max_order_size),
        "position_limit": dec(m.position_limit),
        "max_open_orders": m.max_open_orders,
        "price_bands_width": dec(spec.price_bands_width),
        "max_slippage": dec(spec.max_slippage),
        "open_at": open_at,
        "expiry_at": 0,
        "funding_period_hours": m.funding_period_hours,
        "max_funding_rate": dec(spec.max_funding_rate),
        "max_funding_rate_change": dec(spec.max_funding_rate),
        "interest_rate": dec(spec.interest_rate),
        "clamp_rate": dec(spec.max_funding_rate),
        "funding_multiplier": 1,
        "oracle_ewma_factor": "0.2",
        "max_tob_spread": "0.2",
        "price_feed_id": "",
        "delta1_cross_margin_params": {
            "imf_base": dec(spec.margin.imf_base),
            "imf_factor": dec(spec.margin.imf_factor),
            "imf_shift": dec(spec.margin.imf_shift),
            "mmf_factor": dec(spec.margin.mmf_factor),
        },
        "fee_config": {"api_fee": fees, "interactive_fee": fees, "rpi_fee": fees},
        "tags": [],
        "trading_mode": "",
    }


def market_summary(
    symbol: str,
    *,
    mark: Decimal,
    last: Decimal | None,
    quote: Quote | None,
    funding_rate: Decimal,
    volume_24h: Decimal,
    open_interest: Decimal,
    ts: int,
) -> dict[str, Any]:
    """A ``/markets/summary`` row (also the ``markets_summary`` WS payload)."""
    return {
        "symbol": symbol,
        "mark_price": dec(mark),
        "last_traded_price": dec(last if last is not None else mark),
        "bid": dec(quote.bid if quote else None, ""),
        "bid_size": dec(quote.bid_size if quote else None, ""),
        "ask": dec(quote.ask if quote else None, ""),
        "ask_size": dec(quote.ask_size if quote else None, ""),
        "volume_24h": dec(volume_24h),
        "total_volume": dec(volume_24h),
        "underlying_price": dec(mark),
        "external_fair_price": dec(mark),
        "open_interest": dec(open_interest),
        "funding_rate": dec(funding_rate),
        "future_funding_rate": dec(funding_rate),
        "price_change_rate_24h": "0",
        "created_at": ts,
    }


def period_rate(row: FundingRateEvent, spec: MarketSpec, interval_ms: int) -> Decimal:
    """The engine settles a per-interval rate; Paradex quotes the rate per funding period."""
    period_ms = spec.market.funding_period_hours * _HOUR_MS
    return row.rate * period_ms / interval_ms if interval_ms else row.rate


def funding_data(row: FundingRateEvent, spec: MarketSpec, interval_ms: int) -> dict[str, Any]:
    """A ``/funding/data`` row (also the ``funding_data`` WS payload)."""
    rate = period_rate(row, spec, interval_ms)
    hours = spec.market.funding_period_hours
    return {
        "market": row.market,
        "funding_index": dec(row.funding_index),
        "funding_premium": dec(row.premium * row.mark_price),
        "funding_rate": dec(rate),
        "funding_rate_8h": dec(rate * 8 / hours if hours else rate),
        "funding_period_hours": hours,
        "impact_premium_rate": dec(row.premium),
        "created_at": row.ts,
    }


# --------------------------------------------------------------------------------------- market data


def bbo(quote: Quote) -> dict[str, Any]:
    return {
        "market": quote.market,
        "bid": dec(quote.bid),
        "bid_size": dec(quote.bid_size),
        "ask": dec(quote.ask),
        "ask_size": dec(quote.ask_size),
        "last_updated_at": quote.ts,
        "seq_no": quote.seq_no,
    }


def orderbook(book: BookUpdate) -> dict[str, Any]:
    """``/orderbook/{market}``: levels best first; the simulator has no RPI liquidity, so api = interactive."""
    best_bid = [dec(book.bids[0].price), dec(book.bids[0].size)] if book.bids else []
    best_ask = [dec(book.asks[0].price), dec(book.asks[0].size)] if book.asks else []
    return {
        "market": book.market,
        "seq_no": book.seq_no,
        "last_updated_at": book.ts,
        "bids": [[dec(level.price), dec(level.size)] for level in book.bids],
        "asks": [[dec(level.price), dec(level.size)] for level in book.asks],
        "best_bid_api": best_bid,
        "best_ask_api": best_ask,
        "best_bid_interactive": best_bid,
        "best_ask_interactive": best_ask,
    }


def trade(event: TradeEvent) -> dict[str, Any]:
    """A public trade; ``side`` is the taker's side."""
    t = event.trade
    return {
        "id": t.id,
        "market": t.market,
        "side": t.taker_side.value,
        "size": dec(t.size),
        "price": dec(t.price),
        "created_at": t.ts,
        "trade_type": event.trade_type,
    }


# -------------------------------------------------------------------------------------------- orders


def order_status(order: Order) -> str:
    """Domain status → Paradex status; every terminal state is CLOSED (the reason tells them apart)."""
    if order.status in _CLOSED:
        return "CLOSED"
    return order.status.value  # NEW, UNTRIGGERED, OPEN


def order(o: Order, meta: OrderMeta | None, *, account: str = "") -> dict[str, Any]:
    """A REST/WS Order object."""
    venue_type = meta.venue_type if meta else o.type.value
    flags = list(meta.flags) if meta else (["REDUCE_ONLY"] if o.reduce_only else [])
    price = o.price if o.type.has_limit_price else None
    return {
        "id": o.id,
        "account": meta.account if meta else account,
        "market": o.market,
        "side": o.side.value,
        "type": venue_type,
        "size": dec(o.size),
        "remaining_size": dec(max(o.size - o.filled_size, ZERO)),
        "price": dec(price),
        "avg_fill_price": dec(o.avg_fill_price, ""),
        "status": order_status(o),
        "cancel_reason": o.cancel_reason,
        "client_id": o.client_id,
        "instruction": meta.instruction if meta else o.tif.value,
        "flags": flags,
        "stp": meta.stp if meta else "EXPIRE_TAKER",
        "trigger_price": dec(o.trigger_price),
        "timestamp": meta.signature_timestamp if meta else o.created_at,
        "created_at": o.created_at,
        "last_updated_at": o.updated_at,
        "received_at": meta.received_at if meta else o.created_at,
        "published_at": o.updated_at,
        "seq_no": o.seq_no,
    }


def order_ack(o: Order, meta: OrderMeta) -> dict[str, Any]:
    """The ``POST /orders`` answer: the order as accepted (NEW), before risk checks and matching."""
    row = order(o, meta)
    # seq_no 0: the engine has already moved the order on, and a later sequence number on a NEW
    # answer would let clients that order updates by seq_no take it for the newest state.
    row.update(status="NEW", remaining_size=dec(o.size), avg_fill_price="", cancel_reason="",
               last_updated_at=o.created_at, published_at=o.created_at, seq_no=0)
    return row


def fill(event: FillEvent, *, account: str, underlying_price: Decimal | None = None) -> dict[str, Any]:
    """A ``/fills`` row (also the ``fills.*`` WS payload). ``side`` is this account's side."""
    f = event.fill
    return {
        "id": f.id,
        "order_id": f.order_id,
        "client_id": f.client_id,
        "market": f.market,
        "side": f.side.value,
        "liquidity": f.liquidity.value,
        "price": dec(f.price),
        "size": dec(f.size),
        "remaining_size": dec(event.remaining_size),
        "fee": dec(f.fee),
        "fee_currency": "USDC",
        "fill_type": event.trade_type,
        "realized_pnl": dec(f.realized_pnl),
        "realized_funding": "0",
        "created_at": f.ts,
        "account": account,
        "underlying_price": dec(underlying_price if underlying_price is not None else f.price),
        "flags": [],
        "orderbook_seq_no": event.book_seq_no,
        "trade_id": event.trade_id,
    }


# ------------------------------------------------------------------------------------------- account


def position(p: Position, *, account: str, funding_index: Decimal = ZERO, created_at: int = 0) -> dict[str, Any]:
    """A ``/positions`` row (also the ``positions`` WS payload). Size is signed, negative when short."""
    cost = p.size * p.entry_price
    return {
        "id": f"{account}-{p.market}",
        "account": account,
        "market": p.market,
        "status": "OPEN" if p.size else "CLOSED",
        "side": "SHORT" if p.size < 0 else "LONG",
        "size": dec(p.size),
        "average_entry_price": dec(p.entry_price),
        "average_entry_price_usd": dec(p.entry_price),
        "average_exit_price": "0",
        "unrealized_pnl": dec(p.unrealized_pnl),
        "unrealized_funding_pnl": "0",
        "realized_positional_pnl": dec(p.realized_pnl),
        "realized_positional_funding_pnl": "0",
        "cost": dec(cost),
        "cost_usd": dec(cost),
        "cached_funding_index": dec(funding_index),
        "last_fill_id": "",
        "liquidation_price": dec(p.liquidation_price, ""),
        "leverage": dec(p.leverage, ""),
        "seq_no": p.seq_no,
        "created_at": created_at or p.updated_at,
        "last_updated_at": p.updated_at,
        "closed_at": 0 if p.size else p.updated_at,
    }


def account_summary(s: AccountSummary) -> dict[str, Any]:
    """``GET /account`` (also the ``account`` WS payload)."""
    return {
        "account": s.account,
        "account_value": dec(s.account_value),
        "total_collateral": dec(s.total_collateral),
        "free_collateral": dec(s.free_collateral),
        "initial_margin_requirement": dec(s.initial_margin_requirement),
        "maintenance_margin_requirement": dec(s.maintenance_margin_requirement),
        "margin_cushion": dec(s.margin_cushion),
        "settlement_asset": s.settlement_asset,
        "status": s.status,
        "seq_no": s.seq_no,
        "updated_at": s.updated_at,
        "last_seen_notification": 0,
    }


def balance(s: AccountSummary) -> dict[str, Any]:
    """The settlement token's ``/balance`` row."""
    return {
        "token": s.settlement_asset,
        "size": dec(s.total_collateral),
        "last_updated_at": s.updated_at,
        "cost": "0",
        "cost_usd": "0",
        "average_entry_price": "1",
        "average_entry_price_usd": "1",
    }


def funding_payment(event: FundingEvent, *, funding_index: Decimal = ZERO) -> dict[str, Any]:
    """A ``/funding/payments`` row (signed: positive received)."""
    p = event.payment
    return {
        "id": p.id,
        "account": event.account,
        "market": p.market,
        "payment": dec(p.amount),
        "index": dec(funding_index),
        "fill_id": "",
        "created_at": p.ts,
    }
