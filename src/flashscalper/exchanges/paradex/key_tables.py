"""STARK ECDSA verification from window tables, for the few public keys that sign again and again.

The Rust ``verify`` of fast_stark_crypto multiplies both points by double-and-add (~0.6 ms). A simulator
verifies thousands of orders from the same handful of accounts, so for a *hot* key the two products
u1·G and u2·Q come from fixed-base window tables instead (:func:`.curve.multiple_xz`, ~0.1 ms each):
G's table is shared, Q's is built (~0.2 s, ~8 MB) once the key has verified :data:`HOT_KEY_VERIFIES`
signatures, and kept in a small LRU. One-off keys never pay for a table.

Only x(Q) is known, so like the Rust routine we accept when r is the x-coordinate of u1·G + u2·Q *or*
u1·G − u2·Q. Both are tested at once without any inversion: for points A, B with x-coordinates x1 ≠ x2,
x(A+B) and x(A−B) are the two roots of

    (x1 − x2)²·X² − (2·(x1 + x2)·(x1·x2 + α) + 4β)·X + (x1·x2 − α)² − 4β·(x1 + x2),

written here over the projective fractions X/ZZ that the table sums return. Anything unusual (a product
at infinity, A = ±B, a sum needing the doubling formula) returns None and the caller asks Rust.
"""

from __future__ import annotations

from collections import OrderedDict
from contextlib import suppress

from flashscalper.exchanges.paradex import curve
from flashscalper.exchanges.paradex.curve import ALPHA, BETA, EC_ORDER, FIELD_PRIME, Point, Table

HOT_KEY_VERIFIES = 50  # a key earns its own table after this many good signatures
MAX_KEY_TABLES = 4  # ~8 MB each
_MAX_COUNTED_KEYS = 4096  # forget the tallies rather than grow without bound on a stream of new keys
ECDSA_BOUND = 1 << 251


def sqrt_mod_p(value: int) -> int | None:
    """A square root of ``value`` modulo the field prime (Tonelli–Shanks), or None for a non-residue."""
    p = FIELD_PRIME
    value %= p
    if value == 0:
        return 0
    if pow(value, (p - 1) // 2, p) != 1:
        return None
    # p − 1 = q·2^s with q odd (s = 192 for the STARK prime).
    q, s = p - 1, 0
    while not q & 1:
        q >>= 1
        s += 1
    z = 2
    while pow(z, (p - 1) // 2, p) != p - 1:
        z += 1
    m, c, t, root = s, pow(z, q, p), pow(value, q, p), pow(value, (q + 1) // 2, p)
    while t != 1:
        i, t2 = 0, t
        while t2 != 1:
            t2 = t2 * t2 % p
            i += 1
        b = pow(c, 1 << (m - i - 1), p)
        m, c = i, b * b % p
        t, root = t * c % p, root * b % p
    return root


def point_from_x(x: int) -> Point | None:
    """One of the two curve points with x-coordinate ``x`` (which one does not matter to verification)."""
    y = sqrt_mod_p(x * x * x + ALPHA * x + BETA)
    return None if y is None else (x, y)


def x_of_sum_or_difference_is(r: int, a: tuple[int, int], b: tuple[int, int]) -> bool | None:
    """Whether r = x(A + B) or r = x(A − B), for A, B given as (X, ZZ) with x = X/ZZ; None when x(A) = x(B)."""
    p = FIELD_PRIME
    x1, z1 = a
    x2, z2 = b
    cross1, cross2 = x1 * z2 % p, x2 * z1 % p
    diff = cross1 - cross2
    if not diff % p:
        return None  # A = ±B: one of the two is the point at infinity or a doubling
    total = cross1 + cross2  # (x1 + x2)·Z1Z2
    xx = x1 * x2 % p  # x1·x2·Z1Z2
    zz = z1 * z2 % p
    four_b_zz = 4 * BETA * zz % p
    linear = (2 * total * (xx + ALPHA * zz) + four_b_zz * zz) % p
    constant = ((xx - ALPHA * zz) ** 2 - four_b_zz * total) % p
    return (r * (r * diff * diff - linear) + constant) % p == 0


def verify_with_tables(msg_hash: int, r: int, s: int, key_table: Table) -> bool | None:
    """STARK ECDSA check with u1·G and u2·Q from tables; None when Rust must decide (degenerate cases).

    The caller has already checked 0 ≤ msg_hash < 2^251, 1 ≤ r < 2^251, 1 ≤ s < n and that the key is on
    the curve. As in the Rust routine, w = s⁻¹ must also lie below 2^251.
    """
    w = pow(s, -1, EC_ORDER)
    if w >= ECDSA_BOUND:
        return False
    a = curve.multiple_xz(curve.generator_table(), msg_hash * w % EC_ORDER)
    if a is None:
        return None
    b = curve.multiple_xz(key_table, r * w % EC_ORDER)
    if b is None:
        return None
    return x_of_sum_or_difference_is(r, a, b)


class KeyTables:
    """Window tables of the public keys seen most, built once a key has verified ``hot_after`` signatures."""

    def __init__(self, hot_after: int = HOT_KEY_VERIFIES, capacity: int = MAX_KEY_TABLES) -> None:
        self.hot_after = hot_after
        self.capacity = capacity
        self._tables: OrderedDict[int, Table] = OrderedDict()
        self._verified: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self._tables)

    def get(self, key_x: int) -> Table | None:
        """The key's table if it has one (and mark it recently used)."""
        table = self._tables.get(key_x)
        if table is not None:
            # A table evicted by another thread in between is harmless: this lookup already has it.
            with suppress(KeyError):
                self._tables.move_to_end(key_x)
        return table

    def note_verified(self, key_x: int) -> None:
        """Count one good signature by a key without a table; build the table when the key turns hot."""
        count = self._verified.get(key_x, 0) + 1
        if count < self.hot_after:
            if len(self._verified) >= _MAX_COUNTED_KEYS:
                self._verified.clear()
            self._verified[key_x] = count
            return
        self._verified.pop(key_x, None)
        self.build(key_x)

    def build(self, key_x: int) -> Table | None:
        """Build (or fetch) the table of a key now; None when ``key_x`` is not on the curve."""
        table = self.get(key_x)
        if table is not None:
            return table
        point = point_from_x(key_x) if 0 < key_x < FIELD_PRIME else None
        if point is None:
            return None
        table = self._tables[key_x] = curve.build_table(point)
        while len(self._tables) > self.capacity:
            self._tables.popitem(last=False)
        return table

    def clear(self) -> None:
        """Drop every table and tally."""
        self._tables.clear()
        self._verified.clear()
