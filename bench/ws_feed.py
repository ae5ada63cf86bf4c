"""Benchmark: Paradex WebSocket feed throughput — decode + route + apply, per message, on one core.

Method: one process, one thread, no socket. A realistic stream is generated up front: a 15-level
book per side, then order_book deltas of 1–3 level changes each (mostly size updates, some level
inserts/deletes, contiguous seq_no), and BBO updates. Every message is pre-encoded twice: as the SBE
binary frame the venue sends on public channels (``sbe.payload_to_frame``) and as the JSON-RPC
``subscription`` text frame (the JSON baseline). The timed loop calls
``ParadexWsClient.handle_frame(frame)`` — the exact function the socket reader runs — which decodes,
maps to domain types, applies deltas to the local book, builds the top-15 ``BookUpdate`` and
publishes it to the event feed. Each figure is the median of ``--repeat`` passes over fresh clients;
decode-only figures (``frame_to_payload`` / ``orjson.loads``) are shown for reference.

    python bench/ws_feed.py                 # readable report
    python bench/ws_feed.py --json          # same, last line is one JSON object
    python bench/ws_feed.py --messages 50000 --repeat 7
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import orjson

from flashscalper.exchanges.paradex.sbe import frame_to_payload, payload_to_frame
from flashscalper.exchanges.paradex.streams import book_channel
from flashscalper.exchanges.paradex.ws import ParadexWsClient
from flashscalper.exchanges.paradex.ws_support import WsConfig

MARKET = "BTC-USD-PERP"
T0 = 1_700_000_000_000
GOAL = 50_000


def _px(ticks: int) -> str:
    return str(Decimal(ticks) / 10)


def book_stream(count: int, rng: random.Random) -> list[dict[str, Any]]:
    """A snapshot then ``count`` contiguous deltas around a mid of 65000.0 (tick 0.1)."""
    bids = {650_000 - 1 - i: rng.randint(1, 500) for i in range(15)}
    asks = {650_000 + 1 + i: rng.randint(1, 500) for i in range(15)}

    def lvl(side: str, ticks: int, size: int) -> dict[str, str]:
        return {"side": side, "price": _px(ticks), "size": str(Decimal(size) / 1000)}

    snap = [lvl("BUY", p, s) for p, s in bids.items()] + [lvl("SELL", p, s) for p, s in asks.items()]
    out = [{"market": MARKET, "seq_no": 1, "last_updated_at": T0, "update_type": "s", "inserts": snap,
            "updates": [], "deletes": []}]
    for seq in range(2, count + 2):
        inserts, updates, deletes = [], [], []
        for _ in range(rng.randint(1, 3)):
            side, levels = ("BUY", bids) if rng.random() < 0.5 else ("SELL", asks)
            roll = rng.random()
            if roll < 0.7 or len(levels) < 10:
                price = rng.choice(list(levels))
                levels[price] = rng.randint(1, 500)
                updates.append(lvl(side, price, levels[price]))
            elif roll < 0.85 and len(levels) > 10:
                price = rng.choice(list(levels))
                del levels[price]
                deletes.append(lvl(side, price, 0))
            else:
                edge = max(levels) + 1 if side == "SELL" else min(levels) - 1
                levels[edge] = rng.randint(1, 500)
                inserts.append(lvl(side, edge, levels[edge]))
        out.append({"market": MARKET, "seq_no": seq, "last_updated_at": T0 + seq, "update_type": "d",
                    "inserts": inserts, "updates": updates, "deletes": deletes})
    return out


def bbo_stream(count: int, rng: random.Random) -> list[dict[str, Any]]:
    out = []
    mid = 650_000
    for seq in range(1, count + 1):
        mid += rng.choice((-1, 0, 0, 1))
        out.append({"market": MARKET, "bid": _px(mid - 1), "bid_size": str(Decimal(rng.randint(1, 900)) / 1000),
                    "ask": _px(mid + 1), "ask_size": str(Decimal(rng.randint(1, 900)) / 1000),
                    "last_updated_at": T0 + seq, "seq_no": seq})
    return out


def json_frames(channel: str, payloads: Sequence[dict[str, Any]]) -> list[str]:
    return [orjson.dumps({"jsonrpc": "2.0", "method": "subscription", "params": {"channel": channel, "data": p}})
            .decode() for p in payloads]


def handler_rate(frames: Sequence[bytes | str], repeat: int) -> tuple[float, dict[str, Any]]:
    """Median messages/second of ``handle_frame`` over ``repeat`` fresh clients, plus the last client's stats."""
    rates = []
    stats: dict[str, Any] = {}
    for _ in range(repeat):
        client = ParadexWsClient("ws://bench/v1/ws", config=WsConfig(queue_size=len(frames) + 16))
        handle = client.handle_frame
        start = time.perf_counter()
        for frame in frames:
            handle(frame)
        rates.append(len(frames) / (time.perf_counter() - start))
        stats = client.stats_snapshot()
    return statistics.median(rates), stats


def decode_rate(decode: Callable[[Any], object], frames: Sequence[Any], repeat: int) -> float:
    rates = []
    for _ in range(repeat):
        start = time.perf_counter()
        for frame in frames:
            decode(frame)
        rates.append(len(frames) / (time.perf_counter() - start))
    return statistics.median(rates)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog="example: python bench/ws_feed.py --messages 20000 --json")
    parser.add_argument("--messages", type=int, default=20_000, help="messages per stream (default 20000)")
    parser.add_argument("--repeat", type=int, default=5, help="timed passes per figure; the median is kept")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    books, bbos = book_stream(args.messages, rng), bbo_stream(args.messages, rng)
    frames = {
        ("book", "sbe"): [payload_to_frame("order_book", p) for p in books],
        ("book", "json"): json_frames(book_channel(MARKET), books),
        ("bbo", "sbe"): [payload_to_frame("bbo", p) for p in bbos],
        ("bbo", "json"): json_frames(f"bbo.{MARKET}", bbos),
    }
    results: dict[str, Any] = {}
    for (stream, path), items in frames.items():
        rate, stats = handler_rate(items, args.repeat)
        decoder = frame_to_payload if path == "sbe" else orjson.loads
        bad = stats["decode_errors"] + stats["mapping_errors"] + stats["internal_errors"] + stats["book_gaps"]
        if bad:
            print(f"{stream}/{path}: {bad} frames failed; the figures would be meaningless", file=sys.stderr)
            return 1
        results[f"{stream}_{path}_msgs_per_s"] = round(rate)
        results[f"{stream}_{path}_decode_only_msgs_per_s"] = round(decode_rate(decoder, items, args.repeat))
        results[f"{stream}_{path}_avg_frame_bytes"] = round(sum(len(f) for f in items) / len(items), 1)
    for stream in ("book", "bbo"):
        sbe_rate, json_rate = results[f"{stream}_sbe_msgs_per_s"], results[f"{stream}_json_msgs_per_s"]
        results[f"{stream}_sbe_vs_json"] = round(sbe_rate / json_rate, 2)
    slowest = min(results[f"{s}_{p}_msgs_per_s"] for s in ("book", "bbo") for p in ("sbe", "json"))
    results.update(goal_msgs_per_s=GOAL, meets_goal=slowest >= GOAL, messages=args.messages, repeat=args.repeat,
                   python=platform.python_version(), machine=platform.machine(), cpu=_cpu_name(),
                   cpus=os.cpu_count())

    print(f"Paradex WS feed: handle_frame throughput, {args.messages} msgs/stream, median of {args.repeat}, one core")
    print(f"  {results['cpu']} · Python {results['python']}")
    print(f"  {'stream':6} {'path':5} {'msg/s':>10} {'decode-only':>12} {'bytes/frame':>12}")
    for (stream, path) in frames:
        key = f"{stream}_{path}"
        rate, decode_only = results[key + "_msgs_per_s"], results[key + "_decode_only_msgs_per_s"]
        print(f"  {stream:6} {path:5} {rate:>10,} {decode_only:>12,} {results[key + '_avg_frame_bytes']:>12}")
    print(f"  SBE vs JSON: book ×{results['book_sbe_vs_json']}, bbo ×{results['bbo_sbe_vs_json']}; "
          f"goal ≥ {GOAL:,} msg/s: {'met' if results['meets_goal'] else 'NOT met'}")
    if args.json:
        print(json.dumps(results))
    return 0


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


if __name__ == "__main__":
    raise SystemExit(main())
