"""Paradex SBE codec: hand-built frames, round trips, forward compatibility and hostile input."""

from __future__ import annotations

import struct
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flashscalper.errors import MalformedMessage
from flashscalper.exchanges.paradex import sbe
from flashscalper.exchanges.paradex import sbe_schema as S
from flashscalper.exchanges.paradex.sbe import SbeDecodeError, SbeEncodeError, SbeUnknownTemplate

NULL64 = -(2**63)
TS = 1_764_000_000_123_456  # µs
MS = TS // 1000


def header(block_length: int, template_id: int, schema_id: int = 1, version: int = 2) -> bytes:
    return struct.pack("<HHHH", block_length, template_id, schema_id, version)


def var(text: str) -> bytes:
    raw = text.encode()
    return bytes([len(raw)]) + raw


# ── strategies that build valid field values straight from the schema tables ────────────────────


def field_values(f: S.Field) -> st.SearchStrategy[Any]:
    t = f.type
    if isinstance(t, S.Enum):
        base: st.SearchStrategy[Any] = st.sampled_from(sorted(t.values))
    elif isinstance(t, S.BitSet):
        bits = sorted(t.choices.items(), key=lambda kv: kv[1])
        base = st.sets(st.sampled_from([n for n, _ in bits])).map(lambda chosen: [n for n, _ in bits if n in chosen])
    elif isinstance(t, S.Address):
        base = st.integers(0, 2**252 - 1).map(hex)
    else:
        p = S.PRIMITIVES[t.primitive]
        lo, hi = (0, p.null) if p.fmt.isupper() else (p.null, -p.null - 1)  # SBE nulls are the type's extremes
        # the null sentinel reads back as None on optional fields, so keep it out of the values
        base = st.integers(lo, hi).filter(lambda v: not (f.is_optional and v == p.null))
    return st.one_of(st.none(), base) if f.is_optional else base


def message_values(msg: S.Message) -> st.SearchStrategy[dict[str, Any]]:
    parts: dict[str, st.SearchStrategy[Any]] = {f.name: field_values(f) for f in msg.fields}
    for g in msg.groups:
        entry = st.fixed_dictionaries({f.name: field_values(f) for f in g.fields})
        parts[g.name] = st.lists(entry, max_size=20)
    for v in msg.var_data:
        parts[v.name] = st.text(max_size=40).filter(lambda s: len(s.encode()) <= 255)
    return st.fixed_dictionaries(parts)


# ── hand-checked frames ──────────────────────────────────────────────────────────────────────────


def test_bbo_frame_built_byte_by_byte_decodes_to_best_bid_and_empty_ask() -> None:
    frame = (
        header(48, 2)
        + struct.pack("<q", TS)  # ts
        + struct.pack("<q", 987_654)  # seq
        + struct.pack("<q", 4_200_050_000_000)  # bidPrice 42000.50
        + struct.pack("<q", 100_000)  # bidSize 0.001
        + struct.pack("<q", NULL64)  # askPrice: no asks
        + struct.pack("<q", NULL64)  # askSize
        + b"\x0cBTC-USD-PERP"
    )
    assert sbe.decode(frame) == (
        "BboEvent",
        {
            "ts": TS,
            "seq": 987_654,
            "bidPrice": 4_200_050_000_000,
            "bidSize": 100_000,
            "askPrice": None,
            "askSize": None,
            "market": "BTC-USD-PERP",
        },
    )
    assert sbe.frame_to_payload(frame) == (
        "bbo",
        {
            "market": "BTC-USD-PERP",
            "bid": "42000.5",
            "bid_size": "0.001",
            "ask": None,
            "ask_size": None,
            "last_updated_at": MS,
            "seq_no": 987_654,
        },
    )
    # and our encoder writes exactly these bytes
    assert sbe.encode("BboEvent", sbe.decode(frame)[1]) == frame


def test_book_delta_frame_built_byte_by_byte_yields_bids_asks_and_removals() -> None:
    fixed = struct.pack("<qqB", TS, 55, 1)  # ts, seq, pkgType DELTA
    fixed += struct.pack("<q", 6_000_010_000_000) + struct.pack("<q", 150_000_000)  # bestBid 60000.1 x 1.5
    fixed += struct.pack("<qqq", NULL64, NULL64, NULL64)  # bestAsk price/size, relativeSpread
    fixed += struct.pack("<qqqq", NULL64, NULL64, NULL64, NULL64)  # API-feed best prices
    assert len(fixed) == 89  # the BookEvent block length the schema documents
    frame = (
        header(89, 3)
        + fixed
        + struct.pack("<HH", 16, 2)  # bids: 16-byte entries, two of them
        + struct.pack("<qq", 6_000_010_000_000, 150_000_000)
        + struct.pack("<qq", 5_999_900_000_000, 0)  # size 0: remove 59999
        + struct.pack("<HH", 16, 1)
        + struct.pack("<qq", 6_000_050_000_000, 25_000_000)
        + var("BTC-USD-PERP")
    )
    name, fields = sbe.decode(frame)
    assert name == "BookEvent"
    assert fields["pkgType"] == "DELTA"
    assert fields["bids"] == [
        {"price": 6_000_010_000_000, "size": 150_000_000},
        {"price": 5_999_900_000_000, "size": 0},
    ]
    assert fields["asks"] == [{"price": 6_000_050_000_000, "size": 25_000_000}]
    kind, book = sbe.frame_to_payload(frame)
    assert kind == "order_book"
    assert book["update_type"] == "d"
    assert book["seq_no"] == 55
    assert book["bids"] == [["60000.1", "1.5"], ["59999", "0"]]
    assert book["asks"] == [["60000.5", "0.25"]]
    assert book["best_bid_interactive"] == {"side": "BUY", "price": "60000.1", "size": "1.5"}
    assert book["best_ask_interactive"] is None and book["best_bid_api"] is None
    assert sbe.encode("BookEvent", fields) == frame


def test_trade_frame_prefers_full_trade_id_string_over_wrapped_int64() -> None:
    real_id = "1764000000123456789012345678"  # 28 digits, as Paradex issues them
    low64 = int(real_id) % 2**64
    wrapped = low64 - 2**64 if low64 >= 2**63 else low64
    frame = (
        header(50, 1)
        + struct.pack("<qqqBqqqB", TS, 77, wrapped, 2, 6_000_000_000_000, 5_000_000, TS - 10, 1)
        + var("BTC-USD-PERP")
        + var(real_id)
    )
    _, fields = sbe.decode(frame)
    assert fields["side"] == "SELL" and fields["tradeType"] == "FILL"
    assert fields["tradeIdStr"] == real_id
    assert sbe.frame_to_payload(frame) == (
        "trades",
        {
            "id": real_id,
            "market": "BTC-USD-PERP",
            "side": "SELL",
            "price": "60000",
            "size": "0.05",
            "created_at": (TS - 10) // 1000,
            "trade_type": "FILL",
            "seq_no": 77,
        },
    )
    # the simulator's encoder wraps the int64 the same way the venue does
    reencoded = sbe.payload_to_frame("trades", sbe.frame_to_payload(frame)[1])
    assert sbe.decode(reencoded)[1]["tradeId"] == wrapped


def test_block_lengths_match_the_sizes_the_schema_documents() -> None:
    def block_length(template: str, version: int) -> int:
        values = {f.name: 0 for m in S.MESSAGES if m.name == template for f in m.fields}
        return struct.unpack_from("<H", sbe.encode(template, values, version=version))[0]

    assert block_length("BookEvent", 2) == 89
    assert block_length("OrderEvent", 1) == 126
    assert block_length("FillEvent", 1) == 107
    assert block_length("AccountEvent", 1) == 113


# ── round trips ──────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("msg", S.MESSAGES, ids=lambda m: m.name)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_every_template_round_trips(msg: S.Message, data: st.DataObject) -> None:
    values = data.draw(message_values(msg))
    name, decoded = sbe.decode(sbe.encode(msg.name, values))
    assert name == msg.name
    assert decoded == values


PAYLOADS: dict[str, dict[str, Any]] = {
    "trades": {
        "id": "1764000000123456789012345678",
        "market": "ETH-USD-PERP",
        "side": "BUY",
        "price": "3012.25",
        "size": "1.234",
        "created_at": MS,
        "trade_type": "LIQUIDATION",
        "seq_no": 4,
    },
    "bbo": {
        "market": "ETH-USD-PERP",
        "bid": "3012.2",
        "bid_size": "10",
        "ask": "3012.3",
        "ask_size": "0.5",
        "last_updated_at": MS,
        "seq_no": 9,
    },
    "order_book": {
        "market": "ETH-USD-PERP",
        "seq_no": 10,
        "last_updated_at": MS,
        "update_type": "s",
        "bids": [["3012.2", "10"], ["3012.1", "4.5"]],
        "asks": [["3012.3", "0.5"]],
        "relative_spread": "0.00003319",
        "best_bid_api": {"side": "BUY", "price": "3012.2", "size": "10"},
        "best_ask_api": {"side": "SELL", "price": "3012.3", "size": "0.5"},
        "best_bid_interactive": None,
        "best_ask_interactive": None,
    },
    "markets_summary": {
        "symbol": "BTC-USD-PERP",
        "mark_price": "60000.12",
        "underlying_price": "60001",
        "last_traded_price": "59999.9",
        "volume_24h": "123456789.5",
        "open_interest": "812.3",
        "bid": "59999.9",
        "bid_size": "1.2",
        "ask": "60000",
        "ask_size": "0.3",
        "total_volume": "92233720368.54775807",
        "price_change_rate_24h": "-0.0123",
        "mark_iv": None,
        "bid_iv": None,
        "ask_iv": None,
        "last_iv": None,
        "future_funding_rate": None,
        "external_fair_price": None,
        "forward_rate": None,
        "risk_free_rate": None,
        "funding_rate": "0.000100000012",
        "greeks": None,
        "created_at": MS,
        "seq_no": 3,
    },
    "funding_data": {
        "market": "BTC-USD-PERP",
        "funding_rate": "0.0000125",
        "funding_index": "1234.56789",
        "funding_premium": "-0.00002",
        "funding_rate_8h": "0.0001",
        "impact_premium_rate": None,
        "funding_period_hours": 8,
        "created_at": MS,
        "seq_no": 12,
    },
    "funding_rate_comparison": {
        "symbol": "BTC-USD-PERP",
        "asset_kind": "PERPETUAL_FUTURE",
        "source": "BINANCE",
        "hourly_funding_rate": "0.000000000001",
        "last_updated_at": MS,
    },
    "heartbeat": {"timestamp": MS, "seq_no": 99},
}


@pytest.mark.parametrize("kind", sbe.CHANNEL_KINDS)
def test_channel_payload_survives_the_binary_wire(kind: str) -> None:
    frame = sbe.payload_to_frame(kind, PAYLOADS[kind])
    assert sbe.frame_to_payload(frame) == (kind, PAYLOADS[kind])


def test_json_book_changes_become_bid_and_ask_levels_with_deletes_as_zero() -> None:
    json_delta = {
        "market": "BTC-USD-PERP",
        "seq_no": 8,
        "last_updated_at": MS,
        "update_type": "d",
        "inserts": [{"side": "BUY", "price": "100.5", "size": "2"}],
        "updates": [{"side": "SELL", "price": "101", "size": "3"}],
        "deletes": [{"side": "BUY", "price": "99", "size": "0"}, {"side": "SELL", "price": "102", "size": "0"}],
    }
    _, book = sbe.frame_to_payload(sbe.payload_to_frame("order_book", json_delta))
    assert book["bids"] == [["100.5", "2"], ["99", "0"]]
    assert book["asks"] == [["101", "3"], ["102", "0"]]


def test_funding_rate_keeps_twelve_decimals_in_precise_field_and_truncates_rate8() -> None:
    source_rate = {**PAYLOADS["markets_summary"], "funding_rate": "0.00010000001298"}  # 14 dp at source
    frame = sbe.payload_to_frame("markets_summary", source_rate)
    _, fields = sbe.decode(frame)
    assert fields["fundingRate"] == 10_000  # 0.00010000 at exponent -8
    assert fields["fundingRatePrecise"] == 100_000_012  # 0.000100000012 at exponent -12
    _, payload = sbe.frame_to_payload(frame)
    assert payload["funding_rate"] == "0.000100000012"


def test_frames_decode_the_same_from_bytearray_and_memoryview() -> None:
    frame = sbe.payload_to_frame("order_book", PAYLOADS["order_book"])
    for view in (bytearray(frame), memoryview(frame)):
        assert sbe.frame_to_payload(view) == ("order_book", PAYLOADS["order_book"])
        assert sbe.decode(view) == sbe.decode(frame)


# ── versions and forward compatibility ───────────────────────────────────────────────────────────


def test_version_zero_summary_reads_without_v1_fields_and_falls_back_to_rate8() -> None:
    frame = sbe.payload_to_frame("markets_summary", PAYLOADS["markets_summary"], version=0)
    assert struct.unpack_from("<HHHH", frame) == (216, 4, 1, 0)
    _, fields = sbe.decode(frame)
    assert fields["forwardRate"] is None and fields["fundingRatePrecise"] is None
    assert sbe.frame_to_payload(frame)[1]["funding_rate"] == "0.0001"


def test_pre_1_2_trade_frame_without_id_string_falls_back_to_the_int64() -> None:
    frame = sbe.payload_to_frame("trades", {**PAYLOADS["trades"], "id": "424242"}, version=1)
    _, payload = sbe.frame_to_payload(frame)
    assert payload["id"] == "424242"


def test_newer_server_frame_with_longer_blocks_and_extra_strings_still_decodes() -> None:
    bbo = sbe.payload_to_frame("bbo", PAYLOADS["bbo"])
    block = bbo[8:56]
    future = header(48 + 8, 2, version=3) + block + b"\xee" * 8 + bbo[56:] + var("a field from 1:3")
    assert sbe.frame_to_payload(future) == ("bbo", PAYLOADS["bbo"])

    book = sbe.decode(sbe.payload_to_frame("order_book", PAYLOADS["order_book"]))[1]
    levels = b"".join(struct.pack("<qqI", lvl["price"], lvl["size"], 0xDEAD) for lvl in book["bids"])
    frame = (
        header(89, 3)
        + sbe.payload_to_frame("order_book", PAYLOADS["order_book"])[8:97]
        + struct.pack("<HH", 20, len(book["bids"]))  # 20-byte entries: 4 unknown bytes each
        + levels
        + struct.pack("<HH", 16, 0)
        + var("ETH-USD-PERP")
    )
    assert sbe.decode(frame)[1]["bids"] == book["bids"]
    assert sbe.frame_to_payload(frame)[1]["bids"] == PAYLOADS["order_book"]["bids"]


def test_order_event_1_2_frame_in_the_old_layout_reads_appended_fields_as_absent() -> None:
    values = {f.name: 0 for f in S.ORDER_EVENT.fields} | {"orderId": "o1", "market": "BTC-USD-PERP"}
    old = sbe.encode("OrderEvent", values, version=1)
    relabelled = header(126, 20, version=2) + old[8:]  # 1:2 header, 1:1 block and var-data
    _, fields = sbe.decode(relabelled)
    assert fields["requestStatus"] is None and fields["requestId"] is None
    assert fields["orderId"] == "o1" and fields["cancelReason"] == ""


# ── hostile input ────────────────────────────────────────────────────────────────────────────────


def test_every_truncation_of_a_bbo_frame_is_a_decode_error() -> None:
    frame = sbe.payload_to_frame("bbo", PAYLOADS["bbo"])
    for cut in range(len(frame)):
        with pytest.raises(SbeDecodeError):
            sbe.decode(frame[:cut])


def test_unknown_template_is_typed_so_the_client_can_skip_it() -> None:
    frame = header(16, 99) + bytes(16)
    with pytest.raises(SbeUnknownTemplate) as err:
        sbe.decode(frame)
    assert err.value.template_id == 99


def test_wrong_schema_id_is_refused() -> None:
    frame = sbe.payload_to_frame("heartbeat", PAYLOADS["heartbeat"])
    with pytest.raises(SbeDecodeError, match="schema id 2"):
        sbe.decode(frame[:4] + struct.pack("<H", 2) + frame[6:])


def test_block_shorter_than_version_zero_and_bad_utf8_are_refused() -> None:
    with pytest.raises(SbeDecodeError, match="blockLength"):
        sbe.decode(header(8, 40) + bytes(8))
    with pytest.raises(SbeDecodeError):
        sbe.decode(header(17, 41) + bytes(17) + b"\x02\xff\xfe")


def test_private_frames_are_not_public_channel_payloads() -> None:
    values = {f.name: 0 for f in S.ACCOUNT_EVENT.fields}
    with pytest.raises(SbeDecodeError, match="public channel"):
        sbe.frame_to_payload(sbe.encode("AccountEvent", values))


def test_decode_error_is_a_value_error_and_a_malformed_message() -> None:
    assert issubclass(SbeDecodeError, ValueError)
    assert issubclass(SbeDecodeError, MalformedMessage)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_only_ever_raise_decode_errors(blob: bytes) -> None:
    for fn in (sbe.decode, sbe.frame_to_payload):
        try:
            fn(blob)
        except SbeDecodeError:
            pass


@settings(max_examples=400, deadline=None)
@given(
    template_id=st.sampled_from([m.template_id for m in S.MESSAGES]),
    block_length=st.integers(0, 300),
    version=st.integers(0, 4),
    body=st.binary(max_size=400),
)
def test_random_bodies_behind_valid_headers_only_raise_decode_errors(
    template_id: int, block_length: int, version: int, body: bytes
) -> None:
    frame = header(block_length, template_id, version=version) + body
    for fn in (sbe.decode, sbe.frame_to_payload):
        try:
            fn(frame)
        except SbeDecodeError:
            pass


# ── encoding mistakes and decimal conversion ─────────────────────────────────────────────────────


def test_encoder_names_what_is_wrong() -> None:
    with pytest.raises(SbeEncodeError, match="'seq' is missing"):
        sbe.encode("HeartbeatEvent", {"ts": TS})
    with pytest.raises(SbeEncodeError, match="varString8"):
        sbe.encode("SubscribedEvent", {"ts": TS, "seq": 1, "status": 0, "channel": "x" * 256})
    with pytest.raises(SbeEncodeError, match="out of range"):
        sbe.encode("HeartbeatEvent", {"ts": 2**63, "seq": 1})
    with pytest.raises(SbeEncodeError, match="Side"):
        sbe.payload_to_frame("trades", {**PAYLOADS["trades"], "side": "LONG"})
    with pytest.raises(SbeEncodeError, match="float"):
        sbe.payload_to_frame("bbo", {**PAYLOADS["bbo"], "bid": 3012.2})
    with pytest.raises(SbeEncodeError, match="lacks"):
        sbe.payload_to_frame("bbo", {"market": "ETH-USD-PERP"})
    with pytest.raises(SbeEncodeError, match="channel kind"):
        sbe.payload_to_frame("klines", {})


@given(st.integers(-(2**63), 2**63 - 1), st.sampled_from([-8, -12]))
def test_decimal_strings_match_decimal_arithmetic_and_convert_back(mantissa: int, exponent: int) -> None:
    text = sbe.mantissa_to_str(mantissa, exponent)
    assert text is not None
    assert Decimal(text) == sbe.mantissa_to_decimal(mantissa, exponent)
    assert "E" not in text and not (text.endswith("0") and "." in text)
    assert sbe.to_mantissa(text, exponent) == mantissa
