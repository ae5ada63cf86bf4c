"""The default scalper on seeded synthetic markets: trends, ranges, wide spreads, vetoes, cooldown."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from decimal import Decimal
from itertools import pairwise

import pytest

from flashscalper.domain import BookLevel, BookUpdate, Quote, Side, Trade
from flashscalper.errors import ConfigError
from flashscalper.strategy.base import Signal
from flashscalper.strategy.scalper import ScalperParams, ScalperStrategy
from flashscalper.strategy.synthetic import Phase, synthetic_ticks

T0 = 1_700_000_000_000
WARM_UP = Phase(60_000)  # a driftless random walk while the indicators warm up
TREND_START = T0 + 60_000
TREND_SETTLED = TREND_START + 15_000  # the slow EMA needs a few seconds to turn


def run(events: Iterable[object], strategy: ScalperStrategy | None = None) -> list[Signal]:
    strategy = strategy or ScalperStrategy()
    return [sig for ev in events if (sig := strategy.on_event(ev)) is not None]


@pytest.mark.parametrize("seed", [11, 12, 13])
@pytest.mark.parametrize(("drift", "side", "trend_word"), [(0.3, Side.BUY, "uptrend"), (-0.3, Side.SELL, "downtrend")])
def test_scalper_follows_a_trend_with_reasons(seed: int, drift: float, side: Side, trend_word: str) -> None:
    signals = run(synthetic_ticks([WARM_UP, Phase(120_000, drift_ticks=drift)], seed=seed))
    in_trend = [s for s in signals if s.ts >= TREND_SETTLED]

    assert len(in_trend) >= 10, "a clean two-minute trend should give many entries"
    assert all(s.side is side for s in in_trend)
    for sig in in_trend:
        assert sig.setup == "momentum_breakout"
        assert sig.strategy == "scalper"
        assert 0.5 <= sig.confidence <= 1.0
        assert trend_word in sig.reasons[0]
        assert len(sig.reasons) >= 5 and all(isinstance(r, str) and r for r in sig.reasons)
        assert side.sign * sig.features["ema_gap_atr"] >= ScalperParams().trend_threshold_atr
        assert sig.features["confidence"] == sig.confidence
        assert sig.price is not None and abs(float(sig.price) - sig.features["mid"]) < 1e-6


@pytest.mark.parametrize("seed", [21, 22, 23])
def test_scalper_stays_quiet_in_a_flat_range(seed: int) -> None:
    # Mid bounces around a fixed price: no trend, no stretch.
    assert run(synthetic_ticks([Phase(180_000, mean_revert=True, vol_ticks=0.6)], seed=seed)) == []


def test_scalper_stays_quiet_when_nothing_moves() -> None:
    assert run(synthetic_ticks([Phase(120_000, vol_ticks=0.0)], seed=1)) == []


@pytest.mark.parametrize("seed", [31, 32])
def test_wide_spread_silences_an_otherwise_tradable_trend(seed: int) -> None:
    narrow = [WARM_UP, Phase(120_000, drift_ticks=0.3, spread_ticks=1)]
    wide = [replace(WARM_UP, spread_ticks=10), Phase(120_000, drift_ticks=0.3, spread_ticks=10)]
    assert len(run(synthetic_ticks(narrow, seed=seed))) > 10
    assert run(synthetic_ticks(wide, seed=seed)) == []


def test_lively_market_gives_a_handful_of_signals_per_minute() -> None:
    phases = [
        Phase(60_000),
        Phase(60_000, drift_ticks=0.25),
        Phase(60_000),
        Phase(60_000, drift_ticks=-0.25),
        Phase(60_000, vol_ticks=1.5),
        Phase(60_000, drift_ticks=0.15),
    ]
    signals = run(synthetic_ticks(phases, seed=42))
    minutes = 5  # the first minute is warm-up
    per_minute = len(signals) / minutes
    assert 3 <= per_minute <= 20
    assert {s.side for s in signals} == {Side.BUY, Side.SELL}


def test_cooldown_is_per_market_and_in_event_time() -> None:
    params = ScalperParams(cooldown_ms=5_000)
    strategy = ScalperStrategy(params)
    eth = synthetic_ticks([WARM_UP, Phase(120_000, drift_ticks=0.3)], seed=5, market="ETH-USD-PERP")
    btc = synthetic_ticks(
        [WARM_UP, Phase(120_000, drift_ticks=-0.3)], seed=6, market="BTC-USD-PERP", start_price=Decimal(60_000)
    )
    merged = sorted([*eth, *btc], key=lambda ev: ev.ts)
    signals = run(merged, strategy)
    by_market: dict[str, list[Signal]] = {}
    for sig in signals:
        by_market.setdefault(sig.market, []).append(sig)
    assert set(by_market) == {"ETH-USD-PERP", "BTC-USD-PERP"}
    for sigs in by_market.values():
        gaps = [b.ts - a.ts for a, b in pairwise(sigs)]
        assert gaps and min(gaps) >= 5_000
    # Two markets signal independently: somewhere they fire closer together than one cooldown.
    eth_ts = [s.ts for s in by_market["ETH-USD-PERP"]]
    assert any(abs(s.ts - t) < 5_000 for s in by_market["BTC-USD-PERP"] for t in eth_ts)


def test_same_seed_same_signals() -> None:
    phases = [WARM_UP, Phase(60_000, drift_ticks=0.3)]
    first = run(synthetic_ticks(phases, seed=9))
    second = run(synthetic_ticks(phases, seed=9))
    assert [(s.ts, s.side, s.confidence, s.reasons) for s in first] == [
        (s.ts, s.side, s.confidence, s.reasons) for s in second
    ]


def test_heavy_offers_in_the_book_veto_buying_into_an_uptrend() -> None:
    phases = [WARM_UP, Phase(120_000, drift_ticks=0.3)]
    assert [s for s in run(synthetic_ticks(phases, seed=11)) if s.side is Side.BUY]
    strategy = ScalperStrategy()
    signals = []
    for ev in synthetic_ticks(phases, seed=11):
        if isinstance(ev, Quote):
            # A depth snapshot right before each quote: ten times more size offered than bid.
            bids = tuple(BookLevel(ev.bid - Decimal("0.01") * i, Decimal(1)) for i in range(5))
            asks = tuple(BookLevel(ev.ask + Decimal("0.01") * i, Decimal(10)) for i in range(5))
            strategy.on_book(BookUpdate(ev.market, bids, asks, ts=ev.ts))
        sig = strategy.on_event(ev)
        if sig is not None:
            signals.append(sig)
    assert not [s for s in signals if s.side is Side.BUY]


def test_sellers_hitting_bids_veto_buying_into_an_uptrend() -> None:
    def with_sellers(events: Iterable[Quote | Trade]) -> Iterable[Quote | Trade]:
        for ev in events:
            yield replace(ev, taker_side=Side.SELL) if isinstance(ev, Trade) else ev

    base = [WARM_UP, Phase(120_000, drift_ticks=0.3)]
    assert [s for s in run(synthetic_ticks(base, seed=12)) if s.side is Side.BUY]
    assert not [s for s in run(with_sellers(synthetic_ticks(base, seed=12))) if s.side is Side.BUY]


def test_a_sharp_spike_in_a_range_is_faded_when_the_book_leans_against_it() -> None:
    strategy = ScalperStrategy()
    last = None
    for ev in synthetic_ticks([Phase(60_000, mean_revert=True)], seed=5):
        assert strategy.on_event(ev) is None
        if isinstance(ev, Quote):
            last = ev
    assert last is not None and strategy.is_ready(last.market)
    tick = Decimal("0.01")
    signals = []
    ts = last.ts
    for k in range(1, 4):  # three quick jumps of four ticks, with size piling up on the offer
        ts += 100
        bid = last.bid + 4 * k * tick
        for j in range(3):
            strategy.on_trade(Trade(last.market, f"spike{k}-{j}", bid, Decimal("0.5"), Side.SELL, ts))
        sig = strategy.on_quote(Quote(last.market, bid, Decimal(1), bid + tick, Decimal(4), ts))
        if sig is not None:
            signals.append(sig)
    assert len(signals) == 1
    (sig,) = signals
    assert sig.side is Side.SELL and sig.setup == "mean_reversion"
    assert sig.features["bollinger_z"] >= ScalperParams().mr_zscore
    assert "Bollinger" in sig.reasons[0]


def test_params_from_config_mapping_are_validated() -> None:
    strategy = ScalperStrategy.from_params({"cooldown_ms": 1_000, "fast_ema": 5})
    assert strategy.params.cooldown_ms == 1_000 and strategy.params.fast_ema == 5
    with pytest.raises(ConfigError, match="cooldwn_ms"):
        ScalperStrategy({"cooldwn_ms": 1_000})
    with pytest.raises(ConfigError, match="fast_ema"):
        ScalperStrategy({"fast_ema": 40, "slow_ema": 20})


def test_no_signals_before_warm_up() -> None:
    strategy = ScalperStrategy()
    events = list(synthetic_ticks([Phase(20_000, drift_ticks=0.5)], seed=3))
    assert run(events, strategy) == []
    assert not strategy.is_ready("ETH-USD-PERP")


def test_one_sided_quotes_are_skipped_without_disturbing_the_indicators() -> None:
    strategy = ScalperStrategy()
    events = list(synthetic_ticks([WARM_UP, Phase(30_000, drift_ticks=0.3)], seed=11))
    clean = run(events, ScalperStrategy())
    assert clean
    with_gaps: list[Quote | Trade] = []
    for ev in events:
        with_gaps.append(ev)
        if isinstance(ev, Quote) and ev.seq_no % 50 == 0:
            with_gaps.append(replace(ev, ask=Decimal(0), ask_size=Decimal(0)))  # the offer side vanished
    assert [(s.ts, s.side) for s in run(with_gaps, strategy)] == [(s.ts, s.side) for s in clean]
