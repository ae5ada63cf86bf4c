"""How the Paradex WebSocket client opens a socket: the injectable connector seam and its aiohttp default."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

import aiohttp


class WsConnection(Protocol):
    """The part of ``aiohttp.ClientWebSocketResponse`` the client uses."""

    closed: bool

    async def receive(self, timeout: float | None = None) -> aiohttp.WSMessage: ...  # noqa: ASYNC109 (aiohttp's)

    async def send_str(self, data: str) -> None: ...

    async def close(self) -> Any: ...


Connector = Callable[[str, Mapping[str, str]], Awaitable[WsConnection]]


class AiohttpConnector:
    """Opens sockets with one shared ``aiohttp.ClientSession`` (autoping answers the server's pings)."""

    def __init__(self, session: aiohttp.ClientSession | None = None, *, timeout_s: float = 10.0,
                 heartbeat_s: float | None = None) -> None:
        self._session = session
        self._own = session is None
        self._timeout = timeout_s
        self._heartbeat = heartbeat_s

    async def __call__(self, url: str, headers: Mapping[str, str]) -> WsConnection:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        connecting = self._session.ws_connect(url, headers=dict(headers), autoping=True, heartbeat=self._heartbeat,
                                              max_msg_size=0)
        return await asyncio.wait_for(connecting, self._timeout)

    async def close(self) -> None:
        if self._own and self._session is not None:
            await self._session.close()
