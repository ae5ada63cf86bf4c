"""`flashscalper replay --session ID` plays a journaled session through the dashboard and the overlays,
with REPLAY on every surface, and exits when done (or keeps serving with --hold)."""

from __future__ import annotations

import asyncio
import io
import os
import re
import signal
import sys
from decimal import Decimal
from pathlib import Path

import aiohttp
import pytest
from rich.console import Console

from flashscalper.config import load_settings
from flashscalper.domain import Fill, Liquidity, Side
from flashscalper.memory.db import open_database
from flashscalper.memory.journal import Journal, JournalRecorder, SessionInfo
from flashscalper.replay.live_view import replay_on_dashboard
from flashscalper.trading.bus import EquitySample, EventBus, FillReport, TradeClosed
from flashscalper.trading.exits import ClosedTrade, ExitReason

pytestmark = pytest.mark.timeout(60)
ROOT = Path(__file__).resolve().parents[2]
ETH = "ETH-USD-PERP"
T0 = 1_700_000_000_000


async def journal_a_session(url: str) -> None:
    """A finished demo session: one ETH round trip that hit its stop, with equity before and after."""
    db = open_database(url)
    journal = Journal(db)
    await journal.start()
    bus = EventBus()
    config = {"markets": [ETH], "stop_loss_roe": "-0.8"}
    recorder = JournalRecorder(journal, SessionInfo.new("s-replay", "paradex", "demo", T0, config))
    recorder.attach(bus)
    bus.publish(EquitySample(Decimal(1000), Decimal(1000), Decimal(1000), Decimal(0), None, T0))
    for n, (side, price, ts) in enumerate(((Side.BUY, "2000", T0 + 1000), (Side.SELL, "1990", T0 + 2000))):
        fill = Fill(f"f{n}", f"o{n}", f"fs-s-{n}", ETH, side, Decimal(price), Decimal("0.5"), Liquidity.TAKER,
                    Decimal("0.1"), Decimal(0), ts)
        bus.publish(FillReport(fill, "ENTRY" if n == 0 else "STOP", ts))
    trade = ClosedTrade(ETH, Side.BUY, Decimal("0.5"), Decimal(2000), Decimal(1990), Decimal(-5), Decimal("0.2"),
                        T0 + 1000, T0 + 2000, ExitReason.SL, Decimal(10), Decimal("-5"))
    bus.publish(TradeClosed(trade, T0 + 2000))
    bus.publish(EquitySample(Decimal("994.8"), Decimal("994.8"), Decimal("994.8"), Decimal(0), None, T0 + 2500))
    await recorder.close(T0 + 3000, close_journal=True)
    db.close()


async def test_a_replay_dashboard_shows_the_session_marked_replay_then_stops(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'j.sqlite'}"
    await journal_a_session(url)
    db = open_database(url)
    printed = io.StringIO()
    console = Console(file=printed, width=200)
    stop = asyncio.Event()
    settings = load_settings(env_file=None)
    task = asyncio.create_task(replay_on_dashboard(db, "s-replay", settings, console, speed=2.0, port=0,
                                                   hold=True, stop=stop))
    try:
        async with aiohttp.ClientSession() as http:
            state: dict = {}
            for _ in range(200):  # at 2x the 3-second session plays in 1.5 s; wait for its trade
                await asyncio.sleep(0.05)
                found = re.search(r"dashboard \(REPLAY\) (http://\S+)/", printed.getvalue())
                if found is None:
                    continue
                dash = found.group(1)
                state = await (await http.get(dash + "/api/state")).json()
                if state.get("trades"):
                    break
            assert state["mode"]["replay"] is True and state["mode"]["name"] == "replay"
            assert state["mode"]["live"] is False and list(state["markets"]) == [ETH]  # from the journal
            assert [t["market"] for t in state["trades"]] == [ETH]
            for overlay in ("trades", "pnl", "positions", "signal"):  # every overlay renders the mode badge
                page = await http.get(dash + f"/overlay/{overlay}")
                assert page.status == 200
            # a replay cannot trade: no control routes
            assert (await http.post(dash + "/api/control/flatten")).status in (404, 405)
        assert not task.done()  # --hold: still serving after the last event
        stop.set()
        result = await asyncio.wait_for(task, 10)
        assert result.events == 5 and result.net_pnl == Decimal("-5.2")
    finally:
        stop.set()
        db.close()


async def test_the_replay_command_prints_the_urls_and_exits_when_done(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'j.sqlite'}"
    await journal_a_session(url)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARADEX_", "FLASHSCALPER_", "ASTER_"))}
    env.update(PYTHONPATH=str(ROOT / "src"), FLASHSCALPER_DB_URL=url, FLASHSCALPER_DASHBOARD_PORT="0",
               COLUMNS="200")
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "flashscalper", "replay", "--session",
                                                "s-replay", "--speed", "0", env=env, cwd=tmp_path,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 45)
    text = out.decode()
    assert proc.returncode == 0, text + err.decode()
    assert re.search(r"dashboard \(REPLAY\) http://127\.0\.0\.1:\d+/", text)
    assert "overlay trades" in text and "control token" not in text
    assert "[REPLAY] ETH-USD-PERP BUY net -5.2000 (SL)" in text
    assert "REPLAY of s-replay: 5 events, net -5.2000" in text


async def test_hold_keeps_serving_until_sigterm(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'j.sqlite'}"
    await journal_a_session(url)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARADEX_", "FLASHSCALPER_", "ASTER_"))}
    env.update(PYTHONPATH=str(ROOT / "src"), FLASHSCALPER_DB_URL=url, COLUMNS="200")
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "flashscalper", "replay", "--session",
                                                "s-replay", "--hold", "--dashboard-port", "0", env=env,
                                                cwd=tmp_path, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    lines: list[str] = []
    while not any("keeps serving" in line for line in lines):
        lines.append((await asyncio.wait_for(proc.stdout.readline(), 30)).decode())
    dash = re.search(r"(http://\S+)/\s", "".join(lines))
    assert dash is not None
    async with aiohttp.ClientSession() as http:
        state = await (await http.get(dash.group(1) + "/api/state")).json()
    assert state["mode"]["replay"] is True and len(state["trades"]) == 1
    proc.send_signal(signal.SIGTERM)
    rest, _ = await asyncio.wait_for(proc.communicate(), 15)
    assert proc.returncode == 0 and "REPLAY of s-replay" in rest.decode()
