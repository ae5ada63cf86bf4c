"""Throughput of the strategy package: single indicators, the scalper's indicator set, the full scalper.

Method: a seeded synthetic market (``flashscalper.strategy.synthetic``: random walk in ticks with
alternating trend and chop phases, a quote every ~100 ms, trades on ~60% of quotes) is generated
once, before any timing. Each figure is the best of ``--rounds`` passes (perf_counter, one core),
every pass starting from fresh indicator state over the same events:

  * baseline            – the irreducible part: Decimal→float of bid, ask and both sizes, plus the mid;
  * single indicators   – ``update`` on pre-converted floats (per update);
  * indicator set       – ``MarketState.update_quote``: everything the scalper updates per quote
                          (2 EMAs, RSI, tick ATR, Bollinger, spread, volatility regime, flow expiry,
                          quote imbalance), Decimal conversion included;
  * scalper on_quote    – the full default strategy per quote (indicators + gates + signal building);
  * scalper on_event    – the full strategy over the mixed quote+trade stream, per event.

Ratios are against the baseline measured in the same run.

Example:  .venv/bin/python bench/indicators.py --quotes 100000 --rounds 5 --json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Callable, Sequence
from typing import Any

from flashscalper.domain import Quote, Trade
from flashscalper.strategy.indicators import EMA, RSI, Bollinger, TickATR
from flashscalper.strategy.microstructure import (
    OrderBookImbalance,
    RollingVWAP,
    SpreadMonitor,
    TradeFlowDelta,
    VolatilityRegime,
)
from flashscalper.strategy.scalper import MarketState, ScalperParams, ScalperStrategy
from flashscalper.strategy.synthetic import Phase, synthetic_ticks

CYCLE = (Phase(60_000), Phase(60_000, drift_ticks=0.25), Phase(60_000, vol_ticks=1.5), Phase(60_000, drift_ticks=-0.25))


def make_events(quotes: int, seed: int) -> list[Quote | Trade]:
    """At least ``quotes`` quotes (with their trades) from repeated trend/chop cycles."""
    cycles = quotes // 2400 + 1  # one cycle is 4 minutes, ~2400 quotes
    events: list[Quote | Trade] = []
    count = 0
    for ev in synthetic_ticks(CYCLE * cycles, seed=seed):
        if isinstance(ev, Quote):
            if count == quotes:
                break
            count += 1
        events.append(ev)
    return events


def best_rate(run_once: Callable[[], int], rounds: int) -> float:
    """Best-of-``rounds`` items per second; ``run_once`` returns how many items it processed."""
    best = 0.0
    for _ in range(rounds):
        t0 = time.perf_counter()
        n = run_once()
        best = max(best, n / (time.perf_counter() - t0))
    return best


def baseline(quotes: Sequence[Quote]) -> int:
    for q in quotes:
        bid = float(q.bid)
        ask = float(q.ask)
        _mid = (bid + ask) * 0.5
        float(q.bid_size)
        float(q.ask_size)
    return len(quotes)


def single_indicators(mids: Sequence[float], quotes: Sequence[Quote], trades: Sequence[Trade], rounds: int) -> dict:
    """Updates per second of each indicator on its own (floats already converted)."""
    bids = [float(q.bid) for q in quotes]
    asks = [float(q.ask) for q in quotes]
    ts = [q.ts for q in quotes]
    trade_rows = [(float(t.price), float(t.size), t.taker_side, t.ts) for t in trades]
    p = ScalperParams()

    def over_mids(factory: Callable[[], Any]) -> Callable[[], int]:
        def run() -> int:
            update = factory().update
            for x in mids:
                update(x)
            return len(mids)

        return run

    def spread() -> int:
        update = SpreadMonitor().update
        for b, a in zip(bids, asks, strict=True):
            update(b, a)
        return len(bids)

    def imbalance() -> int:
        update = OrderBookImbalance(1).update
        for b, a in zip(bids, asks, strict=True):
            update(b, a)
        return len(bids)

    def flow() -> int:
        f = TradeFlowDelta(p.flow_window_ms)
        for _, size, side, t in trade_rows:
            f.update(size, side, t)
        return len(trade_rows)

    def flow_expiry() -> int:
        f = TradeFlowDelta(p.flow_window_ms)
        for t in ts:
            f.advance(t)
        return len(ts)

    def vwap() -> int:
        update = RollingVWAP(window_ms=60_000).update
        for price, size, _, t in trade_rows:
            update(price, size, t)
        return len(trade_rows)

    return {
        "ema": best_rate(over_mids(lambda: EMA(p.slow_ema)), rounds),
        "rsi": best_rate(over_mids(lambda: RSI(p.rsi_period)), rounds),
        "tick_atr": best_rate(over_mids(lambda: TickATR(p.atr_period)), rounds),
        "bollinger": best_rate(over_mids(lambda: Bollinger(p.bollinger_period, p.bollinger_k)), rounds),
        "vol_regime": best_rate(over_mids(lambda: VolatilityRegime(p.vol_short_window, p.vol_long_window)), rounds),
        "spread": best_rate(spread, rounds),
        "imbalance": best_rate(imbalance, rounds),
        "flow_delta_trade": best_rate(flow, rounds),
        "flow_delta_expiry": best_rate(flow_expiry, rounds),
        "vwap_60s_trade": best_rate(vwap, rounds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quotes", type=int, default=100_000, help="quote events per pass (default 100000)")
    parser.add_argument("--rounds", type=int, default=5, help="timed passes, best one counts (default 5)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = parser.parse_args()

    events = make_events(args.quotes, args.seed)
    quotes = [ev for ev in events if isinstance(ev, Quote)]
    trades = [ev for ev in events if isinstance(ev, Trade)]
    mids = [(float(q.bid) + float(q.ask)) * 0.5 for q in quotes]
    params = ScalperParams()
    signals = 0

    def indicator_set() -> int:
        update = MarketState(params).update_quote
        for q in quotes:
            update(q)
        return len(quotes)

    def scalper_quotes() -> int:
        nonlocal signals
        on_quote = ScalperStrategy(params).on_quote
        signals = sum(1 for q in quotes if on_quote(q) is not None)
        return len(quotes)

    def scalper_events() -> int:
        on_event = ScalperStrategy(params).on_event
        for ev in events:
            on_event(ev)
        return len(events)

    base = best_rate(lambda: baseline(quotes), args.rounds)
    results: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "implementation": platform.python_implementation(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "quotes": len(quotes),
        "trades": len(trades),
        "rounds": args.rounds,
        "baseline_decimal_to_float_quotes_s": base,
        "indicator_set_quotes_s": best_rate(indicator_set, args.rounds),
        "scalper_on_quote_quotes_s": best_rate(scalper_quotes, args.rounds),
        "scalper_on_event_events_s": best_rate(scalper_events, args.rounds),
        "single_indicator_updates_s": single_indicators(mids, quotes, trades, args.rounds),
    }
    results["signals_per_pass"] = signals
    simulated_minutes = (quotes[-1].ts - quotes[0].ts) / 60_000
    results["signals_per_simulated_minute"] = signals / simulated_minutes if simulated_minutes else 0.0
    for key in ("indicator_set_quotes_s", "scalper_on_quote_quotes_s"):
        results[key.replace("_quotes_s", "_vs_baseline")] = results[key] / base
    results["goal_quotes_s"] = 200_000
    results["indicator_set_meets_goal"] = results["indicator_set_quotes_s"] >= 200_000
    results["scalper_meets_goal"] = results["scalper_on_quote_quotes_s"] >= 200_000

    m = results["machine"]
    print(f"{m['implementation']} {m['python']} on {m['platform']}, {m['cpus']} CPUs; one core used")
    print(f"{len(quotes):,} quotes + {len(trades):,} trades (seed {args.seed}), best of {args.rounds} passes\n")
    rows = [
        ("baseline: Decimal→float of a quote", base, "quotes/s"),
        ("indicator set (MarketState.update_quote)", results["indicator_set_quotes_s"], "quotes/s"),
        ("scalper on_quote (full strategy)", results["scalper_on_quote_quotes_s"], "quotes/s"),
        ("scalper on_event (quotes + trades)", results["scalper_on_event_events_s"], "events/s"),
    ]
    for label, value, unit in rows:
        print(f"  {label:<44} {value:>12,.0f} {unit}  ({value / base:.2f}x baseline)")
    print("\n  single indicators (updates/s, floats in):")
    for name, value in results["single_indicator_updates_s"].items():
        print(f"    {name:<20} {value:>12,.0f}")
    goal = results["goal_quotes_s"]
    verdict = "meets" if results["indicator_set_meets_goal"] else "MISSES"
    print(
        f"\n  indicator set {verdict} the {goal:,} quotes/s goal; full scalper: "
        f"{'meets' if results['scalper_meets_goal'] else 'misses'} it"
    )
    print(
        f"  scalper signals: {signals} in {simulated_minutes:.0f} simulated minutes "
        f"({results['signals_per_simulated_minute']:.1f}/min)"
    )
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
