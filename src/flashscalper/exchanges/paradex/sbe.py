"""Table-driven SBE codec for Paradex public WebSocket frames, plus JSON-shaped payload mapping.

``encode``/``decode`` speak the schema's own field names (camelCase, int64 mantissas, µs timestamps)
for every template in ``sbe_schema.MESSAGES``. ``frame_to_payload``/``payload_to_frame`` translate
the public channels to and from the dict shapes of the JSON channels (decimal strings, ms
timestamps, ``seq_no``), so the client and the simulator can treat SBE as just another transport.

Each fixed block is compiled into one ``struct.Struct`` per schema version, so decoding a block is a
single ``unpack_from`` plus fix-ups for the few fields that need them (null sentinels, enums).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from flashscalper.errors import MalformedMessage

from . import sbe_schema as S

__all__ = [
    "CHANNEL_KINDS",
    "SbeDecodeError",
    "SbeEncodeError",
    "SbeUnknownTemplate",
    "decode",
    "encode",
    "frame_to_payload",
    "mantissa_to_decimal",
    "mantissa_to_str",
    "payload_to_frame",
    "to_mantissa",
]


class SbeDecodeError(MalformedMessage, ValueError):
    """A binary frame could not be decoded: truncated, wrong schema id or otherwise malformed."""


class SbeUnknownTemplate(SbeDecodeError):
    """The frame's template id is not in our schema (a newer server); skip the frame, keep the socket."""

    def __init__(self, message: str, *, template_id: int) -> None:
        super().__init__(message)
        self.template_id = template_id


class SbeEncodeError(ValueError):
    """Values could not be encoded: a required field is missing or a value does not fit its type."""


_HEADER = struct.Struct(S.MESSAGE_HEADER_FORMAT)
_GROUP = struct.Struct(S.GROUP_SIZE_FORMAT)
_MISSING = object()

# ── compiled blocks ──────────────────────────────────────────────────────────────────────────────


class _Layout:
    """One version's view of a fixed block: its struct and the per-field fix-ups it needs."""

    __slots__ = ("calls", "count", "lookups", "nulls", "pad", "plain", "size", "struct", "version")

    def __init__(self, fields: tuple[S.Field, ...], count: int, version: int) -> None:
        used = fields[:count]
        self.version = version
        self.count = count
        self.struct = struct.Struct("<" + "".join(_wire_format(f.type) for f in used))
        self.size = self.struct.size
        self.nulls = tuple(
            (i, S.PRIMITIVES[f.type.primitive].null)  # type: ignore[union-attr]
            for i, f in enumerate(used)
            if f.is_optional
        )
        self.lookups = tuple(
            (i, {v: k for k, v in f.type.values.items()}, f.type.fallback)
            for i, f in enumerate(used)
            if isinstance(f.type, S.Enum)
        )
        self.calls = tuple(
            (i, _decoder_for(f.type)) for i, f in enumerate(used) if isinstance(f.type, S.BitSet | S.Address)
        )
        self.pad = (None,) * (len(fields) - count)  # fields newer than this layout read as absent
        self.plain = not (self.nulls or self.lookups or self.calls or self.pad)


class _Block:
    """A fixed block (message root or group entry) compiled from its field table."""

    def __init__(self, fields: tuple[S.Field, ...], where: str) -> None:
        versions = [f.since_version for f in fields]
        if versions != sorted(versions):
            raise ValueError(f"{where}: fields must be appended in since_version order")
        self.fields = fields
        self.names = tuple(f.name for f in fields)
        self.layouts = tuple(
            _Layout(fields, sum(1 for v in versions if v <= ver), ver) for ver in sorted(set(versions) | {0})
        )
        self.full = self.layouts[-1]
        self.encoders = tuple((f.name, _encoder_for(f)) for f in fields)

    def layout_for(self, block_length: int, version: int) -> _Layout:
        """Newest layout the frame's version admits and its blockLength fully holds."""
        full = self.full
        if block_length >= full.size and version >= full.version:
            return full
        for layout in reversed(self.layouts):
            if layout.size <= block_length and layout.version <= version:
                return layout
        raise SbeDecodeError(f"blockLength {block_length} is shorter than the {self.layouts[0].size}-byte block")

    def unpack(self, buf: Any, offset: int, layout: _Layout) -> dict[str, Any]:
        if layout.plain:
            return dict(zip(self.names, layout.struct.unpack_from(buf, offset), strict=True))
        vals = list(layout.struct.unpack_from(buf, offset))
        for i, null in layout.nulls:
            if vals[i] == null:
                vals[i] = None
        for i, names, fallback in layout.lookups:
            v = vals[i]
            vals[i] = names.get(v, v if fallback is None else fallback)
        for i, fn in layout.calls:
            vals[i] = fn(vals[i])
        vals.extend(layout.pad)
        return dict(zip(self.names, vals, strict=True))

    def pack(self, values: Mapping[str, Any], layout: _Layout) -> bytes:
        wire = [enc(values.get(name, _MISSING), name) for name, enc in self.encoders[: layout.count]]
        try:
            return layout.struct.pack(*wire)
        except struct.error as exc:
            raise SbeEncodeError(f"value out of range for its wire type: {exc}") from exc


def _wire_format(t: S.FieldType) -> str:
    if isinstance(t, S.Address):
        return f"{t.length}s"
    return S.PRIMITIVES[t.primitive].fmt


def _decoder_for(t: S.FieldType) -> Callable[[Any], Any]:
    if isinstance(t, S.Address):
        return lambda raw: hex(int.from_bytes(raw, "big"))
    assert isinstance(t, S.BitSet)
    bits = {bit: name for name, bit in t.choices.items()}
    width = S.PRIMITIVES[t.primitive].size * 8
    # unnamed bits survive as BIT<n> so a decode/encode round trip loses nothing
    return lambda raw: [bits.get(b, f"BIT{b}") for b in range(width) if raw >> b & 1]


def _encoder_for(f: S.Field) -> Callable[[Any, str], Any]:
    t, optional = f.type, f.is_optional
    null = None if isinstance(t, S.Address) else S.PRIMITIVES[t.primitive].null

    def absent(name: str) -> Any:
        if optional:
            return null
        raise SbeEncodeError(f"required field {name!r} is missing")

    if isinstance(t, S.Enum):
        codes = t.values

        def enc_enum(v: Any, name: str) -> Any:
            if v is None or v is _MISSING:
                return absent(name)
            if isinstance(v, str):
                if v not in codes:
                    raise SbeEncodeError(f"{name}: {v!r} is not a {t.name} value")
                return codes[v]
            return v

        return enc_enum
    if isinstance(t, S.BitSet):
        choices = t.choices

        def enc_set(v: Any, name: str) -> Any:
            if v is None or v is _MISSING:
                return absent(name) if optional else 0
            if isinstance(v, int):
                return v
            mask = 0
            for choice in v:
                bit = choices.get(choice)
                if bit is None and choice.startswith("BIT") and choice[3:].isdigit():
                    bit = int(choice[3:])
                if bit is None:
                    raise SbeEncodeError(f"{name}: {choice!r} is not a {t.name} choice")
                mask |= 1 << bit
            return mask

        return enc_set
    if isinstance(t, S.Address):
        length = t.length

        def enc_address(v: Any, name: str) -> bytes:
            if v is None or v is _MISSING:
                return bytes(length)
            if isinstance(v, bytes) and len(v) == length:
                return v
            try:
                return (v if isinstance(v, int) else int(v, 16)).to_bytes(length, "big")
            except (ValueError, OverflowError, TypeError) as exc:
                raise SbeEncodeError(f"{name}: {v!r} is not a {length}-byte hex address") from exc

        return enc_address

    def enc_int(v: Any, name: str) -> Any:
        if v is None or v is _MISSING:
            return absent(name)
        return v

    return enc_int


class _Codec:
    """One template compiled from its ``Message`` table."""

    def __init__(self, msg: S.Message) -> None:
        self.name = msg.name
        self.template_id = msg.template_id
        self.block = _Block(msg.fields, msg.name)
        self.groups = tuple((g.name, g.since_version, _Block(g.fields, f"{msg.name}.{g.name}")) for g in msg.groups)
        self.var_data = tuple((v.name, v.since_version) for v in msg.var_data)

    def decode_body(self, buf: Any, block_length: int, version: int, raw_groups: bool) -> dict[str, Any]:
        size = len(buf)
        offset = 8 + block_length
        if offset > size:
            raise SbeDecodeError(f"{self.name}: frame of {size} bytes is shorter than its fixed block")
        block = self.block
        out = block.unpack(buf, 8, block.layout_for(block_length, version))
        for name, since, gblock in self.groups:
            if since > version:
                out[name] = []
                continue
            if offset + 4 > size:
                raise SbeDecodeError(f"{self.name}.{name}: truncated group header")
            entry_length, count = _GROUP.unpack_from(buf, offset)
            offset += 4
            layout = gblock.layout_for(entry_length, version)
            stop = offset + entry_length * count
            if stop > size:
                raise SbeDecodeError(f"{self.name}.{name}: {count} entries do not fit in the frame")
            if layout.plain and entry_length == layout.size:
                rows = layout.struct.iter_unpack(buf[offset:stop])
                names = gblock.names
                out[name] = list(rows) if raw_groups else [dict(zip(names, t, strict=True)) for t in rows]
            elif layout.plain and raw_groups:  # longer entries from a newer schema: skip their tails
                out[name] = [layout.struct.unpack_from(buf, offset + k * entry_length) for k in range(count)]
            else:
                out[name] = [gblock.unpack(buf, offset + k * entry_length, layout) for k in range(count)]
            offset = stop
        for name, since in self.var_data:
            if since > version or (since and offset >= size):
                out[name] = None  # appended var-data may be absent at the end of the frame
                continue
            if offset >= size:
                raise SbeDecodeError(f"{self.name}.{name}: truncated before its length byte")
            stop = offset + 1 + buf[offset]
            if stop > size:
                raise SbeDecodeError(f"{self.name}.{name}: string runs past the end of the frame")
            out[name] = str(buf[offset + 1 : stop], "utf-8")
            offset = stop
        return out

    def encode(self, values: Mapping[str, Any], version: int) -> bytes:
        layout = self.block.layout_for(self.block.full.size, version)
        parts = [_HEADER.pack(layout.size, self.template_id, S.SCHEMA_ID, version), self.block.pack(values, layout)]
        for name, since, gblock in self.groups:
            if since > version:
                continue
            entries = list(values.get(name) or ())
            glayout = gblock.layout_for(gblock.full.size, version)
            if len(entries) > 0xFFFF:
                raise SbeEncodeError(f"{self.name}.{name}: {len(entries)} entries exceed numInGroup")
            parts.append(_GROUP.pack(glayout.size, len(entries)))
            parts.extend(gblock.pack(e, glayout) for e in entries)
        for name, since in self.var_data:
            if since > version:
                continue
            raw = (values.get(name) or "").encode()
            if len(raw) > S.VAR_STRING_MAX:
                raise SbeEncodeError(f"{self.name}.{name}: {len(raw)} bytes exceed varString8")
            parts.append(bytes((len(raw),)))
            parts.append(raw)
        return b"".join(parts)


_BY_ID: dict[int, _Codec] = {m.template_id: _Codec(m) for m in S.MESSAGES}
_BY_NAME: dict[str, _Codec] = {c.name: c for c in _BY_ID.values()}


def decode(frame: bytes | bytearray | memoryview) -> tuple[str, dict[str, Any]]:
    """Decode one binary frame into ``(template_name, fields)``.

    Numeric composites come back as raw int mantissas (``None`` when an optional one is null),
    enums as their names, timestamps in µs, group entries as dicts. Fields and strings newer than
    the frame are ``None``. Raises ``SbeDecodeError`` (``SbeUnknownTemplate`` for unknown template ids).
    """
    return _decode(frame, raw_groups=False)


def _decode(frame: bytes | bytearray | memoryview, raw_groups: bool) -> tuple[str, dict[str, Any]]:
    # raw_groups: entries of groups without fix-ups stay tuples in field order (the book fast path)
    try:
        if len(frame) < _HEADER.size:
            raise SbeDecodeError(f"frame of {len(frame)} bytes is shorter than the 8-byte header")
        block_length, template_id, schema_id, version = _HEADER.unpack_from(frame, 0)
        if schema_id != S.SCHEMA_ID:
            raise SbeDecodeError(f"schema id {schema_id}, expected {S.SCHEMA_ID}")
        codec = _BY_ID.get(template_id)
        if codec is None:
            raise SbeUnknownTemplate(f"unknown SBE template id {template_id}", template_id=template_id)
        return codec.name, codec.decode_body(frame, block_length, version, raw_groups)
    except SbeDecodeError:
        raise
    except (struct.error, IndexError, UnicodeDecodeError) as exc:
        raise SbeDecodeError(f"malformed SBE frame: {exc}") from exc


def encode(template_name: str, values: Mapping[str, Any], *, version: int = S.SCHEMA_VERSION) -> bytes:
    """Encode ``values`` (schema field names) as a frame of ``template_name`` at schema ``version``.

    Optional fields left out or ``None`` go out as null; strings default to empty, groups to empty.
    Encoding at an older version drops the fields and strings added after it, as the server does.
    """
    codec = _BY_NAME.get(template_name)
    if codec is None:
        raise SbeEncodeError(f"unknown SBE template {template_name!r}")
    if not 0 <= version <= S.SCHEMA_VERSION:
        raise SbeEncodeError(f"schema version {version} is not one we can write")
    return codec.encode(values, version)


# ── decimal strings ↔ mantissas ──────────────────────────────────────────────────────────────────


def mantissa_to_str(mantissa: int | None, exponent: int = -8) -> str | None:
    """``mantissa × 10^exponent`` as a plain decimal string without trailing zeros ("42000.5").

    Same digits as ``Decimal(mantissa).scaleb(exponent)``, built by slicing the integer's digits
    because that is several times cheaper. Exponent -8 results are memoised: book prices repeat.
    """
    if mantissa is None:
        return None
    if exponent == -8:
        text = _FMT8_CACHE.get(mantissa)
        if text is None:
            if len(_FMT8_CACHE) >= _FMT8_CACHE_MAX:
                _FMT8_CACHE.clear()  # crude bound: a full reset is rare and cheap to refill
            text = _FMT8_CACHE[mantissa] = _digits(mantissa, 8)
        return text
    return _digits(mantissa, -exponent)


_FMT8_CACHE: dict[int, str] = {}
_FMT8_CACHE_MAX = 1 << 15


def _digits(mantissa: int, places: int) -> str:
    if mantissa < 0:
        return "-" + _digits(-mantissa, places)
    text = str(mantissa).rjust(places + 1, "0")
    whole, frac = text[:-places], text[-places:].rstrip("0")
    return f"{whole}.{frac}" if frac else whole


def mantissa_to_decimal(mantissa: int | None, exponent: int = -8) -> Decimal | None:
    """``mantissa × 10^exponent`` as an exact Decimal."""
    return None if mantissa is None else Decimal(mantissa).scaleb(exponent)


def to_mantissa(value: str | Decimal | int | None, exponent: int = -8) -> int | None:
    """Decimal string/Decimal/int → int mantissa, truncated toward zero past the exponent's digits.

    Truncation mirrors the venue (a Rate8 drops the digits a Rate12 keeps). ``None`` and "" → ``None``.
    """
    if value is None or value == "":
        return None
    if isinstance(value, float):
        raise SbeEncodeError(f"{value!r}: pass money as a decimal string or Decimal, not float")
    try:
        scaled = Decimal(value).scaleb(-exponent)
        mantissa = int(scaled)
    except (InvalidOperation, ValueError, TypeError, OverflowError) as exc:
        raise SbeEncodeError(f"{value!r} is not a finite decimal") from exc
    if not -(2**63) <= mantissa < 2**63:
        raise SbeEncodeError(f"{value!r} does not fit an int64 mantissa at exponent {exponent}")
    return mantissa


# ── JSON-shaped channel payloads ─────────────────────────────────────────────────────────────────
# Field names follow the JSON channels (protocol/paradex.md §6.3): decimal strings, ms timestamps,
# seq_no. Null SBE values become None. Each channel has a (frame fields → payload) function and a
# (payload → frame fields) function; the feed publish time ``ts`` defaults to the payload's own time.

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
