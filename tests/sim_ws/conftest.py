"""A simulator on a manual clock over loopback, a signed-in Paradex trader, and a small JSON-RPC client.

The market generator is off: every book level in a test was put there by the test, through the engine
(``sim.exchange``) or through the WebSocket's own ``order.create``.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import aiohttp
import orjson
import pytest

from flashscalper.clock import ManualClock
from flashscalper.domain import Order, OrderRequest, OrderType, Side
from flashscalper.exchanges.paradex import starknet
from flashscalper.exchanges.paradex.sbe import frame_to_payload
from flashscalper.exchanges.paradex.signing import ParadexSigner
from flashscalper.sim.paradex.registry import ParadexAccount, registry_of
from flashscalper.sim.server import Simulator

BTC = "BTC-USD-PERP"
ETH = "ETH-USD-PERP"
MAKER = "maker"  # an engine-only account that provides liquidity
_client_ids = itertools.count(1)


@dataclass
class Trader:
    """An onboarded Paradex account: its engine id, signer and a fresh JWT."""

    account: ParadexAccount
    signer: ParadexSigner
    token: str

    @property
    def id(self) -> str:
        return self.account.id

    def order_params(self, sim: Simulator, *, side: str = "BUY", type: str = "LIMIT", size: str = "0.01",
                     price: str | None = "90000", market: str = BTC, **extra: Any) -> dict[str, Any]:
        """A correctly signed ``order.create`` params object."""
        ts = sim.clock.time_ms()
        params: dict[str, Any] = {
            "market": market, "side": side, "type": type, "size": size, "instruction": "GTC",
            "signature": self.signer.sign_order(market, side, type, size, price, ts), "signature_timestamp": ts,
            "client_id": f"ws-{next(_client_ids)}",
        }
        if price is not None:
            params["price"] = price
        params.update(extra)
        return params


def onboard(sim: Simulator, l2_key: int) -> Trader:
    registry = registry_of(sim)
    public = starknet.public_key(l2_key)
    address = registry.derive_address(public)
    account = registry.onboard(public, address, "0x" + "ab" * 20)
    signer = ParadexSigner(registry.chain_id, address, l2_key)
    return Trader(account, signer, sim.tokens.issue(account.id))


def place(sim: Simulator, account: str, side: Side, size: str, price: str | None, *, market: str = BTC,
          type: OrderType = OrderType.LIMIT) -> Order:
    """An order straight into the engine (no wire)."""
    request = OrderRequest(market, side, type, Decimal(size), f"e{next(_client_ids)}",
                           price=Decimal(price) if price is not None else None)
    return sim.exchange.submit_order(account, request)


class RpcClient:
    """One WebSocket connection: ``call`` waits for its answer, pushes are kept in arrival order."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.pushes: list[tuple[str, dict[str, Any]]] = []  # (channel or SBE kind, payload)
        self.answers: dict[Any, dict[str, Any]] = {}
        self.binary_frames = 0
        self._ids = itertools.count(1)
        self._arrived = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for msg in self.ws:
            if msg.type is aiohttp.WSMsgType.TEXT:
                body = orjson.loads(msg.data)
                if body.get("method") == "subscription":
                    self.pushes.append((body["params"]["channel"], body["params"]["data"]))
                else:
                    self.answers[body.get("id")] = body
            elif msg.type is aiohttp.WSMsgType.BINARY:
                self.binary_frames += 1
                self.pushes.append(frame_to_payload(msg.data))
            self._arrived.set()

    async def send_raw(self, text: str) -> None:
        await self.ws.send_str(text)

    async def answer(self, rid: Any, within: float = 3.0) -> dict[str, Any]:
        await self.wait_for(lambda: rid in self.answers, within)
        return self.answers.pop(rid)

    async def call(self, method: str, params: Any = None) -> dict[str, Any]:
        """The whole answer (``result`` or ``error``, plus usIn/usOut/usDiff)."""
        rid = next(self._ids)
        body: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "id": rid}
        if params is not None:
            body["params"] = params
        await self.ws.send_str(orjson.dumps(body).decode())
        return await self.answer(rid)

    async def result(self, method: str, params: Any = None) -> Any:
        answer = await self.call(method, params)
        assert "result" in answer, answer
        return answer["result"]

    async def wait_for(self, condition: Callable[[], bool], within: float = 3.0) -> None:
        async with asyncio.timeout(within):
            while not condition():
                if self.ws.closed and self._reader.done():
                    raise AssertionError("socket closed while waiting")
                self._arrived.clear()
                await self._arrived.wait()

    def on(self, channel: str) -> list[dict[str, Any]]:
        return [data for name, data in self.pushes if name == channel]

    async def pushes_on(self, channel: str, count: int = 1, within: float = 3.0) -> list[dict[str, Any]]:
        await self.wait_for(lambda: len(self.on(channel)) >= count, within)
        return self.on(channel)

    async def close(self) -> None:
        await self.ws.close()
        await self._reader


Connect = Callable[..., Awaitable[RpcClient]]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1_790_000_000_000)


@pytest.fixture
async def sim(clock: ManualClock) -> AsyncIterator[Simulator]:
    simulator = Simulator(clock=clock, fund_usdc=Decimal(100_000), generate_market=False)
    simulator.exchange.create_account(MAKER, Decimal(10_000_000))
    await simulator.start()
    try:
        yield simulator
    finally:
        await simulator.stop()


@pytest.fixture
def trader(sim: Simulator) -> Trader:
    return onboard(sim, 0x5EED_CAFE_0001)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def connect(sim: Simulator, http: aiohttp.ClientSession) -> AsyncIterator[Connect]:
    """``await connect(query="", headers=None)`` → an RpcClient; closed at the end of the test."""
    clients: list[RpcClient] = []

    async def open_client(query: str = "", headers: dict[str, str] | None = None) -> RpcClient:
        assert sim.urls is not None
        ws = await http.ws_connect(sim.urls.paradex_ws + query, headers=headers, autoping=True)
        client = RpcClient(ws)
        clients.append(client)
        return client

    yield open_client
    for client in clients:
        if not client.ws.closed:
            await client.close()


async def eventually(condition: Callable[[], bool], within: float = 3.0) -> None:
    """Wait until ``condition()`` holds (server-side effects of a socket closing have no event to await)."""
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 (polls engine state, which has no awaitable)
            await asyncio.sleep(0.01)
