"""Small seeded data sets for replay tests."""

from __future__ import annotations

import pytest

from flashscalper.replay.backtest import BacktestConfig
from flashscalper.replay.data import DataSet, dataset_from_candles, market_spec
from flashscalper.replay.synthetic import synthetic_candles

BTC = "BTC-USD-PERP"
# the default scalper is tuned for tick data; on 4 synthetic ticks per candle it needs a lower floor
PARAMS = {"min_confidence": 0.3}


def candle_dataset(count: int = 1_500, seed: int = 3) -> DataSet:
    candles = list(synthetic_candles(count, seed=seed))
    spec = market_spec(BTC, candles[0].open)
    return dataset_from_candles(lambda: candles, spec, interval_ms=60_000, start_ms=candles[0].ts,
                                end_ms=candles[-1].ts + 60_000,
                                description={"kind": "synthetic candles", "seed": seed, "candles": count})


@pytest.fixture
def candles_data() -> DataSet:
    return candle_dataset()


@pytest.fixture
def config() -> BacktestConfig:
    return BacktestConfig(strategy_params=dict(PARAMS))
