"""Fixtures: a live Simulator on a loopback port and AsterExchange clients with V1 or V3 credentials."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from eth_account import Account

from flashscalper.domain import Event
from flashscalper.exchanges.aster.client import AsterExchange
from flashscalper.exchanges.aster.rest import AgentCredentials, Credentials, HmacCredentials
from flashscalper.sim.aster.registry import AsterRegistry, registry_of
from flashscalper.sim.server import Simulator


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    simulator = Simulator(seed=11, step_ms=50)
    await simulator.start(port=0)
    await asyncio.sleep(0.2)  # a few market steps: books, trades, marks
    yield simulator
    await simulator.stop()


@pytest.fixture
def registry(sim: Simulator) -> AsterRegistry:
    return registry_of(sim)


def v1_credentials(registry: AsterRegistry) -> HmacCredentials:
    key, secret, _ = registry.add_api_key()
    return HmacCredentials(key, secret)


def v3_credentials(registry: AsterRegistry, *, self_signed: bool = False) -> AgentCredentials:
    """A fresh wallet that signs through an approved agent (or for itself)."""
    user = Account.create()
    if self_signed:
        return AgentCredentials(user.address, user.address, user.key.hex())
    agent = Account.create()
    registry.add_agent(user.address, agent.address)
    return AgentCredentials(user.address, agent.address, agent.key.hex())


@pytest.fixture(params=["v1", "v3"])
def credentials(request: pytest.FixtureRequest, registry: AsterRegistry) -> Credentials:
    return v1_credentials(registry) if request.param == "v1" else v3_credentials(registry)


@pytest.fixture
async def make_exchange(sim: Simulator) -> AsyncIterator[Callable[..., Any]]:
    made: list[AsterExchange] = []

    async def make(credentials: Credentials | None, **kwargs: Any) -> AsterExchange:
        assert sim.urls is not None
        exchange = AsterExchange(sim.urls.aster_rest, sim.urls.aster_ws, credentials, **kwargs)
        await exchange.connect()
        made.append(exchange)
        return exchange

    yield make
    for exchange in made:
        await exchange.close()


@pytest.fixture
async def exchange(make_exchange: Callable[..., Any], credentials: Credentials) -> AsterExchange:
    return await make_exchange(credentials)


async def next_event(exchange: AsterExchange, match: Callable[[Event], bool], timeout_s: float = 5.0) -> Event:
    """The first event from the feed that ``match`` accepts (others are skipped)."""

    async def scan() -> Event:
        async for event in exchange.events():
            if match(event):
                return event
        raise AssertionError("the event feed closed")

    return await asyncio.wait_for(scan(), timeout_s)
