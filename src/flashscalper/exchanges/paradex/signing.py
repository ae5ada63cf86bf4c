"""Paradex message hashes and signatures (onboarding, auth, order, modify), bit-exact with paradex-py.

Everything that does not change between two orders is hashed once: the domain struct, the type hashes and
the account-dependent prefix ``h(h(h(0, "StarkNet Message"), domain), account)`` of the outer chain. An order
then costs 9 Pedersen calls plus one ECDSA signature, whose nonce point comes from a precomputed table
(:mod:`.curve`, built when the first :class:`ParadexSigner` is created).

:class:`ParadexMessages` rebuilds hashes without any key (the simulator verifies orders from any client);
:class:`ParadexSigner` adds the L2 private key.
"""

from __future__ import annotations

import json
from decimal import Context, Decimal, InvalidOperation
from functools import lru_cache

from fast_stark_crypto.fast_stark_crypto import rs_compute_pedersen_hash as _ped

from flashscalper.exchanges.paradex import curve, starknet

AUTH_PATH = "/v1/auth"
# Sizes and prices are signed as integers ×10^8 (paraclear_decimals), whatever the market's tick.
CHAIN_DECIMALS = 8
_SCALE_CONTEXT = Context(prec=100)  # wide enough that scaleb never rounds

_DOMAIN_FIELDS = [{"name": n, "type": "felt"} for n in ("name", "chainId", "version")]
_ORDER_FIELDS = ("timestamp", "market", "side", "orderType", "size", "price")
_TYPE_STRINGS = {
    "Constant": "Constant(action:felt)",
    "Request": "Request(method:felt,path:felt,body:felt,timestamp:felt,expiration:felt)",
    "Order": starknet.type_string("Order", [{"name": n, "type": "felt"} for n in _ORDER_FIELDS]),
    "ModifyOrder": starknet.type_string("ModifyOrder", [{"name": n, "type": "felt"} for n in (*_ORDER_FIELDS, "id")]),
}
TYPE_HASHES = {name: starknet.starknet_keccak(text.encode()) for name, text in _TYPE_STRINGS.items()}
DOMAIN_TYPE_HASH = starknet.type_hash(starknet.DOMAIN_TYPE, _DOMAIN_FIELDS)

_SIDE_FELT_HEX = {"BUY": "0x1", "SELL": "0x2"}
_ORDER_LEN_HEX = hex(len(_ORDER_FIELDS) + 1)  # type hash + fields
_MODIFY_LEN_HEX = hex(len(_ORDER_FIELDS) + 2)
_REQUEST_LEN_HEX = hex(6)
_OUTER_LEN_HEX = hex(4)  # "StarkNet Message", domain, account, struct
# h(0, type_hash) starts every struct chain and is the same for all messages of a type.
_STRUCT_SEEDS = {name: starknet.pedersen(0, th) for name, th in TYPE_HASHES.items()}
_ORDER_SEED_HEX = hex(_STRUCT_SEEDS["Order"])
_MODIFY_SEED_HEX = hex(_STRUCT_SEEDS["ModifyOrder"])


def _fold_hex(acc_hex: str, *items_hex: str) -> str:
    # The Rust call takes hex and answers in decimal; stay in strings between calls.
    for item in items_hex:
        acc_hex = hex(int(_ped(acc_hex, item)))
    return acc_hex


@lru_cache(maxsize=512)
def _short_string_hex(text: str) -> str:
    """Markets and order types repeat: encode each once."""
    return hex(starknet.encode_short_string(text))


def chain_id_felt(chain_id: str) -> int:
    """The Starknet chain id (e.g. ``PRIVATE_SN_PARACLEAR_MAINNET``) as a felt."""
    return starknet.encode_short_string(chain_id)


def domain_struct_hash(chain_id: str) -> int:
    """Struct hash of ``StarkNetDomain{name:"Paradex", chainId, version:1}``."""
    return starknet.pedersen_chain(
        [DOMAIN_TYPE_HASH, starknet.encode_short_string("Paradex"), chain_id_felt(chain_id), 1]
    )


def scale_quantity(value: Decimal | str | None) -> int:
    """Size or price ×10^8, truncated toward zero, computed in Decimal (never float). None → 0."""
    if value is None:
        return 0
    try:
        number = value if isinstance(value, Decimal) else Decimal(value)
        if not number.is_finite() or number < 0:
            raise ValueError("quantity must be a finite, non-negative decimal")
        return int(number.scaleb(CHAIN_DECIMALS, _SCALE_CONTEXT))
    except InvalidOperation:
        raise ValueError("quantity is not a decimal number") from None


def is_market_type(order_type: str) -> bool:
    """MARKET and the market-type stops (STOP_MARKET, STOP_LOSS_MARKET, …) sign price 0."""
    return "MARKET" in order_type


def _side_hex(side: str) -> str:
    try:
        return _SIDE_FELT_HEX[side]
    except KeyError:
        raise ValueError("side must be BUY or SELL") from None


def _timestamp_hex(value: int) -> str:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("timestamps must be non-negative integers")
    return hex(value)


class ParadexMessages:
    """Message hashes for one (chain id, account address), without a private key.

    Build once per account; every method is a handful of Pedersen calls on top of precomputed prefixes.
    """

    __slots__ = ("_auth_seed_hex", "_onboarding_hash", "_prefix_hex", "account_address", "chain_id", "domain_hash")

    def __init__(self, chain_id: str, account_address: int) -> None:
        self.chain_id = chain_id
        self.account_address = account_address
        self.domain_hash = domain_struct_hash(chain_id)
        prefix = starknet.pedersen_fold(0, (starknet.STARKNET_MESSAGE_FELT, self.domain_hash, account_address))
        self._prefix_hex = hex(prefix)
        # method, path and body of the auth request never change: fold them in once.
        self._auth_seed_hex = _fold_hex(
            hex(_STRUCT_SEEDS["Request"]), _short_string_hex("POST"), _short_string_hex(AUTH_PATH), "0x0"
        )
        self._onboarding_hash: int | None = None

    def _message_hash(self, struct_hex: str) -> int:
        return int(_ped(hex(int(_ped(self._prefix_hex, struct_hex))), _OUTER_LEN_HEX))

    def onboarding_hash(self) -> int:
        """Hash of ``Constant{action:"Onboarding"}`` (constant per account)."""
        if self._onboarding_hash is None:
            struct = starknet.pedersen_chain([TYPE_HASHES["Constant"], starknet.encode_short_string("Onboarding")])
            self._onboarding_hash = self._message_hash(hex(struct))
        return self._onboarding_hash

    def auth_hash(self, timestamp_s: int, expiration_s: int) -> int:
        """Hash of ``Request{POST, /v1/auth, body 0, timestamp, expiration}`` (seconds)."""
        struct = _fold_hex(
            self._auth_seed_hex, _timestamp_hex(timestamp_s), _timestamp_hex(expiration_s), _REQUEST_LEN_HEX
        )
        return self._message_hash(struct)

    def order_hash(
        self,
        market: str,
        side: str,
        order_type: str,
        size: Decimal | str,
        price: Decimal | str | None,
        signature_timestamp_ms: int,
    ) -> int:
        """Hash of the ``Order`` message. ``price`` is ignored (signed as 0) for market-type orders."""
        struct = _fold_hex(
            _ORDER_SEED_HEX,
            *self._order_fields(market, side, order_type, size, price, signature_timestamp_ms),
            _ORDER_LEN_HEX,
        )
        return self._message_hash(struct)

    def modify_order_hash(
        self,
        market: str,
        side: str,
        order_type: str,
        size: Decimal | str,
        price: Decimal | str | None,
        signature_timestamp_ms: int,
        order_id: str | int,
    ) -> int:
        """Hash of the ``ModifyOrder`` message: the order fields plus the numeric order id."""
        struct = _fold_hex(
            _MODIFY_SEED_HEX,
            *self._order_fields(market, side, order_type, size, price, signature_timestamp_ms),
            hex(starknet.to_felt(str(order_id))),
            _MODIFY_LEN_HEX,
        )
        return self._message_hash(struct)

    @staticmethod
    def _order_fields(
        market: str,
        side: str,
        order_type: str,
        size: Decimal | str,
        price: Decimal | str | None,
        signature_timestamp_ms: int,
    ) -> tuple[str, str, str, str, str, str]:
        chain_price = 0 if price is None or is_market_type(order_type) else scale_quantity(price)
        return (
            _timestamp_hex(signature_timestamp_ms),
            _short_string_hex(market),
            _side_hex(side),
            _short_string_hex(order_type),
            hex(scale_quantity(size)),
            hex(chain_price),
        )


class ParadexSigner(ParadexMessages):
    """Signs Paradex messages with an L2 key; signatures equal paradex-py's (RFC 6979, seed 32).

    ``sign_*`` methods return the flat string the API expects: ``["<r decimal>","<s decimal>"]``.
    """

    __slots__ = ("_private_key", "public_key")

    def __init__(self, chain_id: str, account_address: int, l2_private_key: int) -> None:
        super().__init__(chain_id, account_address)
        self._private_key = l2_private_key
        self.public_key = starknet.public_key(l2_private_key)
        # Build the k·G window table now (once per process, ~0.2 s) rather than inside the first order.
        curve.precompute()

    def __repr__(self) -> str:
        return f"ParadexSigner(chain_id={self.chain_id!r}, account_address={hex(self.account_address)})"

    def sign_hash(self, msg_hash: int) -> tuple[int, int]:
        """(r, s) of an already computed message hash."""
        return starknet.sign(msg_hash, self._private_key)

    def _sign_flat(self, msg_hash: int) -> str:
        r, s = starknet.sign(msg_hash, self._private_key)
        return format_signature(r, s)

    def sign_onboarding(self) -> str:
        """Signature for ``POST /v1/onboarding``."""
        return self._sign_flat(self.onboarding_hash())

    def sign_auth(self, timestamp_s: int, expiration_s: int) -> str:
        """Signature for ``POST /v1/auth`` (``PARADEX-STARKNET-SIGNATURE``)."""
        return self._sign_flat(self.auth_hash(timestamp_s, expiration_s))

    def sign_order(
        self,
        market: str,
        side: str,
        order_type: str,
        size: Decimal | str,
        price: Decimal | str | None,
        signature_timestamp_ms: int,
    ) -> str:
        """Signature for ``POST /v1/orders``; send the same ``signature_timestamp_ms`` in the body."""
        return self._sign_flat(self.order_hash(market, side, order_type, size, price, signature_timestamp_ms))

    def sign_modify_order(
        self,
        market: str,
        side: str,
        order_type: str,
        size: Decimal | str,
        price: Decimal | str | None,
        signature_timestamp_ms: int,
        order_id: str | int,
    ) -> str:
        """Signature for ``PUT /v1/orders/{id}``."""
        return self._sign_flat(
            self.modify_order_hash(market, side, order_type, size, price, signature_timestamp_ms, order_id)
        )


# ------------------------------------------------------------------------------- signature strings


def format_signature(r: int, s: int) -> str:
    """The API's flat signature: a JSON array of two decimal strings, without spaces (as paradex-py)."""
    return f'["{r}","{s}"]'


def parse_signature(flat: str) -> tuple[int, int]:
    """(r, s) from ``["r","s"]`` where each is a decimal or 0x-hex string. Raises ValueError if malformed."""
    # Fast path for the exact form format_signature writes (plain decimal digits): no JSON parser needed.
    if isinstance(flat, str) and flat[:2] == '["' and flat[-2:] == '"]':
        parts = flat[2:-2].split('","')
        if len(parts) == 2 and all(part.isascii() and part.isdigit() for part in parts):
            return int(parts[0]), int(parts[1])
    try:
        parts = json.loads(flat)
    except (TypeError, ValueError):
        raise ValueError("signature is not a JSON array string") from None
    if not isinstance(parts, list) or len(parts) != 2:
        raise ValueError("signature must be a JSON array of exactly two strings")
    values = []
    for part in parts:
        if not isinstance(part, str):
            raise ValueError("signature components must be strings")
        text = part.strip()
        try:
            if text[:2].lower() == "0x":
                values.append(int(text[2:], 16))
            elif text.isascii() and text.isdigit():
                values.append(int(text))
            else:
                raise ValueError
        except ValueError:
            raise ValueError("signature components must be decimal or 0x-hex integers") from None
    return values[0], values[1]


def verify_signature(msg_hash: int, signature_flat: str, public_key: int | str) -> bool:
    """True when the flat signature is valid for ``msg_hash`` and the public key; False if malformed."""
    try:
        r, s = parse_signature(signature_flat)
        key = public_key if isinstance(public_key, int) else int(public_key, 0)
    except ValueError:
        return False
    return starknet.verify(msg_hash, r, s, key)


# --------------------------------------------------------------- hashes from request fields (no key)


@lru_cache(maxsize=256)
def messages_for(chain_id: str, account_address: int) -> ParadexMessages:
    """Cached :class:`ParadexMessages` per (chain, account): the simulator sees the same accounts again."""
    return ParadexMessages(chain_id, account_address)


def onboarding_message_hash(chain_id: str, account_address: int) -> int:
    """Onboarding hash for an account."""
    return messages_for(chain_id, account_address).onboarding_hash()


def auth_message_hash(chain_id: str, account_address: int, timestamp_s: int, expiration_s: int) -> int:
    """Auth hash from the ``PARADEX-TIMESTAMP`` / ``PARADEX-SIGNATURE-EXPIRATION`` headers."""
    return messages_for(chain_id, account_address).auth_hash(timestamp_s, expiration_s)


def order_message_hash(
    chain_id: str,
    account_address: int,
    market: str,
    side: str,
    order_type: str,
    size: Decimal | str,
    price: Decimal | str | None,
    signature_timestamp_ms: int,
) -> int:
    """Order hash rebuilt from a ``POST /orders`` body (side ``BUY``/``SELL``, REST type string)."""
    return messages_for(chain_id, account_address).order_hash(
        market, side, order_type, size, price, signature_timestamp_ms
    )


def modify_order_message_hash(
    chain_id: str,
    account_address: int,
    market: str,
    side: str,
    order_type: str,
    size: Decimal | str,
    price: Decimal | str | None,
    signature_timestamp_ms: int,
    order_id: str | int,
) -> int:
    """ModifyOrder hash rebuilt from a ``PUT /orders/{id}`` body."""
    return messages_for(chain_id, account_address).modify_order_hash(
        market, side, order_type, size, price, signature_timestamp_ms, order_id
    )
