"""Table-driven SBE codec for Paradex public WebSocket frames.

``encode``/``decode`` speak the schema's own field names (camelCase, int64 mantissas, µs timestamps)
for every template in ``sbe_schema.MESSAGES``. ``frame_to_payload``/``payload_to_frame`` translate
the public channels to and from the dict shapes of the JSON channels (decimal strings, ms
timestamps, ``seq_no``), so the client and the simulator can treat SBE as just another transport;
they live in ``sbe_payloads`` and are re-exported here.

Each fixed block is compiled into one ``struct.Struct`` per schema version, so decoding a block is a
single ``unpack_from`` plus fix-ups for the few fields that need them (null sentinels, enums).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from flashscalper.errors import MalformedMessage

from . import sbe_schema as S

if TYPE_CHECKING:
    from .sbe_payloads import CHANNEL_KINDS, frame_to_payload, payload_to_frame

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


# ── re-exports of the payload mapping ──────────────────────────────────────────────────────────────

_PAYLOAD_NAMES = frozenset({"CHANNEL_KINDS", "frame_to_payload", "payload_to_frame"})


def __getattr__(name: str) -> Any:
    # sbe_payloads imports this codec, so it is loaded on first use (PEP 562) rather than at import:
    # either module can then be imported first
    if name in _PAYLOAD_NAMES:
        from . import sbe_payloads

        value = getattr(sbe_payloads, name)
        globals()[name] = value  # later look-ups bypass this hook
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
