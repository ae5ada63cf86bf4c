"""Small seeded data sets for replay tests."""

from __future__ import annotations

import pytest

from flashscalper.replay.backtest import BacktestConfig
from flashscalper.replay.data import DataSet, candles_to_events, market_spec
from flashscalper.replay.synthetic import synthetic_candles

BTC = "BTC-USD-PERP"
# the default scalper is tuned for tick data; on 4 synthetic ticks per candle it needs a lower floor
PARAMS = {"min_confidence": 0.3}


def candle_dataset(count: int = 1_500, seed: int = 3) -> DataSet:
    candles = list(synthetic_candles(count, seed=seed))
    spec = market_spec(BTC, candles[0].open)
    return DataSet({BTC: spec}, lambda: candles_to_events(candles, spec), candles[0].ts, candles[-1].ts + 60_000,
                   {"kind": "synthetic candles", "seed": seed, "candles": count})


@pytest.fixture
def candles_data() -> DataSet:
    return candle_dataset()


@pytest.fixture
def config() -> BacktestConfig:
    return BacktestConfig(strategy_params=dict(PARAMS))
