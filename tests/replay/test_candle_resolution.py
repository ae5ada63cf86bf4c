"""resolution="candle": one strategy event per candle, stops still trigger on the candle's high/low."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from flashscalper.domain import OrderStatus, Quote, Side
from flashscalper.replay.backtest import BacktestConfig, BacktestRunner
from flashscalper.replay.data import Candle, CandleTicks, DataSet, dataset_from_candles, market_spec
from flashscalper.strategy.base import Signal, Strategy
from flashscalper.trading.bus import EventBus, OrderReport
from flashscalper.trading.exits import ClosedTrade, ExitReason

# sha256 of the trades of the default scalper (min_confidence 0.3) on synthetic_candles(1500, seed=3), candle mode
PINNED_CANDLE = "de87461ae4fe21fce4409c86c80f30622ae4b3f6e7acb6c40e84b001f5469420"
T0 = 1_704_067_200_000
SYMBOL = "TEST-USD-PERP"


class BuyOnce(Strategy):
    """Buys on the first quote at or after ``at_ms``, then never again; records the quotes it saw."""

    name = "buy-once"

    def __init__(self, at_ms: int) -> None:
        self.at_ms = at_ms
        self.fired = False
        self.seen: list[Quote] = []

    def on_quote(self, quote: Quote) -> Signal | None:
        self.seen.append(quote)
        if self.fired or quote.ts < self.at_ms:
            return None
        self.fired = True
        return Signal(quote.market, Side.BUY, 1.0, ("test entry",), {}, quote.ts, "test", price=quote.mid)


def _candles(spike_low: str) -> DataSet:
    flat = [Candle(T0 + i * 60_000, Decimal(100), Decimal("100.2"), Decimal("99.8"), Decimal(100), Decimal(50))
            for i in range(6)]
    # closes back at 100, but dips to ``spike_low`` on the way (O -> L -> H -> C for an up/flat candle)
    dip = Candle(T0 + 6 * 60_000, Decimal(100), Decimal("100.2"), Decimal(spike_low), Decimal(100), Decimal(50))
    tail = [Candle(T0 + (7 + i) * 60_000, Decimal(100), Decimal("100.2"), Decimal("99.8"), Decimal(100), Decimal(50))
            for i in range(3)]
    candles = [*flat, dip, *tail]
    spec = market_spec(SYMBOL, Decimal(100), tick=Decimal("0.01"), step=Decimal("0.01"))
    return dataset_from_candles(lambda: candles, spec, interval_ms=60_000, start_ms=T0,
                                end_ms=candles[-1].ts + 60_000, description={"kind": "test candles"})


def _config(resolution: str) -> BacktestConfig:
    base = BacktestConfig(resolution=resolution)
    # ROE in percent: -50% at 10x puts the stop 5% under the entry (about 95), the take-profit 10% over
    bot = base.bot.with_changes(stop_loss_roe=Decimal(-50), take_profit_roe=Decimal(100), max_holding_seconds=0,
                                trailing_activation_roe=Decimal(0))
    return replace(base, bot=bot)


def _run(resolution: str, spike_low: str) -> tuple[BuyOnce, list[OrderReport], list[ClosedTrade]]:
    strategy = BuyOnce(at_ms=T0 + 60_000)
    bus = EventBus()
    stops: list[OrderReport] = []
    bus.add_listener(lambda e: stops.append(e) if isinstance(e, OrderReport) and e.purpose == "STOP" else None)
    result = BacktestRunner(_candles(spike_low), _config(resolution), strategy=strategy, bus=bus).run()
    return strategy, stops, result.trades


def test_a_dip_through_the_stop_inside_one_candle_triggers_it_in_both_resolutions() -> None:
    seen = {}
    for resolution in ("tick", "candle"):
        strategy, stops, trades = _run(resolution, "90")
        assert trades and trades[0].side is Side.BUY
        triggered = [r for r in stops if r.order.status is OrderStatus.NEW]
        # the stop (about 95: -50% ROE at 10x) fires on the dip candle's low at t+T/4, not at its close
        assert len(triggered) == 1 and triggered[0].order.updated_at == T0 + 6 * 60_000 + 15_000
        seen[resolution] = trades
    # candle mode enters one candle-close later (its first quote is a close), and from there on the
    # engine saw the same path: the exits are the same
    assert [(t.exit_price, t.closed_at, t.reason) for t in seen["candle"]] == [
        (t.exit_price, t.closed_at, t.reason) for t in seen["tick"]]
    assert [q.ts for q in strategy.seen] == [T0 + i * 60_000 + 45_000 for i in range(10)]  # closes only


def test_a_dip_that_stays_above_the_stop_does_not_trigger_it() -> None:
    _, stops, trades = _run("candle", "97")
    assert trades and not [r for r in stops if r.order.status is OrderStatus.NEW]
    assert trades[0].reason is ExitReason.MANUAL  # still open at the end of the data


def test_candle_mode_is_deterministic_pinned_and_cheaper(candles_data: DataSet, config: BacktestConfig) -> None:
    candle = replace(config, resolution="candle")
    first = BacktestRunner(candles_data, candle).run()
    second = BacktestRunner(candles_data, candle).run()
    assert first.trades and first.fingerprint == second.fingerprint
    assert first.events == 1_500  # one strategy event per candle (the tick path has 7)
    assert first.as_dict()["config"]["resolution"] == "candle"
    if PINNED_CANDLE is not None:
        assert first.fingerprint == PINNED_CANDLE


def test_the_candle_close_quote_is_the_last_quote_of_the_tick_path() -> None:
    spec = market_spec(SYMBOL, Decimal(100), tick=Decimal("0.5"), step=Decimal("0.1"))
    ticks = CandleTicks(spec)
    bar = Candle(T0, Decimal(100), Decimal(105), Decimal(99), Decimal(104), Decimal(30))
    assert ticks.close_quote(bar) == ticks.quotes(bar)[-1]
    assert [(q.bid + q.ask) / 2 for q in ticks.quotes(bar)] == [100, 99, 105, 104]


def test_candle_mode_refuses_data_without_candles(config: BacktestConfig) -> None:
    ticks = DataSet({SYMBOL: market_spec(SYMBOL, Decimal(100))}, lambda: iter(()), T0, T0 + 1)
    with pytest.raises(ValueError, match="candle data"):
        BacktestRunner(ticks, replace(config, resolution="candle")).run()
