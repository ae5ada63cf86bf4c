"""Settings that reach a live session: the client-id prefix (two bots on one account), the losing-streak
cooldown, strategy parameters and plugins, and the day's risk baselines restored from the journal."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from flashscalper.config import Settings, load_settings
from flashscalper.domain import OrderRequest, OrderType, Side
from flashscalper.errors import ConfigError
from flashscalper.exchanges.paradex.keys import ParadexIdentity
from flashscalper.exchanges.paradex.rest import ParadexRestClient
from flashscalper.memory.db import open_database
from flashscalper.memory.journal import Journal, JournalRecorder, SessionInfo
from flashscalper.ops import RunOptions, build_run_session
from flashscalper.session import TradingSession
from flashscalper.session_memory import attach_memory
from flashscalper.sim.server import Simulator
from flashscalper.trading.bus import EquitySample, EventBus
from flashscalper.trading.risk import RiskState

from .helpers import BTC, account_id

pytestmark = pytest.mark.timeout(60)
DAY_MS = 86_400_000


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    simulator = Simulator(seed=5)
    await simulator.start(port=0)
    yield simulator
    await simulator.stop()


def settings_for(sim: Simulator, key: str, tmp: Path, **general: Any) -> Settings:
    assert sim.urls is not None
    return load_settings(env_file=None, paradex={
        "environment": "local", "api_base_url": sim.urls.paradex_rest, "ws_base_url": sim.urls.paradex_ws,
        "private_key": key, "markets": [BTC]}, general={"data_dir": tmp, **general})


async def session_for(settings: Settings, **options: Any) -> TradingSession:
    # built as the CLI builds it, outside the event loop: reading the venue's identity blocks (urllib)
    session = await asyncio.to_thread(build_run_session, settings, RunOptions(exchange="paradex", **options))
    assert isinstance(session, TradingSession)
    return session


async def rest_order(sim: Simulator, key: str, request: OrderRequest) -> None:
    identity = ParadexIdentity.from_l1_key(key, l1_chain_id=sim.system["l1_chain_id"],
                                           account_proxy_hash=sim.system["paraclear_account_proxy_hash"],
                                           account_hash=sim.system["paraclear_account_hash"])
    assert sim.urls is not None
    async with ParadexRestClient(sim.urls.paradex_rest, identity) as rest:
        await rest.authenticate()
        await rest.create_order(request)


@pytest.mark.parametrize(("prefix", "other_bot_order_survives"), [("bot2", True), ("fs", False)])
async def test_a_second_bot_with_its_own_prefix_leaves_the_first_bots_orders_alone(
        sim: Simulator, tmp_path: Path, prefix: str, other_bot_order_survives: bool) -> None:
    key = "0x" + secrets.token_hex(32)
    # the first bot ("fs") has a resting order of a session that is not running here
    far = (sim.exchange.mark_price(BTC) * Decimal("0.8")).quantize(Decimal("0.1"))
    await rest_order(sim, key, OrderRequest(BTC, Side.BUY, OrderType.LIMIT, Decimal("0.01"), "fs-otherbot-1",
                                            price=far))
    settings = settings_for(sim, key, tmp_path, client_id_prefix=prefix)
    session = await session_for(settings)
    assert session.config.client_id_prefix == prefix
    await session.bot.start()  # reconciles: orders with OUR prefix and no purpose are orphans
    try:
        account = account_id(sim, key)
        still_open = [o.client_id for o in sim.exchange.open_orders(account)]
        assert ("fs-otherbot-1" in still_open) is other_bot_order_survives
        assert session.bot.executor.ids.next().startswith(f"{prefix}-")
    finally:
        await session.bot.close()


def test_the_losing_streak_cooldown_comes_from_the_settings(tmp_path: Path) -> None:
    settings = load_settings(env_file=None, general={"losing_streak_limit": 5, "cooldown_seconds": 42,
                                                     "data_dir": tmp_path})
    from flashscalper.trading.bot_config import BotConfig

    limits = BotConfig.from_settings(settings.paradex, settings.general).risk_limits()
    assert (limits.losing_streak_limit, limits.cooldown_seconds) == (5, 42)
    with pytest.raises(ConfigError, match="FLASHSCALPER_COOLDOWN_SECONDS=-1"):
        load_settings(env_file=None, general={"cooldown_seconds": -1})


async def test_strategy_params_from_the_settings_reach_the_live_strategy(sim: Simulator, tmp_path: Path) -> None:
    key = "0x" + secrets.token_hex(32)
    session = await session_for(settings_for(sim, key, tmp_path, strategy_params='{"min_confidence": 0.7}'))
    assert session.bot.strategy.params.min_confidence == 0.7  # type: ignore[attr-defined]
    with pytest.raises(ConfigError) as bad:
        await session_for(settings_for(sim, key, tmp_path, strategy_params={"min_confidence": 7}))
    assert str(bad.value).startswith("FLASHSCALPER_STRATEGY_PARAMS: min_confidence=7:")
    with pytest.raises(ConfigError, match="unknown parameter 'min_confidance' of strategy scalper"):
        await session_for(settings_for(sim, key, tmp_path, strategy_params={"min_confidance": 0.7}))
    with pytest.raises(ConfigError, match=r"FLASHSCALPER_STRATEGY_PARAMS.*not a JSON object"):
        load_settings(env_file=None, general={"strategy_params": "[0.7]"})


async def test_a_strategy_plugin_is_imported_by_module_and_class_name(sim: Simulator, tmp_path: Path) -> None:
    key = "0x" + secrets.token_hex(32)
    session = await session_for(settings_for(sim, key, tmp_path,
                                       strategy="tests.ops.cli_with_test_strategy:EveryNthQuote"))
    assert type(session.bot.strategy).__name__ == "EveryNthQuote"
    with pytest.raises(ConfigError, match=r"is not a subclass of .*Strategy"):
        await session_for(settings_for(sim, key, tmp_path, strategy="decimal:Decimal"))
    with pytest.raises(ConfigError, match=r"cannot import 'no_such_pkg\.strats'"):
        await session_for(settings_for(sim, key, tmp_path, strategy="no_such_pkg.strats:Breakout"))


async def journal_equity(db_url: str, session_id: str, account: str, samples: list[tuple[int, str]],
                         environment: str = "local") -> None:
    """A finished live session of ``account`` in the journal, with these equity samples."""
    db = open_database(db_url)
    journal = Journal(db)
    await journal.start()
    bus = EventBus()
    info = SessionInfo.new(session_id, "paradex", "live", samples[0][0],
                           {"environment": environment, "account": account})
    recorder = JournalRecorder(journal, info)
    recorder.attach(bus)
    for ts, equity in samples:
        bus.publish(EquitySample(Decimal(equity), Decimal(equity), Decimal(equity), Decimal(0), None, ts))
    await recorder.close(samples[-1][0], close_journal=True)
    db.close()


async def test_a_restart_keeps_the_days_loss_limit_and_peak_from_the_journal(sim: Simulator, tmp_path: Path
                                                                            ) -> None:
    key = "0x" + secrets.token_hex(32)
    account = account_id(sim, key)
    now = int(time.time() * 1000)
    day_start = now - now % DAY_MS
    early = max(day_start, now - 120_000)
    url = f"sqlite:///{tmp_path / 'flashscalper.sqlite'}"
    # yesterday's session and another account's do not count; today's session of this account does
    await journal_equity(url, "yesterday", account, [(day_start - 60_000, "50000")])
    await journal_equity(url, "other-account", "0xabc", [(early, "90000")])
    await journal_equity(url, "testnet", account, [(early, "70000")], environment="testnet")
    await journal_equity(url, "today", account, [(early, "10000"), (early + 1, "10200"), (now - 10, "9600")])

    session = await session_for(settings_for(sim, key, tmp_path))  # FLASHSCALPER_DAILY_LOSS_LIMIT_PERCENT: 5
    memory = await attach_memory(session, load_settings(env_file=None, general={"data_dir": tmp_path}),
                                 venue="paradex")
    try:
        status = session.bot.risk.status()
        assert memory.restored_equity_samples == 3
        assert status.start_of_day_equity == Decimal(10000) and status.peak_equity == Decimal(10200)
        assert session.bot.risk.state is RiskState.ACTIVE  # 4 % down: within the 5 % limit
        # one more loss today halts: the limit counts from this morning's equity, not from the restart
        session.bot.risk.on_equity(Decimal(9490), now)
        assert session.bot.risk.state is RiskState.HALTED
        assert any("daily loss limit" in r for r in session.bot.risk.reasons())
    finally:
        await memory.close(now)
        memory.db.close()
        await session.exchange.close()


async def test_demo_and_paper_sessions_start_from_a_clean_slate(sim: Simulator, tmp_path: Path) -> None:
    key = "0x" + secrets.token_hex(32)
    settings = settings_for(sim, key, tmp_path)
    session = await session_for(settings, paper=True)
    assert session.mode == "paper"
    await journal_equity(f"sqlite:///{tmp_path / 'flashscalper.sqlite'}", "p", "paper",
                         [(int(time.time() * 1000) - 5, "1")])
    memory = await attach_memory(session, settings, venue="paradex")
    try:
        assert memory.restored_equity_samples == 0 and session.bot.risk.status().start_of_day_equity is None
    finally:
        await memory.close(0)
        memory.db.close()
