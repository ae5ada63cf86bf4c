"""Market data for backtests and replays: recorded sessions, imported candles and public trades.

Accepted formats
================

**Recording** (written by ``flashscalper record``): a directory holding

* ``manifest.json`` — ``{"format": "flashscalper-recording", "version": 1, "markets": {SYMBOL: {...}},
  "start_ms", "end_ms", "events", "source", "sha256"}``; each market entry holds the
  :class:`~flashscalper.domain.Market` fields (Decimals as strings) plus ``initial_price``;
  ``sha256`` is the digest of ``events.parquet`` and is checked on load.
* ``events.parquet`` — one row per market event, in arrival order, columns
  ``ts`` (int64 epoch ms), ``kind`` (``quote`` / ``trade`` / ``mark``), ``market`` and the string
  columns ``bid``, ``bid_size``, ``ask``, ``ask_size`` (quotes), ``price``, ``size``, ``side``, ``id``
  (trades; ``side`` is the taker side ``BUY``/``SELL``), ``mark``, ``funding_rate`` (marks). Prices
  and sizes are decimal strings so nothing is rounded through a float.

**Candles** (OHLCV), one market per file, from ``.csv``, ``.parquet`` or ``.json``:

* CSV / Parquet: columns ``timestamp`` (alias ``ts``, ``time``, ``open_time``), ``open``, ``high``,
  ``low``, ``close``, ``volume`` (any order, case-insensitive, extra columns ignored).
* JSON: a list of ``[timestamp_ms, open, high, low, close, volume]`` arrays (the ccxt / exchange
  kline shape; extra trailing items ignored), or a list of objects with the CSV column names.
* ``timestamp`` is the candle's *open* time: integer epoch milliseconds, integer epoch seconds
  (any value below 10^11 is taken as seconds), or an ISO-8601 string (UTC when no offset).
* Rows must be strictly increasing in time, evenly spaced (the interval is the smallest step seen,
  or ``interval_ms`` when given; a missing candle is an error unless ``allow_gaps=True``),
  with ``low <= min(open, close) <= max(open, close) <= high``, positive prices and volume >= 0.
  Every violation raises :class:`DataError` naming the file and the row (1-based data row; the CSV
  header is not counted).

**Public trades**, from the same three containers: columns ``timestamp``, ``price``, ``size``
(alias ``amount``, ``qty``), ``side`` (taker side: ``buy``/``sell``, case-insensitive; alias
``taker_side``), optional ``id``; JSON arrays are ``[timestamp_ms, price, size, side]``. Each trade
becomes a one-tick quote around its price followed by the trade itself.

How a candle becomes ticks (deterministic)
==========================================

Each candle of interval ``T`` opening at ``t`` becomes four price points at ``t``, ``t+T/4``,
``t+T/2`` and ``t+3T/4``: ``O→L→H→C`` when the candle closed at or above its open (it dipped first,
then rallied), ``O→H→L→C`` when it closed below. Every point is published as a :class:`Quote` whose
bid is the point rounded down to the tick minus ``half_spread_ticks`` (default 1) ticks and whose ask
is the bid plus ``2 × half_spread_ticks`` ticks, with ``quote_size`` on each side (default: the
candle volume, at least one size step). Each of the three moves then prints one :class:`Trade` of
``volume / 3`` (rounded down to the step, at least one step) at the new point, the taker side being
the direction of the move (``BUY`` when up, ``SELL`` when down or flat). There is no separate mark
feed: the paper/backtest engine marks to the mid.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from flashscalper.domain import Market, MarkPrice, Quote, Side, Trade, quantize_down
from flashscalper.errors import FlashScalperError
from flashscalper.sim.markets import MarginParams, MarketSpec, default_markets

__all__ = [
    "Candle",
    "CandleTicks",
    "DataError",
    "DataSet",
    "MarketEvent",
    "candles_to_events",
    "dataset_from_candles",
    "load_candles",
    "load_dataset",
    "load_recording",
    "load_trades",
    "market_spec",
    "spec_from_json",
    "spec_to_json",
    "trades_to_events",
]

MarketEvent = Quote | Trade | MarkPrice
RECORDING_FORMAT = "flashscalper-recording"
_TS_ALIASES = ("timestamp", "ts", "time", "open_time", "date")
_SIZE_ALIASES = ("size", "amount", "qty", "quantity")


class DataError(FlashScalperError):
    """Input data that cannot be used as it is; the message names the file, the row and the fix."""


@dataclass(frozen=True, slots=True)
class Candle:
    """One OHLCV bar; ``ts`` is its open time in epoch ms."""

    ts: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal


@dataclass
class DataSet:
    """What a backtest runs on: market specs plus a re-iterable, time-ordered event source.

    ``events()`` may be called many times (each call starts from the beginning), so a data set can be
    replayed by several runs (optimisation, parity checks) without holding every event in memory.
    """

    markets: dict[str, MarketSpec]
    source: Callable[[], Iterator[MarketEvent]]
    start_ms: int
    end_ms: int
    description: dict[str, Any] = field(default_factory=dict)
    count: int | None = None  # number of events when known up front
    candles: Callable[[], Iterator[Candle]] | None = None  # one-market candle data: the bars themselves
    interval_ms: int | None = None  # the candles' interval

    def events(self) -> Iterator[MarketEvent]:
        return self.source()

    def between(self, start_ms: int, end_ms: int) -> DataSet:
        """The events with ``start_ms <= ts < end_ms`` (walk-forward windows)."""
        source = self.source

        def window() -> Iterator[MarketEvent]:
            for event in source():
                if event.ts >= end_ms:
                    return
                if event.ts >= start_ms:
                    yield event

        bars = None
        if self.candles is not None:
            candles = self.candles

            def bars() -> Iterator[Candle]:
                return (c for c in candles() if start_ms <= c.ts < end_ms)

        desc = {**self.description, "window": [start_ms, end_ms]}
        return DataSet(self.markets, window, start_ms, end_ms, desc, candles=bars, interval_ms=self.interval_ms)


# ---- market specs ---------------------------------------------------------------------------------

def market_spec(symbol: str, price: Decimal, *, tick: Decimal | None = None, step: Decimal | None = None) -> MarketSpec:
    """The spec for ``symbol``: the simulator's own when it lists it, otherwise a generic perpetual whose
    tick is about 0.1 bp of ``price`` (or ``tick``) and whose step buys about 1 USD (or ``step``)."""
    known = default_markets().get(symbol)
    if known is not None and tick is None and step is None:
        return MarketSpec(market=known.market, margin=known.margin, initial_price=known.market.round_price(price))
    tick = tick or _pow10_at_most(price / Decimal(100_000))
    step = step or _pow10_at_most(Decimal(1) / price)
    base = symbol.split("-")[0].removesuffix("USDT").removesuffix("USD") or symbol
    market = Market(symbol=symbol, base=base, quote="USD", tick_size=tick, step_size=step,
                    min_notional=Decimal(10), max_leverage=Decimal(50))
    return MarketSpec(market=market, margin=MarginParams(), initial_price=market.round_price(price))


def _pow10_at_most(x: Decimal) -> Decimal:
    if x <= 0:
        return Decimal(1)
    exponent = x.adjusted()
    return Decimal(1).scaleb(exponent)


def spec_to_json(spec: MarketSpec) -> dict[str, Any]:
    """A market spec as JSON-safe values (Decimals as strings)."""
    m = spec.market
    return {
        "symbol": m.symbol, "base": m.base, "quote": m.quote, "tick_size": str(m.tick_size),
        "step_size": str(m.step_size), "min_notional": str(m.min_notional),
        "max_order_size": None if m.max_order_size is None else str(m.max_order_size),
        "position_limit": None if m.position_limit is None else str(m.position_limit),
        "max_leverage": str(m.max_leverage), "imf_base": str(m.imf_base), "mmf_factor": str(m.mmf_factor),
        "funding_period_hours": m.funding_period_hours, "initial_price": str(spec.initial_price),
    }


def spec_from_json(data: dict[str, Any]) -> MarketSpec:
    """Inverse of :func:`spec_to_json`."""
    def dec(key: str) -> Decimal | None:
        value = data.get(key)
        return None if value is None else Decimal(str(value))

    market = Market(
        symbol=data["symbol"], base=data["base"], quote=data["quote"], tick_size=Decimal(data["tick_size"]),
        step_size=Decimal(data["step_size"]), min_notional=Decimal(data["min_notional"]),
        max_order_size=dec("max_order_size"), position_limit=dec("position_limit"),
        max_leverage=Decimal(data["max_leverage"]), imf_base=Decimal(data["imf_base"]),
        mmf_factor=Decimal(data["mmf_factor"]), funding_period_hours=int(data["funding_period_hours"]),
    )
    margin = MarginParams(imf_base=market.imf_base, mmf_factor=market.mmf_factor)
    return MarketSpec(market=market, margin=margin, initial_price=Decimal(data["initial_price"]))


# ---- recordings -----------------------------------------------------------------------------------

def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_recording(directory: str | Path) -> DataSet:
    """Read a recording directory (``manifest.json`` + ``events.parquet``); see the module docstring."""
    import pyarrow.parquet as pq

    root = Path(directory)
    manifest_path = root / "manifest.json"
    events_path = root / "events.parquet"
    if not manifest_path.is_file():
        raise DataError(f"{manifest_path}: no manifest; a recording is a directory written by `flashscalper record`")
    try:
        manifest = json.loads(manifest_path.read_text())
    except json.JSONDecodeError as exc:
        raise DataError(f"{manifest_path}: not valid JSON ({exc})") from None
    if manifest.get("format") != RECORDING_FORMAT:
        raise DataError(f"{manifest_path}: format is {manifest.get('format')!r}, expected {RECORDING_FORMAT!r}")
    if not events_path.is_file():
        raise DataError(f"{events_path}: missing; the manifest lists {manifest.get('events')} events")
    if manifest.get("sha256") and file_sha256(events_path) != manifest["sha256"]:
        raise DataError(f"{events_path}: sha256 does not match the manifest (the file changed after recording)")
    markets = {symbol: spec_from_json(spec) for symbol, spec in manifest["markets"].items()}
    columns = pq.read_table(events_path).to_pydict()
    events = list(_rows_to_events(columns, events_path, set(markets)))
    return DataSet(markets, lambda: iter(events), int(manifest["start_ms"]), int(manifest["end_ms"]),
                   {"kind": "recording", "path": str(root), "events": len(events),
                    "source": manifest.get("source", {}), "sha256": manifest.get("sha256")}, len(events))


def _rows_to_events(cols: dict[str, list[Any]], path: Path, markets: set[str]) -> Iterator[MarketEvent]:
    last_ts = None
    for i, (ts, kind, market) in enumerate(zip(cols["ts"], cols["kind"], cols["market"], strict=True)):
        row = i + 1
        if market not in markets:
            raise DataError(f"{path}: row {row}: market {market!r} is not in the manifest")
        if last_ts is not None and ts < last_ts:
            raise DataError(f"{path}: row {row}: timestamp {ts} goes back in time (previous {last_ts})")
        last_ts = ts
        try:
            if kind == "quote":
                yield Quote(market, Decimal(cols["bid"][i]), Decimal(cols["bid_size"][i]), Decimal(cols["ask"][i]),
                            Decimal(cols["ask_size"][i]), ts)
            elif kind == "trade":
                yield Trade(market, cols["id"][i] or str(row), Decimal(cols["price"][i]), Decimal(cols["size"][i]),
                            Side(cols["side"][i]), ts)
            elif kind == "mark":
                rate = cols["funding_rate"][i]
                yield MarkPrice(market, Decimal(cols["mark"][i]), ts,
                                funding_rate=None if rate in (None, "") else Decimal(rate))
            else:
                raise DataError(f"{path}: row {row}: unknown kind {kind!r} (quote, trade or mark)")
        except (InvalidOperation, TypeError, ValueError) as exc:
            raise DataError(f"{path}: row {row}: malformed {kind} ({exc})") from None


# ---- generic tabular reading ---------------------------------------------------------------------

def _read_rows(path: Path, array_columns: tuple[str, ...]) -> list[dict[str, Any]]:
    """Rows of a CSV / Parquet / JSON file as dicts with lower-case keys."""
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open(newline="") as fh:
            reader = csv.DictReader(fh)
            if reader.fieldnames is None:
                raise DataError(f"{path}: empty file (expected a header row)")
            return [{(k or "").strip().lower(): v for k, v in row.items()} for row in reader]
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        cols = {name.lower(): values for name, values in table.to_pydict().items()}
        return [dict(zip(cols, values, strict=True)) for values in zip(*cols.values(), strict=True)]
    if suffix == ".json":
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}: not valid JSON ({exc})") from None
        if isinstance(data, dict):
            data = data.get("data") or data.get("candles") or data.get("trades")
        if not isinstance(data, list):
            raise DataError(f"{path}: expected a JSON list of rows")
        rows: list[dict[str, Any]] = []
        for i, item in enumerate(data, start=1):
            if isinstance(item, list):
                if len(item) < len(array_columns):
                    raise DataError(f"{path}: row {i}: expected [{', '.join(array_columns)}], got {item!r}")
                rows.append(dict(zip(array_columns, item, strict=False)))
            elif isinstance(item, dict):
                rows.append({str(k).lower(): v for k, v in item.items()})
            else:
                raise DataError(f"{path}: row {i}: expected an array or an object, got {item!r}")
        return rows
    raise DataError(f"{path}: unsupported file type {suffix!r}; use .csv, .parquet or .json")


def _pick(row: dict[str, Any], names: tuple[str, ...], path: Path, i: int) -> Any:
    for name in names:
        if name in row and row[name] not in (None, ""):
            return row[name]
    raise DataError(f"{path}: row {i}: missing {names[0]!r} (accepted names: {', '.join(names)})")


def _decimal(value: Any, what: str, path: Path, i: int) -> Decimal:
    try:
        d = Decimal(str(value).strip())
    except InvalidOperation:
        raise DataError(f"{path}: row {i}: {what} is not a number: {value!r}") from None
    if not d.is_finite():
        raise DataError(f"{path}: row {i}: {what} is not finite: {value!r}")
    return d


def _timestamp(value: Any, path: Path, i: int) -> int:
    if isinstance(value, datetime):
        dt = value if value.tzinfo else value.replace(tzinfo=timezone.utc)  # noqa: UP017 - 3.11 compatible
        return int(dt.timestamp() * 1000)
    text = str(value).strip()
    try:
        number = Decimal(text)
    except InvalidOperation:
        try:
            dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise DataError(f"{path}: row {i}: timestamp {value!r} is neither epoch ms/s nor ISO-8601") from None
        return _timestamp(dt, path, i)
    if not number.is_finite() or number < 0:
        raise DataError(f"{path}: row {i}: timestamp {value!r} is not a positive epoch time")
    return int(number * 1000) if number < 10**11 else int(number)


# ---- candles -------------------------------------------------------------------------------------

def load_candles(path: str | Path, *, interval_ms: int | None = None, allow_gaps: bool = False) -> list[Candle]:
    """Read and validate OHLCV candles (see the module docstring for formats and rules)."""
    p = Path(path)
    rows = _read_rows(p, ("timestamp", "open", "high", "low", "close", "volume"))
    candles: list[Candle] = []
    for i, row in enumerate(rows, start=1):
        ts = _timestamp(_pick(row, _TS_ALIASES, p, i), p, i)
        o, h, low, c = (_decimal(_pick(row, (k,), p, i), k, p, i) for k in ("open", "high", "low", "close"))
        v = _decimal(_pick(row, ("volume", "vol"), p, i), "volume", p, i)
        if min(o, h, low, c) <= 0:
            raise DataError(f"{p}: row {i}: prices must be positive (open {o}, high {h}, low {low}, close {c})")
        if not low <= min(o, c) or not max(o, c) <= h:
            raise DataError(f"{p}: row {i}: inconsistent candle: need low <= open, close <= high "
                            f"(open {o}, high {h}, low {low}, close {c})")
        if v < 0:
            raise DataError(f"{p}: row {i}: volume must not be negative ({v})")
        if candles and ts <= candles[-1].ts:
            raise DataError(f"{p}: row {i}: timestamp {ts} is not after the previous row's {candles[-1].ts} "
                            "(rows must be sorted and unique)")
        candles.append(Candle(ts, o, h, low, c, v))
    if not candles:
        raise DataError(f"{p}: no candles")
    _check_spacing(candles, p, interval_ms, allow_gaps)
    return candles


def candle_interval(candles: list[Candle]) -> int:
    """The smallest step between consecutive candles (60_000 for a single candle)."""
    steps = [b.ts - a.ts for a, b in itertools.pairwise(candles)]
    return min(steps) if steps else 60_000


def _check_spacing(candles: list[Candle], path: Path, interval_ms: int | None, allow_gaps: bool) -> None:
    interval = interval_ms or candle_interval(candles)
    for i in range(1, len(candles)):
        step = candles[i].ts - candles[i - 1].ts
        if step % interval:
            raise DataError(f"{path}: row {i + 1}: timestamp {candles[i].ts} is off the {interval} ms grid "
                            f"(previous {candles[i - 1].ts})")
        if step != interval and not allow_gaps:
            missing = step // interval - 1
            raise DataError(f"{path}: row {i + 1}: gap of {missing} missing candle(s) before {candles[i].ts} "
                            f"(interval {interval} ms); fill the gap or pass allow_gaps / --allow-gaps")


class CandleTicks:
    """The documented tick path of one market's candles (see the module docstring), candle by candle.

    :meth:`quotes` gives the four quotes of a candle (open, first extreme, second extreme, close) and
    :meth:`events` the full seven events (quotes interleaved with the three trades), so the tick
    expansion and the backtest's candle resolution share one definition of the path.
    """

    __slots__ = ("half", "quarter", "quote_size", "step", "symbol", "tick", "trade_no", "width")

    def __init__(self, spec: MarketSpec, *, interval_ms: int = 60_000, half_spread_ticks: int = 1,
                 quote_size: Decimal | None = None) -> None:
        market = spec.market
        self.symbol, self.tick, self.step = market.symbol, market.tick_size, market.step_size
        self.half = self.tick * half_spread_ticks
        self.width = self.half * 2
        self.quarter = interval_ms // 4
        self.quote_size = quote_size
        self.trade_no = 0

    @staticmethod
    def path(candle: Candle) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        """O->L->H->C for a candle that closed at or above its open, O->H->L->C otherwise."""
        if candle.close >= candle.open:
            return candle.open, candle.low, candle.high, candle.close
        return candle.open, candle.high, candle.low, candle.close

    def size(self, candle: Candle) -> Decimal:
        """Displayed size on each side of every quote of ``candle``."""
        if self.quote_size is not None:
            return self.quote_size
        step = self.step
        return max(quantize_down(candle.volume, step), step)

    def quote(self, price: Decimal, size: Decimal, ts: int) -> Quote:
        """The quote one half-spread either side of ``price`` rounded down to the tick."""
        bid = quantize_down(price, self.tick) - self.half
        if bid <= 0:
            bid = self.tick
        return Quote(self.symbol, bid, size, bid + self.width, size, ts)

    def quotes(self, candle: Candle) -> list[Quote]:
        """The four quotes of ``candle`` at ``t``, ``t+T/4``, ``t+T/2`` and ``t+3T/4``."""
        size = self.size(candle)
        ts, quarter = candle.ts, self.quarter
        return [self.quote(price, size, ts + k * quarter) for k, price in enumerate(self.path(candle))]

    def close_quote(self, candle: Candle) -> Quote:
        """Only the last quote of :meth:`quotes` (the close, at ``t+3T/4``)."""
        return self.quote(candle.close, self.size(candle), candle.ts + 3 * self.quarter)

    def events(self, candle: Candle) -> Iterator[MarketEvent]:
        """The four quotes with a trade after each of the last three (the move's taker side)."""
        size = self.size(candle)
        step = self.step
        printed = max(quantize_down(candle.volume / 3, step), step)
        symbol, quarter = self.symbol, self.quarter
        previous = None
        for k, price in enumerate(self.path(candle)):
            ts = candle.ts + k * quarter
            yield self.quote(price, size, ts)
            if previous is not None:
                self.trade_no += 1
                yield Trade(symbol, str(self.trade_no), price, printed, Side.BUY if price > previous else Side.SELL, ts)
            previous = price


def candles_to_events(candles: Iterable[Candle], spec: MarketSpec, *, interval_ms: int = 60_000,
                      half_spread_ticks: int = 1, quote_size: Decimal | None = None) -> Iterator[MarketEvent]:
    """Synthetic quotes and trades for each candle, exactly as the module docstring describes."""
    ticks = CandleTicks(spec, interval_ms=interval_ms, half_spread_ticks=half_spread_ticks, quote_size=quote_size)
    for candle in candles:
        yield from ticks.events(candle)


def dataset_from_candles(candles: Callable[[], Iterable[Candle]], spec: MarketSpec, *, interval_ms: int, start_ms: int,
                   end_ms: int, description: dict[str, Any]) -> DataSet:
    """A one-market :class:`DataSet` of candles: its ``events()`` are the tick path and it keeps the
    candles themselves for the backtest's candle resolution."""
    def source() -> Iterator[MarketEvent]:
        return candles_to_events(candles(), spec, interval_ms=interval_ms)

    def bars() -> Iterator[Candle]:
        return iter(candles())

    return DataSet({spec.market.symbol: spec}, source, start_ms, end_ms, description, candles=bars,
                   interval_ms=interval_ms)


# ---- public trades -------------------------------------------------------------------------------

def load_trades(path: str | Path, market: str) -> list[Trade]:
    """Read and validate public trades (see the module docstring)."""
    p = Path(path)
    rows = _read_rows(p, ("timestamp", "price", "size", "side"))
    trades: list[Trade] = []
    for i, row in enumerate(rows, start=1):
        ts = _timestamp(_pick(row, _TS_ALIASES, p, i), p, i)
        price = _decimal(_pick(row, ("price",), p, i), "price", p, i)
        size = _decimal(_pick(row, _SIZE_ALIASES, p, i), "size", p, i)
        raw_side = str(_pick(row, ("side", "taker_side"), p, i)).strip().upper()
        if raw_side not in ("BUY", "SELL"):
            raise DataError(f"{p}: row {i}: side must be buy or sell, got {raw_side!r}")
        if price <= 0 or size <= 0:
            raise DataError(f"{p}: row {i}: price and size must be positive (price {price}, size {size})")
        if trades and ts < trades[-1].ts:
            raise DataError(f"{p}: row {i}: timestamp {ts} is before the previous row's {trades[-1].ts}")
        trades.append(Trade(market, str(row.get("id") or i), price, size, Side(raw_side), ts))
    if not trades:
        raise DataError(f"{p}: no trades")
    return trades


def trades_to_events(trades: Iterable[Trade], spec: MarketSpec, *, half_spread_ticks: int = 1) -> Iterator[MarketEvent]:
    """Each trade as a quote one spread wide around its price (the book it traded against), then the trade."""
    tick = spec.market.tick_size
    half = tick * half_spread_ticks
    for trade in trades:
        bid = max(quantize_down(trade.price, tick) - half, tick)
        yield Quote(trade.market, bid, trade.size, bid + 2 * half, trade.size, trade.ts)
        yield trade


# ---- one entry point -----------------------------------------------------------------------------

def load_dataset(path: str | Path, *, market: str = "BTC-USD-PERP", kind: str = "auto",
                 interval_ms: int | None = None, allow_gaps: bool = False,
                 tick: Decimal | None = None, step: Decimal | None = None) -> DataSet:
    """A recording directory, a candle file or a trade file as a :class:`DataSet` (``kind``: auto,
    recording, candles or trades; auto picks recording for a directory, trades when the file name
    contains "trade", candles otherwise)."""
    p = Path(path)
    if kind == "auto":
        kind = "recording" if p.is_dir() else ("trades" if "trade" in p.name.lower() else "candles")
    if kind == "recording":
        return load_recording(p)
    if kind == "candles":
        candles = load_candles(p, interval_ms=interval_ms, allow_gaps=allow_gaps)
        interval = interval_ms or candle_interval(candles)
        spec = market_spec(market, candles[0].open, tick=tick, step=step)
        return dataset_from_candles(lambda: candles, spec, interval_ms=interval, start_ms=candles[0].ts,
                              end_ms=candles[-1].ts + interval,
                              description={"kind": "candles", "path": str(p), "market": market,
                                           "candles": len(candles), "interval_ms": interval,
                                           "sha256": file_sha256(p)})
    if kind == "trades":
        trades = load_trades(p, market)
        spec = market_spec(market, trades[0].price, tick=tick, step=step)
        return DataSet({market: spec}, lambda: trades_to_events(trades, spec), trades[0].ts, trades[-1].ts + 1,
                       {"kind": "trades", "path": str(p), "market": market, "trades": len(trades),
                        "sha256": file_sha256(p)})
    raise DataError(f"unknown data kind {kind!r}; use auto, recording, candles or trades")
