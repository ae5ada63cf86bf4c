"""Tick-to-order latency of the whole bot against the simulator (in a subprocess, over loopback).

The bot is the real one (ParadexExchange, Bot, risk, executor) with a trivial deterministic strategy
registered here under a bench-only name: it signals on every Nth quote of a market, alternating sides.
Each entry is closed again right after it fills (as a person would with "close position"), so the next
quote can trigger again.

* tick → order: ``perf_counter_ns`` when the WebSocket frame carrying the triggering quote reaches the frame
  handler, to the moment the signed ``POST /orders`` body of the entry has been written to the socket
  (aiohttp trace ``on_request_chunk_sent``).
* place → fill: from that write to the frame carrying the entry's fill arriving at the frame handler.
* RSS: the bot process's resident memory (psutil) after the run (steady state) and its peak sample.

    .venv/bin/python bench/tick_to_order.py [--triggers 1000] [--every 1] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import time
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import orjson
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _simproc import fresh_identity, percentile, simulator
from flashscalper.clock import WallClock
from flashscalper.config import load_settings
from flashscalper.domain import Event, FillEvent, Quote, Side
from flashscalper.exchanges.paradex.client import ParadexExchange
from flashscalper.exchanges.paradex.rest import ParadexRestClient
from flashscalper.session import build_session
from flashscalper.strategy.base import Signal, Strategy, register_strategy

MARKETS = ("BTC-USD-PERP", "ETH-USD-PERP", "SOL-USD-PERP")
WARMUP = 20


class Probe:
    """Timestamps (perf_counter_ns) at the frame handler and at the HTTP write, matched per trigger."""

    def __init__(self) -> None:
        self.frame_ns = 0  # arrival of the frame being handled right now
        self.event_frame: dict[int, int] = {}  # id(event) -> arrival of the frame that carried it
        self.fill_frame: dict[str, int] = {}  # client id -> arrival of the frame with its first fill
        self.trigger: dict[str, int] = {}  # market -> frame arrival of the quote that signalled
        self.sent: dict[str, tuple[int, int]] = {}  # entry client id -> (frame arrival, body written)
        self.tick_to_order_ms: list[float] = []
        self.place_to_fill_ms: list[float] = []

    def wrap_ws(self, venue: ParadexExchange) -> None:
        ws = venue.ws
        handle = ws.handle_frame

        def timed_handle(data: Any) -> None:
            self.frame_ns = time.perf_counter_ns()
            handle(data)

        ws.handle_frame = timed_handle  # type: ignore[method-assign]
        router = ws._router
        publish = router._publish

        def tagged_publish(event: Event) -> None:
            if isinstance(event, Quote):
                self.event_frame[id(event)] = self.frame_ns
                if len(self.event_frame) > 50_000:  # quotes that never signalled
                    self.event_frame.clear()
            elif isinstance(event, FillEvent) and event.fill.client_id not in self.fill_frame:
                self.fill_frame[event.fill.client_id] = self.frame_ns
                sent = self.sent.get(event.fill.client_id)
                if sent is not None:
                    self.place_to_fill_ms.append((self.frame_ns - sent[1]) / 1e6)
            publish(event)

        router._publish = tagged_publish  # type: ignore[method-assign]

    def trace_config(self) -> aiohttp.TraceConfig:
        config = aiohttp.TraceConfig()

        async def on_chunk(_session: Any, _ctx: SimpleNamespace, params: Any) -> None:
            now = time.perf_counter_ns()
            if not self.trigger or b'"market"' not in params.chunk:
                return
            body = orjson.loads(params.chunk)
            market = body.get("market")
            if body.get("type") != "MARKET" or "REDUCE_ONLY" in body.get("flags", []) or market not in self.trigger:
                return
            frame = self.trigger.pop(market)
            self.sent[body.get("client_id", "")] = (frame, now)
            self.tick_to_order_ms.append((now - frame) / 1e6)

        config.on_request_chunk_sent.append(on_chunk)
        return config


def bench_strategy(probe: Probe, every: int) -> Strategy:
    @register_strategy("bench_every_nth_quote")
    class EveryNthQuote(Strategy):
        """Bench only: a BUY/SELL signal on every Nth quote of each market, sides alternating."""

        def __init__(self) -> None:
            self.count: dict[str, int] = {}

        def on_quote(self, quote: Quote) -> Signal | None:
            n = self.count[quote.market] = self.count.get(quote.market, 0) + 1
            frame = probe.event_frame.pop(id(quote), None)
            if n % every or frame is None or quote.bid <= 0 or quote.ask <= 0:  # one-sided book: no price
                return None
            probe.trigger[quote.market] = frame
            side = Side.BUY if (n // every) % 2 else Side.SELL
            return Signal(quote.market, side, 1.0, ("every nth quote",), {}, quote.ts, "bench", price=quote.mid)

    return EveryNthQuote()


async def closer(session: Any, stop: asyncio.Event) -> None:
    """Close each position as soon as it is open and protected, so the next quote can trigger again."""
    bot = session.bot
    while not stop.is_set():
        for market, pos in list(bot.positions.positions.items()):
            if pos.size != 0 and (pos.closing is None or pos.closing.is_done) and pos.stop is not None:
                await bot.close_position(market)
        await asyncio.sleep(0.002)


async def measure(urls: dict[str, str], triggers: int, every: int) -> dict[str, Any]:
    probe = Probe()
    clock = WallClock()
    identity = await fresh_identity(urls["paradex_rest"])
    http = aiohttp.ClientSession(trace_configs=[probe.trace_config()])
    rest = ParadexRestClient(urls["paradex_rest"], identity, clock=clock, session=http)
    venue = ParadexExchange(rest, urls["paradex_ws"], clock=clock)
    probe.wrap_ws(venue)
    settings = load_settings(env_file=None)
    session = build_session(venue, settings, trade_params=settings.paradex, clock=clock, mode="bench",
                            strategy=bench_strategy(probe, every), markets=MARKETS,
                            leverage=Decimal(1), position_size_percent=Decimal(1), max_holding_seconds=0,
                            daily_loss_limit_percent=Decimal(50), max_drawdown_percent=Decimal(50))
    risk = session.bot.risk  # a bench closes every trade at a small loss: no losing-streak cool-down
    risk.set_limits(replace(risk.configured_limits, losing_streak_limit=0))
    process = psutil.Process()
    stop = asyncio.Event()
    await session.bot.start()
    runner = asyncio.create_task(session.bot.run())
    closing = asyncio.create_task(closer(session, stop))
    started = time.monotonic()
    peak_rss = process.memory_info().rss
    while len(probe.tick_to_order_ms) < triggers + WARMUP and time.monotonic() - started < 600:
        await asyncio.sleep(0.5)
        peak_rss = max(peak_rss, process.memory_info().rss)
        if runner.done():
            break
    elapsed = time.monotonic() - started
    stop.set()
    await closing
    session.bot.stop()
    await runner
    gc.collect()
    steady_rss = process.memory_info().rss
    trades = len(session.bot.positions.closed)
    await session.bot.flatten("bench end")
    await session.bot.close()
    await http.close()

    def stats(values: list[float]) -> dict[str, float]:
        values = values[WARMUP:] if len(values) > WARMUP * 2 else values
        return {"n": len(values), "p50_ms": round(percentile(values, 0.5), 3),
                "p99_ms": round(percentile(values, 0.99), 3), "max_ms": round(max(values), 3)}

    return {"bench": "tick_to_order", "every_nth_quote": every, "seconds": round(elapsed, 1), "trades": trades,
            "tick_to_order": stats(probe.tick_to_order_ms), "place_to_fill": stats(probe.place_to_fill_ms),
            "rss_mb": round(steady_rss / 2**20, 1), "peak_rss_mb": round(peak_rss / 2**20, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triggers", type=int, default=1000, help="measured triggers (after a warm-up)")
    parser.add_argument("--every", type=int, default=4,
                        help="signal on every Nth quote of a market (1 keeps the bot busy closing its own trades)")
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = parser.parse_args()
    with simulator("--fund-usdc", "1000000", "--order-rate", "5000") as (urls, _):
        r = asyncio.run(measure(urls, args.triggers, args.every))
    t, f = r["tick_to_order"], r["place_to_fill"]
    print(f"bot against a simulator subprocess over loopback; {t['n']} triggers in {r['seconds']} s, "
          f"{r['trades']} round trips")
    print(f"tick -> order on the wire  p50 {t['p50_ms']:.3f} ms  p99 {t['p99_ms']:.3f} ms  max {t['max_ms']:.3f} ms"
          "  (goal p50 <= 5, p99 <= 15)")
    print(f"place -> fill frame        p50 {f['p50_ms']:.3f} ms  p99 {f['p99_ms']:.3f} ms  max {f['max_ms']:.3f} ms")
    print(f"bot RSS steady {r['rss_mb']} MB, peak {r['peak_rss_mb']} MB  (goal <= 150 MB)")
    if args.json:
        print(json.dumps(r))


if __name__ == "__main__":
    main()
