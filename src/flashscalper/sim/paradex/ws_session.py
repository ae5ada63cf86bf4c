"""One simulated Paradex WebSocket connection: its state and its outbound queue with one sender task.

The engine listener never touches the socket. It enqueues here (``push_control`` for answers and private
pushes, ``push_public`` for market data) and the connection's own sender task writes. Two queues let the
"market data delay" fault hold public frames back without holding up order answers; without that fault
everything goes out in the order it was queued. A consumer more than ``limit`` frames behind is disconnected
(Paradex drops clients with ≥2000 unread messages).

Pushes are :class:`Payload` objects rendered on first use and shared by every connection they go to,
so the engine pays nothing per event and a payload is serialised once per wire format.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from typing import Any

import orjson
from aiohttp import WSCloseCode, web

from flashscalper.exchanges.paradex.sbe import payload_to_frame

log = logging.getLogger(__name__)

_STALL_POLL_S = 0.01  # a stall ends when the (possibly virtual) clock passes it: poll
_CLOSE_TIMEOUT_S = 2.0
_ENVELOPE_HEAD = b'{"jsonrpc":"2.0","method":"subscription","params":{"channel":'


class Payload:
    """The data of one push, built lazily by ``build`` and cached as JSON bytes and SBE frames.

    ``sbe_kind`` names the public channel kind for binary frames (None: always JSON, as private channels)."""

    __slots__ = ("_build", "_frames", "_json", "_value", "sbe_kind")

    def __init__(self, build: Callable[[], dict[str, Any]], sbe_kind: str | None = None) -> None:
        self._build = build
        self._value: dict[str, Any] | None = None
        self._json: bytes | None = None
        self._frames: dict[int, bytes] = {}
        self.sbe_kind = sbe_kind

    def value(self) -> dict[str, Any]:
        if self._value is None:
            self._value = self._build()
        return self._value

    def json(self) -> bytes:
        if self._json is None:
            self._json = orjson.dumps(self.value())
        return self._json

    def sbe(self, version: int) -> bytes:
        frame = self._frames.get(version)
        if frame is None:
            assert self.sbe_kind is not None
            frame = self._frames[version] = payload_to_frame(self.sbe_kind, self.value(), version=version)
        return frame


def envelope(channel: str, data: bytes) -> str:
    """``{"jsonrpc":"2.0","method":"subscription","params":{"channel":C,"data":D}}`` as text."""
    return (_ENVELOPE_HEAD + orjson.dumps(channel) + b',"data":' + data + b"}}").decode()


Item = str | tuple[str, Payload]  # a ready JSON-RPC answer, or (channel, payload) to push


class WsSession:
    """State of one client connection (see the module docstring)."""

    def __init__(self, ws: web.WebSocketResponse, *, conn_id: int, sbe_version: int | None, limit: int,
                 stalled: Callable[[], bool], delay_s: Callable[[], float],
                 transport: asyncio.BaseTransport | None = None) -> None:
        self.ws = ws
        self.conn_id = conn_id
        self.sbe_version = sbe_version  # None: public channels as JSON text (the simulator's test mode)
        self.limit = limit
        self.account: str | None = None  # engine account id once authenticated
        self.subscriptions: set[str] = set()
        self.book_floor: dict[str, int] = {}  # deltas channel -> seq_no of the snapshot this session got
        self.cancel_on_disconnect = False
        self.close_reason = ""
        self.sent = 0
        self._transport = transport
        self._stalled = stalled
        self._delay_s = delay_s
        self._control: deque[tuple[int, Item]] = deque()
        self._public: deque[tuple[int, float, Item]] = deque()
        self._queued = 0  # enqueue counter: both queues drain in one order unless market data is held back
        self._wake = asyncio.Event()
        self._closing = False
        self._sender: asyncio.Task[None] | None = None

    # ---- queueing (from the engine listener and the request handler; never blocks) --------------

    @property
    def backlog(self) -> int:
        """Frames queued and not yet written to the socket."""
        return len(self._control) + len(self._public)

    @property
    def closing(self) -> bool:
        return self._closing or self.ws.closed

    def push_control(self, item: Item) -> None:
        """Queue a JSON-RPC answer or a private push (never held back by the market-data delay)."""
        if self._closing:
            return
        self._queued += 1
        self._control.append((self._queued, item))
        self._after_push()

    def push_public(self, item: Item) -> None:
        """Queue a public market-data push (held back while ``market_data_delay_ms`` is set)."""
        if self._closing:
            return
        delay = self._delay_s()
        due = asyncio.get_running_loop().time() + delay if delay > 0 else 0.0
        self._queued += 1
        self._public.append((self._queued, due, item))
        self._after_push()

    def _after_push(self) -> None:
        if self.backlog > self.limit:
            self.close_soon(f"slow consumer: more than {self.limit} unread messages")
            return
        self._wake.set()

    # ---- sending ---------------------------------------------------------------------------------

    def start(self) -> None:
        self._sender = asyncio.create_task(self._send_loop(), name=f"paradex-ws-send-{self.conn_id}")

    def _frame(self, item: Item) -> str | bytes:
        if isinstance(item, str):
            return item
        channel, payload = item
        if self.sbe_version is not None and payload.sbe_kind is not None:
            return payload.sbe(self.sbe_version)
        return envelope(channel, payload.json())

    async def _send_loop(self) -> None:
        loop = asyncio.get_running_loop()
        ws = self.ws
        try:
            while not self._closing and not ws.closed:
                if not self._control and not self._public:
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                if self._stalled():
                    await asyncio.sleep(_STALL_POLL_S)
                    continue
                control, public = self._control, self._public
                if public and (not control or public[0][0] < control[0][0]):
                    wait = public[0][1] - loop.time()
                    if wait <= 0:
                        item = public.popleft()[2]
                    elif control:  # the oldest market data is held back; answers may overtake it
                        item = control.popleft()[1]
                    else:
                        self._wake.clear()
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self._wake.wait(), wait)
                        continue
                else:
                    item = control.popleft()[1]
                frame = self._frame(item)
                if isinstance(frame, str):
                    await ws.send_str(frame)
                else:
                    await ws.send_bytes(frame)
                self.sent += 1
        except (ConnectionError, RuntimeError) as exc:  # the peer went away mid-write
            log.debug("paradex ws %d: send failed: %s", self.conn_id, exc)
        except Exception:  # a payload that cannot be rendered must not leave a zombie connection
            log.exception("paradex ws %d: sender failed", self.conn_id)
            self.close_soon("internal error while sending", WSCloseCode.INTERNAL_ERROR)
        finally:
            self._control.clear()
            self._public.clear()

    # ---- closing ---------------------------------------------------------------------------------

    def close_soon(self, reason: str, code: int = WSCloseCode.POLICY_VIOLATION) -> None:
        """Close from synchronous code (the engine listener): stop queueing now, close on the loop."""
        if self._closing:
            return
        self._closing = True
        self.close_reason = reason
        self._control.clear()
        self._public.clear()
        self._wake.set()
        log.info("paradex ws %d: closing (%s)", self.conn_id, reason)
        asyncio.get_running_loop().create_task(self._close(code, reason))

    async def close(self, reason: str, code: int = WSCloseCode.GOING_AWAY) -> None:
        """Close the connection and wait until its sender has stopped."""
        if not self._closing:
            self._closing = True
            self.close_reason = reason
            self._wake.set()
        await self._close(code, reason)

    async def _close(self, code: int, reason: str) -> None:
        # Stop the sender first: it may be blocked on a full socket (a slow consumer), and the close
        # frame must not wait behind frames the peer is not reading.
        await self.stop_sender()
        try:
            await asyncio.wait_for(self.ws.close(code=code, message=reason[:120].encode(), drain=False),
                                   _CLOSE_TIMEOUT_S)
        except Exception:  # the peer does not finish the close handshake: cut the connection
            if self._transport is not None:
                self._transport.abort()

    async def stop_sender(self) -> None:
        sender, self._sender = self._sender, None
        if sender is not None and sender is not asyncio.current_task():
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sender
