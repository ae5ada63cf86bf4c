"""`flashscalper run` as a subprocess: the dashboard and the journal come with it, it trades the simulator's
Aster dialect with ASTER_* settings, and `--exchange both` runs both venues on one risk budget."""

from __future__ import annotations

import asyncio
import re
import secrets
import sqlite3
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import aiohttp
import pytest

from flashscalper.sim.aster.registry import registry_of
from flashscalper.sim.server import Simulator

from .helpers import account_id, bot_env, start_cli, wait_for

pytestmark = pytest.mark.timeout(120)
URL = re.compile(r"^dashboard\s+(http://\S+)/\s*$", re.M)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    simulator = Simulator(seed=11)
    await simulator.start(port=0)
    yield simulator
    await simulator.stop()


def aster_env(sim: Simulator, key: str, secret: str) -> dict[str, str]:
    assert sim.urls is not None
    return {"ASTER_ENVIRONMENT": "local", "ASTER_REST_BASE_URL": sim.urls.aster_rest,
            "ASTER_WS_BASE_URL": sim.urls.aster_ws, "ASTER_API_KEY": key, "ASTER_API_SECRET": secret,
            "ASTER_MARKETS": "BTCUSDT"}


def held(sim: Simulator, account: str) -> bool:
    return account in sim.exchange.accounts() and any(p.size != 0 for p in sim.exchange.positions(account))


async def test_run_serves_the_dashboard_prints_the_token_once_and_journals_the_session(
        sim: Simulator, tmp_path: Path) -> None:
    key = "0x" + secrets.token_hex(32)
    assert sim.urls is not None
    env = bot_env(sim.urls, key, tmp_path, FLASHSCALPER_STRATEGY="test_every_nth_quote")
    log = tmp_path / "run.log"
    proc = await start_cli(["run", "--duration", "8"], env, tmp_path, test_strategy=True, log=log)
    match = await wait_for(lambda: URL.search(log.read_text()), 30, "the dashboard URL")
    async with aiohttp.ClientSession() as http:
        state = await (await http.get(match.group(1) + "/api/state")).json()
        overlay = await http.get(match.group(1) + "/overlay/trades")
        assert overlay.status == 200
    # the page describes this session: a local-simulator account on Paradex, its markets, not a replay
    assert state["mode"]["name"] == "local" and state["mode"]["venue"] == "paradex"
    assert state["mode"]["replay"] is False and state["mode"]["demo"] is False
    assert await asyncio.wait_for(proc.wait(), 90) == 0, log.read_text()
    out = log.read_text()
    assert out.count("control token") == 1 and "overlay trades" in out and "session summary" in out
    assert "journal sqlite:///" in out
    # the journal has the session, as live trading of the simulator's Paradex account, with its fills
    db = sqlite3.connect(tmp_path / "flashscalper.sqlite")
    (session_id, venue, mode, config), = db.execute("select id, venue, mode, config from sessions").fetchall()
    assert (venue, mode) == ("paradex", "live") and account_id(sim, key) in config and '"local"' in config
    fills = db.execute("select count(*) from fills where session_id = ?", (session_id,)).fetchone()[0]
    assert fills == len(sim.exchange.fills(account_id(sim, key))) > 0
    db.close()


async def test_run_without_dashboard_or_journal_serves_and_records_nothing(sim: Simulator, tmp_path: Path) -> None:
    key = "0x" + secrets.token_hex(32)
    assert sim.urls is not None
    proc = await start_cli(["run", "--duration", "3", "--no-dashboard", "--no-journal"],
                           bot_env(sim.urls, key, tmp_path), tmp_path)
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, out
    assert b"dashboard" not in out and b"journal" not in out
    assert not (tmp_path / "flashscalper.sqlite").exists()


async def test_run_trades_the_simulators_aster_dialect_with_v1_credentials(sim: Simulator, tmp_path: Path) -> None:
    key, secret, account = registry_of(sim).add_api_key()
    assert sim.urls is not None
    env = bot_env(sim.urls, None, tmp_path, FLASHSCALPER_STRATEGY="test_every_nth_quote",
                  **aster_env(sim, key, secret))
    log = tmp_path / "aster.log"
    proc = await start_cli(["run", "--exchange", "aster", "--duration", "7", "--no-dashboard"], env, tmp_path,
                           test_strategy=True, log=log)
    assert await asyncio.wait_for(proc.wait(), 90) == 0, log.read_text()
    out = log.read_text()
    assert "local on Aster local" in out and "BTCUSDT" in out
    assert sim.exchange.fills(account), "the bot did not trade on Aster"
    # ours carry the default client-id prefix, and the session ended flat
    assert all(o.client_id.startswith("fs-") for o in sim.exchange.order_history(account))
    assert not held(sim, account) and sim.exchange.open_orders(account) == []
    assert key not in out and secret not in out


async def test_run_without_aster_credentials_is_a_one_line_error(sim: Simulator, tmp_path: Path) -> None:
    assert sim.urls is not None
    env = bot_env(sim.urls, None, tmp_path, ASTER_ENVIRONMENT="local")
    proc = await start_cli(["run", "--exchange", "aster", "--duration", "3"], env, tmp_path)
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2
    assert err.decode().strip().count("\n") == 0 and "ASTER_API_KEY" in err.decode()


async def test_both_venues_trade_on_one_shared_position_budget(sim: Simulator, tmp_path: Path) -> None:
    paradex_key = "0x" + secrets.token_hex(32)
    aster_key, aster_secret, aster_account = registry_of(sim).add_api_key()
    assert sim.urls is not None
    # one position across BOTH venues; short holds so positions turn over during the run
    env = bot_env(sim.urls, paradex_key, tmp_path, FLASHSCALPER_STRATEGY="test_every_nth_quote",
                  PARADEX_MAX_POSITIONS="1", ASTER_MAX_POSITIONS="1", FLASHSCALPER_MAX_HOLDING_SECONDS="1",
                  PARADEX_ENABLED="true", ASTER_ENABLED="true", **aster_env(sim, aster_key, aster_secret))
    log = tmp_path / "both.log"
    proc = await start_cli(["run", "--duration", "9"], env, tmp_path, test_strategy=True, log=log)
    paradex_account = account_id(sim, paradex_key)
    assert await asyncio.wait_for(proc.wait(), 90) == 0, log.read_text()
    out = log.read_text()
    # one venue's entry was judged with the other venue's position counted: the budget is shared
    # (not asserted: "never both at once"; a filled entry whose fill event is still in flight counts for
    # neither entries nor positions for a moment, on one venue as on two; see the report)
    assert re.search(r"entry refused: max positions reached \(\d open, limit 1\)", out)
    assert "on Paradex local" in out and "on Aster local" in out
    assert "session summary paradex" in out and "session summary aster" in out
    assert "dashboard paradex" in out and "dashboard aster" in out and out.count("control token") == 1
    traded = [bool(sim.exchange.fills(a)) for a in (paradex_account, aster_account)]
    assert any(traded), "neither venue traded"
    assert not held(sim, paradex_account) and not held(sim, aster_account)
    assert Decimal(0) == sum((p.size for p in sim.exchange.positions(paradex_account)), Decimal(0))
