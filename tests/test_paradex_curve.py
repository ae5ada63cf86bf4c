"""The fixed-base k·G table must agree exactly with fast_stark_crypto's get_public_key, edge scalars included."""

from __future__ import annotations

import hmac
import random

import pytest
from fast_stark_crypto.fast_stark_crypto import rs_get_public_key

from flashscalper.exchanges.paradex import curve, starknet
from flashscalper.exchanges.paradex.signing import ParadexSigner

N = curve.EC_ORDER


def rust_x(k: int) -> int:
    return int(rs_get_public_key(hex(k)))


def test_generator_is_the_spec_point_on_the_curve() -> None:
    assert curve.is_on_curve(curve.GENERATOR)
    assert rust_x(1) == curve.GENERATOR[0]
    assert curve.FIELD_PRIME == (1 << 251) + 17 * (1 << 192) + 1


def test_table_points_lie_on_the_curve() -> None:
    table = curve._table()
    for window in table[:: len(table) // 5]:
        for point in (window[1], window[len(window) // 2], window[-1]):
            assert curve.is_on_curve(point)


EDGE_SCALARS = [
    1,
    2,
    3,
    2047,
    2048,  # first digit exactly the half window: recoded as -2048 plus a carry
    2049,
    4095,
    4096,
    (1 << 250) + 1,
    (1 << 251) - 1,
    1 << 251,
    (1 << 251) + 1,
    N - 2,
    N - 1,
    # Every twelve-bit digit at the -2048 extreme, plus the top carry digit 1.
    (1 << 252) - sum(2048 << (12 * i) for i in range(21)),
    # Partial sum -n before the top window: the one family that needs the doubling/infinity fallback.
    (1 << 252) - N,
]


@pytest.mark.parametrize("k", EDGE_SCALARS, ids=[hex(k)[:12] for k in EDGE_SCALARS])
def test_edge_scalars_match_get_public_key(k: int) -> None:
    assert curve.generator_multiple_x(k) == rust_x(k)


def test_the_special_scalar_takes_the_fallback_and_ordinary_ones_do_not(monkeypatch: pytest.MonkeyPatch) -> None:
    fallbacks: list[int] = []
    real_fallback = curve._rust_fallback

    def recording_fallback(k: int) -> int:
        fallbacks.append(k)
        return real_fallback(k)

    monkeypatch.setattr(curve, "_rust_fallback", recording_fallback)
    special = (1 << 252) - N
    assert curve.generator_multiple_x(special) == rust_x(special)
    for k in (1, 2, N - 1, 12345678901234567890):
        curve.generator_multiple_x(k)
    assert fallbacks == [special]


def test_thousands_of_random_scalars_match_get_public_key() -> None:
    rng = random.Random(20261115)
    scalars = [rng.randrange(1, N) for _ in range(1500)]
    # Short and sparse scalars too: many zero digits, few table points.
    scalars += [rng.getrandbits(rng.randrange(1, 252)) or 1 for _ in range(300)]
    scalars += [1 << rng.randrange(0, 251) for _ in range(50)]
    mismatches = [k for k in scalars if curve.generator_multiple_x(k) != rust_x(k)]
    assert mismatches == []


@pytest.mark.parametrize("k", [0, -1, N, N + 1])
def test_out_of_range_scalars_are_rejected(k: int) -> None:
    with pytest.raises(ValueError):
        curve.generator_multiple_x(k)


def test_table_is_built_once_and_reports_its_build_time() -> None:
    seconds = curve.precompute()
    assert curve.table_build_seconds() == seconds > 0
    assert curve.precompute() == seconds  # second call does not rebuild


def _reference_rfc6979(msg_hash: int, private_key: int, seed: int | None) -> int:
    """RFC 6979 §3.2 written plainly with the hmac module (cairo-lang's input encoding)."""
    bits = msg_hash.bit_length()
    if bits >= 248 and 1 <= bits % 8 <= 4:
        msg_hash <<= 4
    z = int.from_bytes(msg_hash.to_bytes((msg_hash.bit_length() + 7) // 8, "big"), "big")
    excess = ((msg_hash.bit_length() + 7) // 8) * 8 - 252
    z = z >> excess if excess > 0 else z
    z = z - N if z >= N else z
    extra = b"" if seed is None else seed.to_bytes((seed.bit_length() + 7) // 8, "big")
    material = private_key.to_bytes(32, "big") + z.to_bytes(32, "big") + extra
    k, v = bytes(32), b"\x01" * 32
    k = hmac.new(k, v + b"\x00" + material, "sha256").digest()
    v = hmac.new(k, v, "sha256").digest()
    k = hmac.new(k, v + b"\x01" + material, "sha256").digest()
    v = hmac.new(k, v, "sha256").digest()
    while True:
        v = hmac.new(k, v, "sha256").digest()
        candidate = int.from_bytes(v, "big") >> 4
        if 1 <= candidate < N:
            return candidate
        k = hmac.new(k, v + b"\x00", "sha256").digest()
        v = hmac.new(k, v, "sha256").digest()


def test_hashlib_hmac_nonce_equals_a_plain_hmac_rfc6979() -> None:
    rng = random.Random(7)
    key = rng.randrange(1, N)
    for _ in range(300):
        msg_hash = rng.getrandbits(rng.choice([251, 250, 249, 248, 244, 200, 64]))
        for seed in (None, 32, 33, 300):
            assert starknet.rfc6979_nonce(msg_hash, key, seed) == _reference_rfc6979(msg_hash, key, seed)


def test_signatures_from_the_table_verify_in_rust() -> None:
    rng = random.Random(11)
    key = rng.randrange(1, N)
    public = starknet.public_key(key)
    for _ in range(50):
        msg_hash = rng.getrandbits(251)
        r, s = starknet.sign(msg_hash, key)
        assert starknet.verify(msg_hash, r, s, public)


def test_creating_a_signer_builds_the_table_before_the_first_order() -> None:
    ParadexSigner("PRIVATE_SN_PARACLEAR_MAINNET", 0x1234, 0x5678)
    assert curve.table_build_seconds() is not None
