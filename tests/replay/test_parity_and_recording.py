"""Recording the simulator, loading it back, and backtest <-> paper parity on the same data."""

from __future__ import annotations

import itertools
import json
from decimal import Decimal
from pathlib import Path

import pytest

from flashscalper.clock import ManualClock
from flashscalper.domain import MarkPrice, Quote, Trade
from flashscalper.exchanges.paper import PaperExchange
from flashscalper.replay.backtest import BacktestConfig, BacktestRunner, trade_fingerprint
from flashscalper.replay.data import DataError, load_recording
from flashscalper.replay.feed import FeedVenue
from flashscalper.replay.recorder import record_simulator
from flashscalper.strategy.base import create_strategy
from flashscalper.trading.bot import Bot
from flashscalper.trading.bus import EventBus, TradeClosed
from flashscalper.trading.exits import ClosedTrade
from flashscalper.trading.risk import RiskEngine

BTC = "BTC-USD-PERP"


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return record_simulator(tmp_path_factory.mktemp("rec") / "btc", duration_ms=8 * 60_000, seed=11)


def test_recorder_writes_parquet_and_manifest_that_load_back(recording: Path) -> None:
    manifest = json.loads((recording / "manifest.json").read_text())
    assert manifest["format"] == "flashscalper-recording" and manifest["events"] > 1000
    assert set(manifest["markets"]) == {BTC}
    data = load_recording(recording)
    events = list(data.events())
    assert len(events) == manifest["events"] == data.count
    kinds = {type(e) for e in events}
    assert Quote in kinds and Trade in kinds and MarkPrice in kinds
    assert all(a.ts <= b.ts for a, b in itertools.pairwise(events))
    assert all(isinstance(e.price, Decimal) for e in events if isinstance(e, Trade))


def test_a_changed_recording_is_refused(recording: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "manifest.json").write_text((recording / "manifest.json").read_text())
    (copy / "events.parquet").write_bytes((recording / "events.parquet").read_bytes()[:-10] + b"0" * 10)
    with pytest.raises(DataError, match="sha256"):
        load_recording(copy)


async def _paper_trades(recording: Path, config: BacktestConfig) -> list[ClosedTrade]:
    """The same data through a real PaperExchange (its own pump) and a bot driven by process_pending."""
    data = load_recording(recording)
    clock = ManualClock(data.start_ms)
    feed = FeedVenue(data, clock)
    paper = PaperExchange(feed, clock=clock, collateral=config.collateral)
    bot_cfg = config.bot.with_changes(markets=(BTC,), session="backtest")
    bus = EventBus()
    trades: list[ClosedTrade] = []
    bus.add_listener(lambda e: trades.append(e.trade) if isinstance(e, TradeClosed) else None)
    bot = Bot(paper, create_strategy(config.strategy, config.strategy_params),
              RiskEngine(bot_cfg.risk_limits(), clock), settings=bot_cfg, clock=clock, bus=bus)
    await bot.start()
    await bot.process_pending()
    for event in data.events():
        feed.push(event)
        await bot.process_pending()
    await bot.positions.flatten()
    await bot.process_pending()
    await bot.close()
    return [t for t in trades if t.reason.value != "EMERGENCY"]


async def test_backtest_and_paper_make_the_same_trades_on_the_same_recording(recording: Path) -> None:
    config = BacktestConfig()
    backtest = await BacktestRunner(load_recording(recording), config).run_async()
    paper = await _paper_trades(recording, config)
    closed_in_data = [t for t in backtest.trades if t.reason.value != "MANUAL"]
    assert len(closed_in_data) >= 3, "the recording must make the bot trade"
    assert trade_fingerprint(closed_in_data) == trade_fingerprint(paper[: len(closed_in_data)])
    assert len(paper) == len(closed_in_data)
