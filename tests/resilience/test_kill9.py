"""The bot killed with -9 mid-position, its stop cancelled behind its back, restarted: the venue is protected
again and nothing is orphaned. And a liquidation on the venue reaches a running bot over the wire."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import aiohttp
import pytest

from flashscalper.domain import Order, OrderType
from flashscalper.sim.server import Simulator

from ..ops.helpers import account_id, bot_env, position_size, start_cli, wait_for

pytestmark = pytest.mark.timeout(90)

BTC = "BTC-USD-PERP"
# A fixed key: the restarted bot must be the same account.
KEY = "0x" + "5eed" * 16
STOPS = (OrderType.STOP_MARKET, OrderType.STOP_LIMIT)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    simulator = Simulator(seed=3)
    await simulator.start(port=0)
    yield simulator
    await simulator.stop()


def env_for(sim: Simulator, tmp: Path) -> dict[str, str]:
    assert sim.urls is not None
    # far exits so the position stays open while the test works on it
    return bot_env(sim.urls, KEY, tmp, FLASHSCALPER_STRATEGY="test_every_nth_quote", PARADEX_LEVERAGE="2",
                   PARADEX_POSITION_SIZE_PERCENT="5", PARADEX_TAKE_PROFIT_ROE="40", PARADEX_STOP_LOSS_ROE="-20")


def resting_stop(sim: Simulator, account: str) -> Order | None:
    """The reduce-only stop protecting the account's BTC long, if one rests on the venue."""
    if account not in sim.exchange.accounts() or position_size(sim, account) <= 0:
        return None
    stops = [o for o in sim.exchange.open_orders(account, BTC) if o.type in STOPS and o.reduce_only]
    return stops[0] if stops else None


async def stop_bot(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()


async def test_kill9_restart_adopts_and_reprotects_the_position(sim: Simulator, tmp_path: Path) -> None:
    account = account_id(sim, KEY)
    env = env_for(sim, tmp_path)
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    first = await start_cli(["run", "--duration", "60"], env, tmp_path, test_strategy=True, log=first_log)
    try:
        stop = await wait_for(lambda: resting_stop(sim, account), 30, "a position with its resting stop")
        size = position_size(sim, account)
        os.kill(first.pid, signal.SIGKILL)  # no clean-up of any kind
        await first.wait()
    finally:
        await stop_bot(first)
    assert first.returncode == -signal.SIGKILL
    # someone cancels the stop on the venue while no bot runs: the position is naked now
    sim.exchange.cancel_order(account, stop.id)
    assert resting_stop(sim, account) is None and position_size(sim, account) == size

    second = await start_cli(["run", "--duration", "60"], env, tmp_path, test_strategy=True, log=second_log)
    try:
        new_stop = await wait_for(lambda: resting_stop(sim, account), 30, "the restarted bot to re-protect")
        await wait_for(lambda: "ADOPT_POSITION" in second_log.read_text(), 10, "the adoption in the reconcile log")
        # let reconciliation finish its pass, then compare with the venue exactly
        await asyncio.sleep(0.5)
        log = second_log.read_text()
        assert position_size(sim, account) == size, "the restart changed the position"
        assert new_stop.id != stop.id and new_stop.side.value == "SELL" and new_stop.reduce_only
        open_orders = sim.exchange.open_orders(account)
        # exactly one stop and at most one take-profit, all reduce-only exits of the position: no orphans
        assert [o.type in STOPS for o in open_orders].count(True) == 1
        assert all(o.reduce_only and o.market == BTC for o in open_orders), open_orders
        assert len(open_orders) <= 2
        assert f"holds {size} {BTC}" in log and "adopted and protected" in log
    finally:
        await stop_bot(second)


async def test_a_liquidation_on_the_venue_is_detected_and_recorded_by_the_running_bot(
        sim: Simulator, tmp_path: Path) -> None:
    account = account_id(sim, KEY)
    log_path = tmp_path / "bot.log"
    bot = await start_cli(["run", "--duration", "60"], env_for(sim, tmp_path), tmp_path, test_strategy=True,
                          log=log_path)
    try:
        await wait_for(lambda: resting_stop(sim, account), 30, "a protected position")
        assert sim.urls is not None
        async with aiohttp.ClientSession() as http, http.post(sim.urls.admin + "/liquidate",
                                                              json={"account": account}) as resp:
            assert resp.status == 200, await resp.text()
        await wait_for(lambda: "LIQUIDATION" in log_path.read_text(), 15, "the bot to record the liquidation")
        log = log_path.read_text()
        assert f"{BTC} BUY closed by LIQUIDATION" in log or "(LIQUIDATION)" in log, log[-2000:]
    finally:
        await stop_bot(bot)
    assert Decimal(0) <= sim.exchange.account_summary(account).account_value
