"""Fixtures: a live demo session (simulator on port 0, the bot trading it, the dashboard on port 0)
and a real headless Chromium driven by Playwright (Debian's chromium; never a downloaded one)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from flashscalper.config import load_settings
from flashscalper.dashboard.server import DashboardServer
from flashscalper.demo import DemoOptions, start_demo_session
from flashscalper.domain import OrderRequest, OrderType, Side

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def chromium_path() -> str | None:
    path = os.environ.get("FLASHSCALPER_CHROMIUM") or "/usr/bin/chromium"
    return path if Path(path).exists() else shutil.which("chromium")


@dataclass
class Live:
    """A running demo session with its dashboard."""

    sim: Any
    session: Any
    dash: DashboardServer
    runner: asyncio.Task[None]

    @property
    def url(self) -> str:
        return self.dash.url

    async def trade_round_trip(self, market: str = "BTC-USD-PERP", size: str = "0.01", hold_s: float = 0.6) -> None:
        """Open a position with a market order from the bot's account, then let the bot close it (MANUAL)."""
        await self.open_position(market, size)
        await self.wait_for(lambda: market in self.session.bot.positions.positions)
        await asyncio.sleep(hold_s)
        await self.session.bot.close_position(market)
        await self.wait_for(lambda: market not in self.session.bot.positions.positions)

    async def open_position(self, market: str = "BTC-USD-PERP", size: str = "0.01", side: Side = Side.BUY) -> None:
        n = len(self.session.bot.stats.trades) + len(self.session.bot.positions.positions)
        await self.session.exchange.place_order(
            OrderRequest(market, side, OrderType.MARKET, Decimal(size), f"test-{os.getpid()}-{n}-{id(self)}"))

    @staticmethod
    async def wait_for(predicate: Any, within_s: float = 10.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within_s
        while not predicate():
            if loop.time() > deadline:
                raise AssertionError("condition not met in time")
            await asyncio.sleep(0.05)


async def start_live(*, privacy: bool = False, seed: int = 7, port: int = 0) -> Live:
    # A bot that never signals by itself: every trade on these pages is one the test makes, so what the
    # pages show can be compared with what the test did (the default scalper would trade in between).
    quiet = {"min_confidence": 1.0, "trend_threshold_atr": 1000.0, "mean_reversion": False}
    settings = load_settings(env_file=None, general={"strategy_params": quiet})
    sim, session = await start_demo_session(settings, DemoOptions(port=0, seed=seed))
    dash = DashboardServer(session, port=port, privacy=privacy)
    await dash.start()
    await session.bot.start()
    runner = asyncio.create_task(session.bot.run(), name="bot-under-test")
    return Live(sim, session, dash, runner)


async def stop_live(live: Live) -> None:
    live.session.bot.stop()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(live.runner, 5)
    await live.dash.stop()
    await live.session.bot.close()
    await live.sim.stop()


@pytest.fixture
async def live() -> AsyncIterator[Live]:
    running = await start_live()
    try:
        yield running
    finally:
        await stop_live(running)


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[Any]:
    """A fresh headless Chromium context (own profile directory); skips when chromium is absent."""
    path = chromium_path()
    if path is None:
        pytest.skip("chromium not found (set FLASHSCALPER_CHROMIUM or install Debian's chromium)")
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        pytest.skip("playwright (python) is not installed")
    pw = await async_playwright().start()
    try:
        context = await pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=path, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 900})
    except Exception as exc:  # a broken chromium install is an environment problem, not a test failure
        await pw.stop()
        pytest.skip(f"chromium could not start: {exc}")
    try:
        yield context
    finally:
        await context.close()
        await pw.stop()


def screenshot_path(name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}.png"
