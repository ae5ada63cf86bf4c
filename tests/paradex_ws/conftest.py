from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from flashscalper.domain import Event

from .venue import FakeParadexVenue


@pytest.fixture
async def venue() -> AsyncIterator[FakeParadexVenue]:
    server = FakeParadexVenue()
    await server.start()
    yield server
    await server.stop()


async def take(feed: AsyncIterator[Event], predicate: Callable[[Event], bool], within_s: float = 3.0,
               skipped: list[Event] | None = None) -> Event:
    """The first event from ``feed`` that matches; the others are appended to ``skipped``."""

    async def scan() -> Event:
        async for event in feed:
            if predicate(event):
                return event
            if skipped is not None:
                skipped.append(event)
        raise AssertionError("event feed ended")

    return await asyncio.wait_for(scan(), within_s)
