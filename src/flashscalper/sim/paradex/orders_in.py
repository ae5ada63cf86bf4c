"""Incoming Paradex order requests: body → domain OrderRequest + wire metadata, and signature checks.

The signature is never compared: the Order (or ModifyOrder) hash is rebuilt from the body exactly as a
client signs it (market, side 1/2, the REST type string, size and price ×10^8, signature_timestamp, plus the
id for a modify) under the account address from the JWT, then verified against the account's public key.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flashscalper.domain import OrderRequest, Side, TimeInForce
from flashscalper.exchanges.paradex import signing
from flashscalper.exchanges.paradex.mapping import VENUE_TYPES  # one vocabulary for client and simulator
from flashscalper.sim.orders import SelfTradePrevention
from flashscalper.sim.paradex.registry import ParadexAccount
from flashscalper.sim.paradex.render import OrderMeta
from flashscalper.sim.paradex.wire import bad, decimal_field

DEFAULT_RECV_WINDOW_MS = 300_000
MIN_RECV_WINDOW_MS = 10
MAX_CLIENT_ID_LENGTH = 64

TPSL_TYPES = frozenset({"STOP_LOSS_MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_MARKET", "TAKE_PROFIT_LIMIT"})
INSTRUCTIONS: dict[str, TimeInForce] = {
    "": TimeInForce.GTC, "GTC": TimeInForce.GTC, "IOC": TimeInForce.IOC, "POST_ONLY": TimeInForce.POST_ONLY,
    "RPI": TimeInForce.GTC,  # retail price improvement orders rest like GTC ones here
}
KNOWN_FLAGS = frozenset({"REDUCE_ONLY", "STOP_CONDITION_BELOW_TRIGGER", "STOP_CONDITION_ABOVE_TRIGGER",
                         "INTERACTIVE", "TARGET_STRATEGY_VWAP", "MMP"})


@dataclass(frozen=True, slots=True)
class IncomingOrder:
    """A parsed ``POST /orders`` body, not yet verified."""

    request: OrderRequest
    meta: OrderMeta
    stp: SelfTradePrevention
    signature: str
    timestamp_ms: int
    recv_window_ms: int
    signed_size: Decimal
    signed_price: Decimal | None


def _text(body: dict[str, Any], name: str, *, required: bool = True) -> str:
    value = body.get(name)
    if value is None:
        if required:
            raise bad("VALIDATION_ERROR", f"{name} is required")
        return ""
    if not isinstance(value, str):
        raise bad("BINDING_ERROR", f"{name} must be a string")
    return value


def _int(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool):
        raise bad("BINDING_ERROR", f"{name} must be an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    raise bad("BINDING_ERROR", f"{name} must be an integer")


def parse_common(body: dict[str, Any], markets: dict[str, Any]) -> tuple[str, Side, str, int, int, str]:
    """market, side, venue type, signature_timestamp, recv_window and signature of an order/modify body."""
    market = _text(body, "market")
    if market not in markets:
        raise bad("MARKET_NOT_FOUND", f"market {market[:40]} not found; known: {', '.join(sorted(markets))}")
    side_text = _text(body, "side")
    if side_text not in ("BUY", "SELL"):
        raise bad("VALIDATION_ERROR", f"side must be BUY or SELL, got {side_text[:20]!r}")
    venue_type = _text(body, "type")
    if venue_type not in VENUE_TYPES:
        raise bad("VALIDATION_ERROR", f"unknown order type {venue_type[:30]!r}; known: {', '.join(VENUE_TYPES)}")
    timestamp = _int(body, "signature_timestamp")
    if timestamp is None:
        raise bad("VALIDATION_ERROR", "signature_timestamp is required (ms)")
    recv_window = _int(body, "recv_window")
    if recv_window is None:
        recv_window = DEFAULT_RECV_WINDOW_MS
    elif recv_window < MIN_RECV_WINDOW_MS:
        raise bad("VALIDATION_ERROR", f"recv_window must be at least {MIN_RECV_WINDOW_MS} ms")
    signature = _text(body, "signature")
    return market, Side(side_text), venue_type, timestamp, recv_window, signature


def parse_order(body: Any, markets: dict[str, Any], account_id: str, now_ms: int) -> IncomingOrder:
    """Check the shape of one OrderRequest body and build the engine request. Raises ApiError."""
    if not isinstance(body, dict):
        raise bad("BINDING_ERROR", "an order must be a JSON object")
    market, side, venue_type, timestamp, recv_window, signature = parse_common(body, markets)
    order_type = VENUE_TYPES[venue_type]
    size = decimal_field(body, "size")
    assert size is not None
    signed_price = price = decimal_field(body, "price", required=False)
    if not order_type.has_limit_price:
        price = None  # market-style: price omitted or "0" (both forms are in use)
    elif price is None:
        raise bad("VALIDATION_ERROR", f"price is required for {venue_type} orders")
    trigger = decimal_field(body, "trigger_price", required=False)
    if order_type.is_conditional:
        if not trigger:
            raise bad("VALIDATION_ERROR", f"trigger_price is required for {venue_type} orders")
    else:
        trigger = None
    instruction = _text(body, "instruction", required=False)
    if instruction not in INSTRUCTIONS:
        raise bad("VALIDATION_ERROR", f"unknown instruction {instruction[:20]!r}; use GTC, IOC or POST_ONLY")
    flags = body.get("flags") or []
    if not isinstance(flags, list) or not all(isinstance(f, str) for f in flags):
        raise bad("BINDING_ERROR", "flags must be a list of strings")
    unknown = [f for f in flags if f not in KNOWN_FLAGS]
    if unknown:
        raise bad("VALIDATION_ERROR", f"unknown flag(s): {', '.join(unknown)[:60]}")
    reduce_only = "REDUCE_ONLY" in flags
    close_position = False
    if venue_type in TPSL_TYPES:
        if not reduce_only:
            raise bad("VALIDATION_ERROR", f"{venue_type} orders must carry the REDUCE_ONLY flag")
        close_position = size == 0  # size "0": close the whole position when triggered
    client_id = _text(body, "client_id", required=False)
    if len(client_id) > MAX_CLIENT_ID_LENGTH:
        raise bad("VALIDATION_ERROR", f"client_id longer than {MAX_CLIENT_ID_LENGTH} characters")
    stp_text = _text(body, "stp", required=False) or "EXPIRE_TAKER"
    try:
        stp = SelfTradePrevention(stp_text)
    except ValueError:
        raise bad("VALIDATION_ERROR", "stp must be EXPIRE_TAKER, EXPIRE_MAKER or EXPIRE_BOTH") from None
    request = OrderRequest(market=market, side=side, type=order_type, size=size, client_id=client_id,
                           price=price, trigger_price=trigger, tif=INSTRUCTIONS[instruction],
                           reduce_only=reduce_only, close_position=close_position)
    meta = OrderMeta(account=account_id, venue_type=venue_type, instruction=instruction or "GTC",
                     flags=tuple(flags), stp=stp.value, signature_timestamp=timestamp, received_at=now_ms)
    return IncomingOrder(request, meta, stp, signature, timestamp, recv_window, size, signed_price)


def check_timestamp(timestamp_ms: int, recv_window_ms: int, now_ms: int) -> None:
    """Refuse a signature older than its recv_window, or one from the future beyond the same window."""
    if now_ms > timestamp_ms + recv_window_ms:
        raise bad("INVALID_TIMESTAMP", f"signature_timestamp {timestamp_ms} is older than recv_window "
                  f"{recv_window_ms} ms (server time {now_ms})")
    if timestamp_ms > now_ms + recv_window_ms:
        raise bad("INVALID_TIMESTAMP", f"signature_timestamp {timestamp_ms} is in the future (server time {now_ms})")


def verify_order(order: IncomingOrder, chain_id: str, account: ParadexAccount) -> None:
    """Rebuild the Order hash from the body and verify the signature. Raises INVALID_ORDER_SIGNATURE."""
    req = order.request
    try:
        digest = signing.order_message_hash(chain_id, account.address, req.market, req.side.value,
                                            order.meta.venue_type, order.signed_size, order.signed_price,
                                            order.timestamp_ms)
    except ValueError as exc:
        raise bad("INVALID_ORDER_SIGNATURE", f"cannot rebuild the order hash: {exc}") from None
    if not signing.verify_signature(digest, order.signature, account.public_key):
        raise bad("INVALID_ORDER_SIGNATURE", "order signature does not verify for this account")


def verify_modify(body: dict[str, Any], chain_id: str, account: ParadexAccount, order_id: str,
                  market: str, side: Side, venue_type: str, timestamp_ms: int, signature: str) -> None:
    """Rebuild the ModifyOrder hash (order fields + id) and verify the signature."""
    size = decimal_field(body, "size")
    price = decimal_field(body, "price", required=False)
    try:
        digest = signing.modify_order_message_hash(chain_id, account.address, market, side.value, venue_type,
                                                   size, price, timestamp_ms, order_id)  # type: ignore[arg-type]
    except ValueError as exc:
        raise bad("INVALID_ORDER_SIGNATURE", f"cannot rebuild the modify hash: {exc}") from None
    if not signing.verify_signature(digest, signature, account.public_key):
        raise bad("INVALID_ORDER_SIGNATURE", "modify signature does not verify for this account")
