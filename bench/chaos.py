"""Chaos run: trade the simulator through ParadexExchange while faults rain down, then audit against the venue.

The simulator runs in a subprocess. A fresh demo identity places random small market and limit orders and
cancels on BTC and ETH, while the fault injector (admin HTTP endpoints) drops every WebSocket about every
10 s, refuses a few upgrades, and sprinkles 429 and 5xx bursts and delayed order acks. At the end the
faults stop, the client settles, and its view is compared with the venue's ground truth read by a fresh
REST client of the same account:

* fills seen on the client's event stream vs fills on the venue (lost, duplicated),
* orders open on the venue that the client does not know (orphans) and the reverse (stale),
* positions: the client's last PositionUpdate and the sum of the fills it saw vs the venue's position,
* reconnects and how long each took (DISCONNECTED → RESYNCED).

    .venv/bin/python bench/chaos.py --minutes 2 [--seed 1] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import sys
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _simproc import percentile, simulator
from flashscalper.domain import (
    ConnectionEvent,
    ConnectionState,
    FillEvent,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    OrderUpdate,
    PositionUpdate,
    Quote,
    Side,
)
from flashscalper.errors import ExchangeError
from flashscalper.exchanges.paradex.client import ParadexExchange, demo_identity
from flashscalper.exchanges.paradex.rest import ParadexRestClient

MARKETS = {"BTC-USD-PERP": Decimal("0.0003"), "ETH-USD-PERP": Decimal("0.006")}  # ~20-30 USD per lot
MAX_LOTS = 8  # keep positions small: reduce when beyond this many lots
DROP_EVERY_S = 10.0
OPEN = (OrderStatus.NEW, OrderStatus.OPEN, OrderStatus.UNTRIGGERED)


@dataclass
class ClientView:
    """Everything the client learned from its event stream (and its own REST acks)."""

    fill_count: dict[str, int] = field(default_factory=dict)  # fill id -> times delivered
    fill_signed: dict[str, Decimal] = field(default_factory=dict)  # market -> sum of signed fill sizes
    orders: dict[str, Order] = field(default_factory=dict)  # order id -> newest state seen
    positions: dict[str, tuple[int, Decimal]] = field(default_factory=dict)  # market -> (seq_no, size)
    quotes: dict[str, Quote] = field(default_factory=dict)
    down_at: int | None = None
    reconnect_s: list[float] = field(default_factory=list)
    disconnects: int = 0

    def on_order(self, order: Order, *, ack: bool = False) -> None:
        """Newest state wins; a closed order never reopens. A REST ack is the state at acceptance, older than
        any stream update (REST and WS number seq_no independently), so it only fills a gap."""
        known = self.orders.get(order.id)
        newer = known is not None and (order.status not in OPEN or order.seq_no >= known.seq_no)
        if known is None or (not ack and known.status in OPEN and newer):
            self.orders[order.id] = order

    def on_event(self, event: object) -> None:
        if isinstance(event, FillEvent):
            fill = event.fill
            self.fill_count[fill.id] = self.fill_count.get(fill.id, 0) + 1
            if self.fill_count[fill.id] == 1:
                signed = fill.size if fill.side is Side.BUY else -fill.size
                self.fill_signed[fill.market] = self.fill_signed.get(fill.market, Decimal(0)) + signed
        elif isinstance(event, OrderUpdate):
            self.on_order(event.order)
        elif isinstance(event, PositionUpdate):
            pos = event.position
            seen = self.positions.get(pos.market)
            if seen is None or pos.seq_no >= seen[0]:
                self.positions[pos.market] = (pos.seq_no, pos.size)
        elif isinstance(event, Quote):
            self.quotes[event.market] = event
        elif isinstance(event, ConnectionEvent):
            if event.state is ConnectionState.DISCONNECTED:
                self.disconnects += 1
                if self.down_at is None:
                    self.down_at = event.ts
            elif event.state is ConnectionState.RESYNCED and self.down_at is not None:
                self.reconnect_s.append((event.ts - self.down_at) / 1000)
                self.down_at = None

    def open_order_ids(self) -> set[str]:
        return {oid for oid, o in self.orders.items() if o.status in OPEN}


class Chaos:
    def __init__(self, urls: dict[str, str], minutes: float, seed: int) -> None:
        self.urls = urls
        self.duration_s = minutes * 60
        self.rng = random.Random(seed)
        self.view = ClientView()
        self.counters: dict[str, int] = {"orders_sent": 0, "order_errors": 0, "cancels_sent": 0,
                                         "cancel_errors": 0, "faults": 0, "drops": 0}
        self.seq = 0

    async def admin(self, http: aiohttp.ClientSession, path: str, body: dict[str, object] | None = None) -> None:
        async with http.post(self.urls["admin"] + path, json=body or {}) as resp:
            resp.raise_for_status()

    async def consume(self, venue: ParadexExchange) -> None:
        async for event in venue.events():
            self.view.on_event(event)

    async def faults(self, http: aiohttp.ClientSession, stop: asyncio.Event) -> None:
        """Drop the sockets every ~10 s; bursts of 429/5xx, held acks and refused upgrades in between."""
        rng = self.rng
        next_drop = time.monotonic() + DROP_EVERY_S * rng.uniform(0.8, 1.2)
        while not stop.is_set():
            await asyncio.sleep(rng.uniform(0.5, 2.0))
            if stop.is_set():
                break
            if time.monotonic() >= next_drop:
                if rng.random() < 0.3:  # sometimes the venue also refuses the first reconnect attempts
                    await self.admin(http, "/faults", {"refuse_ws_for_ms": rng.choice([200, 400, 600])})
                await self.admin(http, "/drop")
                self.counters["drops"] += 1
                next_drop = time.monotonic() + DROP_EVERY_S * rng.uniform(0.8, 1.2)
                continue
            kind = rng.random()
            if kind < 0.3:
                change: dict[str, object] = {"rest_429_burst": rng.randint(1, 3)}
            elif kind < 0.6:
                change = {"rest_5xx_burst": rng.randint(1, 4)}
            elif kind < 0.85:
                change = {"ack_delay_ms": rng.choice([50, 150, 300])}
            else:
                change = {"ack_delay_ms": 0}
            await self.admin(http, "/faults", change)
            self.counters["faults"] += 1

    def client_id(self) -> str:
        self.seq += 1
        return f"chaos-{self.seq}"

    async def place(self, venue: ParadexExchange, request: OrderRequest) -> None:
        self.counters["orders_sent"] += 1
        try:
            self.view.on_order(await venue.place_order(request), ack=True)
        except ExchangeError:
            self.counters["order_errors"] += 1

    async def trade(self, venue: ParadexExchange, stop: asyncio.Event) -> None:
        """Random small orders; concurrent so a held ack does not stop the others."""
        rng = self.rng
        pending: set[asyncio.Task[None]] = set()
        while not stop.is_set():
            await asyncio.sleep(rng.uniform(0.05, 0.25))
            market = rng.choice(list(MARKETS))
            lot = MARKETS[market]
            quote = self.view.quotes.get(market)
            if quote is None:
                continue
            position = self.view.fill_signed.get(market, Decimal(0))
            roll = rng.random()
            if abs(position) > lot * MAX_LOTS:
                side = Side.SELL if position > 0 else Side.BUY
                request = OrderRequest(market, side, OrderType.MARKET, lot * 2, self.client_id(), reduce_only=True)
            elif roll < 0.35:
                side = rng.choice([Side.BUY, Side.SELL])
                request = OrderRequest(market, side, OrderType.MARKET, lot, self.client_id())
            elif roll < 0.75:
                side = rng.choice([Side.BUY, Side.SELL])
                tick = Decimal("0.1") if market.startswith("BTC") else Decimal("0.01")
                offset = tick * rng.randint(-3, 40)  # a few cross and fill, most rest
                price = quote.bid - offset if side is Side.BUY else quote.ask + offset
                request = OrderRequest(market, side, OrderType.LIMIT, lot, self.client_id(), price=price)
            else:
                task = asyncio.create_task(self.cancel_one(venue))
                pending.add(task)
                task.add_done_callback(pending.discard)
                continue
            task = asyncio.create_task(self.place(venue, request))
            pending.add(task)
            task.add_done_callback(pending.discard)
        await asyncio.gather(*pending, return_exceptions=True)

    async def cancel_one(self, venue: ParadexExchange) -> None:
        candidates = sorted(self.view.open_order_ids())
        if not candidates:
            return
        order = self.view.orders[self.rng.choice(candidates)]
        self.counters["cancels_sent"] += 1
        try:
            await venue.cancel_order(order.market, order_id=order.id)
        except ExchangeError:
            self.counters["cancel_errors"] += 1

    async def run(self) -> dict[str, object]:
        rest_url, ws_url = self.urls["paradex_rest"], self.urls["paradex_ws"]
        async with aiohttp.ClientSession() as http, http.get(rest_url + "/system/config") as resp:
            system = await resp.json()
        identity = demo_identity(system)
        venue = ParadexExchange(ParadexRestClient(rest_url, identity), ws_url)
        started_ms = int(time.time() * 1000)
        await venue.connect()
        await venue.subscribe_market_data(list(MARKETS))
        consumer = asyncio.create_task(self.consume(venue))
        stop = asyncio.Event()
        async with aiohttp.ClientSession() as http:
            trader = asyncio.create_task(self.trade(venue, stop))
            chaos = asyncio.create_task(self.faults(http, stop))
            await asyncio.sleep(self.duration_s)
            stop.set()
            await asyncio.gather(trader, chaos)
            async with http.delete(self.urls["admin"] + "/faults") as resp:
                resp.raise_for_status()
            async with http.get(self.urls["admin"] + "/state") as resp:
                fault_counters = (await resp.json())["fault_counters"]
        # Settle: the socket must be up and resynced, then let in-flight events arrive.
        deadline = time.monotonic() + 20
        while (not venue.ws.connected or self.view.down_at is not None) and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        await asyncio.sleep(2.0)
        result = await self.audit(identity, rest_url, started_ms)
        stats = venue.ws.stats_snapshot()
        consumer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await consumer
        await venue.close()
        durations = self.view.reconnect_s
        result.update(
            reconnects=int(stats["reconnects"]), disconnect_events=self.view.disconnects,
            reconnects_measured=len(durations),
            reconnect_p50_s=round(percentile(durations, 0.5), 3) if durations else None,
            reconnect_p99_s=round(percentile(durations, 0.99), 3) if durations else None,
            reconnect_max_s=round(max(durations), 3) if durations else None,
            connect_failures=int(stats["connect_failures"]), ws_duplicate_fills_dropped=int(stats["duplicate_fills"]),
            fault_counters=fault_counters, minutes=self.duration_s / 60, **self.counters,
        )
        return result

    async def audit(self, identity: object, rest_url: str, started_ms: int) -> dict[str, object]:
        """Ground truth from a fresh REST client of the same account (no faults any more)."""
        async with ParadexRestClient(rest_url, identity) as truth:  # type: ignore[arg-type]
            await truth.authenticate()
            venue_fills = await truth.fills(start_at=started_ms - 1000, page_size=100, max_pages=100_000)
            venue_open = await truth.open_orders()
            venue_positions = {p.market: p.size for p in await truth.positions() if p.size != 0}
            open_ids = {o.id for o in venue_open}
            stale_detail = []
            for oid in sorted(self.view.open_order_ids() - open_ids)[:5]:
                mine = self.view.orders[oid]
                final = await truth.get_order(oid, market=mine.market)
                stale_detail.append(f"{oid}: client {mine.status}/{mine.seq_no} venue {final.status}/{final.seq_no}")
        view = self.view
        truth_ids = {f.id for f in venue_fills}
        lost = sorted(truth_ids - set(view.fill_count))
        phantom = sorted(set(view.fill_count) - truth_ids)
        duplicated = sum(n - 1 for n in view.fill_count.values() if n > 1)
        client_open = view.open_order_ids()
        orphans = [o.id for o in venue_open if o.id not in client_open]
        stale = sorted(client_open - {o.id for o in venue_open})
        mismatches = []
        for market in sorted(set(MARKETS) | set(venue_positions)):
            venue_size = venue_positions.get(market, Decimal(0))
            streamed = view.positions.get(market, (0, Decimal(0)))[1]
            from_fills = view.fill_signed.get(market, Decimal(0))
            if streamed != venue_size or from_fills != venue_size:
                mismatches.append({"market": market, "venue": str(venue_size), "position_stream": str(streamed),
                                   "sum_of_fills": str(from_fills)})
        return {
            "fills_on_venue": len(truth_ids), "fills_seen": len(view.fill_count), "lost_fills": len(lost),
            "phantom_fills": len(phantom), "duplicated_fills": duplicated, "orphan_orders": len(orphans),
            "stale_orders": len(stale), "venue_open_orders": len(venue_open),
            "position_mismatches": len(mismatches), "mismatch_detail": mismatches,
            "venue_positions": {m: str(s) for m, s in venue_positions.items()},
            "lost_fill_ids": lost[:10], "orphan_order_ids": orphans[:10], "stale_order_ids": stale[:10],
            "stale_detail": stale_detail,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to trade under faults")
    parser.add_argument("--seed", type=int, default=1, help="seed of the order and fault schedule")
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = parser.parse_args()
    with simulator("--fund-usdc", "1000000") as (urls, _):
        result = asyncio.run(Chaos(urls, args.minutes, args.seed).run())
    r = result
    print(f"chaos run: {r['minutes']:g} min against a simulator subprocess, {r['orders_sent']} orders "
          f"({r['order_errors']} refused/failed), {r['cancels_sent']} cancels, {r['drops']} socket drops, "
          f"{r['faults']} REST/ack faults")
    print(f"reconnects {r['reconnects']} (measured {r['reconnects_measured']}): p50 {r['reconnect_p50_s']} s, "
          f"p99 {r['reconnect_p99_s']} s, max {r['reconnect_max_s']} s; failed connect attempts "
          f"{r['connect_failures']}")
    print(f"fills: venue {r['fills_on_venue']}, seen {r['fills_seen']}, lost {r['lost_fills']}, "
          f"duplicated {r['duplicated_fills']}, phantom {r['phantom_fills']} "
          f"(socket/REST duplicates dropped by the client: {r['ws_duplicate_fills_dropped']})")
    print(f"orders: open on venue {r['venue_open_orders']}, orphans (venue-only) {r['orphan_orders']}, "
          f"stale (client-only) {r['stale_orders']}")
    print(f"positions: venue {r['venue_positions']}, mismatches {r['position_mismatches']} {r['mismatch_detail']}")
    ok = (r["lost_fills"], r["duplicated_fills"], r["orphan_orders"], r["position_mismatches"]) == (0, 0, 0, 0)
    p99 = r["reconnect_p99_s"]
    print(f"goal 0/0/0/0 and p99 reconnect <= 2 s: {'met' if ok and p99 is not None and p99 <= 2 else 'NOT met'}")
    if args.json:
        print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
