"""Aster error answers become typed errors the trading core can act on."""

from __future__ import annotations

import orjson
import pytest

from flashscalper.errors import (
    AuthFailed,
    ExchangeError,
    ExchangeUnavailable,
    OrderNotFound,
    OrderRejected,
    RateLimited,
)
from flashscalper.exchanges.aster.errors import (
    ERROR_CODES,
    AsterApiError,
    error_from_response,
    is_success_envelope,
    raise_for_response,
)

# What each documented code must become (protocol/aster.md §10), written out independently of the table.
EXPECTED = {
    AuthFailed: [-1021, -1022, -1125, -2014, -2015, -4225],
    RateLimited: [-1003, -1015],
    OrderNotFound: [-2011, -2013],
    ExchangeUnavailable: [-1000, -1001, -1006, -1007],
    OrderRejected: [
        -1111, -1115, -1116, -1117, -2010, -2018, -2019, -2021, -2022, -2025, -2027, -2028,
        -4002, -4003, -4004, -4005, -4006, -4007, -4013, -4014, -4015, -4016, -4023, -4024,
        -4045, -4061, -4118, -4131, -4137, -4138, -4142, -4164, -4183, -4184, -5022, -5060, -5076,
    ],
    ExchangeError: [-1102, -1106, -1121, -4028, -4046, -4047, -4048, -4059, -4067, -4068, -4168],
}  # fmt: skip
CASES = [(code, kind) for kind, codes in EXPECTED.items() for code in codes]


def test_every_code_in_the_table_has_an_expected_type_and_vice_versa():
    assert sorted(ERROR_CODES) == sorted(code for code, _ in CASES)


@pytest.mark.parametrize(("code", "kind"), CASES)
def test_each_code_maps_to_its_typed_error(code, kind):
    status = ERROR_CODES[code].http_status
    body = orjson.dumps({"code": code, "msg": "venue text"})
    error = error_from_response(status, body, {})
    assert type(error) is kind
    assert error.aster_code == code
    assert error.status == status
    assert "venue text" in str(error) and str(code) in str(error)
    if kind is OrderRejected:
        assert error.reason == ERROR_CODES[code].name
    elif kind is not RateLimited:
        assert error.code == str(code)


def test_min_notional_rejection_names_the_rule_and_says_what_to_do():
    body = {"code": -4164, "msg": "Order's notional must be no smaller than 5 (unless you choose reduce only)."}
    error = error_from_response(400, body)
    assert isinstance(error, OrderRejected) and error.reason == "MIN_NOTIONAL"
    assert "minimum notional" in str(error)


def test_timestamp_outside_recv_window_tells_you_to_resync_the_clock():
    error = error_from_response(400, b'{"code":-1021,"msg":"Timestamp for this request is outside of the recvWindow."}')
    assert isinstance(error, AuthFailed) and "resync" in str(error)


def test_rate_limit_uses_retry_after_header_when_given():
    error = error_from_response(429, b'{"code":-1003,"msg":"Too many requests."}', {"retry-after": "7"})
    assert isinstance(error, RateLimited) and error.retry_after == 7.0 and error.status == 429


def test_rate_limit_without_hint_backs_off_for_the_weight_window():
    assert error_from_response(429, b"").retry_after == 60.0
    assert error_from_response(400, {"code": -1015, "msg": "Too many new orders"}).retry_after == 10.0


def test_ip_ban_waits_until_the_time_in_the_message():
    body = {"code": -1003, "msg": "Way too many requests; IP banned until 1700000090000. Please use websocket."}
    error = error_from_response(418, body, None, now_ms=1_700_000_000_000)
    assert isinstance(error, RateLimited) and error.retry_after == 90.0 and error.status == 418


def test_a_bare_418_waits_at_least_two_minutes():
    error = error_from_response(418, b"<html>banned</html>")
    assert isinstance(error, RateLimited) and error.retry_after == 120.0


def test_503_means_status_unknown_and_asks_for_reconciliation():
    error = error_from_response(503, b"<html>Service Unavailable</html>")
    assert isinstance(error, ExchangeUnavailable) and "reconcile by clientOrderId" in str(error)


@pytest.mark.parametrize(
    ("status", "kind"), [(500, ExchangeUnavailable), (502, ExchangeUnavailable), (403, ExchangeUnavailable),
                         (401, AuthFailed), (404, ExchangeError), (400, ExchangeError)]
)  # fmt: skip
def test_answers_without_a_known_code_fall_back_on_the_http_status(status, kind):
    error = error_from_response(status, b"not json")
    assert type(error) is kind and error.status == status and error.aster_code is None


def test_an_unknown_negative_code_is_a_generic_exchange_error_carrying_the_code():
    error = error_from_response(400, {"code": -9999, "msg": "new thing"})
    assert type(error) is ExchangeError and error.code == "-9999" and "new thing" in str(error)


@pytest.mark.parametrize(
    "body",
    [
        {"orderId": 1, "status": "NEW"},
        [{"orderId": 1}, {"code": -2013, "msg": "x"}],  # batch answers carry per-item errors, not a top-level one
        {"code": 200, "msg": "success"},
        b'{"code":"200","msg":"The operation of cancel all open order is done."}',
        b"{}",
    ],
)
def test_successful_answers_are_not_errors(body):
    assert error_from_response(200, body) is None
    raise_for_response(200, body)


def test_success_envelope_accepts_number_and_string_codes():
    assert is_success_envelope({"code": 200, "msg": "success"})
    assert is_success_envelope({"code": "200", "msg": "done"})
    assert not is_success_envelope({"code": -2011, "msg": "Unknown order sent."})


def test_a_negative_code_inside_a_200_answer_is_still_an_error():
    with pytest.raises(OrderNotFound):
        raise_for_response(200, {"code": -2011, "msg": "Unknown order sent."})


def test_simulator_errors_round_trip_through_the_client_mapping():
    sim_error = AsterApiError(-2019)
    assert sim_error.body() == {"code": -2019, "msg": "Margin is insufficient."}
    client_error = error_from_response(sim_error.http_status, orjson.dumps(sim_error.body()))
    assert isinstance(client_error, OrderRejected) and client_error.reason == "MARGIN_NOT_SUFFICIENT"
    limited = AsterApiError(-1003, "Too many requests; current limit is 2400 requests per minute.")
    assert limited.http_status == 429
    assert isinstance(error_from_response(limited.http_status, limited.body()), RateLimited)
    assert AsterApiError(-12345).http_status == 400
