"""Reading Impilo's error bodies and Retry-After, and the sentences shown to people."""

import socket
import ssl
from datetime import UTC, datetime

import pytest
from requests import exceptions as rex
from urllib3.exceptions import MaxRetryError, NameResolutionError, ProtocolError, SSLError

from orderdesk.impilo import errors
from orderdesk.impilo.errors import (
    DEFAULT_RETRY_AFTER,
    MAX_RETRY_AFTER,
    message_from_body,
    parse_retry_after,
)
from orderdesk.impilo.messages import REJECTIONS, rejection_text

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"status": 400, "message": "patient or site required"}', "patient or site required"),
        (b'{"error": "insufficient_inventory"}', "insufficient_inventory"),
        (b'{"detail": "nope"}', "nope"),
        (b'{"errors": ["one", {"message": "two"}]}', "one; two"),
        (b'{"message": "", "error": "Bad Request"}', "Bad Request"),
        (b'{"message": {"detail": "deep"}}', "deep"),
        (b'"just a string"', "just a string"),
        (b'{"code": 17}', '{"code": 17}'),
        (b"plain text reason\n", "plain text reason"),
        (b"\xff\xfebroken", "\ufffd\ufffdbroken"),
        (b"", ""),
    ],
)
def test_the_message_is_found_in_any_error_body(body: bytes, expected: str) -> None:
    assert message_from_body(body) == expected


def test_an_enormous_error_body_is_capped() -> None:
    assert len(message_from_body(b"x" * 100_000)) == errors.RAW_MESSAGE_CAP


def test_every_documented_rejection_has_its_own_sentence() -> None:
    for raw, text in REJECTIONS:
        assert rejection_text(raw, 400) == text
        assert rejection_text(f"  {raw.upper()} ", 400) == text


def test_insufficient_inventory_reads_as_plain_english() -> None:
    assert rejection_text("insufficient_inventory", 400) == (
        "Impilo has not enough stock to fill this order."
    )


def test_a_code_inside_a_longer_message_is_still_recognised() -> None:
    assert rejection_text("Validation failed: no_loaner_kit_to_site", 400) == (
        "Loaner kits can only be shipped to patients, not to sites."
    )


def test_the_cut_off_return_device_message_matches_by_its_start() -> None:
    raw = "Device cannot be included both as a return device and in a packed kit"
    assert "returned packed kit" in rejection_text(raw, 400)


def test_an_unknown_rejection_is_shown_verbatim() -> None:
    assert rejection_text("Zip code 00000 invalid", 400) == (
        "Impilo refused the request: Zip code 00000 invalid"
    )


def test_a_rejection_without_words_says_so() -> None:
    assert rejection_text("", 409) == "Impilo refused the request (HTTP 409) without saying why."


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("12", 12.0),
        ("0", 0.0),
        ("2.5", 2.5),
        (" 7 ", 7.0),
        ("Sat, 01 Mar 2025 12:01:30 GMT", 90.0),
        ("Sat, 01 Mar 2025 11:00:00 GMT", 0.0),  # a date in the past: go now
        ("99999999999", MAX_RETRY_AFTER),
        ("Sat, 01 Mar 2031 12:00:00 GMT", MAX_RETRY_AFTER),
        ("soon", DEFAULT_RETRY_AFTER),
        ("-5", DEFAULT_RETRY_AFTER),
        ("nan", DEFAULT_RETRY_AFTER),
        ("1e9", DEFAULT_RETRY_AFTER),
        ("", DEFAULT_RETRY_AFTER),
        (None, DEFAULT_RETRY_AFTER),
    ],
)
def test_retry_after_is_read_as_seconds_or_a_date(value: str | None, seconds: float) -> None:
    assert parse_retry_after(value, now=NOW) == seconds


def test_a_429_without_retry_after_waits_the_default() -> None:
    error = errors.error_for_status(429, {}, b"", action="order_list")
    assert isinstance(error, errors.ImpiloRateLimited)
    assert error.retry_after == DEFAULT_RETRY_AFTER


def test_ambiguity_is_explained_differently_for_a_create_and_a_read() -> None:
    create = errors.error_for_status(502, {}, b"", action="order_create")
    read = errors.error_for_status(502, {}, b"", action="order_fetch")
    assert "order may or may not have been created" in create.message
    assert "order" not in read.message
    assert create.outcome == read.outcome == "ambiguous"


# A real DNS failure would query a name server off this machine, so the exceptions
# requests raises for these cases are built here as it builds them.


def test_a_host_name_that_does_not_resolve_is_unavailable() -> None:
    reason = NameResolutionError("impilo.invalid", None, socket.gaierror(-2, "not known"))  # type: ignore[arg-type]
    exc = rex.ConnectionError(MaxRetryError(None, "/api/v3/order", reason))  # type: ignore[arg-type]
    error = errors.error_for_exception(exc, action="order_create")
    assert isinstance(error, errors.ImpiloUnavailable)
    assert "host name could not be found" in error.message


def test_a_certificate_failure_is_unavailable_but_other_tls_errors_are_ambiguous() -> None:
    cert = ssl.SSLCertVerificationError(1, "certificate verify failed")
    refused = rex.SSLError(MaxRetryError(None, "/", SSLError(cert)))  # type: ignore[arg-type]
    mid_stream = rex.SSLError(MaxRetryError(None, "/", SSLError(ssl.SSLError(1, "bad record"))))  # type: ignore[arg-type]
    assert isinstance(errors.error_for_exception(refused, action="x"), errors.ImpiloUnavailable)
    assert isinstance(errors.error_for_exception(mid_stream, action="x"), errors.ImpiloAmbiguous)


def test_a_reply_cut_off_mid_body_is_ambiguous() -> None:
    error = errors.error_for_exception(rex.ChunkedEncodingError("cut"), action="order_create")
    assert isinstance(error, errors.ImpiloAmbiguous)


def test_a_read_error_wrapped_as_a_retry_failure_is_still_ambiguous() -> None:
    reason = ProtocolError("Connection aborted.", ConnectionResetError(104, "reset"))
    exc = rex.ConnectionError(MaxRetryError(None, "/api/v3/order", reason))  # type: ignore[arg-type]
    assert isinstance(errors.error_for_exception(exc, action="x"), errors.ImpiloAmbiguous)
