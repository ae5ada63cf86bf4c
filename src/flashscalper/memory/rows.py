"""Turning bus events into journal rows (plain dicts), and configuration into a secret-free snapshot.

Rows are built on the event loop at publish time because some event payloads are mutable (an
``Order`` keeps changing after its report); the writer thread only ever sees these copies.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretBytes, SecretStr

from flashscalper.domain import ZERO, Fill
from flashscalper.memory.db import redact_url
from flashscalper.memory.setups import setup_key
from flashscalper.trading.bus import (
    ConnectionHealth,
    EquitySample,
    OrderReport,
    PositionReport,
    ReconcileAction,
    RiskStateChanged,
    SignalReport,
)
from flashscalper.trading.exits import ClosedTrade

__all__ = [
    "config_snapshot",
    "equity_row",
    "event_row",
    "fill_row",
    "json_safe",
    "order_row",
    "trade_row",
]

HUNDRED = Decimal(100)
# names of settings that hold (or may hold) credentials: never written anywhere
_SECRET_NAME = re.compile(r"(private|secret|passw|passphrase|mnemonic|seed_phrase|token|api_key|auth)", re.I)
_URL_WITH_PASSWORD = re.compile(r"^[a-z][a-z0-9+.-]*://[^/@:]*:[^/@]*@", re.I)


def json_safe(value: Any) -> Any:
    """Decimals as strings, enums as values, NaN/inf as None: JSON that any backend stores."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v) for v in value]
    if isinstance(value, Path):
        return value.as_posix()
    return str(value)


def config_snapshot(config: Any) -> dict[str, Any]:
    """A JSON-able copy of ``config`` (Settings, pydantic models, dataclasses, mappings) without secrets.

    Secret values (``SecretStr``) and settings whose names suggest credentials are dropped, and
    passwords inside URLs are hidden, so the snapshot can be stored and shown.
    """
    scrubbed = _scrub(config)
    return scrubbed if isinstance(scrubbed, dict) else {"value": scrubbed}


def _scrub(value: Any) -> Any:
    if isinstance(value, SecretStr | SecretBytes):
        return None
    if value is None or isinstance(value, Decimal | Enum | Path | float | int | bool):
        return json_safe(value)
    if isinstance(value, BaseModel):
        return _scrub_mapping({name: getattr(value, name) for name in type(value).model_fields})
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _scrub_mapping({f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
    if isinstance(value, Mapping):
        return _scrub_mapping(value)
    if isinstance(value, list | tuple | set | frozenset):
        return [_scrub(v) for v in value]
    if isinstance(value, str) and _URL_WITH_PASSWORD.match(value):
        return redact_url(value)
    if hasattr(value, "__dict__") and not isinstance(value, type | Enum):
        # plain holder objects such as config.Settings
        return _scrub_mapping({k: v for k, v in vars(value).items() if not k.startswith("_")})
    return json_safe(value)


def _scrub_mapping(items: Mapping[Any, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in items.items():
        name = str(key)
        if _SECRET_NAME.search(name) or isinstance(value, SecretStr | SecretBytes):
            continue
        out[name] = _scrub(value)
    return out


def order_row(report: OrderReport, *, venue: str, session_id: str) -> dict[str, Any]:
    order = report.order
    return {
        "session_id": session_id, "venue": venue, "client_id": order.client_id or f"venue:{order.id}",
        "order_id": order.id, "market": order.market, "side": order.side.value, "type": order.type.value,
        "purpose": report.purpose, "status": order.status.value, "size": order.size,
        "filled_size": order.filled_size, "price": order.price, "trigger_price": order.trigger_price,
        "avg_fill_price": order.avg_fill_price, "reduce_only": order.reduce_only, "note": report.note,
        "created_at": order.created_at or report.ts, "updated_at": report.ts,
    }


def fill_row(fill: Fill, *, purpose: str, venue: str, session_id: str, source: str = "live") -> dict[str, Any]:
    return {
        "session_id": session_id, "venue": venue, "fill_id": fill.id, "order_id": fill.order_id,
        "client_id": fill.client_id, "market": fill.market, "side": fill.side.value, "price": fill.price,
        "size": fill.size, "liquidity": fill.liquidity.value, "fee": fill.fee, "realized_pnl": fill.realized_pnl,
        "purpose": purpose, "source": source, "ts": fill.ts,
    }


def trade_row(trade: ClosedTrade, *, venue: str, mode: str, session_id: str) -> dict[str, Any]:
    signal = dict(trade.signal or {})
    features = signal.get("features")
    features = dict(features) if isinstance(features, Mapping) else {}
    setup = str(signal.get("setup") or ("adopted" if trade.adopted else "unknown"))
    confidence = signal.get("confidence")
    margin = trade.entry_price * trade.size / trade.leverage if trade.leverage else ZERO
    return {
        "session_id": session_id, "venue": venue, "mode": mode, "market": trade.market,
        "side": trade.side.value, "size": trade.size, "entry_price": trade.entry_price,
        "exit_price": trade.exit_price, "exit_reason": trade.reason.value, "leverage": trade.leverage,
        "pnl": trade.pnl, "fees": trade.fees, "funding": getattr(trade, "funding", ZERO),
        "net_pnl": trade.net_pnl, "roe": trade.roe,
        "net_roe": trade.net_pnl / margin * HUNDRED if margin else ZERO,
        "opened_at": trade.opened_at, "closed_at": trade.closed_at, "duration_ms": trade.duration_ms,
        "adopted": trade.adopted, "setup": setup, "setup_key": str(setup_key(setup, trade.market, features)),
        "confidence": float(confidence) if isinstance(confidence, int | float) else None,
        "signal": json_safe({k: v for k, v in signal.items() if k != "features"}), "features": json_safe(features),
    }


def equity_row(sample: EquitySample, *, session_id: str) -> dict[str, Any]:
    return {
        "session_id": session_id, "ts": sample.ts, "equity": sample.equity, "wallet": sample.wallet,
        "available": sample.available, "margin_in_use": sample.margin_in_use,
        "margin_utilisation_percent": sample.margin_utilisation_percent,
    }


_EventLike = SignalReport | RiskStateChanged | ReconcileAction | ConnectionHealth | PositionReport


def event_row(event: _EventLike, *, session_id: str) -> dict[str, Any]:
    """An ``events`` row: a one-line summary plus the event's fields as JSON."""
    market = ""
    if isinstance(event, SignalReport):
        s = event.signal
        market = s.market
        summary = f"{s.setup} {s.side.value} conf {s.confidence:.2f}: {'acted' if event.acted else event.note}"
        detail = {"acted": event.acted, "note": event.note, "setup": s.setup, "side": s.side.value,
                  "confidence": s.confidence, "strategy": s.strategy, "reasons": list(s.reasons),
                  "features": dict(s.features), "price": s.price, "signal_ts": s.ts}
    elif isinstance(event, RiskStateChanged):
        summary = f"{event.from_state} -> {event.to_state}: {event.reason}"
        detail = {"from": event.from_state, "to": event.to_state, "reason": event.reason}
    elif isinstance(event, ReconcileAction):
        market = event.market
        summary = f"{event.action}: {event.reason}"
        detail = {"action": event.action, "reason": event.reason, **event.detail}
    elif isinstance(event, ConnectionHealth):
        summary = f"{event.venue} {event.state}: {event.detail}"
        detail = {"venue": event.venue, "state": event.state, "detail": event.detail}
    else:
        market = event.market
        side = event.side.value if event.side else "FLAT"
        summary = f"{side} {event.size} @ {event.entry_price}, roe {event.roe:.2f}%"
        detail = {f.name: getattr(event, f.name) for f in dataclasses.fields(event) if f.name not in ("kind", "ts")}
    return {"session_id": session_id, "ts": event.ts, "kind": event.kind, "market": market, "summary": summary,
            "detail": json_safe(detail)}
