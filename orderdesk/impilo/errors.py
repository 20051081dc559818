"""What can go wrong talking to Impilo, sorted by what it means for an order.

The split that matters (docs/impilo.md#errors): ImpiloUnavailable and ImpiloRateLimited mean
Impilo certainly did not act, so a retry is safe; ImpiloAmbiguous means it may have acted (an
order may exist), so the caller must check before sending again. Every error carries a
sentence for people (.message), Impilo's own words (.raw_message), the HTTP status if
there was one, and the audit outcome the session recorded for the call.

The functions at the bottom are the one place where a response or a network exception is
classified; the session uses them, so the audit row and the raised error always agree.
"""

import json
import math
import re
import ssl
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar

from django.conf import settings
from django.views.decorators.debug import sensitive_variables
from requests import exceptions as rex
from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NameResolutionError,
    ProxyError,
    SSLError,
)

from orderdesk.audit.actions import Action
from orderdesk.audit.models import Outcome
from orderdesk.audit.redact import redact_text
from orderdesk.impilo import messages

RAW_MESSAGE_CAP = 500
DEFAULT_RETRY_AFTER = 30.0
MAX_RETRY_AFTER = 300.0


class ImpiloError(Exception):
    """Base class. Raised as such only for nothing: callers catch it to catch them all.

    Its outcome is 'ambiguous' because a caller that cannot tell what happened must
    assume Impilo may have acted.
    """

    outcome: ClassVar[str] = Outcome.AMBIGUOUS

    @sensitive_variables()
    def __init__(self, message: str, *, raw_message: str = "", status: int | None = None):
        # Impilo may echo the key back; these texts end up on pages and order events.
        key = settings.IMPILO_API_KEY
        message, raw_message = redact_text(message, key), redact_text(raw_message, key)
        super().__init__(message)
        self.message = message
        self.raw_message = raw_message
        self.status = status

    def __str__(self) -> str:
        return self.message


class ImpiloRejected(ImpiloError):
    """4xx (other than 401/403/404/429): Impilo read the request and refused it."""

    outcome = Outcome.REJECTED


class ImpiloAuthError(ImpiloError):
    """401/403: the API key is missing, wrong, expired or not allowed."""

    outcome = Outcome.AUTH


class ImpiloNotFound(ImpiloError):
    outcome = Outcome.NOT_FOUND


class ImpiloRateLimited(ImpiloError):
    """429: nothing was done; try again after retry_after seconds."""

    outcome = Outcome.RATE_LIMITED

    def __init__(
        self,
        message: str,
        *,
        raw_message: str = "",
        status: int | None = 429,
        retry_after: float = DEFAULT_RETRY_AFTER,
    ):
        super().__init__(message, raw_message=raw_message, status=status)
        self.retry_after = retry_after


class ImpiloUnavailable(ImpiloError):
    """Nothing reached Impilo: connection refused, connect timeout, DNS, TLS handshake."""

    outcome = Outcome.UNAVAILABLE


class ImpiloAmbiguous(ImpiloError):
    """Impilo may have acted: read timeout, reset after send, 5xx, an unreadable 2xx."""

    outcome = Outcome.AMBIGUOUS


# --- Classifying a reply ------------------------------------------------------------------


def error_for_status(
    status: int, headers: Mapping[str, str], body: bytes | str, *, action: str
) -> ImpiloError:
    """The error for a reply that is not 2xx."""
    raw = message_from_body(body)
    if status == 401:
        return ImpiloAuthError(messages.AUTH_401, raw_message=raw, status=status)
    if status == 403:
        return ImpiloAuthError(messages.AUTH_403, raw_message=raw, status=status)
    if status == 404:
        return ImpiloNotFound(messages.NOT_FOUND, raw_message=raw, status=status)
    if status == 408:
        # Request Timeout: the server gave up waiting for our request and did not act.
        why = "Impilo timed out waiting for the request"
        return ImpiloUnavailable(
            messages.UNAVAILABLE.format(why=why), raw_message=raw, status=status
        )
    if status == 429:
        seconds = parse_retry_after(headers.get("Retry-After"))
        text = messages.RATE_LIMITED.format(seconds=math.ceil(seconds))
        return ImpiloRateLimited(text, raw_message=raw, status=status, retry_after=seconds)
    if 400 <= status < 500:
        return ImpiloRejected(messages.rejection_text(raw, status), raw_message=raw, status=status)
    why = f"HTTP {status} from Impilo" if status >= 500 else f"unexpected HTTP {status}"
    return ambiguous(why, action=action, raw_message=raw, status=status)


def ambiguous(
    why: str, *, action: str, raw_message: str = "", status: int | None = None
) -> ImpiloAmbiguous:
    template = (
        messages.AMBIGUOUS_CREATE if action == Action.ORDER_CREATE else messages.AMBIGUOUS_READ
    )
    return ImpiloAmbiguous(template.format(why=why), raw_message=raw_message, status=status)


def json_object(body: bytes, *, status: int, action: str) -> dict[str, Any]:
    """The body of a 2xx reply, which must be a JSON object.

    Anything else is ambiguous, for reads too: a reply we cannot read tells us nothing,
    and a reconciliation must never take an unreadable page for "the order is not there".
    """
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        data = None
    if not isinstance(data, dict):
        why = "its reply could not be read" if body.strip() else "its reply was empty"
        raise ambiguous(why, action=action, raw_message=_cap(body), status=status)
    return data


def message_from_body(body: bytes | str) -> str:
    """Impilo's words from an error body of unknown shape (docs/impilo.md#errors), capped."""
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    text = text.strip()
    try:
        data = json.loads(text)
    except ValueError:
        return text[:RAW_MESSAGE_CAP]
    return (_find_message(data, depth=0) or text)[:RAW_MESSAGE_CAP]


def _find_message(data: object, *, depth: int) -> str:
    if depth > 4:
        return ""
    if isinstance(data, str):
        return data.strip()
    if isinstance(data, dict):
        for key in ("message", "error", "detail", "errors"):
            found = _find_message(data.get(key), depth=depth + 1)
            if found:
                return found
    if isinstance(data, list):
        parts = (_find_message(item, depth=depth + 1) for item in data)
        return "; ".join(part for part in parts if part)
    return ""


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float:
    """Seconds to wait, from delta-seconds or an HTTP date; capped; garbage → default."""
    if not value or not value.strip():
        return DEFAULT_RETRY_AFTER
    value = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        seconds = float(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return DEFAULT_RETRY_AFTER
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


# --- Classifying a network failure -------------------------------------------------------


def error_for_exception(exc: BaseException, *, action: str) -> ImpiloError:
    """Sort a failure by whether the request may have reached Impilo."""
    if isinstance(exc, ImpiloError):
        return exc
    if isinstance(exc, rex.ConnectTimeout):
        return _unavailable("no connection within the time limit", exc)
    if isinstance(exc, rex.ReadTimeout):
        return ambiguous("no reply within the time limit", action=action, raw_message=str(exc))
    if isinstance(exc, (rex.InvalidURL, rex.MissingSchema, rex.InvalidSchema)):
        return _unavailable("orderdesk's Impilo address is not valid", exc)
    if isinstance(exc, rex.ConnectionError) and _before_sending(exc):
        return _unavailable(_connect_failure(exc), exc)
    if isinstance(exc, rex.ConnectionError):
        why = "the connection dropped after the request was sent"
        return ambiguous(why, action=action, raw_message=str(exc))
    why = f"the reply broke off ({type(exc).__name__})"
    return ambiguous(why, action=action, raw_message=str(exc))


def _unavailable(why: str, exc: BaseException) -> ImpiloUnavailable:
    return ImpiloUnavailable(messages.UNAVAILABLE.format(why=why), raw_message=str(exc))


def _before_sending(exc: rex.ConnectionError) -> bool:
    """Only a failure to connect proves no request bytes left: refused, connect timeout,
    DNS, the proxy, or a certificate the TLS handshake rejected. Anything else (a reset,
    other TLS errors) may have happened after Impilo read the request."""
    wrapped = exc.args[0] if exc.args else None
    reason = wrapped.reason if isinstance(wrapped, MaxRetryError) else None
    # NewConnectionError and NameResolutionError are ConnectTimeoutErrors in urllib3 2.
    if isinstance(reason, (ConnectTimeoutError, ProxyError)):
        return True
    if isinstance(reason, SSLError):
        return any(isinstance(cause, ssl.SSLCertVerificationError) for cause in _causes(exc))
    return False


def _connect_failure(exc: BaseException) -> str:
    causes = list(_causes(exc))
    if any(isinstance(cause, NameResolutionError) for cause in causes):
        return "Impilo's host name could not be found"
    if any(isinstance(cause, ConnectionRefusedError) for cause in causes):
        return "the connection was refused"
    if any(isinstance(cause, ssl.SSLCertVerificationError) for cause in causes):
        return "Impilo's certificate could not be verified"
    if any(isinstance(cause, ProxyError) for cause in causes):
        return "the proxy failed"
    return "no connection could be made"


def _causes(exc: BaseException, depth: int = 0) -> Iterator[BaseException]:
    """The exception and whatever it wraps: args, .reason, __cause__, __context__."""
    if depth > 6:
        return
    yield exc
    inner: list[object] = [*exc.args, getattr(exc, "reason", None)]
    inner += [exc.__cause__, exc.__context__]
    for item in inner:
        if isinstance(item, BaseException) and item is not exc:
            yield from _causes(item, depth + 1)


def _cap(body: bytes) -> str:
    return body.decode("utf-8", errors="replace").strip()[:RAW_MESSAGE_CAP]
