"""Aster signing: the documented V1 HMAC vectors, V3 EIP-712 vectors, and the simulator's verification side."""

from __future__ import annotations

import threading
from decimal import Decimal
from urllib.parse import parse_qsl

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data

from flashscalper.clock import ManualClock
from flashscalper.errors import ConfigError
from flashscalper.exchanges.aster.auth import (
    MAINNET_CHAIN_ID,
    TESTNET_CHAIN_ID,
    AgentSigner,
    HmacSigner,
    MicrosecondNonces,
    NonceVerdict,
    NonceWindows,
    eip712_message,
    encode_params,
    hmac_signature,
    recover_signer,
    split_signature,
    timestamp_within_window,
    verify_agent_signature,
    verify_hmac,
)

# protocol/aster.md §2.2 (Binance's canonical example, reproduced by the Aster docs)
DOC_SECRET = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9"
DOC_PAYLOAD = (
    "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&recvWindow=5000&timestamp=1591702613943"
)
DOC_SIGNATURE = "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9"
MIXED_QUERY = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC"
MIXED_BODY = "quantity=1&price=9000&recvWindow=5000&timestamp=1591702613943"
MIXED_SIGNATURE = "30baaf0fab549bbeda7f5ef201898b34122da25fd23c646cac2c529aebe670a4"

# protocol/aster.md §2.3: a throw-away key (the docs' demo signer)
AGENT_KEY = "0x4fd0a42218f3eae43a6ce26d22544e986139a01e5b34a62db53757ffca81bae1"
AGENT_ADDRESS = "0x21cF8Ae13Bb72632562c6Fff438652Ba1a151bb0"
USER = "0x63DD5aCC6b1aa0f563956C0e534DD30B6dcF7C4e"
V3_MSG = (
    "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.010&price=60000"
    f"&nonce=1748310859508867&user={USER}&signer={AGENT_ADDRESS}"
)
V3_SIG_MAINNET = (
    "ddcca4cd42deac191d6c9519b146b6eb0113b1fe33784b50aa9f424f09e1b9bb"
    "1879063750c139db19e38898dfb677e82ac08ad321ac5cb7a9848b7bdb6013b31c"
)
V3_SIG_TESTNET = (
    "b2914715125d4031e79b3627703ec630f68c415477604e70a23a84d155d0053e"
    "2dc82d677e3a88f9ad19ebe750e5c753f4caa957361ab75e081227f364c98e941b"
)


# ---- V1 ------------------------------------------------------------------------------------------


def test_hmac_matches_the_documented_query_string_example():
    assert hmac_signature(DOC_SECRET, DOC_PAYLOAD) == DOC_SIGNATURE
    assert verify_hmac(DOC_SECRET, DOC_PAYLOAD, DOC_SIGNATURE.upper())  # hex is case-insensitive


def test_hmac_mixed_query_and_body_sign_their_direct_concatenation():
    assert hmac_signature(DOC_SECRET, MIXED_QUERY + MIXED_BODY) == MIXED_SIGNATURE
    payload, sig = split_signature(MIXED_QUERY, f"{MIXED_BODY}&signature={MIXED_SIGNATURE}")
    assert payload == MIXED_QUERY + MIXED_BODY
    assert verify_hmac(DOC_SECRET, payload, sig)


def test_hmac_rejects_a_tampered_payload_and_a_wrong_secret():
    assert not verify_hmac(DOC_SECRET, DOC_PAYLOAD.replace("price=9000", "price=9001"), DOC_SIGNATURE)
    assert not verify_hmac(DOC_SECRET[::-1], DOC_PAYLOAD, DOC_SIGNATURE)


def test_hmac_signer_reproduces_the_documented_order_when_clock_and_window_match():
    clock = ManualClock(start_ms=1591702613943)
    signer = HmacSigner("my-api-key", DOC_SECRET, clock=clock, recv_window_ms=5000)
    params = {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "LIMIT",
        "quantity": Decimal(1),
        "price": Decimal(9000),
        "timeInForce": "GTC",
    }
    req = signer.sign("POST", "/fapi/v1/order", params)
    assert req.query == f"{DOC_PAYLOAD}&signature={DOC_SIGNATURE}"
    assert req.body == ""
    assert req.headers == {"X-MBX-APIKEY": "my-api-key"}
    assert req.url_path.startswith("/fapi/v1/order?symbol=BTCUSDT&")


def test_hmac_signer_can_put_write_params_in_a_form_body_and_the_server_side_verifies_it():
    clock = ManualClock(start_ms=1_700_000_000_000)
    signer = HmacSigner("k", "s3cret", clock=clock, params_in_body=True)
    req = signer.sign("DELETE", "/fapi/v1/order", {"symbol": "ETHUSDT", "origClientOrderId": "abc-1"})
    assert req.query == "" and req.headers["Content-Type"] == "application/x-www-form-urlencoded"
    payload, sig = split_signature(req.query, req.body)
    assert verify_hmac("s3cret", payload, sig)
    fields = dict(parse_qsl(payload))
    assert fields["timestamp"] == "1700000000000" and fields["recvWindow"] == "5000"
    get = signer.sign("GET", "/fapi/v1/openOrders", {"symbol": "ETHUSDT"})
    assert get.body == "" and "signature=" in get.query  # GET always uses the query string


def test_recv_window_rule_accepts_late_within_window_and_refuses_the_rest():
    server = 1_700_000_010_000
    assert timestamp_within_window(server - 5000, server, 5000)
    assert not timestamp_within_window(server - 5001, server, 5000)
    assert timestamp_within_window(server + 999, server, 5000)
    assert not timestamp_within_window(server + 1000, server, 5000)


def test_hmac_signer_refuses_bad_settings_without_echoing_the_secret():
    with pytest.raises(ConfigError):
        HmacSigner("k", "")
    with pytest.raises(ConfigError, match="recvWindow"):
        HmacSigner("k", "topsecret", recv_window_ms=60_001)
    signer = HmacSigner("key-123456789", "topsecret")
    assert "topsecret" not in repr(signer) and "topsecret" not in str(vars(signer))


def test_params_are_encoded_plainly_in_insertion_order():
    encoded = encode_params(
        {
            "quantity": Decimal("1E-7"),
            "reduceOnly": True,
            "price": None,
            "batchOrders": [{"symbol": "BTCUSDT", "quantity": Decimal("0.010")}],
        }
    )
    assert encoded.startswith("quantity=0.0000001&reduceOnly=true&batchOrders=")
    assert dict(parse_qsl(encoded))["batchOrders"] == '[{"symbol":"BTCUSDT","quantity":"0.010"}]'


# ---- V3 ------------------------------------------------------------------------------------------


def _typed_data(msg: str, chain_id: int) -> dict:
    """The EIP-712 structure exactly as the docs describe it, for eth-account's reference encoder."""
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Message": [{"name": "msg", "type": "string"}],
        },
        "primaryType": "Message",
        "domain": {
            "name": "AsterSignTransaction",
            "version": "1",
            "chainId": chain_id,
            "verifyingContract": "0x" + "00" * 20,
        },
        "message": {"msg": msg},
    }


@pytest.mark.parametrize("chain_id", [MAINNET_CHAIN_ID, TESTNET_CHAIN_ID, 56])
def test_fast_eip712_encoding_equals_eth_accounts_typed_data_encoder(chain_id):
    assert eip712_message(V3_MSG, chain_id) == encode_typed_data(full_message=_typed_data(V3_MSG, chain_id))


@pytest.mark.parametrize(
    ("chain_id", "expected"), [(MAINNET_CHAIN_ID, V3_SIG_MAINNET), (TESTNET_CHAIN_ID, V3_SIG_TESTNET)]
)
def test_agent_signature_matches_the_recomputed_vector_and_recovers_the_signer(chain_id, expected):
    signer = AgentSigner(USER, AGENT_KEY, signer=AGENT_ADDRESS, chain_id=chain_id)
    reference = Account.sign_message(encode_typed_data(full_message=_typed_data(V3_MSG, chain_id)), AGENT_KEY)
    assert reference.signature.hex().removeprefix("0x") == expected
    assert signer.sign_message(V3_MSG) == "0x" + expected
    assert recover_signer(V3_MSG, "0x" + expected, chain_id) == AGENT_ADDRESS
    assert recover_signer(V3_MSG, expected, chain_id) == AGENT_ADDRESS  # bare hex is read too


def test_agent_signer_builds_the_documented_order_request_with_a_fixed_nonce():
    signer = AgentSigner(USER, AGENT_KEY, chain_id=MAINNET_CHAIN_ID)
    params = {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": Decimal("0.010"),
        "price": Decimal(60000),
    }
    req = signer.sign("POST", "/fapi/v3/order", params, nonce=1748310859508867)
    assert req.body == f"{V3_MSG}&signature=0x{V3_SIG_MAINNET}"
    assert req.query == "" and req.headers == {"Content-Type": "application/x-www-form-urlencoded"}
    assert "X-MBX-APIKEY" not in req.headers


def test_simulator_side_accepts_a_signed_get_and_rejects_tampering_and_the_wrong_chain():
    signer = AgentSigner(USER, AGENT_KEY, nonces=MicrosecondNonces(ManualClock(1_760_000_000_000)))
    req = signer.sign("GET", "/fapi/v3/openOrders", {"symbol": "BTCUSDT"})
    msg, sig = split_signature(req.query, req.body)
    fields = dict(parse_qsl(msg))
    assert fields["nonce"] == "1760000000000000" and fields["signer"] == AGENT_ADDRESS
    assert verify_agent_signature(msg, sig, fields["signer"])
    assert not verify_agent_signature(msg.replace("BTCUSDT", "ETHUSDT"), sig, AGENT_ADDRESS)
    assert not verify_agent_signature(msg, sig, AGENT_ADDRESS, chain_id=TESTNET_CHAIN_ID)
    assert not verify_agent_signature(msg, "0x" + "00" * 65, AGENT_ADDRESS)
    assert not verify_agent_signature(msg, "0xdead", AGENT_ADDRESS)


def test_agent_signer_refuses_a_mismatched_signer_and_never_shows_the_key():
    with pytest.raises(ConfigError, match="does not match"):
        AgentSigner(USER, AGENT_KEY, signer=USER)
    with pytest.raises(ConfigError) as bad_key:
        AgentSigner(USER, "0x1234")
    assert "0x1234" not in str(bad_key.value)
    signer = AgentSigner(USER, AGENT_KEY)
    assert AGENT_KEY[2:] not in repr(signer) and AGENT_KEY[2:] not in str(vars(signer))


def test_nonces_are_strictly_increasing_even_within_one_microsecond_and_across_threads():
    nonces = MicrosecondNonces(ManualClock(1_760_000_000_000))  # a frozen clock forces collisions
    seen: list[int] = []
    lock = threading.Lock()

    def draw() -> None:
        got = [nonces.next() for _ in range(500)]
        with lock:
            seen.extend(got)

    threads = [threading.Thread(target=draw) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(seen)) == 2000 and min(seen) == 1_760_000_000_000_000
    wall = MicrosecondNonces()
    a, b = wall.next(), wall.next()
    assert b > a > 1_600_000_000_000_000


def test_nonce_window_flags_duplicates_stale_and_far_nonces():
    windows = NonceWindows(size=3)
    now = 1_760_000_000_000_000
    assert windows.accept(USER, now - 1, now) is NonceVerdict.OK
    assert windows.accept(USER.lower(), now - 1, now) is NonceVerdict.DUPLICATE  # address case-insensitive
    assert windows.accept("0xother", now - 1, now) is NonceVerdict.OK  # windows are per user
    for n in (now + 1, now + 2):
        assert windows.accept(USER, n, now) is NonceVerdict.OK
    assert windows.accept(USER, now - 5, now) is NonceVerdict.EXPIRED  # below the full window's minimum
    assert windows.accept(USER, now + 3, now) is NonceVerdict.OK  # evicts now-1
    assert windows.check(USER, now - 1, now) is NonceVerdict.EXPIRED
    assert windows.accept(USER, now - 10_000_001, now) is NonceVerdict.OUT_OF_RANGE
    assert windows.accept(USER, now + 10_000_001, now) is NonceVerdict.OUT_OF_RANGE


def test_an_expired_signed_request_is_caught_by_the_window_even_though_its_signature_is_valid():
    clock = ManualClock(1_760_000_000_000)
    signer = AgentSigner(USER, AGENT_KEY, nonces=MicrosecondNonces(clock))
    req = signer.sign("POST", "/fapi/v3/order", {"symbol": "BTCUSDT"})
    msg, sig = split_signature(req.query, req.body)
    assert verify_agent_signature(msg, sig, AGENT_ADDRESS)
    nonce = int(dict(parse_qsl(msg))["nonce"])
    windows = NonceWindows()
    clock.advance(11_000)  # 11 s later the server refuses it
    assert windows.accept(USER, nonce, clock.time_ms() * 1000) is NonceVerdict.OUT_OF_RANGE
