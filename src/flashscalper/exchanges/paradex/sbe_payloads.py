"""Paradex public-channel SBE frames ↔ the JSON-shaped payloads of the same channels.

Field names follow the JSON channels (protocol/paradex.md §6.3): decimal strings, ms timestamps,
``seq_no``; null SBE values become None. Each channel has a (frame fields → payload) function and a
(payload → frame fields) function; the feed publish time ``ts`` defaults to the payload's own time.
The codec itself lives in ``sbe``, which also re-exports ``frame_to_payload``/``payload_to_frame``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from . import sbe_schema as S
from .sbe import SbeDecodeError, SbeEncodeError, _decode, encode, mantissa_to_str, to_mantissa

__all__ = ["CHANNEL_KINDS", "frame_to_payload", "payload_to_frame"]

_fmt = mantissa_to_str
_SUMMARY_FIELDS = (  # (JSON name, SBE name, default when the payload omits it)
    ("mark_price", "markPrice", None),
    ("underlying_price", "indexPrice", "0"),
    ("last_traded_price", "lastPrice", "0"),
    ("volume_24h", "volumeUsd24h", "0"),
    ("open_interest", "openInterest", "0"),
    ("bid", "bid", None),
    ("bid_size", "bidSize", None),
    ("ask", "ask", None),
    ("ask_size", "askSize", None),
    ("total_volume", "totalVolume", "0"),
    ("price_change_rate_24h", "priceChangeRate24h", "0"),
    ("mark_iv", "markIv", None),
    ("bid_iv", "bidIv", None),
    ("ask_iv", "askIv", None),
    ("last_iv", "lastIv", None),
    ("future_funding_rate", "futureFundingRate", None),
    ("external_fair_price", "externalFairPrice", None),
    ("forward_rate", "forwardRate", None),
    ("risk_free_rate", "riskFreeRate", None),
)
_GREEKS = ("delta", "gamma", "vega", "theta", "rho", "volga", "vanna")
_FUNDING_FIELDS = (
    ("funding_rate", "fundingRate"),
    ("funding_index", "fundingIndex"),
    ("funding_premium", "fundingPremium"),
    ("funding_rate_8h", "fundingRate8h"),
    ("impact_premium_rate", "impactPremiumRate"),
)
_BOOK_BEST = (  # JSON name, side, SBE price field, SBE size field
    ("best_bid_api", "BUY", "bestBidApiPrice", "bestBidApiSize"),
    ("best_ask_api", "SELL", "bestAskApiPrice", "bestAskApiSize"),
    ("best_bid_interactive", "BUY", "bestBidPrice", "bestBidSize"),
    ("best_ask_interactive", "SELL", "bestAskPrice", "bestAskSize"),
)
_UPDATE_TYPES = {"SNAPSHOT": "s", "DELTA": "d"}
_PKG_TYPES = {"s": "SNAPSHOT", "d": "DELTA"}
_U64 = 2**64


def _trade_payload(m: dict[str, Any]) -> dict[str, Any]:
    # tradeIdStr is the real id; the int64 tradeId is only its low 64 bits (pre-1:2 frames lack the string)
    return {
        "id": m["tradeIdStr"] or str(m["tradeId"]),
        "market": m["market"],
        "side": m["side"],
        "price": _fmt(m["price"]),
        "size": _fmt(m["size"]),
        "created_at": m["createdAt"] // 1000,
        "trade_type": m["tradeType"],
        "seq_no": m["seq"],
    }


def _trade_fields(p: Mapping[str, Any]) -> dict[str, Any]:
    trade_id = str(p["id"])
    low64 = int(trade_id) % _U64 if trade_id.isdigit() else 0
    return {
        "ts": int(p["created_at"]) * 1000,
        "seq": int(p.get("seq_no") or 0),
        "tradeId": low64 - _U64 if low64 >= 2**63 else low64,  # wraps negative, as the venue does
        "side": p["side"],
        "price": to_mantissa(p["price"]),
        "size": to_mantissa(p["size"]),
        "createdAt": int(p["created_at"]) * 1000,
        "tradeType": p.get("trade_type") or "FILL",
        "market": p["market"],
        "tradeIdStr": trade_id,
    }


def _bbo_payload(m: dict[str, Any]) -> dict[str, Any]:
    return {
        "market": m["market"],
        "bid": _fmt(m["bidPrice"]),
        "bid_size": _fmt(m["bidSize"]),
        "ask": _fmt(m["askPrice"]),
        "ask_size": _fmt(m["askSize"]),
        "last_updated_at": m["ts"] // 1000,
        "seq_no": m["seq"],
    }


def _bbo_fields(p: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "ts": int(p["last_updated_at"]) * 1000,
        "seq": int(p["seq_no"]),
        "bidPrice": to_mantissa(p.get("bid")),
        "bidSize": to_mantissa(p.get("bid_size")),
        "askPrice": to_mantissa(p.get("ask")),
        "askSize": to_mantissa(p.get("ask_size")),
        "market": p["market"],
    }


def _book_payload(m: dict[str, Any]) -> dict[str, Any]:
    update_type = _UPDATE_TYPES.get(m["pkgType"])
    if update_type is None:
        raise SbeDecodeError(f"BookEvent with unknown pkgType {m['pkgType']!r}")
    payload = {
        "market": m["market"],
        "seq_no": m["seq"],
        "last_updated_at": m["ts"] // 1000,
        "update_type": update_type,
        "bids": [[_fmt(price), _fmt(size)] for price, size in m["bids"]],  # raw (price, size) rows
        "asks": [[_fmt(price), _fmt(size)] for price, size in m["asks"]],
        "relative_spread": _fmt(m["relativeSpread"]),
    }
    for key, side, price, size in _BOOK_BEST:
        p = m[price]
        payload[key] = None if p is None else {"side": side, "price": _fmt(p), "size": _fmt(m[size])}
    return payload


def _levels(levels: Iterable[Any]) -> list[dict[str, int | None]]:
    out = []
    for lvl in levels:
        price, size = (lvl["price"], lvl["size"]) if isinstance(lvl, Mapping) else (lvl[0], lvl[1])
        out.append({"price": to_mantissa(price), "size": to_mantissa(size)})
    return out


def _book_fields(p: Mapping[str, Any]) -> dict[str, Any]:
    if "bids" in p or "asks" in p:
        bids, asks = _levels(p.get("bids") or ()), _levels(p.get("asks") or ())
    else:  # JSON channel form: inserts/updates/deletes with a side each; a delete is size 0
        changes = [*(p.get("inserts") or ()), *(p.get("updates") or ())]
        changes += [{**c, "size": "0"} for c in p.get("deletes") or ()]
        bids = _levels(c for c in changes if c["side"] == "BUY")
        asks = _levels(c for c in changes if c["side"] == "SELL")
    fields: dict[str, Any] = {
        "ts": int(p["last_updated_at"]) * 1000,
        "seq": int(p["seq_no"]),
        "pkgType": _PKG_TYPES[p.get("update_type", "s")],
        "relativeSpread": to_mantissa(p.get("relative_spread")),
        "bids": bids,
        "asks": asks,
        "market": p["market"],
    }
    for key, _side, price, size in _BOOK_BEST:
        best = p.get(key)
        fields[price] = to_mantissa(best["price"]) if best else None
        fields[size] = to_mantissa(best["size"]) if best else None
    return fields


def _summary_payload(m: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = {"symbol": m["market"]}
    for key, name, _default in _SUMMARY_FIELDS:
        payload[key] = _fmt(m[name])
    precise = m["fundingRatePrecise"]  # 12 dp; the 8 dp fundingRate is the fallback for v0 frames
    payload["funding_rate"] = _fmt(m["fundingRate"]) if precise is None else _fmt(precise, -12)
    greeks = {g: _fmt(m[g]) for g in _GREEKS}
    payload["greeks"] = greeks if any(v is not None for v in greeks.values()) else None
    payload["created_at"] = m["ts"] // 1000
    payload["seq_no"] = m["seq"]
    return payload


def _summary_fields(p: Mapping[str, Any]) -> dict[str, Any]:
    fields = {name: to_mantissa(p.get(key, default)) for key, name, default in _SUMMARY_FIELDS}
    greeks = p.get("greeks") or {}
    fields.update({g: to_mantissa(greeks.get(g)) for g in _GREEKS})
    rate = p.get("funding_rate", "0")
    fields.update(
        ts=int(p["created_at"]) * 1000,
        seq=int(p.get("seq_no") or 0),
        fundingRate=to_mantissa(rate),
        fundingRatePrecise=to_mantissa(rate, -12),
        market=p["symbol"],
    )
    return fields


def _funding_payload(m: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = {"market": m["market"]}
    for key, name in _FUNDING_FIELDS:
        payload[key] = _fmt(m[name])
    payload["funding_period_hours"] = m["fundingPeriodHours"]
    payload["created_at"] = m["createdAt"] // 1000
    payload["seq_no"] = m["seq"]
    return payload


def _funding_fields(p: Mapping[str, Any]) -> dict[str, Any]:
    fields = {name: to_mantissa(p.get(key)) for key, name in _FUNDING_FIELDS}
    fields.update(
        ts=int(p["created_at"]) * 1000,
        seq=int(p.get("seq_no") or 0),
        createdAt=int(p["created_at"]) * 1000,
        fundingPeriodHours=int(p.get("funding_period_hours") or 8),
        market=p["market"],
    )
    return fields


def _comparison_payload(m: dict[str, Any]) -> dict[str, Any]:
    return {
        "symbol": m["market"],
        "asset_kind": m["assetKind"],
        "source": m["source"],
        "hourly_funding_rate": _fmt(m["hourlyFundingRate"], -12),
        "last_updated_at": m["lastUpdatedAt"] // 1000,
    }


def _comparison_fields(p: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "ts": int(p["last_updated_at"]) * 1000,
        "lastUpdatedAt": int(p["last_updated_at"]) * 1000,
        "hourlyFundingRate": to_mantissa(p["hourly_funding_rate"], -12),
        "assetKind": p.get("asset_kind") or "UNSPECIFIED",
        "source": p.get("source") or "UNSPECIFIED",
        "market": p["symbol"],
    }


def _heartbeat_payload(m: dict[str, Any]) -> dict[str, Any]:
    return {"timestamp": m["ts"] // 1000, "seq_no": m["seq"]}


def _heartbeat_fields(p: Mapping[str, Any]) -> dict[str, Any]:
    return {"ts": int(p["timestamp"]) * 1000, "seq": int(p.get("seq_no") or 0)}


_Channel = tuple[str, Callable[[dict[str, Any]], dict[str, Any]], Callable[[Mapping[str, Any]], dict[str, Any]]]
_CHANNELS: dict[str, _Channel] = {
    "trades": ("TradeEvent", _trade_payload, _trade_fields),
    "bbo": ("BboEvent", _bbo_payload, _bbo_fields),
    "order_book": ("BookEvent", _book_payload, _book_fields),
    "markets_summary": ("MarketSummaryEvent", _summary_payload, _summary_fields),
    "funding_data": ("FundingDataEvent", _funding_payload, _funding_fields),
    "funding_rate_comparison": ("FundingRateComparisonEvent", _comparison_payload, _comparison_fields),
    "heartbeat": ("HeartbeatEvent", _heartbeat_payload, _heartbeat_fields),
}
_KIND_BY_TEMPLATE = {template: (kind, to_payload) for kind, (template, to_payload, _) in _CHANNELS.items()}
CHANNEL_KINDS: tuple[str, ...] = tuple(_CHANNELS)


def frame_to_payload(frame: bytes | bytearray | memoryview) -> tuple[str, dict[str, Any]]:
    """Decode a public-channel frame into ``(channel_kind, JSON-shaped payload)``.

    Raises ``SbeDecodeError`` for malformed frames and for templates that are not public channels.
    """
    name, fields = _decode(frame, raw_groups=True)
    entry = _KIND_BY_TEMPLATE.get(name)
    if entry is None:
        raise SbeDecodeError(f"{name} frames do not belong to a public channel")
    kind, to_payload = entry
    return kind, to_payload(fields)


def payload_to_frame(
    channel_kind: str,
    payload: Mapping[str, Any],
    *,
    ts_us: int | None = None,
    version: int = S.SCHEMA_VERSION,
) -> bytes:
    """Encode a JSON-shaped channel payload as an SBE frame (what the simulator serves).

    ``ts_us`` sets the feed publish time; by default it is the payload's own timestamp.
    """
    channel = _CHANNELS.get(channel_kind)
    if channel is None:
        raise SbeEncodeError(f"unknown channel kind {channel_kind!r}; expected one of {CHANNEL_KINDS}")
    template, _, to_fields = channel
    try:
        fields = to_fields(payload)
    except KeyError as exc:
        raise SbeEncodeError(f"{channel_kind} payload lacks {exc}") from exc
    except (TypeError, ValueError, IndexError) as exc:
        if isinstance(exc, SbeEncodeError):
            raise
        raise SbeEncodeError(f"{channel_kind} payload is malformed: {exc}") from exc
    if ts_us is not None:
        fields["ts"] = ts_us
    return encode(template, fields, version=version)
