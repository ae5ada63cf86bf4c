"""Table-based STARK ECDSA verification must give exactly fast_stark_crypto's verdict, signature by signature.

A hot public key gets its own window table (key_tables); these scenarios check that the Python path
accepts every genuine signature, refuses every tampered or out-of-range one, and hands the degenerate
cases back to Rust, always agreeing with ``rs_verify_signature``.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from fast_stark_crypto.fast_stark_crypto import rs_get_public_key, rs_verify_signature

from flashscalper.exchanges.paradex import curve, key_tables, starknet
from flashscalper.exchanges.paradex.key_tables import KeyTables, verify_with_tables

N = curve.EC_ORDER
P = curve.FIELD_PRIME
BOUND = 1 << 251
VECTORS = Path(__file__).resolve().parents[1].parent / "shared" / "vectors" / "paradex-vectors.json"


def rust_verdict(msg_hash: int, r: int, s: int, key: int) -> bool:
    """fast_stark_crypto's answer; its panics (bad w, bad key) count as a refusal, as in starknet.verify."""
    try:
        return bool(rs_verify_signature(hex(key), hex(msg_hash), hex(r), hex(s)))
    except BaseException as exc:
        if type(exc).__name__ != "PanicException":
            raise
        return False


def in_range(msg_hash: int, r: int, s: int) -> bool:
    return 0 <= msg_hash < BOUND and 1 <= r < BOUND and 1 <= s < N


class Signer:
    """A private key, its public x and that key's window table (built once per test module)."""

    def __init__(self, private_key: int) -> None:
        self.private_key = private_key
        self.public_key = int(rs_get_public_key(hex(private_key)))
        point = key_tables.point_from_x(self.public_key)
        assert point is not None
        self.table = curve.build_table(point)


@pytest.fixture(scope="module")
def alice() -> Signer:
    return Signer(random.Random(7).randrange(1, N))


@pytest.fixture(scope="module")
def bob() -> Signer:
    return Signer(random.Random(8).randrange(1, N))


def affine_add(a: curve.Point, b: curve.Point) -> curve.Point:
    (x1, y1), (x2, y2) = a, b
    slope = (y2 - y1) * pow(x2 - x1, -1, P) % P
    x3 = (slope * slope - x1 - x2) % P
    return x3, (slope * (x1 - x3) - y1) % P


def test_square_roots_give_points_on_the_curve_and_non_residues_none() -> None:
    rng = random.Random(1)
    roots = 0
    for _ in range(40):
        x = rng.randrange(P)
        point = key_tables.point_from_x(x)
        assert (point is not None) == starknet.is_on_curve_x(x)
        if point is not None:
            roots += 1
            assert curve.is_on_curve(point)
    assert 5 < roots < 35  # about half of all x are on the curve
    assert key_tables.sqrt_mod_p(0) == 0


def test_key_table_multiples_match_the_generator_table(alice: Signer) -> None:
    # k·Q = (k·d)·G, and x((k·d)·G) comes from the Rust get_public_key.
    rng = random.Random(2)
    for k in [1, 2, 2048, N - 1, *(rng.randrange(1, N) for _ in range(30))]:
        projective = curve.multiple_xz(alice.table, k)
        assert projective is not None
        x, zz = projective
        assert x * pow(zz, -1, P) % P == int(rs_get_public_key(hex(k * alice.private_key % N)))
    assert curve.multiple_xz(alice.table, 0) is None
    assert curve.multiple_xz(alice.table, (1 << 252) - N) is None  # the doubling/infinity scalar


def test_the_sum_or_difference_test_matches_explicit_point_additions() -> None:
    rng = random.Random(3)
    table = curve.generator_table()
    for _ in range(60):
        a_scalar, b_scalar = rng.randrange(1, N), rng.randrange(1, N)
        a, b = (curve.multiple_xz(table, k) for k in (a_scalar, b_scalar))
        assert a is not None and b is not None
        pa = key_tables.point_from_x(a[0] * pow(a[1], -1, P) % P)
        pb = key_tables.point_from_x(b[0] * pow(b[1], -1, P) % P)
        assert pa is not None and pb is not None
        plus = affine_add(pa, pb)[0]
        minus = affine_add(pa, (pb[0], -pb[1] % P))[0]
        assert key_tables.x_of_sum_or_difference_is(plus, a, b)
        assert key_tables.x_of_sum_or_difference_is(minus, a, b)
        assert not key_tables.x_of_sum_or_difference_is((plus + 1) % P, a, b)
        assert not key_tables.x_of_sum_or_difference_is(rng.randrange(P), a, b)
    same = curve.multiple_xz(table, 12345)
    assert same is not None
    assert key_tables.x_of_sum_or_difference_is(7, same, same) is None


def test_a_thousand_genuine_signatures_and_their_tampered_twins_agree_with_rust(alice: Signer, bob: Signer) -> None:
    rng = random.Random(4)
    checked = 0
    for i in range(1000):
        signer = alice if i % 2 else bob
        other = bob if i % 2 else alice
        msg_hash = rng.getrandbits(251 if i % 10 else rng.randrange(1, 251)) or 1  # short hashes too
        r, s = starknet.sign(msg_hash, signer.private_key)
        assert verify_with_tables(msg_hash, r, s, signer.table) is True
        tampered = [
            (msg_hash ^ 1 << rng.randrange(251), r, s, signer),
            (msg_hash, r ^ 1 << rng.randrange(250), s, signer),
            (msg_hash, r, (s + rng.randrange(1, 1000)) % N or 1, signer),
            (msg_hash, r, N - s, signer),  # the negated s is valid too (x(−R) = x(R))
            (msg_hash, r, s, other),
        ]
        case = tampered[i % len(tampered)]
        h2, r2, s2, who = case
        if in_range(h2, r2, s2):
            assert verify_with_tables(h2, r2, s2, who.table) == rust_verdict(h2, r2, s2, who.public_key)
            checked += 1
        if i % 50 == 0:
            assert rust_verdict(msg_hash, r, s, signer.public_key)
    assert checked > 950


def test_random_garbage_signatures_are_refused_like_rust(alice: Signer) -> None:
    rng = random.Random(5)
    for _ in range(150):
        msg_hash, r, s = rng.getrandbits(251), rng.randrange(1, BOUND), rng.randrange(1, N)
        assert verify_with_tables(msg_hash, r, s, alice.table) is rust_verdict(msg_hash, r, s, alice.public_key)


def test_out_of_range_values_are_refused_before_any_table(alice: Signer) -> None:
    starknet.KEY_TABLES.build(alice.public_key)
    msg_hash = 0x1234567890ABCDEF
    r, s = starknet.sign(msg_hash, alice.private_key)
    key = alice.public_key
    assert starknet.verify(msg_hash, r, s, key)
    refused = [(msg_hash, 0, s), (msg_hash, r, 0), (msg_hash, BOUND, s), (msg_hash, r + BOUND, s),
               (msg_hash, r, N), (msg_hash, r, N + s), (BOUND, r, s), (-1, r, s), (msg_hash, -r, s)]
    for case in refused:
        assert not starknet.verify(*case, key), case
    # w = 1/s must lie below 2^251 as well: Rust refuses (with a panic), and so do the tables.
    big_w_s = pow(BOUND + 1, -1, N)
    assert verify_with_tables(msg_hash, r, big_w_s, alice.table) is False
    assert not rust_verdict(msg_hash, r, big_w_s, key)
    assert not starknet.verify(msg_hash, r, big_w_s, key)


def test_degenerate_products_go_back_to_rust_and_agree(alice: Signer) -> None:
    starknet.KEY_TABLES.build(alice.public_key)
    key, d = alice.public_key, alice.private_key
    # Hash 0: u1·G is the point at infinity.
    r, s = starknet.sign(0, d)
    assert verify_with_tables(0, r, s, alice.table) is None
    assert starknet.verify(0, r, s, key) is rust_verdict(0, r, s, key) is True
    # u1·G = ±u2·Q: the hash is ±r·d, so one of the two candidate sums is at infinity.
    rng = random.Random(6)
    for sign_ in (1, -1):
        r = rng.randrange(1, BOUND)
        msg_hash = sign_ * r * d % N
        s = rng.randrange(1, N)
        if msg_hash >= BOUND or pow(s, -1, N) >= BOUND:
            continue
        assert verify_with_tables(msg_hash, r, s, alice.table) is None
        assert starknet.verify(msg_hash, r, s, key) is rust_verdict(msg_hash, r, s, key)
    # u2 = r·w hits the one scalar whose table sum needs a doubling.
    r = 3
    w = ((1 << 252) - N) * pow(r, -1, N) % N
    assert w < BOUND
    s = pow(w, -1, N)
    assert verify_with_tables(99, r, s, alice.table) is None
    assert starknet.verify(99, r, s, key) is rust_verdict(99, r, s, key)


def test_every_vector_signature_verifies_through_the_tables() -> None:
    vectors: dict[str, Any] = json.loads(VECTORS.read_text())
    tables = KeyTables(hot_after=1, capacity=2)
    checked = 0
    for account in vectors["accounts"][:2]:
        key = int(account["l2_public_key"], 16)
        table = tables.build(key)
        assert table is not None
        messages = [account["onboarding"], account["auth"], *account["orders"]]
        for message in messages:
            msg_hash = int(message["message_hash"], 16)
            signatures = [tuple(int(v) for v in json.loads(message["signature_flat"]))]
            for alt in ("starknet_py_rfc6979_signature", "alt_signature_ccxt_pure_python"):
                if alt in message:
                    signatures.append((int(message[alt]["r"], 16), int(message[alt]["s"], 16)))
            for r, s in signatures:
                assert verify_with_tables(msg_hash, r, s, table) is True
                assert verify_with_tables(msg_hash + 1, r, s, table) is False
                checked += 1
    assert checked >= 10


def test_a_key_earns_a_table_after_enough_good_signatures_and_the_lru_keeps_the_recent_ones(
        alice: Signer, bob: Signer) -> None:
    tables = KeyTables(hot_after=3, capacity=1)
    tables.note_verified(alice.public_key)
    tables.note_verified(alice.public_key)
    assert tables.get(alice.public_key) is None
    tables.note_verified(alice.public_key)
    assert tables.get(alice.public_key) is not None
    tables.build(bob.public_key)
    assert len(tables) == 1
    assert tables.get(alice.public_key) is None and tables.get(bob.public_key) is not None
    assert tables.build(0) is None
    off_curve = next(x for x in range(2, 100) if not starknet.is_on_curve_x(x))
    assert tables.build(off_curve) is None


def test_verify_uses_a_hot_key_table_only_after_the_threshold(bob: Signer, monkeypatch: pytest.MonkeyPatch) -> None:
    fresh = KeyTables(hot_after=5, capacity=2)
    monkeypatch.setattr(starknet, "KEY_TABLES", fresh)
    for i in range(8):
        msg_hash = 1000 + i
        r, s = starknet.sign(msg_hash, bob.private_key)
        assert starknet.verify(msg_hash, r, s, bob.public_key)
        assert not starknet.verify(msg_hash + 1, r, s, bob.public_key)
        assert (fresh.get(bob.public_key) is not None) == (i >= 4)
