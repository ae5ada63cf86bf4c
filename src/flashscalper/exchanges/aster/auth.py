"""Aster request signing (both dialects) and the matching verification for the simulator.

V1 is Binance's HMAC-SHA256 scheme: ``X-MBX-APIKEY`` header, ``timestamp`` + ``recvWindow`` params, and
``signature = hex(HMAC(secret, query + body))`` appended last. V3 ("Pro API") signs the url-encoded parameter
string with an API-wallet (agent) key as EIP-712 typed data ``Message{string msg}`` under the domain
``AsterSignTransaction``/``1``/chainId, and replaces timestamp/recvWindow with a microsecond ``nonce``.
Both signers sign exactly the bytes they send, in one place (protocol/aster.md §2).
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any
from urllib.parse import urlencode

import orjson
from eth_account import Account
from eth_account.messages import SignableMessage
from eth_utils import keccak, to_checksum_address

from flashscalper.clock import Clock, WallClock
from flashscalper.errors import ConfigError

MAINNET_CHAIN_ID = 1666
TESTNET_CHAIN_ID = 714
DEFAULT_RECV_WINDOW_MS = 5000
MAX_RECV_WINDOW_MS = 60_000
FUTURE_TOLERANCE_MS = 1000  # a V1 timestamp may run at most this far ahead of server time
NONCE_MAX_SKEW_US = 10_000_000  # V3: |nonce - server time| <= 10 s
NONCE_WINDOW_SIZE = 100  # V3: the server remembers the last 100 nonces per user
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
_WRITE_METHODS = frozenset({"POST", "PUT", "DELETE"})


# ---- parameter encoding ---------------------------------------------------------------------------


def encode_value(value: Any) -> str:
    """One parameter value as Aster expects it: plain decimals, lowercase booleans, JSON for lists."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")  # never an exponent: "1E-7" would be refused
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, list | tuple | dict):
        return orjson.dumps(value, default=encode_value).decode()
    return str(value)


def encode_params(params: Mapping[str, Any]) -> str:
    """``k1=v1&k2=v2`` in insertion order (the server verifies the string as received); None is dropped."""
    return urlencode([(k, encode_value(v)) for k, v in params.items() if v is not None])


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """Everything to put on the wire: ``path?query`` with ``body`` and ``headers``."""

    method: str
    path: str
    query: str
    body: str
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def url_path(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path


def _place(method: str, path: str, payload: str, headers: dict[str, str], in_body: bool) -> SignedRequest:
    method = method.upper()
    if in_body and method in _WRITE_METHODS:
        return SignedRequest(method, path, "", payload, {**headers, "Content-Type": FORM_CONTENT_TYPE})
    return SignedRequest(method, path, payload, "", headers)


class _Secret:
    """Holds a secret so that it never shows up in a repr, a log line or a traceback's locals dump."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "<secret>"

    __str__ = __repr__


# ---- V1: HMAC-SHA256 ------------------------------------------------------------------------------


def hmac_signature(secret: str, payload: str) -> str:
    """Lowercase hex HMAC-SHA256 of ``payload`` (query string concatenated with body, no separator)."""
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def verify_hmac(secret: str, payload: str, signature: str) -> bool:
    """True iff ``signature`` (hex, any case) is the HMAC of ``payload``; constant-time comparison."""
    return hmac.compare_digest(hmac_signature(secret, payload), signature.strip().lower())


class HmacSigner:
    """V1 signer: API key + HMAC secret.

    ``sign`` adds ``recvWindow`` and ``timestamp`` (ms) after the caller's params, signs, and appends
    ``signature``. By default everything goes in the query string for every verb (as the official
    connector does); ``params_in_body=True`` sends POST/PUT/DELETE params as a form body instead.
    """

    def __init__(
        self,
        api_key: str,
        api_secret: str,
        *,
        clock: Clock | None = None,
        recv_window_ms: int = DEFAULT_RECV_WINDOW_MS,
        params_in_body: bool = False,
    ) -> None:
        if not api_key or not api_secret:
            raise ConfigError("Aster V1 needs both ASTER_API_KEY and ASTER_API_SECRET")
        if not 0 < recv_window_ms <= MAX_RECV_WINDOW_MS:
            raise ConfigError(f"recvWindow must be in 1..{MAX_RECV_WINDOW_MS} ms, got {recv_window_ms}")
        self.api_key = api_key
        self._secret = _Secret(api_secret)
        self.clock: Clock = clock or WallClock()
        self.recv_window_ms = recv_window_ms
        self.params_in_body = params_in_body

    def __repr__(self) -> str:
        return f"HmacSigner(api_key={self.api_key[:6]}…, recv_window_ms={self.recv_window_ms})"

    def api_key_headers(self) -> dict[str, str]:
        """Headers for USER_STREAM / MARKET_DATA calls (API key, no signature)."""
        return {"X-MBX-APIKEY": self.api_key}

    def sign(self, method: str, path: str, params: Mapping[str, Any] | None = None) -> SignedRequest:
        """A TRADE / USER_DATA request: params + recvWindow + timestamp + signature, plus the key header."""
        payload = encode_params(
            {**(params or {}), "recvWindow": self.recv_window_ms, "timestamp": self.clock.time_ms()}
        )
        signed = f"{payload}&signature={hmac_signature(self._secret.reveal(), payload)}"
        return _place(method, path, signed, self.api_key_headers(), self.params_in_body)


def timestamp_within_window(timestamp_ms: int, server_ms: int, recv_window_ms: int = DEFAULT_RECV_WINDOW_MS) -> bool:
    """The V1 server rule: ``timestamp < server + 1000`` and ``server - timestamp <= recvWindow``."""
    return timestamp_ms < server_ms + FUTURE_TOLERANCE_MS and server_ms - timestamp_ms <= recv_window_ms


def split_signature(query: str, body: str = "") -> tuple[str, str]:
    """Split a received request into (signed payload, signature).

    The payload is the query string concatenated with the body, each without its ``signature`` parameter,
    byte for byte as received. Returns an empty signature when none was sent.
    """
    signature = ""
    parts: list[str] = []
    for raw in (query, body):
        kept = []
        for item in raw.split("&") if raw else ():
            if item.startswith("signature="):
                signature = item[len("signature=") :]
            else:
                kept.append(item)
        parts.append("&".join(kept))
    return "".join(parts), signature


# ---- V3: EIP-712 agent signing -------------------------------------------------------------------

_DOMAIN_TYPEHASH = keccak(text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
_MESSAGE_TYPEHASH = keccak(text="Message(string msg)")
_ZERO_ADDRESS_WORD = bytes(32)


def eip712_domain_separator(chain_id: int) -> bytes:
    """hashStruct of ``{name:"AsterSignTransaction", version:"1", chainId, verifyingContract:0x0}``."""
    return keccak(
        _DOMAIN_TYPEHASH
        + keccak(text="AsterSignTransaction")
        + keccak(text="1")
        + chain_id.to_bytes(32, "big")
        + _ZERO_ADDRESS_WORD
    )


_DOMAIN_SEPARATORS = {cid: eip712_domain_separator(cid) for cid in (MAINNET_CHAIN_ID, TESTNET_CHAIN_ID)}


def eip712_message(msg: str, chain_id: int = MAINNET_CHAIN_ID) -> SignableMessage:
    """The EIP-712 signable form of a V3 parameter string (same bytes as eth-account's encode_typed_data)."""
    domain = _DOMAIN_SEPARATORS.get(chain_id) or eip712_domain_separator(chain_id)
    return SignableMessage(b"\x01", domain, keccak(_MESSAGE_TYPEHASH + keccak(text=msg)))


def recover_signer(msg: str, signature: str, chain_id: int = MAINNET_CHAIN_ID) -> str:
    """The checksummed address that produced ``signature`` over ``msg``; ValueError if it is not a signature."""
    sig = signature.removeprefix("0x").removeprefix("0X")
    if len(sig) != 130:
        raise ValueError("a V3 signature is 65 bytes of hex (r, s, v)")
    try:
        return Account.recover_message(eip712_message(msg, chain_id), signature=bytes.fromhex(sig))
    except Exception as exc:  # eth-keys raises several types for bad r/s/v
        raise ValueError(f"not a valid secp256k1 signature: {type(exc).__name__}") from None


def verify_agent_signature(msg: str, signature: str, signer: str, chain_id: int = MAINNET_CHAIN_ID) -> bool:
    """True iff ``signature`` over ``msg`` was made by ``signer`` (address compared case-insensitively)."""
    try:
        return recover_signer(msg, signature, chain_id).lower() == signer.lower()
    except ValueError:
        return False


class MicrosecondNonces:
    """Strictly increasing microsecond nonces, safe to share between threads that use one agent.

    With no clock the base is wall time in µs; with a clock it is ``clock.time_ms() * 1000`` (virtual time
    in tests and backtests). Either way a nonce is never repeated: a collision bumps it by one µs.
    """

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock
        self._last = 0
        self._lock = threading.Lock()

    def now_us(self) -> int:
        if self._clock is None:
            return time.time_ns() // 1000
        return self._clock.time_ms() * 1000

    def next(self) -> int:
        with self._lock:
            self._last = max(self._last + 1, self.now_us())
            return self._last


class AgentSigner:
    """V3 signer: the main wallet ``user``, the API-wallet ``signer`` and the signer's private key.

    ``sign`` appends ``nonce``, ``user`` and ``signer`` after the business params (the order of the docs'
    vector), signs the url-encoded string as EIP-712, and appends ``signature=0x…``. GET params go in the
    query; POST/PUT/DELETE params go in a form body (as the V3 docs say) unless ``params_in_body=False``.
    """

    def __init__(
        self,
        user: str,
        private_key: str,
        *,
        signer: str | None = None,
        chain_id: int = MAINNET_CHAIN_ID,
        nonces: MicrosecondNonces | None = None,
        params_in_body: bool = True,
    ) -> None:
        try:
            account = Account.from_key(private_key)
        except Exception:  # never echo the key: eth-account's messages may contain it
            raise ConfigError("ASTER_SIGNER_PRIVATE_KEY is not a valid 32-byte hex private key") from None
        if signer is not None and signer.lower() != account.address.lower():
            raise ConfigError(
                f"ASTER_SIGNER_ADDRESS {signer} does not match the address of ASTER_SIGNER_PRIVATE_KEY "
                f"({account.address}); use the API wallet's own key"
            )
        try:
            self.user = to_checksum_address(user)
        except ValueError:
            raise ConfigError(f"ASTER_USER_ADDRESS is not an address: {user!r}") from None
        self.signer = account.address
        self._account = account
        self.chain_id = chain_id
        self.nonces = nonces or MicrosecondNonces()
        self.params_in_body = params_in_body

    def __repr__(self) -> str:
        return f"AgentSigner(user={self.user}, signer={self.signer}, chain_id={self.chain_id})"

    def sign_message(self, msg: str) -> str:
        """``0x`` + r‖s‖v hex of the EIP-712 signature over ``msg``."""
        signed = self._account.sign_message(eip712_message(msg, self.chain_id))
        return "0x" + signed.signature.hex().removeprefix("0x")

    def sign(
        self, method: str, path: str, params: Mapping[str, Any] | None = None, *, nonce: int | None = None
    ) -> SignedRequest:
        """A signed V3 request. Pass ``nonce`` only to repeat one on purpose (``/fapi/v3/noop``)."""
        msg = encode_params(
            {
                **(params or {}),
                "nonce": self.nonces.next() if nonce is None else nonce,
                "user": self.user,
                "signer": self.signer,
            }
        )
        signed = f"{msg}&signature={self.sign_message(msg)}"
        return _place(method, path, signed, {}, self.params_in_body)


# ---- V3 nonce window (server side) ---------------------------------------------------------------


class NonceVerdict(StrEnum):
    OK = "OK"
    DUPLICATE = "DUPLICATE"  # seen already within the window
    EXPIRED = "EXPIRED"  # the window is full and the nonce is below its minimum (-4225)
    OUT_OF_RANGE = "OUT_OF_RANGE"  # more than 10 s away from server time


class NonceWindows:
    """Per-user replay guard as the V3 server describes it: ±10 s of server time, last 100 nonces kept."""

    def __init__(self, size: int = NONCE_WINDOW_SIZE, max_skew_us: int = NONCE_MAX_SKEW_US) -> None:
        self.size = size
        self.max_skew_us = max_skew_us
        self._heaps: dict[str, list[int]] = {}
        self._seen: dict[str, set[int]] = {}

    def check(self, user: str, nonce: int, now_us: int) -> NonceVerdict:
        """Judge ``nonce`` without recording it."""
        if abs(nonce - now_us) > self.max_skew_us:
            return NonceVerdict.OUT_OF_RANGE
        key = user.lower()
        if nonce in self._seen.get(key, ()):
            return NonceVerdict.DUPLICATE
        heap = self._heaps.get(key, [])
        if len(heap) >= self.size and nonce < heap[0]:
            return NonceVerdict.EXPIRED
        return NonceVerdict.OK

    def accept(self, user: str, nonce: int, now_us: int) -> NonceVerdict:
        """Judge ``nonce`` and, if OK, remember it (dropping the oldest once the window is full)."""
        verdict = self.check(user, nonce, now_us)
        if verdict is NonceVerdict.OK:
            key = user.lower()
            heap = self._heaps.setdefault(key, [])
            seen = self._seen.setdefault(key, set())
            heapq.heappush(heap, nonce)
            seen.add(nonce)
            if len(heap) > self.size:
                seen.discard(heapq.heappop(heap))
        return verdict
