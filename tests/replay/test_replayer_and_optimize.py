"""Replaying a journaled session onto the bus, and a tiny walk-forward optimisation."""

from __future__ import annotations

from pathlib import Path

import pytest

from flashscalper.memory.db import open_database
from flashscalper.memory.journal import Journal, JournalRecorder, SessionInfo
from flashscalper.replay.backtest import BacktestConfig, BacktestRunner
from flashscalper.replay.optimize import OptimizeConfig, optimize
from flashscalper.replay.replayer import SessionNotFound, SessionReplayer
from flashscalper.replay.report import render_report
from flashscalper.trading.bus import ConnectionHealth, EventBus, FillReport, TradeClosed
from tests.replay.conftest import candle_dataset


async def test_replay_of_a_journaled_session_emits_the_same_trades_in_replay_mode(
        tmp_path: Path, config: BacktestConfig) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'journal.sqlite'}")
    journal = Journal(db)
    await journal.start()
    bus = EventBus()
    recorder = JournalRecorder(journal, SessionInfo.new("bt-1", "backtest", "backtest", 0, None))
    recorder.attach(bus)
    result = await BacktestRunner(candle_dataset(600), config, bus=bus).run_async()
    await recorder.close(1, close_journal=True)
    assert result.trades

    replay_bus = EventBus()
    seen = replay_bus.subscribe(maxsize=100_000)
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:  # virtual time: record the pacing instead of waiting
        slept.append(seconds)

    replayer = SessionReplayer(db, "bt-1", bus=replay_bus, speed=60.0, sleep=fake_sleep)
    assert replayer.mode == "replay"
    await replayer.play()
    events = seen.drain()
    assert isinstance(events[0], ConnectionHealth) and "REPLAY" in events[0].detail
    replayed = [e.trade for e in events if isinstance(e, TradeClosed)]
    assert [(t.market, t.side, t.size, t.entry_price, t.exit_price, t.pnl, t.opened_at, t.closed_at)
            for t in replayed] == [(t.market, t.side, t.size, t.entry_price, t.exit_price, t.pnl, t.opened_at,
                                    t.closed_at) for t in result.trades]
    assert any(isinstance(e, FillReport) for e in events)
    # 60x: the pauses add up to the session's span / 60
    span = max(e.ts for e in events) - events[0].ts
    assert abs(sum(slept) - span / 1000 / 60) < 1e-6
    with pytest.raises(SessionNotFound, match="bt-1"):
        SessionReplayer(db, "nope")
    db.close()


def test_tiny_walk_forward_study_reports_an_out_of_sample_score(tmp_path: Path, config: BacktestConfig) -> None:
    storage = f"sqlite:///{tmp_path / 'optuna.sqlite'}"
    result = optimize(candle_dataset(900), OptimizeConfig(trials=3, folds=1, storage=storage, base=config,
                                                          progress=False))
    (fold,) = result.folds
    assert fold.train[1] == fold.test[0] and fold.train[0] < fold.train[1] < fold.test[1]
    assert set(fold.best_params) >= {"fast_ema", "take_profit_roe"}
    assert result.oos_score == fold.oos_score
    assert (tmp_path / "optuna.sqlite").exists()
    assert result.as_dict()["folds"][0]["oos_fingerprint"] == fold.oos_fingerprint


def test_report_is_self_contained_html(config: BacktestConfig) -> None:
    result = BacktestRunner(candle_dataset(600), config).run()
    page = render_report(result)
    assert page.startswith("<!doctype html>") and "<svg" in page and "<script" not in page
    assert "http://" not in page and "https://" not in page
    assert result.fingerprint in page and "Per setup" in page
    assert "momentum_breakout" in page or "mean_reversion" in page
