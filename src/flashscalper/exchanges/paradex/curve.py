"""STARK-curve fixed-base multiplication: x(k·G) from a precomputed window table, in pure Python.

fast_stark_crypto's ``get_public_key`` computes k·G by double-and-add (~0.2 ms on a 2-core server), and the
ECDSA nonce point is the single biggest cost of a Paradex order signature. Since G never changes, k·G can be
a plain sum of precomputed points instead, with no doublings at all:

* k is written in signed 12-bit digits, k = Σ dᵢ·2^(12·i) with dᵢ ∈ [-2048, 2048) (21 windows + a carry);
* window i holds the affine points d·2^(12·i)·G for d = 1…2048 (a negative digit uses the negated point);
* the ~21 table points are summed with mixed additions in XYZZ coordinates (no inversion in the loop),
  and a single inversion gives the affine x at the end.

The table (~43,000 points, ~8 MB) is built once per process, lazily on first use or ahead of time with
:func:`precompute`; :func:`table_build_seconds` reports how long that took. Any addition that would need
the doubling or infinity formulas (only possible for a handful of scalars) falls back to the Rust call, so
the result is exact for every k in [1, n).
"""

from __future__ import annotations

import time
from functools import lru_cache

from fast_stark_crypto.fast_stark_crypto import rs_get_public_key

# Field prime p = 2^251 + 17·2^192 + 1 and curve order n of the STARK curve y² = x³ + α·x + β.
FIELD_PRIME = 0x0800000000000011000000000000000000000000000000000000000000000001
EC_ORDER = 0x0800000000000010FFFFFFFFFFFFFFFFB781126DCAE7B2321E66A241ADC64D2F
ALPHA = 1
BETA = 0x06F21413EFBE40DE150E596D72F7A8C5609AD26C15C915C1F4CDFCB99CEE9E89
# The generator of the StarkWare specification (cairo-lang's EC_GEN).
GENERATOR = (
    0x01EF15C18599971B7BECED415A40F0C7DEACFD9B0D1819E03D723D8BC943CFCA,
    0x005668060AA49730B7BE4801DF46EC62DE53ECD11ABE43A32873000C36E8DC1F,
)

WINDOW_BITS = 12
_HALF = 1 << (WINDOW_BITS - 1)
_MASK = (1 << WINDOW_BITS) - 1
# Full windows cover the 252 bits of any k < n; when the top window's digit can reach HALF (it can for
# 12 bits: 252 = 21·12), it is recoded negative and a last window carries a digit of 0 or 1.
_FULL_WINDOWS = -(-EC_ORDER.bit_length() // WINDOW_BITS)
_CARRY_WINDOW = (EC_ORDER >> (WINDOW_BITS * (_FULL_WINDOWS - 1))) + 1 >= _HALF
# Adding HALF to every digit position turns signed recoding into a plain shift-and-mask per window.
_RECODE_OFFSET = sum(_HALF << (WINDOW_BITS * i) for i in range(_FULL_WINDOWS + _CARRY_WINDOW))

Point = tuple[int, int]
# table[window][digit]: the affine multiples of one base point, see build_table.
Table = list[list[Point]]
# Index 0 of a window (digit 0) is never read: digit 0 adds nothing.
_UNUSED: Point = (0, 0)

_build_seconds: float | None = None


def is_on_curve(point: Point) -> bool:
    """True when the affine ``point`` satisfies y² = x³ + αx + β (mod p)."""
    x, y = point
    p = FIELD_PRIME
    return (y * y - (x * x * x + ALPHA * x + BETA)) % p == 0


def _affine_double(point: Point) -> Point:
    p = FIELD_PRIME
    x, y = point
    slope = (3 * x * x + ALPHA) * pow(2 * y, -1, p) % p
    x3 = (slope * slope - 2 * x) % p
    return x3, (slope * (x - x3) - y) % p


def _batch_inverse(values: list[int]) -> list[int]:
    """Modular inverses of all ``values`` with one exponentiation (Montgomery's trick)."""
    p = FIELD_PRIME
    prefix = [1] * (len(values) + 1)
    acc = 1
    for i, v in enumerate(values):
        acc = acc * v % p
        prefix[i + 1] = acc
    inv = pow(acc, -1, p)  # raises ValueError if any value is 0: a bug, never a silent wrong table
    out = [0] * len(values)
    for i in range(len(values) - 1, -1, -1):
        out[i] = inv * prefix[i] % p
        inv = inv * values[i] % p
    return out


def build_table(base: Point) -> Table:
    """Window tables of any point B: ``table[i][d] = d·2^(12·i)·B`` for d = 1…2048 (index 0 unused).

    ~0.2 s and ~8 MB per point: worth it only for a point that is multiplied thousands of times.
    """
    p = FIELD_PRIME
    bases = [base]
    for _ in range(_FULL_WINDOWS):
        point = bases[-1]
        for _ in range(WINDOW_BITS):
            point = _affine_double(point)
        bases.append(point)
    # Digits in doubling rounds: from d·B for d = 1…s, the round makes (d − s)·B + s·B for d = s+1…2s−1 and
    # 2s·B by doubling, for all windows at once, so that each round costs a single shared inversion.
    columns: list[list[Point]] = [[], bases[:_FULL_WINDOWS]]  # columns[d][window]
    step = 1
    while step < _HALF:
        top = columns[step]
        pairs = [(a, b) for d in range(step + 1, 2 * step) for a, b in zip(columns[d - step], top, strict=True)]
        inverses = _batch_inverse([(bx - ax) % p for (ax, _), (bx, _) in pairs] + [2 * y % p for _, y in top])
        flat: list[Point] = []
        for ((ax, ay), (bx, by)), inv in zip(pairs, inverses, strict=False):
            slope = (by - ay) * inv % p
            x3 = (slope * slope - ax - bx) % p
            flat.append((x3, (slope * (ax - x3) - ay) % p))
        for (x, y), inv in zip(top, inverses[len(pairs):], strict=True):
            slope = (3 * x * x + ALPHA) * inv % p
            x3 = (slope * slope - 2 * x) % p
            flat.append((x3, (slope * (x - x3) - y) % p))
        columns.extend(flat[i:i + _FULL_WINDOWS] for i in range(0, len(flat), _FULL_WINDOWS))
        step *= 2
    del columns[0]
    table: Table = [[_UNUSED, *(col[i] for col in columns)] for i in range(_FULL_WINDOWS)]
    if _CARRY_WINDOW:
        table.append([_UNUSED, bases[_FULL_WINDOWS]])  # digit 0 or 1 only
    return table


@lru_cache(maxsize=1)
def _table() -> Table:
    global _build_seconds
    started = time.perf_counter()
    table = build_table(GENERATOR)
    _build_seconds = time.perf_counter() - started
    return table


def generator_table() -> Table:
    """The window table of G (built on first use, then shared)."""
    return _table()


def precompute() -> float:
    """Build the window table now (a no-op once built); returns the build time in seconds."""
    _table()
    assert _build_seconds is not None
    return _build_seconds


def table_build_seconds() -> float | None:
    """How long building the table took, or None while it has not been built."""
    return _build_seconds


def generator_multiple_x(k: int) -> int:
    """x-coordinate of k·G for 1 ≤ k < n, exactly as ``fast_stark_crypto.get_public_key(k)``."""
    if not 0 < k < EC_ORDER:
        raise ValueError("scalar out of range")
    projective = multiple_xz(_table(), k)
    if projective is None:
        return _rust_fallback(k)
    x, zz = projective
    return x if zz == 1 else x * pow(zz, -1, FIELD_PRIME) % FIELD_PRIME


def multiple_xz(table: Table, k: int) -> tuple[int, int] | None:
    """x(k·B) as a fraction (X, ZZ), x = X/ZZ mod p, for the base B of ``table`` and 0 ≤ k < n.

    None when the sum would need the doubling or infinity formulas: k = 0, or a partial sum equal to ± the
    next table point (only a handful of special scalars). Callers then defer to the Rust routines.
    """
    p, mask, half, bits = FIELD_PRIME, _MASK, _HALF, WINDOW_BITS
    digits = k + _RECODE_OFFSET
    points: list[Point] = []
    for window in table:
        d = (digits & mask) - half
        digits >>= bits
        if d > 0:
            points.append(window[d])
        elif d < 0:
            x2, y2 = window[-d]
            points.append((x2, -y2))  # y left unreduced: it is only multiplied, then reduced
    if len(points) < 2:
        return (points[0][0], 1) if points else None
    # The sum is kept in XYZZ coordinates (x = X/ZZ, y = Y/ZZZ with ZZ³ = ZZZ²): a mixed addition costs
    # 8M + 2S, one multiplication less than Jacobian, and the affine x needs only ZZ inverted.
    # First, two affine points: the general formula with ZZ = ZZZ = 1.
    x, y = points[0]
    x2, y2 = points[1]
    h = (x2 - x) % p
    if not h:
        return None
    r = (y2 - y) % p
    zz = h * h % p
    zzz = h * zz % p
    v = x * zz % p
    x = (r * r - zzz - v - v) % p
    y = (r * (v - x) - y * zzz) % p
    for x2, y2 in points[2:]:
        h = (x2 * zz - x) % p
        if not h:
            return None
        r = (y2 * zzz - y) % p
        hh = h * h % p
        hhh = h * hh % p
        v = x * hh % p
        x = (r * r - hhh - v - v) % p
        y = (r * (v - x) - y * hhh) % p
        zz = zz * hh % p
        zzz = zzz * hhh % p
    return x, zz


def _rust_fallback(k: int) -> int:
    """The partial sum equals ± the next table point (doubling or infinity): only for a few special k.

    Rather than carry the doubling and infinity cases through the fast loop, defer to the Rust routine.
    """
    return int(rs_get_public_key(hex(k)))
