"""Backtest throughput: the full bot (default scalper, risk, executor, position manager, paper fill
engine) over synthetic data in virtual time.

Method: two years of seeded 1-minute candles (1,051,200; each becomes 4 quotes + 3 trades, see
replay/data.py) and >= 5 million seeded ticks (one quote per tick, a random walk), each run once
through BacktestRunner on the fast path, timed with perf_counter around the run (data generation is
lazy and included, as in a real backtest reading a file). The candles are also run at
``resolution="candle"`` (one strategy event per candle; see replay/backtest.py). Peak memory is the process's max RSS
(resource.getrusage) after each run. A small sample is also run on the reference path (every event
through the venue queue and Bot.process_pending) to state the fast/reference ratio measured in the
same process. Numbers depend on the machine; the script prints Python version and CPU count.

    .venv/bin/python bench/backtest_throughput.py                # full size
    .venv/bin/python bench/backtest_throughput.py --candles 100000 --ticks 500000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import time
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal

from flashscalper.domain import Quote, Trade
from flashscalper.replay.backtest import BacktestConfig, BacktestRunner
from flashscalper.replay.data import DataSet, dataset_from_candles, market_spec
from flashscalper.replay.synthetic import synthetic_candles

BTC = "BTC-USD-PERP"
START = 1_704_067_200_000
CONFIG = BacktestConfig(strategy_params={"min_confidence": 0.3})


def candle_data(count: int) -> DataSet:
    spec = market_spec(BTC, Decimal(60_000))
    return dataset_from_candles(lambda: synthetic_candles(count, seed=1), spec, interval_ms=60_000, start_ms=START,
                          end_ms=START + count * 60_000, description={"kind": "synthetic candles", "candles": count})


def tick_events(count: int, seed: int = 2) -> Iterator[Quote | Trade]:
    rng = random.Random(seed)
    tick = Decimal("0.1")
    price = 600_000  # in ticks
    size = Decimal("0.5")
    for i in range(count):
        price += round(rng.gauss(0.0, 3.0))
        bid = price * tick
        yield Quote(BTC, bid, size, bid + tick, size, START + i * 250)


def tick_data(count: int) -> DataSet:
    spec = market_spec(BTC, Decimal(60_000))
    return DataSet({BTC: spec}, lambda: tick_events(count), START, START + count * 250,
                   {"kind": "synthetic ticks", "ticks": count})


def max_rss_mb() -> float:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 1024 if platform.system() != "Darwin" else rss / 2**20


def run(name: str, data: DataSet, units: int, unit: str, config: BacktestConfig) -> dict[str, object]:
    started = time.perf_counter()
    result = BacktestRunner(data, config).run()
    wall = time.perf_counter() - started
    row = {"run": name, unit: units, "events": result.events, "wall_s": round(wall, 2),
           f"{unit}_per_s": round(units / wall), "events_per_s": round(result.events / wall),
           "trades": len(result.trades), "fingerprint": result.fingerprint[:16], "max_rss_mb": round(max_rss_mb())}
    print(f"  {name:<45} {units:>10,} {unit:<7} {wall:8.2f} s  {units / wall:>10,.0f} {unit}/s  "
          f"{len(result.trades):>5} trades  peak RSS {row['max_rss_mb']} MB", flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--candles", type=int, default=1_051_200)
    parser.add_argument("--ticks", type=int, default=5_000_000)
    parser.add_argument("--reference-sample", type=int, default=20_000, help="candles for the fast/reference ratio")
    parser.add_argument("--json", action="store_true", help="print one JSON object with every figure as the last line")
    args = parser.parse_args()
    machine = {"python": platform.python_version(), "cpus": os.cpu_count(), "machine": platform.machine()}
    print(f"backtest throughput · Python {machine['python']} · {machine['cpus']} CPUs · {machine['machine']}")
    n = args.reference_sample
    fast = run("candles sample, fast path", candle_data(n), n, "candles", CONFIG)
    ref = run("candles sample, reference path", candle_data(n), n, "candles", replace(CONFIG, fast=False))
    ratio = round(ref["wall_s"] / max(fast["wall_s"], 1e-9), 2)  # type: ignore[operator]
    same = fast["fingerprint"] == ref["fingerprint"]
    print(f"  fast path is {ratio}x the reference path on the same sample; same trades: {same}")
    candles = run("1m candles, tick path", candle_data(args.candles), args.candles, "candles", CONFIG)
    candle_mode = run("1m candles, resolution=candle", candle_data(args.candles), args.candles, "candles",
                      replace(CONFIG, resolution="candle"))
    ticks = run("ticks", tick_data(args.ticks), args.ticks, "ticks", CONFIG)
    goals = {"candles_per_s": (candles["candles_per_s"], 500_000), "ticks_per_s": (ticks["ticks_per_s"], 200_000)}
    for key, (got, goal) in goals.items():
        print(f"{key}: {got:,} (goal {goal:,}: {'met' if got >= goal else f'{got / goal:.1%} of goal'})")
    if args.json:
        print(json.dumps({**machine, "fast_over_reference": ratio, "same_fingerprint": same,
                          "candles_per_s": candles["candles_per_s"], "candle_mode_candles_per_s":
                          candle_mode["candles_per_s"], "ticks_per_s": ticks["ticks_per_s"],
                          "runs": [fast, ref, candles, candle_mode, ticks]}))


if __name__ == "__main__":
    main()
