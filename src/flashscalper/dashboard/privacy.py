"""Privacy view: what a stream may show. Prices yes; sizes, balances, money P&L and addresses no.

Enforced on the server: a privacy client is only ever sent what these functions rebuild from a
whitelist, so a field added to the full view later stays hidden until someone lists it here.
P&L survives as percentages (of the starting equity, of margin = ROE) and R multiples.

Free text written by the risk engine or the executor can quote equity or sizes ("equity 9812.4 is
5% below ..."), so in privacy mode every number in such text that is not a percentage is masked.
Signal reasons come from indicators over public market data and are kept.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["MASK", "private_event", "private_section", "private_snapshot", "scrub"]

MASK = "•••"
# a number not followed by a percent sign (thousands separators and decimals included)
_NUMBER = re.compile(r"(?<![\w.])[-+]?\d[\d,]*(?:\.\d+)?(?![\d.,]*\s*%)")
_HEX = re.compile(r"0x[0-9a-fA-F]{6,}")

_POSITION_KEYS = ("market", "side", "entry_price", "mark_price", "roe", "r", "leverage", "stop_price",
                  "take_profit_price", "trailing_active", "liquidation_price", "liquidation_distance_percent",
                  "opened_at")
_ORDER_KEYS = ("ts", "market", "side", "type", "status", "price", "purpose", "reduce_only")
_FILL_KEYS = ("ts", "market", "side", "price", "purpose", "liquidity", "id")
_TRADE_KEYS = ("ts", "market", "side", "entry_price", "exit_price", "roe", "r", "reason", "opened_at",
               "closed_at", "duration_s", "setup")
_SIGNAL_KEYS = ("ts", "market", "side", "confidence", "reasons", "setup", "strategy", "acted", "price")
_MARKER_KEYS = ("ts", "market", "price", "kind", "side")


def scrub(text: str) -> str:
    """Mask every non-percentage number and every long hex string (addresses) in free text."""
    return _NUMBER.sub(MASK, _HEX.sub(MASK, text))


def _pick(record: dict[str, Any] | None, keys: tuple[str, ...]) -> dict[str, Any] | None:
    if record is None:
        return None
    return {k: record[k] for k in keys if k in record}


def private_section(name: str, value: Any) -> Any:
    """The privacy-safe form of one state section (unknown sections are dropped: None)."""
    if name == "mode":
        return {**value, "privacy": True}
    if name == "risk":
        return {"state": value.get("state"), "reasons": [scrub(r) for r in value.get("reasons", [])],
                "last_change": scrub(value.get("last_change", "")),
                "margin_utilisation_percent": value.get("margin_utilisation_percent"),
                "losing_streak": value.get("losing_streak"), "cooldown_until_ms": value.get("cooldown_until_ms"),
                "safe_mode": value.get("safe_mode")}
    if name == "account":
        return {"margin_utilisation_percent": value.get("margin_utilisation_percent")}
    if name == "pnl":
        return {"session_percent": value.get("session_percent"), "r_total": value.get("r_total"),
                "trades": value.get("trades"), "wins": value.get("wins"), "losses": value.get("losses"),
                "win_rate": value.get("win_rate"),
                "series": [[p[0], p[2]] for p in value.get("series", [])]}
    if name == "positions":
        return [_pick(p, _POSITION_KEYS) for p in value]
    if name == "orders":
        return [{**_pick(o, _ORDER_KEYS), "note": scrub(o.get("note", ""))} for o in value]  # type: ignore[dict-item]
    if name == "fills":
        return [_pick(f, _FILL_KEYS) for f in value]
    if name == "trades":
        return [_pick(t, _TRADE_KEYS) for t in value]
    if name == "signal":
        if value is None:
            return None
        return {**_pick(value, _SIGNAL_KEYS), "note": scrub(value.get("note", ""))}  # type: ignore[dict-item]
    if name in ("markets", "market_quotes", "market_points", "connection"):
        return value  # public market data and link health
    if name == "markers":
        return [_pick(m, _MARKER_KEYS) for m in value]
    return None


def private_snapshot(full: dict[str, Any]) -> dict[str, Any]:
    """The whole state as a privacy client may see it."""
    out = {}
    for name, value in full.items():
        safe = private_section(name, value)
        if safe is not None or name == "signal":
            out[name] = safe
    return out


def private_event(event: dict[str, Any]) -> dict[str, Any] | None:
    """A toast-worthy event (fill / trade_closed / risk / control) in its privacy-safe form."""
    kind = event.get("kind")
    if kind == "fill":
        return {"kind": kind, **_pick(event, _FILL_KEYS)}  # type: ignore[dict-item]
    if kind == "trade_closed":
        return {"kind": kind, **_pick(event, _TRADE_KEYS)}  # type: ignore[dict-item]
    if kind in ("risk_state", "control", "connection"):
        return {"kind": kind, "ts": event.get("ts"), "state": event.get("state"),
                "text": scrub(str(event.get("text", "")))}
    return None
