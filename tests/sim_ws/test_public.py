"""Public channels of the simulated Paradex WebSocket, in JSON mode and as SBE binary frames."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from flashscalper.domain import Side
from flashscalper.sim.server import Simulator

from .conftest import BTC, ETH, MAKER, Connect, Trader, place

D = Decimal
DELTAS = f"order_book.{BTC}.deltas@15@50ms"
SNAPSHOTS = f"order_book.{BTC}.snapshot@15@100ms"


def apply(book: dict[str, dict[D, D]], payload: dict[str, Any]) -> None:
    """Apply a JSON-mode book payload to {"BUY": {price: size}, "SELL": {...}}."""
    if payload["update_type"] == "s":
        book["BUY"].clear()
        book["SELL"].clear()
    for change in payload["inserts"] + payload["updates"]:
        book[change["side"]][D(change["price"])] = D(change["size"])
    for change in payload["deletes"]:
        del book[change["side"]][D(change["price"])]


def engine_book(sim: Simulator, market: str = BTC) -> dict[str, dict[D, D]]:
    snap = sim.exchange.book_snapshot(market, 1000)
    return {"BUY": {lvl.price: lvl.size for lvl in snap.bids}, "SELL": {lvl.price: lvl.size for lvl in snap.asks}}


async def test_trades_bbo_and_summary_follow_the_engine(sim: Simulator, connect: Connect) -> None:
    ws = await connect()
    for channel in (f"trades.{BTC}", "trades.ALL", f"bbo.{BTC}", "markets_summary", f"markets_summary.{ETH}"):
        assert await ws.result("subscribe", {"channel": channel}) == {"channel": channel}
    place(sim, MAKER, Side.SELL, "1", "95010")
    place(sim, MAKER, Side.BUY, "1", "94990")
    bbo = (await ws.pushes_on(f"bbo.{BTC}"))[-1]
    assert (D(bbo["bid"]), D(bbo["bid_size"]), D(bbo["ask"]), D(bbo["ask_size"])) == (D(94990), 1, D(95010), 1)

    sim.exchange.create_account("taker", D(1_000_000))
    taker = place(sim, "taker", Side.BUY, "0.25", "95010")
    trade = (await ws.pushes_on(f"trades.{BTC}"))[-1]
    assert trade["side"] == "BUY" and D(trade["size"]) == D("0.25") and D(trade["price"]) == D(95010)
    assert trade["market"] == BTC and trade["trade_type"] == "FILL" and taker.filled_size == D("0.25")
    assert (await ws.pushes_on("trades.ALL"))[-1]["id"] == trade["id"]
    await ws.wait_for(lambda: D(ws.on(f"bbo.{BTC}")[-1]["ask_size"]) == D("0.75"))

    sim.exchange.set_mark_price(ETH, D(3456))
    sim.exchange.set_mark_price(BTC, D(95001))
    eth = (await ws.pushes_on(f"markets_summary.{ETH}"))[-1]
    assert eth["symbol"] == ETH and D(eth["mark_price"]) == D(3456)
    everything = await ws.pushes_on("markets_summary", 2)
    assert {row["symbol"] for row in everything} == {ETH, BTC}
    btc = next(row for row in everything if row["symbol"] == BTC)
    assert D(btc["last_traded_price"]) == D(95010) and D(btc["volume_24h"]) == D("0.25")


async def test_funding_data_after_a_settlement(sim: Simulator, connect: Connect) -> None:
    ws = await connect()
    await ws.result("subscribe", {"channel": f"funding_data.{BTC}"})
    sim.exchange.set_mark_price(BTC, D(95500))
    sim.advance(sim.exchange.funding_interval_ms)
    row = (await ws.pushes_on(f"funding_data.{BTC}"))[-1]
    settled = sim.exchange.funding_history(BTC)[-1]
    assert row["market"] == BTC and D(row["funding_index"]) == settled.funding_index
    assert row["created_at"] == settled.ts and row["funding_period_hours"] == 8


async def test_deltas_are_contiguous_and_rebuild_the_engine_book(sim: Simulator, connect: Connect) -> None:
    place(sim, MAKER, Side.SELL, "1", "95100")  # a book exists before the subscription
    ws = await connect()
    await ws.result("subscribe", {"channel": DELTAS})
    first = (await ws.pushes_on(DELTAS))[0]
    assert first["update_type"] == "s" and first["seq_no"] == sim.exchange.book_snapshot(BTC).seq_no

    sim.exchange.create_account("taker", D(1_000_000))
    for i in range(40):  # inserts, updates, deletes (cancels and fills), spread over a few flushes
        place(sim, MAKER, Side.BUY, "0.1", str(94000 + 10 * (i % 7)))
        if i % 5 == 4:
            oldest_bid = next(o for o in sim.exchange.open_orders(MAKER, BTC) if o.side is Side.BUY)
            sim.exchange.cancel_order(MAKER, oldest_bid.id)
        if i % 9 == 8:
            place(sim, "taker", Side.SELL, "0.15", "94000")
        if i % 10 == 0:
            await asyncio.sleep(0.06)
    final_seq = sim.exchange.book_snapshot(BTC).seq_no
    await ws.wait_for(lambda: ws.on(DELTAS)[-1]["seq_no"] == final_seq)

    payloads = ws.on(DELTAS)
    seqs = [p["seq_no"] for p in payloads]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "deltas must carry every seq_no once, in order"
    assert all(p["update_type"] == "d" for p in payloads[1:])
    assert any(p["deletes"] for p in payloads) and any(p["updates"] for p in payloads)
    book: dict[str, dict[D, D]] = {"BUY": {}, "SELL": {}}
    for payload in payloads:
        apply(book, payload)
    assert book == engine_book(sim)
    best_bid = max(book["BUY"])
    assert D(payloads[-1]["best_bid_api"]["price"]) == best_bid


async def test_snapshot_feed_sends_whole_books_at_most_every_interval(sim: Simulator, connect: Connect) -> None:
    ws = await connect()
    await ws.result("subscribe", {"channel": SNAPSHOTS})
    await ws.pushes_on(SNAPSHOTS)  # the current (empty) book
    loop = asyncio.get_running_loop()
    started = loop.time()
    for i in range(30):
        place(sim, MAKER, Side.SELL, "0.1", str(95000 + i))
        await asyncio.sleep(0.01)
    await ws.wait_for(lambda: len(ws.on(SNAPSHOTS)[-1]["inserts"]) == 15)
    elapsed = loop.time() - started
    snapshots = ws.on(SNAPSHOTS)
    assert all(p["update_type"] == "s" and not p["updates"] and not p["deletes"] for p in snapshots)
    assert len(snapshots) - 1 <= elapsed / 0.1 + 2, "throttled to one book per 100 ms"
    assert len(snapshots) < 30
    asks = [D(c["price"]) for c in snapshots[-1]["inserts"]]
    assert asks == [D(95000 + i) for i in range(15)]  # depth 15, best first


async def test_sbe_frames_carry_the_same_data_as_json(sim: Simulator, connect: Connect) -> None:
    json_ws = await connect()
    sbe_ws = await connect("?sbeSchemaId=1&sbeSchemaVersion=2")
    channels = (f"trades.{BTC}", f"bbo.{BTC}", DELTAS, f"markets_summary.{BTC}", f"funding_data.{BTC}")
    for ws in (json_ws, sbe_ws):
        for channel in channels:
            await ws.result("subscribe", {"channel": channel})  # answers stay JSON text in SBE mode
    sim.exchange.create_account("taker", D(1_000_000))
    place(sim, MAKER, Side.SELL, "1", "95010")
    place(sim, MAKER, Side.BUY, "1", "94990")
    place(sim, "taker", Side.BUY, "0.3", "95010")
    sim.exchange.set_mark_price(BTC, D(95123.4))
    sim.advance(sim.exchange.funding_interval_ms)
    await json_ws.wait_for(lambda: bool(json_ws.on(f"funding_data.{BTC}")))
    await sbe_ws.wait_for(lambda: bool(sbe_ws.on("funding_data")))
    await sbe_ws.wait_for(lambda: len(sbe_ws.on("order_book")) == len(json_ws.on(DELTAS)))

    assert sbe_ws.binary_frames == len(sbe_ws.pushes) and json_ws.binary_frames == 0
    for kind, channel in (("trades", f"trades.{BTC}"), ("bbo", f"bbo.{BTC}"), ("funding_data", f"funding_data.{BTC}"),
                          ("markets_summary", f"markets_summary.{BTC}")):
        decoded, shown = sbe_ws.on(kind), json_ws.on(channel)
        assert len(decoded) == len(shown) > 0, kind
        for binary, text in zip(decoded, shown, strict=True):
            assert same_fields(binary, text), (kind, binary, text)
    for binary, text in zip(sbe_ws.on("order_book"), json_ws.on(DELTAS), strict=True):
        assert binary["seq_no"] == text["seq_no"] and binary["update_type"] == text["update_type"]
        assert levels(binary, "bids") == json_levels(text, "BUY")
        assert levels(binary, "asks") == json_levels(text, "SELL")
        for key in ("best_bid_api", "best_ask_api"):
            assert best(binary[key]) == best(text[key])


def same_fields(binary: dict[str, Any], text: dict[str, Any]) -> bool:
    """Every field both shapes carry has the same value (decimal strings compared as numbers)."""
    for key in binary.keys() & text.keys():
        a, b = binary[key], text[key]
        if a in (None, "") and b in (None, ""):
            continue
        if isinstance(a, str) and isinstance(b, str) and a != b:
            try:
                if D(a) != D(b):
                    return False
            except ArithmeticError:
                return False
        elif not isinstance(a, str) and a != b:
            return False
    return True


def best(level: dict[str, str] | None) -> tuple[str, D, D] | None:
    return None if level is None else (level["side"], D(level["price"]), D(level["size"]))


def levels(payload: dict[str, Any], key: str) -> list[tuple[D, D]]:
    return sorted((D(p), D(s)) for p, s in payload[key])


def json_levels(payload: dict[str, Any], side: str) -> list[tuple[D, D]]:
    rows = [(D(c["price"]), D(c["size"])) for c in payload["inserts"] + payload["updates"] if c["side"] == side]
    rows += [(D(c["price"]), D(0)) for c in payload["deletes"] if c["side"] == side]
    return sorted(rows)


@pytest.mark.parametrize("query", ["?sbeSchemaId=1&sbeSchemaVersion=3", "?sbeSchemaId=2&sbeSchemaVersion=2",
                                   "?sbeSchemaVersion=2", "?sbeSchemaId=1&sbeSchemaVersion=x"])
async def test_unsupported_sbe_schema_is_refused_at_connect(sim: Simulator, http: Any, query: str) -> None:
    assert sim.urls is not None
    async with http.get(sim.urls.paradex_ws.replace("ws://", "http://") + query,
                        headers={"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
                                 "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}) as resp:
        assert resp.status == 400


@pytest.mark.parametrize("version", [0, 1, 2])
async def test_every_supported_sbe_version_decodes(sim: Simulator, connect: Connect, version: int) -> None:
    ws = await connect(f"?sbeSchemaId=1&sbeSchemaVersion={version}")
    await ws.result("subscribe", {"channel": f"bbo.{BTC}"})
    place(sim, MAKER, Side.SELL, "2", "95010")
    place(sim, MAKER, Side.BUY, "1.5", "94990")
    bbo = (await ws.pushes_on("bbo"))[-1]
    assert (D(bbo["bid"]), D(bbo["bid_size"]), D(bbo["ask"]), D(bbo["ask_size"])) == (D(94990), D("1.5"), D(95010), 2)


async def test_bad_channel_names_are_invalid_params(connect: Connect, trader: Trader) -> None:
    ws = await connect()
    for channel in ("nope", "bbo", "bbo.DOGE-USD-PERP", f"order_book.{BTC}.deltas@20@50ms",
                    f"order_book.{BTC}.deltas@15@10ms", f"order_book.{BTC}.snapshot@15@50ms@0_1", 42):
        answer = await ws.call("subscribe", {"channel": channel})
        assert answer["error"]["code"] == -32602, channel


async def test_bbo_shows_an_emptied_side_as_zero(sim: Simulator, connect: Connect) -> None:
    ws = await connect()
    await ws.result("subscribe", {"channel": f"bbo.{BTC}"})
    place(sim, MAKER, Side.SELL, "1", "95010")
    bid = place(sim, MAKER, Side.BUY, "1", "94990")
    await ws.wait_for(lambda: any(D(p["bid"]) == D(94990) for p in ws.on(f"bbo.{BTC}")))
    sim.exchange.cancel_order(MAKER, bid.id)
    await ws.wait_for(lambda: D(ws.on(f"bbo.{BTC}")[-1]["bid"]) == 0)
    last = ws.on(f"bbo.{BTC}")[-1]
    assert D(last["bid_size"]) == 0 and D(last["ask"]) == D(95010)
