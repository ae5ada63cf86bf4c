"""A simulator on a manual clock served over loopback (port 0), and traders with fresh random identities.

The simulator runs without its market generator so every book level in a test was put there by the test;
client and simulator share the ManualClock, so JWT expiry and funding run in virtual time.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from flashscalper.clock import ManualClock
from flashscalper.exchanges.paradex.keys import ParadexIdentity
from flashscalper.exchanges.paradex.rest import ParadexRestClient
from flashscalper.exchanges.paradex.signing import ParadexSigner
from flashscalper.sim.server import Simulator

FUND = Decimal(25_000)
BTC = "BTC-USD-PERP"


def new_identity(sim: Simulator) -> ParadexIdentity:
    """A brand-new account: random L1 key → L2 key → address under the simulator's class hashes."""
    return ParadexIdentity.from_l1_key(
        "0x" + secrets.token_hex(32),
        l1_chain_id=sim.system["l1_chain_id"],
        account_proxy_hash=sim.system["paraclear_account_proxy_hash"],
        account_hash=sim.system["paraclear_account_hash"],
    )


@dataclass
class Trader:
    """An identity with the official-style client and a raw session for hand-made requests."""

    identity: ParadexIdentity
    client: ParadexRestClient
    signer: ParadexSigner
    http: aiohttp.ClientSession
    base: str

    async def raw(self, method: str, path: str, *, body: Any = None, data: bytes | None = None,
                  auth: bool = True, headers: dict[str, str] | None = None,
                  params: dict[str, str] | None = None) -> tuple[int, Any, Any]:
        """(status, parsed JSON or None, response headers) of one hand-made request."""
        hdrs = dict(headers or {})
        if auth:
            hdrs["Authorization"] = "Bearer " + await self.client.jwt()
        async with self.http.request(method, self.base + path, json=body, data=data, headers=hdrs,
                                     params=params) as resp:
            text = await resp.text()
            parsed = await resp.json(content_type=None) if text else None
            return resp.status, parsed, resp.headers

    def order_body(self, *, market: str = BTC, side: str = "BUY", type: str = "LIMIT", size: str = "0.001",
                   price: str | None = "90000", ts: int, **extra: Any) -> dict[str, Any]:
        """A correctly signed POST /orders body (extra fields override or add)."""
        signature = self.signer.sign_order(market, side, type, size, price, ts)
        body: dict[str, Any] = {"market": market, "side": side, "type": type, "size": size,
                                "instruction": "GTC", "signature": signature, "signature_timestamp": ts}
        if price is not None:
            body["price"] = price
        body.update(extra)
        return body


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1_790_000_000_000)


@pytest.fixture
async def sim(clock: ManualClock) -> AsyncIterator[Simulator]:
    simulator = Simulator(clock=clock, fund_usdc=FUND, generate_market=False)
    await simulator.start(port=0)
    yield simulator
    await simulator.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def make_trader(sim: Simulator, clock: ManualClock, http: aiohttp.ClientSession):
    """Factory: a Trader with a fresh identity (not yet onboarded: the client onboards on first auth)."""
    clients: list[ParadexRestClient] = []

    def make(**client_options: Any) -> Trader:
        assert sim.urls is not None
        identity = new_identity(sim)
        client = ParadexRestClient(sim.urls.paradex_rest, identity, clock=clock, **client_options)
        clients.append(client)
        signer = ParadexSigner(sim.system["starknet_chain_id"], identity.account_address, identity.l2_private_key)
        return Trader(identity, client, signer, http, sim.urls.paradex_rest)

    yield make
    for client in clients:
        await client.close()
