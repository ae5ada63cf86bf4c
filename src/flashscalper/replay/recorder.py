"""Recording market data: quotes, trades and marks to Parquet plus a JSON manifest.

A :class:`MarketRecorder` collects market events (from any venue's ``events()``, or handed to
:meth:`MarketRecorder.on_event`) and :meth:`MarketRecorder.write` produces the directory that
:func:`flashscalper.replay.data.load_recording` reads. :func:`record_simulator` records the local
simulator (engine + market generator) in virtual time, which needs no network and is seeded.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from flashscalper.clock import ManualClock
from flashscalper.domain import BookUpdate, Event, MarkPrice, Quote, Trade
from flashscalper.exchanges.local import LocalExchange
from flashscalper.replay.data import RECORDING_FORMAT, file_sha256, spec_to_json
from flashscalper.sim.engine import SimExchange
from flashscalper.sim.market_maker import MarketSimulator
from flashscalper.sim.markets import MarketSpec

__all__ = ["COLUMNS", "MarketRecorder", "record_simulator"]

COLUMNS = ("ts", "kind", "market", "bid", "bid_size", "ask", "ask_size", "price", "size", "side", "id", "mark",
           "funding_rate")


def _s(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


class MarketRecorder:
    """Buffers market events as rows (strings for Decimals) and writes them once."""

    def __init__(self, markets: dict[str, MarketSpec], *, source: dict[str, Any] | None = None) -> None:
        self.markets = markets
        self.source = source or {}
        self.rows: dict[str, list[Any]] = {c: [] for c in COLUMNS}
        self._last_quote: dict[str, tuple[Decimal, Decimal, Decimal, Decimal]] = {}

    def __len__(self) -> int:
        return len(self.rows["ts"])

    def on_event(self, event: Event) -> None:
        """Record one event if it is market data of a recorded market (others are ignored)."""
        if isinstance(event, BookUpdate) and event.bids and event.asks:
            b, a = event.bids[0], event.asks[0]
            event = Quote(event.market, b.price, b.size, a.price, a.size, event.ts)
        if isinstance(event, Quote):
            key = (event.bid, event.bid_size, event.ask, event.ask_size)
            if event.market not in self.markets or self._last_quote.get(event.market) == key:
                return  # an unchanged touch is not news
            self._last_quote[event.market] = key
            self._add(event.ts, "quote", event.market, bid=_s(event.bid), bid_size=_s(event.bid_size),
                      ask=_s(event.ask), ask_size=_s(event.ask_size))
        elif isinstance(event, Trade) and event.market in self.markets:
            self._add(event.ts, "trade", event.market, price=_s(event.price), size=_s(event.size),
                      side=event.taker_side.value, id=event.id)
        elif isinstance(event, MarkPrice) and event.market in self.markets:
            self._add(event.ts, "mark", event.market, mark=_s(event.mark), funding_rate=_s(event.funding_rate))

    def _add(self, ts: int, kind: str, market: str, **values: str | None) -> None:
        rows = self.rows
        rows["ts"].append(ts)
        rows["kind"].append(kind)
        rows["market"].append(market)
        for column in COLUMNS[3:]:
            rows[column].append(values.get(column))

    def write(self, directory: str | Path) -> Path:
        """Write ``events.parquet`` and ``manifest.json`` into ``directory`` (created if needed)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        root = Path(directory)
        root.mkdir(parents=True, exist_ok=True)
        schema = pa.schema([("ts", pa.int64()), ("kind", pa.string()), ("market", pa.string())]
                           + [(c, pa.string()) for c in COLUMNS[3:]])
        table = pa.table(self.rows, schema=schema)
        events_path = root / "events.parquet"
        pq.write_table(table, events_path, compression="zstd")
        ts = self.rows["ts"]
        first_prices = {}
        for i, market in enumerate(self.rows["market"]):
            if market not in first_prices and self.rows["kind"][i] == "quote":
                first_prices[market] = (Decimal(self.rows["bid"][i]) + Decimal(self.rows["ask"][i])) / 2
        specs = {}
        for symbol, spec in self.markets.items():
            entry = spec_to_json(spec)
            if symbol in first_prices:
                entry["initial_price"] = str(spec.market.round_price(first_prices[symbol]))
            specs[symbol] = entry
        manifest = {
            "format": RECORDING_FORMAT, "version": 1, "markets": specs,
            "start_ms": min(ts) if ts else 0, "end_ms": (max(ts) + 1) if ts else 0, "events": len(ts),
            "kinds": {k: self.rows["kind"].count(k) for k in ("quote", "trade", "mark")},
            "source": self.source, "sha256": file_sha256(events_path),
        }
        (root / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        return root


def record_simulator(directory: str | Path, *, duration_ms: int = 60_000, seed: int = 7, step_ms: int = 250,
                     markets: tuple[str, ...] = ("BTC-USD-PERP",), start_ms: int = 1_704_067_200_000) -> Path:
    """Run the local simulator's market generator in virtual time and record what a subscriber sees."""
    clock = ManualClock(start_ms)
    engine = SimExchange(clock)
    simulator = MarketSimulator(engine, seed=seed)
    watcher = LocalExchange(engine, "recorder", clock=clock)
    watcher._markets.update(markets)  # subscribe synchronously: the events land in the watcher's queue
    recorder = MarketRecorder({m: engine.specs[m] for m in markets},
                              source={"kind": "simulator", "seed": seed, "duration_ms": duration_ms,
                                      "step_ms": step_ms})
    elapsed = 0
    while elapsed < duration_ms:
        clock.advance(step_ms)
        simulator.step(step_ms)
        elapsed += step_ms
        for event in watcher.drain():
            recorder.on_event(event)
    return recorder.write(directory)
