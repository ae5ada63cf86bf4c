"""STARK-curve primitives for Paradex: felts, starknet_keccak, Pedersen chains, SNIP-12 rev 0, ECDSA.

Pedersen hashes, public keys and verification run in ``fast_stark_crypto`` (Rust). Signing is our own so
that signatures are bit-for-bit those of the official SDK (starknet-crypto-py with seed 32):
fast_stark_crypto's own ``sign`` uses RFC 6979 *without* extra entropy, so we derive the nonce ourselves,
and the nonce point k·G comes from the precomputed window table of :mod:`.curve` (half the time of
the Rust ``get_public_key``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from hashlib import sha256
from typing import Any

from Crypto.Hash import keccak
from fast_stark_crypto.fast_stark_crypto import (
    rs_compute_pedersen_hash,
    rs_get_public_key,
    rs_verify_signature,
)

# Curve order N, field prime P and y² = x³ + ALPHA·x + BETA live with the fixed-base table.
from flashscalper.exchanges.paradex import key_tables
from flashscalper.exchanges.paradex.curve import ALPHA, BETA, EC_ORDER, FIELD_PRIME, generator_multiple_x

# ECDSA over the STARK curve only signs values below 2^251 (cairo-lang's N_ELEMENT_BITS_ECDSA).
ECDSA_BOUND = 1 << 251
MASK_250 = (1 << 250) - 1
# The SDK (starknet-crypto-py) always signs with RFC 6979 extra entropy = 32.
SDK_SIGNING_SEED = 32

_QLEN = EC_ORDER.bit_length()  # 252
_ROLEN = (_QLEN + 7) // 8  # 32 bytes
_SHORT_STRING_MAX = 31
# Window tables of the public keys this process verifies most (see verify).
KEY_TABLES = key_tables.KeyTables()


# --------------------------------------------------------------------------------------------- felts


def encode_short_string(text: str) -> int:
    """ASCII short string (≤31 chars) → felt, the Cairo convention ("" → 0)."""
    if not text.isascii():
        raise ValueError("short string must be ASCII")
    if len(text) > _SHORT_STRING_MAX:
        raise ValueError(f"short string longer than {_SHORT_STRING_MAX} characters")
    return int.from_bytes(text.encode("ascii"), "big")


def to_felt(value: int | str) -> int:
    """Parse a typed-data value the way starknet-py does for revision 0.

    An int stays an int, ``"0x…"`` is hex, a string of decimal digits is an integer, and any other string
    is an ASCII short string (so ``"1"`` → 1 but ``"BTC-USD-PERP"`` → 0x4254432d5553442d50455250).
    """
    if isinstance(value, bool):
        raise TypeError("a bool is not a felt")
    if isinstance(value, int):
        return value
    if value.startswith(("0x", "0X")):
        return int(value, 16)
    if value.isascii() and value.isdigit():
        return int(value)
    return encode_short_string(value)


def starknet_keccak(data: bytes) -> int:
    """Keccak-256 of ``data`` masked to its low 250 bits (selectors and type hashes)."""
    return int.from_bytes(keccak.new(digest_bits=256, data=data).digest(), "big") & MASK_250


def selector(name: str) -> int:
    """Entry-point selector of a Cairo function name."""
    return starknet_keccak(name.encode("ascii"))


# ------------------------------------------------------------------------------------------- pedersen


def pedersen(a: int, b: int) -> int:
    """Pedersen hash of two felts (the Rust call takes hex, answers in decimal)."""
    return int(rs_compute_pedersen_hash(hex(a), hex(b)))


def pedersen_chain(values: Sequence[int]) -> int:
    """``h(…h(h(0, v0), v1)…, len)``: cairo-lang's ``compute_hash_on_elements``."""
    return pedersen_finish(pedersen_fold(0, values), len(values))


def pedersen_fold(acc: int, values: Iterable[int]) -> int:
    """Fold ``values`` into ``acc`` with Pedersen, without the trailing length element."""
    for v in values:
        acc = int(rs_compute_pedersen_hash(hex(acc), hex(v)))
    return acc


def pedersen_finish(acc: int, count: int) -> int:
    """Close a Pedersen chain by hashing in the element count."""
    return int(rs_compute_pedersen_hash(hex(acc), hex(count)))


# ------------------------------------------------------------------------------ SNIP-12 revision 0

DOMAIN_TYPE = "StarkNetDomain"
STARKNET_MESSAGE_FELT = encode_short_string("StarkNet Message")


def type_string(name: str, fields: Sequence[Mapping[str, str]]) -> str:
    """``Name(f1:felt,f2:felt,…)``: the encoded type of a struct whose fields are all felts."""
    return name + "(" + ",".join(f"{f['name']}:{f['type']}" for f in fields) + ")"


def type_hash(name: str, fields: Sequence[Mapping[str, str]]) -> int:
    """starknet_keccak of the encoded type."""
    for f in fields:
        if f["type"] != "felt":
            # Paradex only uses flat felt structs; nested types would change the encoding.
            raise ValueError(f"unsupported field type {f['type']!r} in {name}")
    return starknet_keccak(type_string(name, fields).encode("ascii"))


def struct_hash(name: str, fields: Sequence[Mapping[str, str]], data: Mapping[str, Any]) -> int:
    """Pedersen chain of the type hash followed by each field's felt."""
    return pedersen_chain([type_hash(name, fields), *(to_felt(data[f["name"]]) for f in fields)])


def typed_data_hash(typed_data: Mapping[str, Any], account_address: int) -> int:
    """Message hash of a revision-0 typed-data dict (``StarkNetDomain``), as signed by the account."""
    types = typed_data["types"]
    domain = struct_hash(DOMAIN_TYPE, types[DOMAIN_TYPE], typed_data["domain"])
    primary = typed_data["primaryType"]
    message = struct_hash(primary, types[primary], typed_data["message"])
    return pedersen_chain([STARKNET_MESSAGE_FELT, domain, account_address, message])


# ---------------------------------------------------------------------------------------------- ECDSA


def public_key(private_key: int) -> int:
    """x-coordinate of private_key·G."""
    return int(rs_get_public_key(hex(private_key)))


def _bits2int(data: bytes) -> int:
    """RFC 6979 §2.3.2: the leftmost qlen bits of ``data`` as an integer."""
    value = int.from_bytes(data, "big")
    excess = len(data) * 8 - _QLEN
    return value >> excess if excess > 0 else value


def _min_bytes(value: int) -> bytes:
    """Big-endian bytes without leading zeros (b"" for 0), as cairo-lang encodes hashes and seeds."""
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


# HMAC-SHA-256 (RFC 2104) on hashlib directly: a 32-byte key padded to the 64-byte block is XORed with
# ipad/opad via bytes.translate. About half the cost of hmac.digest, which sets up the key each call.
_IPAD = bytes(b ^ 0x36 for b in range(256))
_OPAD = bytes(b ^ 0x5C for b in range(256))
_IPAD_TAIL = b"\x36" * 32  # the zero padding of a 32-byte key, XORed
_OPAD_TAIL = b"\x5c" * 32
_V_EXCESS = 8 * 32 - _QLEN  # bits2int of a 32-byte V drops its last 4 bits


def _hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """Inner and outer 64-byte key blocks of HMAC-SHA-256 for a 32-byte ``key``."""
    return key.translate(_IPAD) + _IPAD_TAIL, key.translate(_OPAD) + _OPAD_TAIL


def _hmac(pads: tuple[bytes, bytes], message: bytes) -> bytes:
    return sha256(pads[1] + sha256(pads[0] + message).digest()).digest()


_ZERO_KEY_PADS = _hmac_pads(bytes(32))
_V0 = b"\x01" * 32


def rfc6979_nonce(msg_hash: int, private_key: int, seed: int | None) -> int:
    """Deterministic nonce k of RFC 6979 §3.2 with HMAC-SHA-256 and optional extra entropy ``seed``.

    Input encoding follows cairo-lang: the message hash is taken as its minimal big-endian bytes, but
    multiplied by 16 first when it is one nibble short of a whole byte count at ≥248 bits, so that
    bits2int (which keeps the leftmost 252 bits) does not drop its last nibble.
    """
    bits = msg_hash.bit_length()
    if bits >= 248 and 1 <= bits % 8 <= 4:
        msg_hash <<= 4
    z = _bits2int(_min_bytes(msg_hash))
    if z >= EC_ORDER:  # bits2octets reduces once modulo q
        z -= EC_ORDER
    key_octets = private_key.to_bytes(_ROLEN, "big")
    hash_octets = z.to_bytes(_ROLEN, "big")
    entropy = _min_bytes(seed) if seed is not None else b""
    material = key_octets + hash_octets + entropy

    # K = 0x00…, V = 0x01… (step b, c); one SHA-256 block covers rolen = 32 bytes, so T = V each round.
    pads = _hmac_pads(_hmac(_ZERO_KEY_PADS, _V0 + b"\x00" + material))
    v = _hmac(pads, _V0)
    pads = _hmac_pads(_hmac(pads, v + b"\x01" + material))
    v = _hmac(pads, v)
    while True:
        v = _hmac(pads, v)
        candidate = int.from_bytes(v, "big") >> _V_EXCESS
        if 1 <= candidate < EC_ORDER:
            return candidate
        pads = _hmac_pads(_hmac(pads, v + b"\x00"))
        v = _hmac(pads, v)


def sign(msg_hash: int, private_key: int, seed: int | None = SDK_SIGNING_SEED) -> tuple[int, int]:
    """STARK ECDSA signature (r, s) of ``msg_hash``, identical to starknet-crypto-py's ``sign(seed=32)``.

    A nonce that yields r or w outside [1, 2^251) is rejected and the seed incremented, as in cairo-lang.
    """
    if not 0 <= msg_hash < ECDSA_BOUND:
        raise ValueError("message hash must be below 2^251 to be signable")
    if not 1 <= private_key < EC_ORDER:
        raise ValueError("private key out of range")
    while True:
        k = rfc6979_nonce(msg_hash, private_key, seed)
        seed = 1 if seed is None else seed + 1
        r = generator_multiple_x(k)
        if not 1 <= r < ECDSA_BOUND:
            continue
        m_plus_rd = (msg_hash + r * private_key) % EC_ORDER
        if m_plus_rd == 0:
            continue
        # w = k / (m + r·d) and s = 1 / w from a single inversion (Python's modular inverse is the slow
        # part): with t = 1 / (k·(m + r·d)), w = t·k² and s = t·(m + r·d)².
        t = pow(k * m_plus_rd % EC_ORDER, -1, EC_ORDER)
        w = t * k * k % EC_ORDER
        if not 1 <= w < ECDSA_BOUND:
            continue
        return r, t * m_plus_rd * m_plus_rd % EC_ORDER


@lru_cache(maxsize=4096)
def is_on_curve_x(x: int) -> bool:
    """True when some point of the STARK curve has x-coordinate ``x`` (Euler's criterion).

    Cached: a modular exponentiation costs ~0.1 ms in Python and the same few keys are checked again and again.
    """
    if not 0 <= x < FIELD_PRIME:
        return False
    rhs = (x * x * x + ALPHA * x + BETA) % FIELD_PRIME
    return rhs == 0 or pow(rhs, (FIELD_PRIME - 1) // 2, FIELD_PRIME) == 1


def verify(msg_hash: int, r: int, s: int, public_key_x: int) -> bool:
    """True when (r, s) is a valid STARK ECDSA signature of ``msg_hash`` by ``public_key_x``.

    Exactly fast_stark_crypto's verdict. Keys that sign often get their own window table
    (:mod:`.key_tables`) and are checked in Python at a fraction of the Rust time; others go to Rust.
    """
    if not (0 <= msg_hash < ECDSA_BOUND and 1 <= r < ECDSA_BOUND and 1 <= s < EC_ORDER):
        return False
    # The Rust verifier panics (noisily, on stderr) for keys that are not on the curve: reject them first.
    if public_key_x == 0 or not is_on_curve_x(public_key_x):
        return False
    table = KEY_TABLES.get(public_key_x)
    if table is not None:
        verdict = key_tables.verify_with_tables(msg_hash, r, s, table)
        if verdict is not None:
            return verdict
    valid = _rust_verify(msg_hash, r, s, public_key_x)
    if valid and table is None:
        KEY_TABLES.note_verified(public_key_x)
    return valid


def _rust_verify(msg_hash: int, r: int, s: int, public_key_x: int) -> bool:
    try:
        return bool(rs_verify_signature(hex(public_key_x), hex(msg_hash), hex(r), hex(s)))
    except BaseException as exc:
        if type(exc).__name__ != "PanicException":  # pyo3's panic type is not importable
            raise
        return False  # e.g. w = 1/s not below 2^251 (the Rust code unwraps an InvalidS error)
