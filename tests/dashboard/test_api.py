"""The dashboard's HTTP/WebSocket API against a live demo session (no browser needed)."""

from __future__ import annotations

import json
from decimal import Decimal

import aiohttp

from flashscalper.dashboard.privacy import MASK, scrub
from flashscalper.dashboard.server import DashboardServer
from flashscalper.dashboard.state import ModeFlags
from tests.dashboard.conftest import Live


async def test_health_state_and_metrics(live: Live) -> None:
    async with aiohttp.ClientSession() as http:
        health = await (await http.get(live.url + "/api/health")).json()
        assert health["status"] == "ok" and health["mode"] == "demo" and health["whatif"] is True
        state = await (await http.get(live.url + "/api/state")).json()
        assert state["mode"]["demo"] and state["mode"]["simulator"] and not state["mode"]["replay"]
        assert set(state["markets"]) == {"BTC-USD-PERP", "ETH-USD-PERP", "SOL-USD-PERP"}
        assert state["account"]["equity"] == float(live.session.bot.balance.equity)
        res = await http.get(live.url + "/metrics")
        text = await res.text()
    assert res.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert "# TYPE flashscalper_signal_to_ack_ms histogram" in text
    assert 'flashscalper_signal_to_ack_ms_bucket{le="+Inf"}' in text
    assert "flashscalper_risk_state 0" in text


async def test_ws_pushes_a_snapshot_then_the_fill(live: Live) -> None:
    async with aiohttp.ClientSession() as http, http.ws_connect(live.url + "/ws") as ws:
        first = json.loads((await ws.receive(timeout=5)).data)
        assert first["type"] == "snapshot" and "positions" in first["state"]
        await live.open_position("BTC-USD-PERP", "0.002")
        while True:
            frame = json.loads((await ws.receive(timeout=5)).data)
            assert frame["type"] == "delta" and frame["seq"] > first["seq"]
            fills = [e for e in frame["events"] if e["kind"] == "fill"]
            if fills:
                break
    assert fills[0]["market"] == "BTC-USD-PERP" and fills[0]["size"] == 0.002


async def test_controls_need_the_token_and_then_act(live: Live) -> None:
    bot = live.session.bot
    async with aiohttp.ClientSession() as http:
        async def post(path: str, token: str | None, body: dict | None = None) -> aiohttp.ClientResponse:
            headers = {"X-Control-Token": token} if token is not None else {}
            return await http.post(live.url + path, json=body or {}, headers=headers)

        assert (await post("/api/control/flatten", None)).status == 401
        assert (await post("/api/control/flatten", "nope")).status == 403
        assert (await post("/api/whatif/jump", "nope", {"market": "BTC-USD-PERP", "fraction": -0.03})).status == 403
        assert bot.risk.state.value == "ACTIVE"

        token = live.dash.token
        assert (await post("/api/control/pause", token)).status == 200
        assert bot.risk.state.value == "REDUCING"
        assert (await post("/api/control/resume", token)).status == 200
        assert bot.risk.state.value == "ACTIVE"
        assert (await post("/api/control/safe-mode", token, {"on": True})).status == 200
        assert bot.risk.status().safe_mode and live.dash.state.mode["safe"]

        before = live.sim.exchange.mark_price("BTC-USD-PERP")
        assert (await post("/api/whatif/jump", token, {"market": "BTC-USD-PERP", "fraction": -0.03})).status == 200
        after = live.sim.exchange.mark_price("BTC-USD-PERP")
        assert after < before * Decimal("0.99")
        assert (await post("/api/whatif/jump", token, {"market": "NOPE", "fraction": 0.01})).status == 400
        assert (await post("/api/whatif/rate-limit", token, {"count": 3})).status == 200
        assert live.sim.faults.settings.rest_429_burst == 3
        live.sim.faults.clear()

        await live.open_position("ETH-USD-PERP", "0.01")
        await live.wait_for(lambda: "ETH-USD-PERP" in bot.positions.positions)
        assert (await post("/api/control/flatten", token)).status == 200
        await live.wait_for(lambda: not bot.positions.positions)
        assert bot.risk.state.value == "HALTED"


async def test_privacy_from_config_applies_to_every_client(live: Live) -> None:
    private = DashboardServer(live.session, port=0, privacy=True)
    url = await private.start()
    try:
        async with aiohttp.ClientSession() as http:
            state = await (await http.get(url + "/api/state")).json()
            metrics = await (await http.get(url + "/metrics")).text()
            async with http.ws_connect(url + "/ws") as ws:
                snapshot = json.loads((await ws.receive(timeout=5)).data)["state"]
        for view in (state, snapshot):
            assert view["mode"]["privacy"] is True
            assert set(view["account"]) == {"margin_utilisation_percent"}
            assert "session" not in view["pnl"] and "address" not in json.dumps(view)
        assert "flashscalper_equity" not in metrics
    finally:
        await private.stop()


def test_scrub_masks_money_and_sizes_but_keeps_percentages() -> None:
    text = "daily loss limit hit: equity 9,512.40 is 5.2% below start-of-day 10000 (limit 5%) for 0x1651568f8a1b81"
    out = scrub(text)
    assert "9,512.40" not in out and "10000" not in out and "0x1651568f" not in out
    assert "5.2%" in out and "5%" in out and MASK in out


def test_replay_and_paper_modes_are_flagged() -> None:
    assert ModeFlags.of("replay")["replay"] and ModeFlags.of("backtest")["replay"]
    assert ModeFlags.of("paper")["paper"] and not ModeFlags.of("paper")["replay"]
