"""A small RFC 6455 WebSocket server protocol for uvicorn, used when neither ``websockets`` nor ``wsproto``
is installed (uvicorn needs one of them for WebSockets and the project does not depend on either).

It speaks the ASGI WebSocket interface, so the FastAPI ``/ws`` route is the same code either way.
Scope: what a browser dashboard needs — text and binary messages, fragmentation, ping/pong, close
handshake, back-pressure and a clean close (1012 "service restart") when the server shuts down.
No extensions (no permessage-deflate), no subprotocol negotiation beyond echoing the app's choice.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import struct
from typing import Any
from urllib.parse import unquote

from uvicorn.protocols.utils import ClientDisconnected

__all__ = ["MiniWebSocketProtocol"]

log = logging.getLogger(__name__)

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_MESSAGE = 1 << 20
MAX_HANDSHAKE = 16 << 10
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def accept_key(key: bytes) -> bytes:
    """``Sec-WebSocket-Accept`` for a client's ``Sec-WebSocket-Key``."""
    return base64.b64encode(hashlib.sha1(key + _GUID).digest())


def encode_frame(opcode: int, payload: bytes) -> bytes:
    """One unmasked, final frame (servers never mask)."""
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", 0x80 | opcode, n)
    elif n < 1 << 16:
        header = struct.pack("!BBH", 0x80 | opcode, 126, n)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 127, n)
    return header + payload


class MiniWebSocketProtocol(asyncio.Protocol):
    """uvicorn hands the upgraded connection to this protocol (``Config(ws=MiniWebSocketProtocol)``)."""

    def __init__(self, config: Any, server_state: Any, app_state: dict[str, Any], _loop: Any = None) -> None:
        if not config.loaded:
            config.load()
        self.app = config.loaded_app
        self.root_path = config.root_path
        self.app_state = app_state
        self.connections = server_state.connections
        self.tasks = server_state.tasks
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.handshake_done = False
        self.accepted = False
        self.close_sent = False
        self.closed = False
        self.messages: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.scope: dict[str, Any] = {}
        self._key = b""
        self._fragments: list[bytes] = []
        self._fragment_op = 0
        self._writable = asyncio.Event()
        self._writable.set()

    # ---- asyncio.Protocol ------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.connections.discard(self)
        if not self.closed:
            self.closed = True
            self.messages.put_nowait({"type": "websocket.disconnect", "code": 1006})
        self._writable.set()

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.handshake_done:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > MAX_HANDSHAKE:
                    self._fail_http(431, b"request headers too large")
                return
            request, self.buffer = bytes(self.buffer[:end]), self.buffer[end + 4:]
            self._handshake(request)
        if self.handshake_done:
            self._read_frames()

    def shutdown(self) -> None:
        """Server shutdown: tell the client we are restarting (1012) and close."""
        if self.transport is None or self.transport.is_closing():
            return
        if self.accepted and not self.close_sent:
            self.close_sent = True
            self.transport.write(encode_frame(OP_CLOSE, struct.pack("!H", 1012)))
        self.transport.close()

    # ---- handshake -------------------------------------------------------------------------------

    def _handshake(self, request: bytes) -> None:
        lines = request.split(b"\r\n")
        try:
            _method, target, _version = lines[0].split(b" ", 2)
        except ValueError:
            self._fail_http(400, b"bad request line")
            return
        headers: list[tuple[bytes, bytes]] = []
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers.append((name.strip().lower(), value.strip()))
        found = dict(headers)
        self._key = found.get(b"sec-websocket-key", b"")
        if not self._key or found.get(b"sec-websocket-version") != b"13":
            self._fail_http(400, b"not a WebSocket version 13 handshake")
            return
        raw_path, _, query = target.partition(b"?")
        sock = self.transport.get_extra_info("sockname") if self.transport else None
        peer = self.transport.get_extra_info("peername") if self.transport else None
        self.scope = {
            "type": "websocket", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
            "scheme": "ws", "server": tuple(sock[:2]) if sock else None, "client": tuple(peer[:2]) if peer else None,
            "root_path": self.root_path, "path": unquote(raw_path.decode("ascii", "replace")),
            "raw_path": raw_path, "query_string": query, "headers": headers,
            "subprotocols": [s.strip().decode() for s in found.get(b"sec-websocket-protocol", b"").split(b",")
                             if s.strip()],
            "state": self.app_state.copy(), "extensions": {},
        }
        self.handshake_done = True
        self.messages.put_nowait({"type": "websocket.connect"})
        task = asyncio.get_running_loop().create_task(self._run_app())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def _fail_http(self, status: int, text: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"HTTP/1.1 %d Error\r\ncontent-length: %d\r\nconnection: close\r\n\r\n%s"
                                 % (status, len(text), text))
            self.transport.close()
        self.closed = True

    async def _run_app(self) -> None:
        try:
            await self.app(self.scope, self.receive, self.send)
        except Exception:
            log.exception("WebSocket application failed")
        finally:
            if not self.accepted:
                self._fail_http(403, b"WebSocket refused")
            elif not self.close_sent and self.transport is not None and not self.transport.is_closing():
                self.close_sent = True
                self.transport.write(encode_frame(OP_CLOSE, struct.pack("!H", 1000)))
                self.transport.close()

    # ---- frames ----------------------------------------------------------------------------------

    def _read_frames(self) -> None:
        buf = self.buffer
        while len(buf) >= 2:
            b0, b1 = buf[0], buf[1]
            fin, opcode, masked, length = b0 & 0x80, b0 & 0x0F, b1 & 0x80, b1 & 0x7F
            pos = 2
            if length == 126:
                if len(buf) < 4:
                    return
                length, pos = struct.unpack_from("!H", buf, 2)[0], 4
            elif length == 127:
                if len(buf) < 10:
                    return
                length, pos = struct.unpack_from("!Q", buf, 2)[0], 10
            if not masked:
                self._protocol_error(1002)  # clients must mask every frame
                return
            if length > MAX_MESSAGE:
                self._protocol_error(1009)
                return
            if len(buf) < pos + 4 + length:
                return
            mask = bytes(buf[pos:pos + 4])
            payload = _unmask(bytes(buf[pos + 4:pos + 4 + length]), mask)
            del buf[:pos + 4 + length]
            self._on_frame(bool(fin), opcode, payload)
            if self.closed:
                return

    def _on_frame(self, fin: bool, opcode: int, payload: bytes) -> None:
        if opcode == OP_PING:
            self._write(encode_frame(OP_PONG, payload))
        elif opcode == OP_PONG:
            pass
        elif opcode == OP_CLOSE:
            code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
            if not self.close_sent:
                self.close_sent = True
                self._write(encode_frame(OP_CLOSE, payload[:2]))
            self.closed = True
            self.messages.put_nowait({"type": "websocket.disconnect", "code": code})
            if self.transport is not None:
                self.transport.close()
        elif opcode in (OP_TEXT, OP_BINARY, OP_CONT):
            if opcode != OP_CONT:
                self._fragment_op, self._fragments = opcode, []
            self._fragments.append(payload)
            if sum(map(len, self._fragments)) > MAX_MESSAGE:
                self._protocol_error(1009)
                return
            if fin:
                data, self._fragments = b"".join(self._fragments), []
                if self._fragment_op == OP_TEXT:
                    try:
                        self.messages.put_nowait({"type": "websocket.receive", "text": data.decode("utf-8")})
                    except UnicodeDecodeError:
                        self._protocol_error(1007)
                else:
                    self.messages.put_nowait({"type": "websocket.receive", "bytes": data})
        else:
            self._protocol_error(1002)

    def _protocol_error(self, code: int) -> None:
        if not self.close_sent:
            self.close_sent = True
            self._write(encode_frame(OP_CLOSE, struct.pack("!H", code)))
        self.closed = True
        self.messages.put_nowait({"type": "websocket.disconnect", "code": code})
        if self.transport is not None:
            self.transport.close()

    def _write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    # ---- ASGI ------------------------------------------------------------------------------------

    async def receive(self) -> dict[str, Any]:
        return await self.messages.get()

    async def send(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if self.closed or self.transport is None or self.transport.is_closing():
            raise ClientDisconnected()
        if kind == "websocket.accept":
            extra = b"".join(k + b": " + v + b"\r\n" for k, v in message.get("headers") or [])
            proto = message.get("subprotocol")
            if proto:
                extra += b"sec-websocket-protocol: " + proto.encode() + b"\r\n"
            self.transport.write(b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n"
                                 b"sec-websocket-accept: " + accept_key(self._key) + b"\r\n" + extra + b"\r\n")
            self.accepted = True
        elif kind == "websocket.send":
            if message.get("text") is not None:
                frame = encode_frame(OP_TEXT, message["text"].encode("utf-8"))
            else:
                frame = encode_frame(OP_BINARY, message.get("bytes") or b"")
            await self._writable.wait()
            self._write(frame)
        elif kind == "websocket.close":
            if not self.accepted:
                self._fail_http(403, b"WebSocket refused")
                return
            if not self.close_sent:
                self.close_sent = True
                reason = (message.get("reason") or "").encode()[:120]
                self._write(encode_frame(OP_CLOSE, struct.pack("!H", message.get("code", 1000)) + reason))
            self.closed = True
            self.transport.close()


def _unmask(data: bytes, mask: bytes) -> bytes:
    # XOR via big integers: far faster than a Python loop for anything but tiny frames
    n = len(data)
    if n == 0:
        return data
    key = int.from_bytes((mask * (n // 4 + 1))[:n], "big")
    return (int.from_bytes(data, "big") ^ key).to_bytes(n, "big")
