"""`flashscalper run`, `flatten` and `status` as subprocesses against a simulator started by the test."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from flashscalper.domain import OrderRequest, OrderStatus, OrderType, Side
from flashscalper.exchanges.paradex.client import demo_identity
from flashscalper.exchanges.paradex.keys import ParadexIdentity
from flashscalper.exchanges.paradex.rest import ParadexRestClient
from flashscalper.sim.server import Simulator

from .helpers import BTC, account_id, bot_env, position_size, run_cli

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    simulator = Simulator(seed=11)
    await simulator.start(port=0)
    yield simulator
    await simulator.stop()


@pytest.fixture
def key() -> str:
    return "0x" + secrets.token_hex(32)


def assert_no_secret(text: str, key: str) -> None:
    bare = key.removeprefix("0x")
    assert bare not in text and bare.upper() not in text, "the private key appeared in the output"


async def open_position_with_orders(sim: Simulator, key: str) -> ParadexIdentity:
    """Over the real wire: buy 0.01 BTC, rest a far bid and a reduce-only stop under the position."""
    assert demo_identity  # the same derivation the demo uses, here from the test's fixed key
    identity = ParadexIdentity.from_l1_key(key, l1_chain_id=sim.system["l1_chain_id"],
                                           account_proxy_hash=sim.system["paraclear_account_proxy_hash"],
                                           account_hash=sim.system["paraclear_account_hash"])
    assert sim.urls is not None
    async with ParadexRestClient(sim.urls.paradex_rest, identity) as rest:
        await rest.authenticate()
        mark = sim.exchange.mark_price(BTC)
        await rest.create_order(OrderRequest(BTC, Side.BUY, OrderType.MARKET, Decimal("0.01"), "manual-entry"))
        far = (mark * Decimal("0.9")).quantize(Decimal("0.1"))
        await rest.create_order(OrderRequest(BTC, Side.BUY, OrderType.LIMIT, Decimal("0.01"), "manual-bid",
                                             price=far))
        await rest.create_order(OrderRequest(BTC, Side.SELL, OrderType.STOP_MARKET, Decimal("0.01"), "manual-stop",
                                             trigger_price=far, reduce_only=True))
    return identity


async def test_status_lists_the_position_open_orders_and_balance(sim: Simulator, key: str, tmp_path: Path) -> None:
    await open_position_with_orders(sim, key)
    assert sim.urls is not None
    done = await run_cli(["status", "--json"], bot_env(sim.urls, key, tmp_path), tmp_path)
    assert done.rc == 0, done.text
    report = json.loads(done.out.strip().splitlines()[-1])
    assert [(p["market"], Decimal(p["size"])) for p in report["positions"]] == [(BTC, Decimal("0.01"))]
    # the simulated market keeps moving: the mark shown is the venue's within a fraction of a percent
    assert abs(Decimal(report["positions"][0]["mark_price"]) / sim.exchange.mark_price(BTC) - 1) < Decimal("0.005")
    assert sorted(o["client_id"] for o in report["open_orders"]) == ["manual-bid", "manual-stop"]
    assert Decimal(report["balance"]["equity"]) > 0
    assert report["account"] == account_id(sim, key)
    assert "BTC-USD-PERP" in done.out and "positions (1)" in done.out
    assert_no_secret(done.text, key)


async def test_flatten_leaves_the_account_flat_with_no_open_orders(sim: Simulator, key: str, tmp_path: Path) -> None:
    await open_position_with_orders(sim, key)
    account = account_id(sim, key)
    assert position_size(sim, account) == Decimal("0.01") and len(sim.exchange.open_orders(account)) == 2
    assert sim.urls is not None
    done = await run_cli(["flatten", "--json"], bot_env(sim.urls, key, tmp_path), tmp_path)
    assert done.rc == 0, done.text
    result = json.loads(done.out.strip().splitlines()[-1])
    assert result["flat"] is True and result["cancelled_orders"] == 2
    assert [(c["market"], Decimal(c["size"])) for c in result["closed"]] == [(BTC, Decimal("0.01"))]
    # the venue agrees: nothing open, nothing held; the close was reduce-only
    assert position_size(sim, account) == 0
    assert sim.exchange.open_orders(account) == []
    closes = [o for o in sim.exchange.order_history(account) if o.client_id.startswith("fs-flatten-")]
    assert len(closes) == 1 and closes[0].reduce_only and closes[0].status is OrderStatus.FILLED
    assert_no_secret(done.text, key)


async def test_run_for_a_duration_trades_and_flattens_at_the_end(sim: Simulator, key: str, tmp_path: Path) -> None:
    assert sim.urls is not None
    env = bot_env(sim.urls, key, tmp_path, FLASHSCALPER_STRATEGY="test_every_nth_quote")
    done = await run_cli(["run", "--duration", "6"], env, tmp_path, test_strategy=True, limit_s=90)
    assert done.rc == 0, done.text
    account = account_id(sim, key)
    fills = sim.exchange.fills(account)
    assert fills, "the bot did not trade"
    assert "fill BTC-USD-PERP BUY" in done.out and "session summary" in done.out
    # the duration ended: the session flattened and left nothing behind
    assert position_size(sim, account) == 0 and sim.exchange.open_orders(account) == []
    assert_no_secret(done.text, key)


async def test_run_on_prod_without_confirmation_refuses(tmp_path: Path, key: str) -> None:
    sim_urls = Simulator().urls  # never started: the refusal must come before any network access
    assert sim_urls is None
    env = {k: v for k, v in bot_env.__globals__["os"].environ.items()
           if not k.startswith(("PARADEX_", "FLASHSCALPER_"))}
    env.update(PARADEX_ENVIRONMENT="prod", PARADEX_PRIVATE_KEY=key, COLUMNS="200")
    done = await run_cli(["run", "--duration", "5"], env, tmp_path)
    assert done.rc == 2
    lines = done.err.strip().splitlines()
    assert len(lines) == 1 and "refusing to trade real money" in lines[0]
    assert "--i-understand-real-money" in lines[0] and "FLASHSCALPER_CONFIRM_LIVE_TRADING" in lines[0]
    assert_no_secret(done.text, key)


async def test_missing_key_and_unreachable_venue_are_one_line_errors(sim: Simulator, key: str,
                                                                     tmp_path: Path) -> None:
    assert sim.urls is not None
    no_key = await run_cli(["status"], bot_env(sim.urls, None, tmp_path), tmp_path)
    assert no_key.rc == 2
    assert no_key.err.strip().count("\n") == 0 and "PARADEX_PRIVATE_KEY" in no_key.err

    env = bot_env(sim.urls, key, tmp_path, PARADEX_API_BASE_URL="http://127.0.0.1:9/v1")
    for command in (["status"], ["flatten"], ["run", "--duration", "3"]):
        down = await run_cli(command, env, tmp_path)
        assert down.rc == 2, down.text
        assert down.err.strip().count("\n") == 0 and "127.0.0.1:9" in down.err
        assert "Traceback" not in down.text
        assert_no_secret(down.text, key)
