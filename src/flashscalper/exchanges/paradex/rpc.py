"""JSON-RPC 2.0 plumbing for the Paradex WebSocket: request ids, awaited answers, typed errors.

Error codes (protocol/paradex.md §3): 40110 malformed bearer and 40111 invalid bearer mean "refresh
the JWT and reconnect"; 40300 is "not authenticated"; 42901 is a rate limit; 40112 geo-blocking;
the rest (JSON-RPC -32xxx, 100 method error) are plain ``WsRpcError``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import orjson

from flashscalper.errors import AuthFailed, ExchangeError, ExchangeUnavailable, RateLimited

TOKEN_ERROR_CODES = frozenset({40110, 40111})
AUTH_ERROR_CODES = frozenset({40110, 40111, 40112, 40300})
RATE_LIMIT_CODE = 42901


class WsRpcError(ExchangeError):
    """The server answered a JSON-RPC request with an error; ``rpc_code`` is its numeric code."""

    def __init__(self, message: str, *, rpc_code: int, method: str) -> None:
        super().__init__(message, code=str(rpc_code))
        self.rpc_code = rpc_code
        self.method = method


class WsAuthFailed(AuthFailed):
    """``auth`` was refused or a private method needs auth; ``rpc_code`` says which (40110/40111/...)."""

    def __init__(self, message: str, *, rpc_code: int, method: str) -> None:
        super().__init__(message, code=str(rpc_code))
        self.rpc_code = rpc_code
        self.method = method


def rpc_error(method: str, error: Any) -> ExchangeError:
    """The typed exception for the ``error`` member of a JSON-RPC answer."""
    if not isinstance(error, Mapping):
        return WsRpcError(f"{method}: malformed error {str(error)[:80]}", rpc_code=0, method=method)
    code = error.get("code")
    code = code if isinstance(code, int) and not isinstance(code, bool) else 0
    text = str(error.get("message") or "")[:200]
    data = error.get("data")
    detail = f"{method} failed with code {code}: {text}" + (f" ({str(data)[:120]})" if data else "")
    if code in AUTH_ERROR_CODES:
        hint = " — the JWT will be refreshed and the socket reconnected" if code in TOKEN_ERROR_CODES else ""
        return WsAuthFailed(detail + hint, rpc_code=code, method=method)
    if code == RATE_LIMIT_CODE:
        return RateLimited(detail + " — slow down", retry_after=1.0, code=str(code), status=None)
    return WsRpcError(detail, rpc_code=code, method=method)


def is_duplicate_subscription(exc: BaseException) -> bool:
    """Subscribing twice is an error on Paradex (§6.2); for us it only means we are subscribed."""
    return isinstance(exc, WsRpcError) and "already subscribed" in str(exc).lower()


class PendingRequests:
    """Outstanding requests on one connection, keyed by JSON-RPC id."""

    def __init__(self) -> None:
        self._next_id = 0
        self._pending: dict[int, tuple[str, asyncio.Future[Any]]] = {}

    def open(self, method: str, params: Mapping[str, Any] | None) -> tuple[int, asyncio.Future[Any], str]:
        """Register a request; returns its id, the future of its result and the text frame to send."""
        self._next_id += 1
        rid = self._next_id
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[rid] = (method, future)
        body: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "id": rid}
        if params is not None:
            body["params"] = params
        return rid, future, orjson.dumps(body).decode()

    def discard(self, rid: int) -> None:
        self._pending.pop(rid, None)

    def resolve(self, message: Mapping[str, Any]) -> ExchangeError | None:
        """Settle the request ``message`` answers. Returns the error it carried, if any (None for unknown ids)."""
        rid = message.get("id")
        entry = self._pending.pop(rid, None) if isinstance(rid, int) else None
        if entry is None:
            return None
        method, future = entry
        if "error" in message:
            exc = rpc_error(method, message["error"])
            if not future.done():
                future.set_exception(exc)
            return exc
        if not future.done():
            future.set_result(message.get("result"))
        return None

    def fail_all(self, reason: str) -> None:
        """The connection is gone: every waiter gets ExchangeUnavailable."""
        pending, self._pending = self._pending, {}
        for method, future in pending.values():
            if not future.done():
                future.set_exception(ExchangeUnavailable(f"{method}: connection lost before an answer ({reason})"))
                future.exception()  # mark retrieved: nobody may be waiting any more

    def __len__(self) -> int:
        return len(self._pending)
