"""Decode throughput of Paradex SBE frames against orjson on the equivalent JSON frames.

Method: build a fixed set of distinct frames (BBO updates, and order-book deltas with 3 bid and 3 ask
level changes each), then time how many per second one core can turn into:
  * ``sbe.decode``            → schema-level dict (mantissas, µs),
  * ``sbe.frame_to_payload``  → the JSON-shaped payload the client consumes (decimal strings, ms),
  * ``orjson.loads``          → the baseline: parsing the JSON-RPC text frame carrying the same payload,
  * book deltas only: ``frame_to_payload`` plus applying the levels to a dict book ("decode+apply").
Each figure is the best of several rounds (perf_counter); the decimal-string memo of the codec is
emptied before every round, so only repeats within one pass over the frames hit it (prices are drawn
from ~1000 levels, sizes from 50000 values). The ratio is SBE / orjson.

Example:  .venv/bin/python bench/sbe_decode.py --messages 20000 --rounds 5 --json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import time
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from flashscalper.exchanges.paradex import sbe

MARKET = "BTC-USD-PERP"


def _price(rng: random.Random, mid: int) -> str:
    return f"{mid + rng.randint(-500, 500) / 10:.1f}"


def _size(rng: random.Random) -> str:
    return f"{rng.randint(1, 50_000) / 1000:.3f}"


def bbo_payloads(n: int, rng: random.Random) -> list[dict[str, Any]]:
    """Distinct BBO updates around 60000."""
    out = []
    for i in range(n):
        bid = 60000 + rng.randint(-2000, 2000) / 10
        out.append(
            {
                "market": MARKET,
                "bid": f"{bid:.1f}",
                "bid_size": _size(rng),
                "ask": f"{bid + 0.1:.1f}",
                "ask_size": _size(rng),
                "last_updated_at": 1_764_000_000_000 + i,
                "seq_no": 1_000_000 + i,
            }
        )
    return out


def delta_payloads(n: int, rng: random.Random, levels: int = 3) -> list[dict[str, Any]]:
    """Distinct book deltas: ``levels`` bid and ask changes each, some of them removals (size 0)."""
    out = []
    for i in range(n):
        bids = [[_price(rng, 59950), "0" if rng.random() < 0.2 else _size(rng)] for _ in range(levels)]
        asks = [[_price(rng, 60050), "0" if rng.random() < 0.2 else _size(rng)] for _ in range(levels)]
        out.append(
            {
                "market": MARKET,
                "seq_no": 5_000_000 + i,
                "last_updated_at": 1_764_000_000_000 + i,
                "update_type": "d",
                "bids": bids,
                "asks": asks,
            }
        )
    return out


def json_frame(channel: str, payload: dict[str, Any]) -> bytes:
    """The JSON-RPC push a JSON-mode connection would carry for ``payload``."""
    if payload.get("update_type"):  # JSON book channel form: inserts/updates/deletes with a side
        changes = [{"side": "BUY", "price": p, "size": s} for p, s in payload["bids"]]
        changes += [{"side": "SELL", "price": p, "size": s} for p, s in payload["asks"]]
        payload = {
            **{k: v for k, v in payload.items() if k not in ("bids", "asks")},
            "inserts": [],
            "updates": [c for c in changes if c["size"] != "0"],
            "deletes": [c for c in changes if c["size"] == "0"],
        }
    envelope = {"jsonrpc": "2.0", "method": "subscription", "params": {"channel": channel, "data": payload}}
    return orjson.dumps(envelope)


def rate(fn: Callable[[Any], Any], frames: Sequence[bytes], rounds: int) -> float:
    """Best-of-``rounds`` messages per second for ``fn`` over ``frames``."""
    best = float("inf")
    for _ in range(rounds):
        sbe._FMT8_CACHE.clear()  # every round starts cold, so repeated rounds do not flatter SBE
        t0 = time.perf_counter()
        for frame in frames:
            fn(frame)
        best = min(best, time.perf_counter() - t0)
    return len(frames) / best


def decode_and_apply(frames: Sequence[bytes], rounds: int) -> float:
    """frame_to_payload plus applying each level to a {price: size} book per side."""
    book: dict[str, dict[str, str]] = {"bids": {}, "asks": {}}

    def step(frame: bytes) -> None:
        _, payload = sbe.frame_to_payload(frame)
        for side in ("bids", "asks"):
            levels = book[side]
            for price, size in payload[side]:
                if size == "0":
                    levels.pop(price, None)
                else:
                    levels[price] = size

    return rate(step, frames, rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=20_000, help="frames per kind (default 20000)")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds, best one counts (default 5)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    results: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "implementation": platform.python_implementation(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "messages": args.messages,
        "rounds": args.rounds,
    }
    for kind, channel, payloads in (
        ("bbo", f"bbo.{MARKET}", bbo_payloads(args.messages, rng)),
        ("order_book", f"order_book.{MARKET}.deltas@15@50ms", delta_payloads(args.messages, rng)),
    ):
        sbe_frames = [sbe.payload_to_frame(kind, p) for p in payloads]
        json_frames = [json_frame(channel, p) for p in payloads]
        row = {
            "sbe_bytes_avg": sum(map(len, sbe_frames)) / len(sbe_frames),
            "json_bytes_avg": sum(map(len, json_frames)) / len(json_frames),
            "sbe_decode_msgs_s": rate(sbe.decode, sbe_frames, args.rounds),
            "sbe_payload_msgs_s": rate(sbe.frame_to_payload, sbe_frames, args.rounds),
            "orjson_loads_msgs_s": rate(orjson.loads, json_frames, args.rounds),
        }
        row["ratio_sbe_payload_vs_orjson"] = row["sbe_payload_msgs_s"] / row["orjson_loads_msgs_s"]
        row["ratio_sbe_decode_vs_orjson"] = row["sbe_decode_msgs_s"] / row["orjson_loads_msgs_s"]
        if kind == "order_book":
            row["sbe_payload_and_apply_msgs_s"] = decode_and_apply(sbe_frames, args.rounds)
        results[kind] = row

    m = results["machine"]
    print(f"{m['implementation']} {m['python']} on {m['platform']}, {m['cpus']} CPUs; one core used")
    print(f"{args.messages} distinct frames per kind, best of {args.rounds} rounds")
    for kind in ("bbo", "order_book"):
        r = results[kind]
        print(f"\n{kind}: SBE {r['sbe_bytes_avg']:.0f} B/frame, JSON {r['json_bytes_avg']:.0f} B/frame")
        print(f"  sbe.decode            {r['sbe_decode_msgs_s']:>12,.0f} msgs/s")
        print(f"  sbe.frame_to_payload  {r['sbe_payload_msgs_s']:>12,.0f} msgs/s")
        print(f"  orjson.loads (JSON)   {r['orjson_loads_msgs_s']:>12,.0f} msgs/s")
        if "sbe_payload_and_apply_msgs_s" in r:
            print(f"  payload + dict apply  {r['sbe_payload_and_apply_msgs_s']:>12,.0f} msgs/s")
        print(
            f"  ratio vs orjson: decode {r['ratio_sbe_decode_vs_orjson']:.2f}x, "
            f"payload {r['ratio_sbe_payload_vs_orjson']:.2f}x"
        )
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
