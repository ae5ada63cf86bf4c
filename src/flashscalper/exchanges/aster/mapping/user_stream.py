"""The user data stream both ways: ORDER_TRADE_UPDATE, ACCOUNT_UPDATE and listenKeyExpired (§12)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flashscalper.domain import (
    ZERO,
    ConnectionEvent,
    ConnectionState,
    Event,
    Fill,
    FillEvent,
    FundingPayment,
    Liquidity,
    Order,
    OrderUpdate,
    Position,
    PositionUpdate,
)

from .common import VENUE, _dec, _dec_or_zero, _flag, _get, _int, _obj, _opt_dec, _plain, _str, _wire_id
from .orders import _STREAM_ORDER_KEYS, _order_from
from .vocabulary import _TIF_OUT, _TYPE_OUT, _current_type_out, _status_out


def _order_from_update(o: dict[str, Any], event_time: int) -> Order:
    # the trade time is the update time; it is the creation time only on the NEW execution
    return _order_from(
        o,
        _STREAM_ORDER_KEYS,
        "ORDER_TRADE_UPDATE o",
        updated_default=event_time,
        created_at=lambda trade_time: trade_time if o.get("x") == "NEW" else 0,
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
        fee=_dec_or_zero(o, "n", where),  # absent when there is none
        realized_pnl=_dec_or_zero(o, "rp", where),
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
                unrealized_pnl=_dec_or_zero(row, "up", where),
                realized_pnl=_dec_or_zero(row, "cr", where),
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
        "i": _wire_id(order.id), "l": p(fill.size if fill else ZERO),
        "z": p(order.filled_size), "L": p(fill.price if fill else ZERO), "T": fill.ts if fill else event_time,
        "t": _wire_id(fill.id) if fill else 0, "b": "0", "a": "0",
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
            cross_wallet=_dec_or_zero(row, "cw", where),
            change=_dec_or_zero(row, "bc", where),
        )
        for row in (_obj(r, where) for r in a.get("B") or [])
    ]
