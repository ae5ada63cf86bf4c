"""How many signed orders per second the simulator accepts and verifies on one core.

Pre-signs N IOC limit orders far from the market (distinct signature timestamps) in this process, then
blasts them at a simulator in a subprocess over a few concurrent loopback connections. Each order is
parsed, its Order hash rebuilt and its signature verified, then it runs through the engine (and expires).
The simulator's order rate limit is raised with ``--order-rate`` for the run.

    .venv/bin/python bench/sim_capacity.py [-n 3000] [--connections 4] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

import aiohttp
import orjson
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _simproc import fresh_identity, simulator
from flashscalper.exchanges.paradex.rest import ParadexRestClient
from flashscalper.exchanges.paradex.signing import ParadexSigner

MARKET = "BTC-USD-PERP"


async def blast(rest_url: str, n: int, connections: int, sim_pid: int) -> dict[str, object]:
    identity = await fresh_identity(rest_url)
    async with ParadexRestClient(rest_url, identity) as client:
        token = await client.jwt()
        config = await client.system_config()
        mark = (await client.markets_summary(MARKET))[0].mark
    signer = ParadexSigner(config.starknet_chain_id, identity.account_address, identity.l2_private_key)
    price = str((mark * Decimal("0.8")).quantize(Decimal("0.1")))
    base_ts = int(time.time() * 1000)
    started = time.perf_counter()
    bodies = []
    for i in range(n):
        ts = base_ts + i  # distinct timestamps: every order is its own signed message
        bodies.append(orjson.dumps({
            "market": MARKET, "side": "BUY", "type": "LIMIT", "size": "0.001", "price": price,
            "instruction": "IOC", "signature": signer.sign_order(MARKET, "BUY", "LIMIT", "0.001", price, ts),
            "signature_timestamp": ts,
        }))
    sign_s = time.perf_counter() - started

    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    statuses: Counter[int] = Counter()
    queue = iter(bodies)
    proc = psutil.Process(sim_pid)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections)) as session:

        async def worker() -> None:
            for body in queue:
                async with session.post(rest_url + "/orders", data=body, headers=headers) as resp:
                    await resp.read()
                    statuses[resp.status] += 1

        cpu_before = proc.cpu_times()
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - started
        cpu_after = proc.cpu_times()
    sim_cpu = (cpu_after.user + cpu_after.system) - (cpu_before.user + cpu_before.system)
    accepted = statuses.get(201, 0)
    return {
        "bench": "sim_capacity", "orders": n, "connections": connections, "accepted": accepted,
        "statuses": {str(k): v for k, v in sorted(statuses.items())}, "seconds": round(elapsed, 3),
        "orders_per_s": round(accepted / elapsed, 1), "sim_cpu_s": round(sim_cpu, 3),
        "sim_cpu_ms_per_order": round(sim_cpu * 1000 / max(accepted, 1), 3),
        "presign_ms_per_order": round(sign_s * 1000 / n, 3), "goal_orders_per_s": 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=3000, help="orders to send")
    parser.add_argument("--connections", type=int, default=4, help="concurrent HTTP connections")
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = parser.parse_args()
    with simulator("--order-rate", "1000000", "--fund-usdc", "1000000") as (urls, proc):
        result = asyncio.run(blast(urls["paradex_rest"], args.n, args.connections, proc.pid))
    print(f"{result['accepted']}/{args.n} signed orders accepted (201) in {result['seconds']} s over "
          f"{args.connections} connections; statuses {result['statuses']}")
    print(f"throughput  {result['orders_per_s']} orders/s on one simulator core (goal >= 1000)")
    print(f"simulator CPU  {result['sim_cpu_ms_per_order']} ms per order; pre-signing "
          f"{result['presign_ms_per_order']} ms per order in the bench process")
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
