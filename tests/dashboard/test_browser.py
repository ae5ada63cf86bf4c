"""The dashboard and the OBS overlays in a real headless Chromium, against a live demo session."""

from __future__ import annotations

import asyncio
import json
import re
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from flashscalper.dashboard.server import DashboardServer
from flashscalper.domain import Side
from flashscalper.strategy.base import Signal
from flashscalper.trading.bus import SignalReport
from tests.dashboard.conftest import Live, screenshot_path, start_live, stop_live

pytestmark = pytest.mark.browser

OVERLAY_SIZES = {"trades": (420, 360), "pnl": (360, 130), "positions": (480, 260), "signal": (400, 150)}



def as_cents(value: object) -> set[str]:
    """How a page may show |value| in cents: it rounds a float (JavaScript's toFixed), so a half cent can
    go either way."""
    amount = abs(Decimal(str(value)))
    shown = {f"{amount.quantize(Decimal('0.01'), rounding=mode):,.2f}" for mode in (ROUND_HALF_UP, ROUND_HALF_EVEN)}
    shown.add(f"{float(amount):,.2f}")
    return shown

async def open_overlay(browser: Any, live: Live, name: str, query: str = "") -> Any:
    page = await browser.new_page()
    width, height = OVERLAY_SIZES[name]
    await page.set_viewport_size({"width": width, "height": height})
    await page.goto(f"{live.url}/overlay/{name}{query}")
    await page.wait_for_selector("body[data-status=live]")
    return page


def publish_signal(live: Live, market: str = "ETH-USD-PERP") -> None:
    """A signal as the bot reports one (the strategy may take a while to produce a real one)."""
    now = live.session.bot.clock.time_ms()
    signal = Signal(market=market, side=Side.BUY, confidence=0.72, setup="momentum_breakout", strategy="scalper",
                    reasons=("EMA 9 crossed above EMA 21 with rising volume", "book imbalance favours bids"),
                    features={}, ts=now)
    live.session.bus.publish(SignalReport(signal, True, "entry sent", now))


async def test_dashboard_and_overlays_follow_a_trade(live: Live, browser: Any) -> None:
    dash = await browser.new_page()
    await dash.goto(live.url + "/")
    await dash.wait_for_selector("body[data-status=live]")
    pages = {name: await open_overlay(browser, live, name) for name in OVERLAY_SIZES}
    pnl_before = await pages["pnl"].text_content("#pnl-main")

    # a position opens: the positions overlay lists it with live P&L
    await live.open_position("BTC-USD-PERP", "0.01")
    await pages["positions"].wait_for_selector(".pos[data-market='BTC-USD-PERP']", timeout=10_000)
    publish_signal(live)
    await pages["signal"].wait_for_function("document.getElementById('sig-bar').style.width === '72%'")
    assert "72% confidence" in await pages["signal"].text_content("#sig-conf")
    assert "EMA 9 crossed" in await pages["signal"].text_content("#sig-reason")
    await asyncio.sleep(1.0)  # let the market move the mark so the charts have something to draw
    await pages["positions"].screenshot(path=screenshot_path("overlay-positions"), omit_background=True)
    await pages["signal"].screenshot(path=screenshot_path("overlay-signal"), omit_background=True)

    # the bot closes it: a fill toast and a CLOSED toast with the P&L, and the ticker moves
    await asyncio.sleep(0.5)
    await live.session.bot.close_position("BTC-USD-PERP")
    trades = pages["trades"]
    await trades.wait_for_selector(".toast[data-kind=trade_closed]", timeout=10_000)
    fills = await trades.locator(".toast[data-kind=fill]").count()
    assert fills >= 2  # the entry (EXTERNAL: placed outside the bot) and the bot's exit
    closed = [t for t in live.session.bot.stats.trades if t.market == "BTC-USD-PERP" and t.reason.value == "MANUAL"][-1]
    toast = await trades.text_content(".toast[data-kind=trade_closed]")
    assert "BTC long closed" in toast and "MANUAL" in toast
    # the page rounds a float to cents (JavaScript's toFixed), so a half cent may go either way
    shown = as_cents(closed.net_pnl)
    assert any(text in toast for text in shown), (shown, toast)
    await pages["pnl"].wait_for_function(
        "before => document.getElementById('pnl-main').textContent !== before", arg=pnl_before)
    # The session P&L keeps moving with the market (equity samples): compare the ticker with the state
    # until both have seen the same update, within a few seconds.
    for _ in range(50):
        state = await (await dash.request.get(live.url + "/api/state")).json()
        expected = as_cents(state["pnl"]["session"])
        ticker = await pages["pnl"].text_content("#pnl-main") or ""
        if any(text in ticker for text in expected):
            break
        await asyncio.sleep(0.1)
    assert any(text in ticker for text in expected), (expected, ticker)

    await dash.wait_for_selector("#trades tr td:has-text('MANUAL')")
    await asyncio.sleep(0.6)
    await dash.screenshot(path=screenshot_path("dashboard"), full_page=True)
    await trades.screenshot(path=screenshot_path("overlay-trades"), omit_background=True)
    await pages["pnl"].screenshot(path=screenshot_path("overlay-pnl"), omit_background=True)


async def test_controls_refuse_without_the_token(live: Live, browser: Any) -> None:
    page = await browser.new_page()
    page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await page.goto(live.url + "/")
    await page.wait_for_selector("body[data-status=live]")

    # over HTTP: no token → 401, wrong token → 403, and nothing changes
    for headers, status in (({}, 401), ({"X-Control-Token": "not-the-token"}, 403)):
        for path, body in (("pause", {}), ("safe-mode", {"on": True}), ("flatten", {}), ("/api/whatif/drop", {})):
            url = live.url + (path if path.startswith("/") else f"/api/control/{path}")
            res = await page.request.post(url, headers=headers, data=json.dumps(body))
            assert res.status == status, (path, res.status)
    assert live.session.bot.risk.state.value == "ACTIVE"
    assert live.session.bot.risk.status().safe_mode is False

    # in the page: the refusal is shown, and the risk state stays ACTIVE
    await page.click("button[data-action=pause]")
    await page.wait_for_selector("#control-msg.refused")
    assert "401" in await page.text_content("#control-msg")
    await page.fill("#token", "wrong")
    await page.click("button[data-action=pause]")
    await page.wait_for_function("document.getElementById('control-msg').textContent.includes('403')")
    assert live.session.bot.risk.state.value == "ACTIVE"
    await page.screenshot(path=screenshot_path("dashboard-refused"))

    # with the token printed at start: paused, then safe mode shows its badge everywhere
    await page.fill("#token", live.dash.token)
    await page.click("button[data-action=pause]")
    await page.wait_for_selector("#control-msg.done")
    assert live.session.bot.risk.state.value == "REDUCING"
    await page.wait_for_function("document.getElementById('risk').textContent.includes('REDUCING')")
    overlay = await open_overlay(browser, live, "pnl")
    await page.click("button[data-action=safe-mode]")
    await page.wait_for_selector(".badge-safe")
    await overlay.wait_for_selector(".badge-safe")
    assert live.session.bot.risk.status().safe_mode is True


FORBIDDEN_KEYS = {"size", "equity", "wallet", "available", "margin_in_use", "unrealized_pnl", "net_pnl", "pnl",
                  "fees", "fee", "realized", "unrealized", "session", "address", "start_equity", "margin",
                  "filled_size"}


def keys_in(value: Any) -> set[str]:
    """Keys holding a figure (not a nested section) anywhere in a frame."""
    if isinstance(value, dict):
        leaves = {k for k, v in value.items() if isinstance(v, int | float | str) and not isinstance(v, bool)}
        return leaves | {k for v in value.values() for k in keys_in(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys_in(v)}
    return set()


async def test_privacy_mode_never_shows_absolute_figures(live: Live, browser: Any) -> None:
    frames: list[str] = []

    def watch(page: Any) -> None:
        page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(str(payload))))

    pages = {}
    for name in ("dashboard", *OVERLAY_SIZES):
        page = await browser.new_page()
        watch(page)
        await page.goto(f"{live.url}/{'' if name == 'dashboard' else 'overlay/' + name}?privacy=1")
        await page.wait_for_selector("body[data-status=live]")
        pages[name] = page
    control = await browser.new_page()  # the same page without privacy: proves the figures would be visible
    await control.goto(live.url + "/")

    size = "0.0123"
    await live.open_position("ETH-USD-PERP", size)
    await pages["positions"].wait_for_selector(".pos[data-market='ETH-USD-PERP']", timeout=10_000)
    await asyncio.sleep(0.8)
    await live.session.bot.close_position("ETH-USD-PERP")
    await pages["trades"].wait_for_selector(".toast[data-kind=trade_closed]", timeout=10_000)
    await control.wait_for_selector("#fills tr td:has-text('0.0123')")
    await asyncio.sleep(0.5)

    bot = live.session.bot
    equity = bot.balance.equity
    address = live.dash.state.account
    in_text = {size, f"{equity:,.2f}", f"{equity:.2f}", address[:12]}
    in_html = {size, address[:12], address[2:14]}
    for name, page in pages.items():
        text = await page.evaluate("document.body.innerText")
        html = await page.content()
        for secret in in_text:
            assert secret not in text, (name, secret)
        for secret in in_html:
            assert secret not in html, (name, secret)
    await pages["dashboard"].screenshot(path=screenshot_path("dashboard-privacy"), full_page=True)
    await pages["trades"].screenshot(path=screenshot_path("overlay-trades-privacy"), omit_background=True)
    toast = await pages["trades"].text_content(".toast[data-kind=trade_closed]")
    assert re.search(r"\d+\.\d\d%", toast) and "R" in toast
    assert "%" in await pages["pnl"].text_content("#pnl-main")

    assert frames, "no WebSocket frames were captured"
    hidden_numbers = {float(size), float(equity), float(bot.balance.wallet), float(bot.balance.available)}
    for raw in frames:
        frame = json.loads(raw)
        leaked = keys_in(frame) & FORBIDDEN_KEYS
        assert not leaked, leaked
        assert not numbers_in(frame) & hidden_numbers
        assert address[2:14] not in raw
    # the privacy client still got the trade, as % and R
    assert any('"trade_closed"' in raw and '"roe"' in raw and '"r"' in raw for raw in frames)


def numbers_in(value: Any) -> set[float]:
    if isinstance(value, dict):
        return {n for v in value.values() for n in numbers_in(v)}
    if isinstance(value, list):
        return {n for v in value for n in numbers_in(v)}
    return {float(value)} if isinstance(value, int | float) and not isinstance(value, bool) else set()


async def test_overlay_goes_offline_and_comes_back_after_a_restart(browser: Any) -> None:
    live = await start_live()
    try:
        page = await open_overlay(browser, live, "trades")
        port = live.dash.port
        await live.dash.stop()
        await page.wait_for_selector("body[data-status=offline]", timeout=5_000)
        assert await page.is_visible(".offline-pill")
        await page.screenshot(path=screenshot_path("overlay-trades-offline"), omit_background=True)

        live.dash = DashboardServer(live.session, port=port)
        await live.dash.start()
        await page.wait_for_selector("body[data-status=live]", timeout=10_000)
        assert not await page.is_visible(".offline-pill")
        await live.open_position("SOL-USD-PERP", "1")
        await page.wait_for_selector(".toast[data-kind=fill]", timeout=10_000)
    finally:
        await stop_live(live)


async def test_replay_marker_shows_on_every_surface(live: Live, browser: Any) -> None:
    live.dash.state.mode.update(replay=True)  # what a replay session's mode flags say
    pages = [await open_overlay(browser, live, name) for name in OVERLAY_SIZES]
    dash = await browser.new_page()
    await dash.goto(live.url + "/")
    pages.append(dash)
    for page in pages:
        await page.wait_for_selector(".badge-replay:has-text('REPLAY')")
