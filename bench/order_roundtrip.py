"""Order round trips, ParadexRestClient ↔ simulator in a separate process over loopback.

* place → NEW ack: a signed POST /orders for a limit order that rests far from the market.
* place → fill: a market order, then GET /fills until that order's fill is visible over REST.

    .venv/bin/python bench/order_roundtrip.py [-n 200] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _simproc import fresh_identity, percentile, simulator
from flashscalper.domain import Side
from flashscalper.exchanges.paradex.rest import ParadexRestClient

MARKET = "BTC-USD-PERP"


async def measure(rest_url: str, n: int) -> dict[str, object]:
    identity = await fresh_identity(rest_url)
    async with ParadexRestClient(rest_url, identity) as client:
        await client.authenticate()
        await client.markets()
        mark = (await client.markets_summary(MARKET))[0].mark
        far_bid = (mark * Decimal("0.8")).quantize(Decimal("0.1"))
        acks: list[float] = []
        fills: list[float] = []
        for i in range(n + 10):  # the first 10 warm connections and caches
            started = time.perf_counter()
            order = await client.limit_order(MARKET, Side.BUY, Decimal("0.001"), far_bid)
            ack_ms = (time.perf_counter() - started) * 1000
            await client.cancel_order(order.id)

            side = Side.BUY if i % 2 == 0 else Side.SELL
            started = time.perf_counter()
            placed = await client.market_order(MARKET, side, Decimal("0.001"))
            while True:
                recent = await client.fills(MARKET, page_size=5, max_pages=1)
                if any(f.order_id == placed.id for f in recent):
                    break
            fill_ms = (time.perf_counter() - started) * 1000
            if i >= 10:
                acks.append(ack_ms)
                fills.append(fill_ms)

    def stats(values: list[float]) -> dict[str, float]:
        return {"p50_ms": round(percentile(values, 0.5), 3), "p99_ms": round(percentile(values, 0.99), 3),
                "mean_ms": round(sum(values) / len(values), 3)}

    return {"bench": "order_roundtrip", "orders": n, "place_to_ack": stats(acks), "place_to_fill": stats(fills)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200, help="orders per measurement")
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = parser.parse_args()
    with simulator("--fund-usdc", "1000000") as (urls, _):
        result = asyncio.run(measure(urls["paradex_rest"], args.n))
    ack, fill = result["place_to_ack"], result["place_to_fill"]
    print(f"simulator in a separate process, loopback, {args.n} orders each")
    print(f"place -> NEW ack        p50 {ack['p50_ms']:.2f} ms   p99 {ack['p99_ms']:.2f} ms")  # type: ignore[index]
    print(f"place -> fill via REST  p50 {fill['p50_ms']:.2f} ms   p99 {fill['p99_ms']:.2f} ms")  # type: ignore[index]
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
