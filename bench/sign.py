"""Benchmark: Paradex order signing (hash + STARK ECDSA) against ccxt's pure-Python Starknet signer.

Method: one process, one thread, warm caches. Each figure is the median / p99 of per-call
``time.perf_counter_ns`` samples over distinct orders (different market, side, type, size, price and
timestamp), so no result is reused. ccxt runs the same orders (fewer of them, it is ~50× slower) through
``Exchange.starknet_encode_structured_data`` + ``Exchange.starknet_sign``; its hashes are checked against ours.

    python bench/sign.py            # readable report
    python bench/sign.py --json     # same, last line is one JSON object
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from flashscalper.exchanges.paradex import curve, starknet
from flashscalper.exchanges.paradex.signing import (
    ParadexSigner,
    is_market_type,
    scale_quantity,
    verify_signature,
)

CHAIN_ID = "PRIVATE_SN_PARACLEAR_MAINNET"
# Throw-away key and address: never fund.
L2_KEY = 0x3C1E9550E66958296D11B60F8E8E7A7AD990D07FA65D5F7652C4A6C87D4E3CC
ACCOUNT = 0x352288F60BD15EA134D63AAEDFBC0425691527160D8AF2C3C08B1FC4EF9E979
MARKETS = ("BTC-USD-PERP", "ETH-USD-PERP", "SOL-USD-PERP", "DOGE-USD-PERP")
TYPES = ("LIMIT", "LIMIT", "LIMIT", "MARKET", "STOP_LIMIT")

Order = tuple[str, str, str, Decimal, Decimal | None, int]


def make_orders(count: int) -> list[Order]:
    """Distinct, realistic orders: a scalper's mix of limits and markets on a few markets."""
    orders: list[Order] = []
    for i in range(count):
        order_type = TYPES[i % len(TYPES)]
        price = None if order_type == "MARKET" else Decimal(65000 + (i * 7919) % 5000) / 10
        size = Decimal(1 + (i * 104729) % 999) / 1000
        side = "BUY" if i % 2 == 0 else "SELL"
        orders.append((MARKETS[i % len(MARKETS)], side, order_type, size, price, 1_700_000_000_000 + i * 37))
    return orders


def time_each(fn: Callable[[Any], object], items: Sequence[Any]) -> list[float]:
    """Per-call wall time in milliseconds."""
    clock = time.perf_counter_ns
    samples = []
    for item in items:
        t0 = clock()
        fn(item)
        samples.append((clock() - t0) / 1e6)
    return samples


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p99 = ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]
    return {"median_ms": round(statistics.median(ordered), 4), "p99_ms": round(p99, 4)}


def ccxt_order_signer(orders: Sequence[Order]) -> tuple[Callable[[Any], object], list[Any], Callable[[Any], int]]:
    """ccxt's pure-Python path, fed exactly what ccxt.paradex.sign_order_request builds."""
    from ccxt.base.exchange import Exchange

    domain = {"name": "Paradex", "chainId": CHAIN_ID, "version": 1}
    fields = [{"name": n, "type": "felt"} for n in ("timestamp", "market", "side", "orderType", "size", "price")]
    message_types = {"Order": fields}
    address = hex(ACCOUNT)
    private_key = hex(L2_KEY)

    def request(order: Order) -> dict[str, Any]:
        market, side, order_type, size, price, ts = order
        return {
            "timestamp": ts,
            "market": "0x" + market.encode().hex(),
            "side": "1" if side == "BUY" else "2",
            "orderType": "0x" + order_type.encode().hex(),
            "size": str(scale_quantity(size)),
            "price": "0" if is_market_type(order_type) else str(scale_quantity(price)),
        }

    def sign(req: dict[str, Any]) -> str:
        msg = Exchange.starknet_encode_structured_data(domain, message_types, req, address)
        return Exchange.starknet_sign(msg, private_key)

    def hash_only(req: dict[str, Any]) -> int:
        return Exchange.starknet_encode_structured_data(domain, message_types, req, address)

    return sign, [request(o) for o in orders], hash_only


def run(n_orders: int, n_ccxt: int) -> dict[str, Any]:
    signer = ParadexSigner(CHAIN_ID, ACCOUNT, L2_KEY)
    orders = make_orders(n_orders)
    warm = make_orders(50)
    for o in warm:
        signer.sign_order(*o)

    # Interleave the stages order by order so that load from other processes hits all of them alike.
    full: list[float] = []
    hash_only: list[float] = []
    sign_only: list[float] = []
    verify_only: list[float] = []
    hashes: list[int] = []
    clock = time.perf_counter_ns
    public_key = signer.public_key
    for o in orders:
        t0 = clock()
        flat = signer.sign_order(*o)
        t1 = clock()
        msg_hash = signer.order_hash(*o)
        t2 = clock()
        signer.sign_hash(msg_hash)
        t3 = clock()
        ok = verify_signature(msg_hash, flat, public_key)
        t4 = clock()
        if not ok:
            raise AssertionError("a benchmark signature did not verify")
        full.append((t1 - t0) / 1e6)
        hash_only.append((t2 - t1) / 1e6)
        sign_only.append((t3 - t2) / 1e6)
        verify_only.append((t4 - t3) / 1e6)
        hashes.append(msg_hash)

    # The nonce point alone: fixed-base table against fast_stark_crypto's get_public_key, same nonces.
    nonces = [starknet.rfc6979_nonce(h, L2_KEY, starknet.SDK_SIGNING_SEED) for h in hashes]
    table_kg: list[float] = []
    rust_kg: list[float] = []
    for k in nonces:
        t0 = clock()
        x_table = curve.generator_multiple_x(k)
        t1 = clock()
        x_rust = starknet.public_key(k)
        t2 = clock()
        if x_table != x_rust:
            raise AssertionError("table k·G differs from get_public_key")
        table_kg.append((t1 - t0) / 1e6)
        rust_kg.append((t2 - t1) / 1e6)

    result: dict[str, Any] = {
        "orders": n_orders,
        "order_sign_median_ms": summary(full)["median_ms"],
        "order_sign_p99_ms": summary(full)["p99_ms"],
        "hash_only_median_ms": summary(hash_only)["median_ms"],
        "hash_only_p99_ms": summary(hash_only)["p99_ms"],
        "sign_only_median_ms": summary(sign_only)["median_ms"],
        "sign_only_p99_ms": summary(sign_only)["p99_ms"],
        "verify_only_median_ms": summary(verify_only)["median_ms"],
        "verify_only_p99_ms": summary(verify_only)["p99_ms"],
        "kg_table_median_ms": summary(table_kg)["median_ms"],
        "kg_get_public_key_median_ms": summary(rust_kg)["median_ms"],
        "kg_table_build_s": round(curve.table_build_seconds() or 0.0, 3),
    }

    try:
        ccxt_sign, ccxt_requests, ccxt_hash = ccxt_order_signer(orders[:n_ccxt])
    except ImportError:
        result.update(ratio_vs_pure_python=None, pure_python_note="ccxt not installed")
    else:
        ccxt_sign(ccxt_requests[0])  # imports and table set-up outside the timing
        same = sum(ccxt_hash(req) == h for req, h in zip(ccxt_requests, hashes, strict=False))
        ccxt_samples = time_each(ccxt_sign, ccxt_requests)
        result.update(
            pure_python_orders=len(ccxt_requests),
            pure_python_median_ms=summary(ccxt_samples)["median_ms"],
            pure_python_p99_ms=summary(ccxt_samples)["p99_ms"],
            pure_python_hashes_equal=f"{same}/{len(ccxt_requests)}",
            ratio_vs_pure_python=round(statistics.median(ccxt_samples) / statistics.median(full), 1),
        )
    result.update(
        python=platform.python_version(),
        implementation=platform.python_implementation(),
        cpu_count=os.cpu_count(),
        machine=platform.machine(),
        processor=_cpu_model(),
        method="median/p99 of per-call perf_counter_ns over distinct orders, stages interleaved per order, "
        "single thread, after 50 warm-ups",
    )
    return result


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def report(r: dict[str, Any]) -> str:
    lines = [
        "Paradex order signing benchmark",
        f"  machine : {r['processor']} ({r['machine']}), {r['cpu_count']} CPUs, {r['implementation']} {r['python']}",
        f"  method  : {r['method']}",
        "",
        f"  {'stage':<34}{'median ms':>10}{'p99 ms':>10}",
        f"  {'order sign (hash + ECDSA)':<34}{r['order_sign_median_ms']:>10.3f}{r['order_sign_p99_ms']:>10.3f}"
        f"   ({r['orders']} orders)",
        f"  {'hash only (9 Pedersen)':<34}{r['hash_only_median_ms']:>10.3f}{r['hash_only_p99_ms']:>10.3f}",
        f"  {'ECDSA sign only (RFC6979 seed 32)':<34}{r['sign_only_median_ms']:>10.3f}{r['sign_only_p99_ms']:>10.3f}",
        f"  {'verify only':<34}{r['verify_only_median_ms']:>10.3f}{r['verify_only_p99_ms']:>10.3f}",
        f"  {'nonce point k·G, table':<34}{r['kg_table_median_ms']:>10.3f}"
        f"   (table built once in {r['kg_table_build_s']:.3f} s)",
        f"  {'nonce point k·G, get_public_key':<34}{r['kg_get_public_key_median_ms']:>10.3f}",
    ]
    if r.get("ratio_vs_pure_python") is not None:
        lines += [
            f"  {'ccxt pure Python (hash + sign)':<34}{r['pure_python_median_ms']:>10.3f}"
            f"{r['pure_python_p99_ms']:>10.3f}   ({r['pure_python_orders']} orders, "
            f"hashes equal {r['pure_python_hashes_equal']})",
            "",
            f"  speed-up vs ccxt pure Python: {r['ratio_vs_pure_python']}x (median / median)",
        ]
    goal = 0.6
    verdict = "meets" if r["order_sign_median_ms"] <= goal else "misses"
    lines.append(f"  goal median <= {goal} ms: {verdict}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1000, help="orders for our signer (>= 500)")
    parser.add_argument("--ccxt-orders", type=int, default=50, help="orders for ccxt's slow signer")
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = parser.parse_args(argv)
    if args.orders < 500:
        parser.error("--orders must be at least 500")
    result = run(args.orders, min(args.ccxt_orders, args.orders))
    print(report(result))
    if args.json:
        print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
