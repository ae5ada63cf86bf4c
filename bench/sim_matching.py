"""Benchmark: matched orders per second through the simulator's hot path (submit a limit order that
crosses one resting order), against a baseline of resting-only submissions, measured in one run.

Method: a fresh SimExchange on a ManualClock; a maker account rests N sell orders at one price per
batch, a taker account sends N crossing IOC buys of the same size. Each matched order = one taker
submit that fully fills against one maker (two fills, one trade, positions and margin updated).
Reported with and without an event listener attached. Run: .venv/bin/python bench/sim_matching.py
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from dataclasses import replace
from decimal import Decimal

from flashscalper.clock import ManualClock
from flashscalper.domain import OrderRequest, OrderType, Side, TimeInForce
from flashscalper.sim.engine import SimExchange
from flashscalper.sim.markets import default_markets

MARKET = "BTC-USD-PERP"
N = 20_000


def _run(listen: bool) -> tuple[float, float]:
    specs = default_markets()
    spec = specs[MARKET]
    # the maker rests the whole batch at once, so lift the per-market open-orders limit for it
    specs[MARKET] = replace(spec, market=replace(spec.market, max_open_orders=N))
    ex = SimExchange(ManualClock(), specs)
    ex.create_account("maker", Decimal(10**9))
    ex.create_account("taker", Decimal(10**9))
    if listen:
        sink: list[object] = []
        ex.subscribe(sink.append)
    size = Decimal("0.001")
    prices = [Decimal(95_000) + Decimal(i % 50) / 10 for i in range(N)]
    asks = [OrderRequest(MARKET, Side.SELL, OrderType.LIMIT, size, "", price=p) for p in prices]
    bids = [OrderRequest(MARKET, Side.BUY, OrderType.LIMIT, size, "", price=Decimal(95_010), tif=TimeInForce.IOC)
            for _ in prices]
    submit = ex.submit_order
    start = time.perf_counter()
    for req in asks:
        submit("maker", req)
    rest = time.perf_counter() - start
    start = time.perf_counter()
    for req in bids:
        submit("taker", req)
    match = time.perf_counter() - start
    assert ex.position("taker", MARKET).size == size * N
    return N / rest, N / match


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print one JSON object with the figures as the last line")
    args = parser.parse_args()
    print(f"python {platform.python_version()} on {platform.machine()} {platform.processor() or ''}".strip())
    figures: dict[str, object] = {"python": platform.python_version(), "orders": N}
    for listen in (False, True):
        rest, match = _run(listen)
        label = "with listener" if listen else "no listener  "
        print(f"{label}: resting {rest:10,.0f} orders/s   matched {match:10,.0f} orders/s   "
              f"(matched/resting = {match / rest:.2f})")
        key = "listener" if listen else "no_listener"
        figures[f"{key}_resting_per_s"] = round(rest)
        figures[f"{key}_matched_per_s"] = round(match)
    if args.json:
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
