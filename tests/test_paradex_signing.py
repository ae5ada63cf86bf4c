"""Paradex signing must match the official SDK (paradex-py 0.8.2) bit for bit on the shared vectors."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from flashscalper.domain import OrderType, Side
from flashscalper.errors import ConfigError
from flashscalper.exchanges.paradex import starknet
from flashscalper.exchanges.paradex.keys import ParadexIdentity, parse_l1_private_key
from flashscalper.exchanges.paradex.signing import (
    DOMAIN_TYPE_HASH,
    TYPE_HASHES,
    ParadexSigner,
    auth_message_hash,
    domain_struct_hash,
    modify_order_message_hash,
    onboarding_message_hash,
    order_message_hash,
    parse_signature,
    scale_quantity,
    verify_signature,
)

VECTORS_PATH = Path(__file__).resolve().parents[1].parent / "shared" / "vectors" / "paradex-vectors.json"
VECTORS: dict[str, Any] = json.loads(VECTORS_PATH.read_text())
CONFIG = VECTORS["system_config"]
CHAIN_ID = CONFIG["starknet_chain_id"]
ACCOUNTS = VECTORS["accounts"]


def _ids(accounts: list[dict[str, Any]]) -> list[str]:
    return [a["label"] for a in accounts]


def _order_args(order: dict[str, Any]) -> tuple[Any, ...]:
    inputs = order["inputs"]
    price = Decimal(inputs["limit_price"]) if "limit_price" in inputs else None
    return (
        inputs["market"],
        inputs["order_side"],
        inputs["order_type"],
        Decimal(inputs["size"]),
        price,
        inputs["signature_timestamp"],
    )


@pytest.fixture(scope="module", params=ACCOUNTS, ids=_ids(ACCOUNTS))
def account(request: pytest.FixtureRequest) -> dict[str, Any]:
    return request.param


@pytest.fixture(scope="module")
def signer(account: dict[str, Any]) -> ParadexSigner:
    return ParadexSigner(CHAIN_ID, int(account["l2_address"], 16), int(account["l2_private_key"], 16))


def test_l1_key_derives_the_sdk_identity(account: dict[str, Any]) -> None:
    identity = ParadexIdentity.from_l1_key(
        account["l1_private_key"],
        l1_chain_id=CONFIG["l1_chain_id"],
        account_proxy_hash=CONFIG["paraclear_account_proxy_hash"],
        account_hash=CONFIG["paraclear_account_hash"],
    )
    assert identity.l1_address == account["l1_address"]
    assert hex(identity.l2_private_key) == account["l2_private_key"]
    assert hex(identity.l2_public_key) == account["l2_public_key"]
    assert hex(identity.account_address) == account["l2_address"]
    assert identity.public_key_hex == account["l2_public_key"]
    # The key never shows up when the identity is logged.
    assert account["l2_private_key"] not in repr(identity)
    assert str(identity.l2_private_key) not in repr(identity)


def test_l2_key_and_address_give_the_same_identity(account: dict[str, Any]) -> None:
    identity = ParadexIdentity.from_l2_key(account["l2_private_key"], account["l2_address"])
    assert hex(identity.l2_public_key) == account["l2_public_key"]
    assert hex(identity.account_address) == account["l2_address"]
    assert identity.l1_address is None


def test_onboarding_hash_and_signature_match_sdk(account: dict[str, Any], signer: ParadexSigner) -> None:
    expected = account["onboarding"]
    assert hex(signer.onboarding_hash()) == expected["message_hash"]
    assert hex(onboarding_message_hash(CHAIN_ID, int(account["l2_address"], 16))) == expected["message_hash"]
    flat = signer.sign_onboarding()
    assert flat == expected["signature_flat"]
    r, s = parse_signature(flat)
    assert (hex(r), hex(s)) == (expected["r"], expected["s"])
    assert verify_signature(signer.onboarding_hash(), flat, account["l2_public_key"])


def test_auth_hash_and_signature_match_sdk(account: dict[str, Any], signer: ParadexSigner) -> None:
    expected = account["auth"]
    ts, exp = expected["timestamp"], expected["expiration"]
    assert expected["typed_data"]["message"]["path"] == "/v1/auth"
    msg_hash = signer.auth_hash(ts, exp)
    assert hex(msg_hash) == expected["message_hash"]
    assert auth_message_hash(CHAIN_ID, int(account["l2_address"], 16), ts, exp) == msg_hash
    flat = signer.sign_auth(ts, exp)
    assert flat == expected["signature_flat"]
    assert verify_signature(msg_hash, flat, account["l2_public_key"])


def test_every_order_hash_and_signature_match_sdk(account: dict[str, Any], signer: ParadexSigner) -> None:
    address = int(account["l2_address"], 16)
    for order in account["orders"]:
        args = _order_args(order)
        order_id = order["inputs"].get("order_id")
        if order_id is None:
            msg_hash = signer.order_hash(*args)
            flat = signer.sign_order(*args)
            rebuilt = order_message_hash(CHAIN_ID, address, *map(_as_wire, args))
        else:
            msg_hash = signer.modify_order_hash(*args, order_id)
            flat = signer.sign_modify_order(*args, order_id)
            rebuilt = modify_order_message_hash(CHAIN_ID, address, *map(_as_wire, args), order_id)
        assert hex(msg_hash) == order["message_hash"], order["name"]
        assert rebuilt == msg_hash, order["name"]
        assert flat == order["signature_flat"], order["name"]
        assert flat == order["rest"]["body"]["signature"], order["name"]
        r, s = parse_signature(flat)
        assert (hex(r), hex(s)) == (order["r"], order["s"]), order["name"]
        assert verify_signature(msg_hash, flat, int(account["l2_public_key"], 16)), order["name"]


def _as_wire(value: Any) -> Any:
    """The simulator sees sizes and prices as the strings of the REST body."""
    return str(value) if isinstance(value, Decimal) else value


def test_order_quantities_scale_like_the_sdk(account: dict[str, Any]) -> None:
    for order in account["orders"]:
        market, _side, order_type, size, price, _ts = _order_args(order)
        assert str(scale_quantity(size)) == order["chain_size"]
        signed_price = 0 if price is None or "MARKET" in order_type else scale_quantity(price)
        assert str(signed_price) == order["chain_price"]
        assert hex(starknet.to_felt(market)) == order["market_felt"]
        assert hex(starknet.to_felt(order_type)) == order["order_type_felt"]


def test_intermediate_hashes_match_sdk(account: dict[str, Any]) -> None:
    address = int(account["l2_address"], 16)
    assert hex(domain_struct_hash(CHAIN_ID)) == account["onboarding"]["domain_struct_hash"]
    for entry in (account["onboarding"], account["auth"], *account["orders"]):
        typed = entry["typed_data"]
        primary = typed["primaryType"]
        fields = typed["types"][primary]
        assert hex(DOMAIN_TYPE_HASH) == entry["domain_type_hash"]
        assert hex(TYPE_HASHES[primary]) == entry["primary_type_hash"]
        assert starknet.type_string(primary, fields) == entry["primary_type_string"]
        assert hex(starknet.struct_hash(primary, fields, typed["message"])) == entry["message_struct_hash"]
        assert hex(starknet.typed_data_hash(typed, address)) == entry["message_hash"]


def test_order0_hash_for_every_known_chain_id(account: dict[str, Any]) -> None:
    address = int(account["l2_address"], 16)
    order0 = account["orders"][0]
    for chain_id, expected in account["order0_message_hash_by_chain_id"].items():
        assert hex(order_message_hash(chain_id, address, *_order_args(order0))) == expected


def test_tampered_hash_or_signature_does_not_verify(account: dict[str, Any], signer: ParadexSigner) -> None:
    order = account["orders"][0]
    msg_hash = int(order["message_hash"], 16)
    flat = order["signature_flat"]
    assert verify_signature(msg_hash, flat, account["l2_public_key"])
    assert not verify_signature(msg_hash + 1, flat, account["l2_public_key"])
    r, s = parse_signature(flat)
    assert not verify_signature(msg_hash, f'["{r}","{s + 1}"]', account["l2_public_key"])
    # Another account's key must not verify it either.
    other = next(a for a in ACCOUNTS if a["label"] != account["label"])
    assert not verify_signature(msg_hash, flat, other["l2_public_key"])


def test_ccxt_style_hex_signatures_verify() -> None:
    account = ACCOUNTS[0]
    order = account["orders"][0]
    alt = order["alt_signature_ccxt_pure_python"]
    flat = json.dumps([alt["r"], alt["s"]])
    assert verify_signature(int(order["message_hash"], 16), flat, account["l2_public_key"])


@pytest.mark.parametrize(
    "flat", ["", "[]", '["1"]', '["1","2","3"]', "[1,2]", '["x","2"]', '["0xzz","1"]', "{}", "not json"]
)
def test_malformed_signatures_are_rejected(flat: str) -> None:
    with pytest.raises(ValueError):
        parse_signature(flat)
    assert not verify_signature(1, flat, ACCOUNTS[0]["l2_public_key"])


def test_public_key_off_the_curve_does_not_verify() -> None:
    order = ACCOUNTS[0]["orders"][0]
    off_curve = next(x for x in range(2, 100) if not starknet.is_on_curve_x(x))
    assert not verify_signature(int(order["message_hash"], 16), order["signature_flat"], off_curve)


def test_l1_key_with_leading_zero_byte_derives_an_identity() -> None:
    # paradex-py crashes on such keys; we pad them to 32 bytes instead.
    key = "0x00" + "11" * 31
    identity = ParadexIdentity.from_l1_key(
        key,
        l1_chain_id=CONFIG["l1_chain_id"],
        account_proxy_hash=CONFIG["paraclear_account_proxy_hash"],
        account_hash=CONFIG["paraclear_account_hash"],
    )
    assert parse_l1_private_key(key) == bytes(1) + bytes.fromhex("11" * 31)
    assert parse_l1_private_key("0x" + "11" * 31) == parse_l1_private_key(key)
    assert identity.l1_address and identity.l1_address.startswith("0x")
    assert starknet.public_key(identity.l2_private_key) == identity.l2_public_key
    signer = ParadexSigner(CHAIN_ID, identity.account_address, identity.l2_private_key)
    msg_hash = signer.order_hash("BTC-USD-PERP", "BUY", "LIMIT", Decimal("0.01"), Decimal("50000"), 1)
    assert verify_signature(
        msg_hash, signer.sign_order("BTC-USD-PERP", "BUY", "LIMIT", "0.01", "50000", 1), signer.public_key
    )


SECRET = "0x" + "ab" * 31 + "zz"


@pytest.mark.parametrize(
    "bad_key",
    [SECRET, "0x" + "ab" * 33, "", "0x", "0x" + "0" * 64, "0x" + "f" * 64, "ab cd"],
)
def test_bad_l1_keys_raise_config_error_without_the_secret(bad_key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        ParadexIdentity.from_l1_key(
            bad_key,
            l1_chain_id=CONFIG["l1_chain_id"],
            account_proxy_hash=CONFIG["paraclear_account_proxy_hash"],
            account_hash=CONFIG["paraclear_account_hash"],
        )
    message = str(caught.value)
    assert "PARADEX_L1_PRIVATE_KEY" in message
    if len(bad_key) > 4:
        assert bad_key not in message
        assert bad_key[2:] not in message


@pytest.mark.parametrize("bad_key", ["0x" + "f" * 64, "nothex", "0x0"])
def test_bad_l2_keys_raise_config_error_without_the_secret(bad_key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        ParadexIdentity.from_l2_key(bad_key, ACCOUNTS[0]["l2_address"], key_setting="MY_L2_KEY")
    assert "MY_L2_KEY" in str(caught.value)
    assert bad_key not in str(caught.value) or bad_key == "0x0"


def test_bad_address_raises_config_error() -> None:
    with pytest.raises(ConfigError, match="PARADEX_ACCOUNT_ADDRESS"):
        ParadexIdentity.from_l2_key(ACCOUNTS[0]["l2_private_key"], "0x" + "f" * 64)


def test_quantities_are_scaled_exactly_without_float() -> None:
    assert scale_quantity(Decimal("0.1")) == 10_000_000
    assert scale_quantity("65000.123456789") == 6_500_012_345_678  # truncated, not rounded
    assert scale_quantity(Decimal("123456789012345678901234.5")) == 12345678901234567890123450000000
    assert scale_quantity(None) == 0
    for bad in ("-1", "NaN", "Infinity", "abc"):
        with pytest.raises(ValueError):
            scale_quantity(bad)


def test_market_orders_sign_price_zero_whatever_price_is_given() -> None:
    account = ACCOUNTS[0]
    address = int(account["l2_address"], 16)
    with_price = order_message_hash(CHAIN_ID, address, "ETH-USD-PERP", "SELL", "MARKET", "1.25", "2000", 5)
    without = order_message_hash(CHAIN_ID, address, "ETH-USD-PERP", "SELL", "MARKET", "1.25", None, 5)
    limit = order_message_hash(CHAIN_ID, address, "ETH-USD-PERP", "SELL", "LIMIT", "1.25", "2000", 5)
    assert with_price == without != limit


def test_bad_order_fields_raise_value_error() -> None:
    signer = ParadexSigner(CHAIN_ID, int(ACCOUNTS[0]["l2_address"], 16), int(ACCOUNTS[0]["l2_private_key"], 16))
    with pytest.raises(ValueError):
        signer.order_hash("BTC-USD-PERP", "LONG", "LIMIT", "1", "1", 1)
    with pytest.raises(ValueError):
        signer.order_hash("X" * 40, "BUY", "LIMIT", "1", "1", 1)
    with pytest.raises(ValueError):
        signer.order_hash("BTC-USD-PERP", "BUY", "LIMIT", "1", "1", -5)
    key = ACCOUNTS[0]["l2_private_key"]
    assert key not in repr(signer) and str(int(key, 16)) not in repr(signer)


def test_signing_retries_are_deterministic_and_rfc6979_depends_on_seed() -> None:
    key = int(ACCOUNTS[0]["l2_private_key"], 16)
    msg_hash = int(ACCOUNTS[0]["orders"][0]["message_hash"], 16)
    assert starknet.sign(msg_hash, key) == starknet.sign(msg_hash, key)
    assert starknet.rfc6979_nonce(msg_hash, key, 32) != starknet.rfc6979_nonce(msg_hash, key, 33)
    r, s = starknet.sign(msg_hash, key, seed=None)  # plain RFC 6979 still yields a valid signature
    assert starknet.verify(msg_hash, r, s, starknet.public_key(key))
    with pytest.raises(ValueError):
        starknet.sign(1 << 251, key)


def test_domain_enums_sign_like_their_wire_strings() -> None:
    address = int(ACCOUNTS[0]["l2_address"], 16)
    order0 = ACCOUNTS[0]["orders"][0]
    market, _side, _type, size, price, ts = _order_args(order0)
    from_enums = order_message_hash(CHAIN_ID, address, market, Side.BUY, OrderType.LIMIT, size, price, ts)
    assert hex(from_enums) == order0["message_hash"]
