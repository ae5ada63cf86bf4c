"""Random frames thrown at the frame handler: it counts and skips them, and never raises."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flashscalper.exchanges.paradex.sbe import payload_to_frame
from flashscalper.exchanges.paradex.ws import ParadexWsClient

from . import payloads as P

VALID_FRAMES = [
    payload_to_frame("bbo", P.bbo()),
    payload_to_frame("trades", P.trade()),
    payload_to_frame("order_book", P.starting_book()),
    payload_to_frame("order_book", P.book(11, inserts=[P.level("BUY", "1", "1")])),
    payload_to_frame("markets_summary", P.summary()),
    payload_to_frame("funding_data", P.funding()),
]
CHANNELS = ["bbo.X", "trades.X", "order_book.X.deltas@15@50ms", "markets_summary", "funding_data.X", "orders.ALL",
            "fills.ALL", "positions", "account", "balance_events", "nope", ""]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=12,
)


@st.composite
def mutated_sbe(draw: st.DrawFn) -> bytes:
    frame = bytearray(draw(st.sampled_from(VALID_FRAMES)))
    for _ in range(draw(st.integers(0, 6))):
        frame[draw(st.integers(0, len(frame) - 1))] = draw(st.integers(0, 255))
    return bytes(frame[: draw(st.integers(0, len(frame)))])


@st.composite
def subscription_text(draw: st.DrawFn) -> str:
    data = draw(json_values | st.sampled_from([P.bbo(), P.order(), P.fill(), P.starting_book(), P.account()]))
    if isinstance(data, dict) and draw(st.booleans()):
        data = {**data, draw(st.sampled_from(list(data) or ["x"])): draw(json_values)}
    frame = {"jsonrpc": "2.0", "method": "subscription", "params": {"channel": draw(st.sampled_from(CHANNELS)),
                                                                    "data": data}}
    return json.dumps(frame)


frames = st.one_of(st.binary(max_size=200), mutated_sbe(), st.text(max_size=200), subscription_text(),
                   json_values.map(json.dumps))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=st.lists(frames, min_size=1, max_size=20))
def test_random_frames_never_raise_out_of_the_handler(batch: list[bytes | str]) -> None:
    client = ParadexWsClient("ws://127.0.0.1:1/v1/ws")
    for frame in batch:
        client.handle_frame(frame)
    stats = client.stats_snapshot()
    assert stats["messages"] == len(batch)
    assert stats["internal_errors"] == 0, "a frame reached a code path that raised something untyped"
