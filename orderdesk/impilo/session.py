"""The one object that sends bytes to Impilo, and the audit of every call it makes.

send() sets the key, the headers and the timeout, writes and commits the call's pending
audit row before any byte goes out, times the call, classifies the result, and in a
`finally:` replaces the pending row by exactly one ApiCall row, whatever happened. If the
process dies before that, recovery records the call (docs/architecture.md#audit-first-calls).

It never retries (no urllib3 Retry, no redirects): whether to try again is the order
pipeline's decision, since only it knows whether a repeat could duplicate an order.
"""

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings
from django.db import transaction
from django.views.decorators.debug import sensitive_variables
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from orderdesk.audit import pending
from orderdesk.audit.models import Outcome
from orderdesk.audit.redact import API_KEY_HEADER
from orderdesk.impilo import errors

# Given a 2xx JSON object, why it is not what the endpoint promises (None if it is).
ShapeCheck = Callable[[dict[str, Any]], str | None]


@dataclass(frozen=True)
class AuditContext:
    """Who and what a call is for; it lands on the call's ApiCall row."""

    action: str
    actor: Any = None  # accounts.User
    order: Any = None  # orders.Order (not imported: orders depends on impilo)
    attempt: int | None = None


class ImpiloCallInTransaction(RuntimeError):
    """An Impilo call inside transaction.atomic(): a rollback would erase its audit row."""


class ImpiloSession(requests.Session):
    def __init__(self) -> None:
        super().__init__()
        # Spelled out rather than left to requests' defaults: no retries of any kind, and
        # read errors must surface as themselves (errors.py tells them from connect errors).
        adapter = HTTPAdapter(max_retries=Retry(total=0, read=False, redirect=False))
        self.mount("http://", adapter)
        self.mount("https://", adapter)

    @sensitive_variables()
    def send(
        self,
        request: requests.PreparedRequest,
        *,
        audit: AuditContext | None = None,
        expect: ShapeCheck | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """Send once; return the response only if it is a 2xx JSON object of the expected
        shape, else raise the ImpiloError that the audit row's outcome names."""
        if audit is None:
            raise TypeError("ImpiloSession.send() needs an AuditContext: use ImpiloClient.")
        _refuse_inside_atomic()
        _set_headers(request)
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = (settings.IMPILO_CONNECT_TIMEOUT, settings.IMPILO_READ_TIMEOUT)
        kwargs["allow_redirects"] = False
        kwargs["stream"] = False
        _audit_before(request, audit)

        started = time.monotonic()
        response: requests.Response | None = None
        error: errors.ImpiloError | None = None
        cause: BaseException | None = None
        try:
            response = super().send(request, **kwargs)
            _check_reply(response, action=audit.action, expect=expect)
        except Exception as exc:
            cause = exc
            error = errors.error_for_exception(exc, action=audit.action)
        except BaseException as exc:  # interrupted mid-call: record it, then let it go on
            cause = exc
            raise
        finally:
            _audit(request, audit, response, error, cause, started)
        if error is not None:
            raise error from (cause if cause is not error else None)
        assert response is not None
        return response


@sensitive_variables()
def _set_headers(request: requests.PreparedRequest) -> None:
    # The key is read at send time so a rotated key takes effect without a restart.
    request.headers[API_KEY_HEADER] = settings.IMPILO_API_KEY
    request.headers["Accept"] = "application/json"
    request.headers["Content-Type"] = "application/json"
    request.headers["User-Agent"] = f"orderdesk/{settings.VERSION}"
    request.headers["X-Request-ID"] = uuid.uuid4().hex


def _refuse_inside_atomic() -> None:
    """Test cases wrap each test in atomic blocks of their own; those do not count."""
    blocks = transaction.get_connection().atomic_blocks
    if any(not getattr(block, "_from_testcase", False) for block in blocks):
        raise ImpiloCallInTransaction(
            "Impilo calls must not run inside transaction.atomic(): a rollback would "
            "erase the audit record of a request Impilo may have received."
        )


def _check_reply(response: requests.Response, *, action: str, expect: ShapeCheck | None) -> None:
    status = response.status_code
    if not 200 <= status < 300:
        raise errors.error_for_status(status, response.headers, response.content, action=action)
    data = errors.json_object(response.content, status=status, action=action)
    problem = expect(data) if expect else None
    if problem:
        raise errors.ambiguous(problem, action=action, status=status)


@sensitive_variables()
def _request_fields(request: requests.PreparedRequest, audit: AuditContext) -> dict[str, Any]:
    """What the pending row and the final row both keep of the request."""
    return {
        "action": audit.action,
        "actor": audit.actor,
        "order": audit.order,
        "attempt": audit.attempt,
        "method": request.method or "",
        "url": request.url or "",
        "request_headers": dict(request.headers),
        "request_body": request.body,
    }


@sensitive_variables()
def _audit_before(request: requests.PreparedRequest, audit: AuditContext) -> None:
    """Committed before the send: a process killed mid-call still leaves a trace."""
    pending.open_call(request_id=request.headers["X-Request-ID"], **_request_fields(request, audit))


@sensitive_variables()
def _audit(
    request: requests.PreparedRequest,
    audit: AuditContext,
    response: requests.Response | None,
    error: errors.ImpiloError | None,
    cause: BaseException | None,
    started: float,
) -> None:
    if error is not None:
        outcome = error.outcome
    elif cause is not None:
        outcome = Outcome.AMBIGUOUS  # interrupted: we cannot know what Impilo did
    else:
        outcome = Outcome.OK
    pending.close_call(
        request.headers.get("X-Request-ID", ""),
        **_request_fields(request, audit),
        status_code=response.status_code if response is not None else None,
        response_headers=dict(response.headers) if response is not None else {},
        response_body=response.content if response is not None else None,
        duration_ms=round((time.monotonic() - started) * 1000),
        error_class=_error_class(error, cause),
        error_message=_error_message(error, cause),
        outcome=outcome,
    )


def _error_class(error: errors.ImpiloError | None, cause: BaseException | None) -> str:
    names = [type(error).__name__] if error is not None else []
    if cause is not None and cause is not error:
        names.append(f"{type(cause).__module__}.{type(cause).__qualname__}")
    return " ← ".join(names)


def _error_message(error: errors.ImpiloError | None, cause: BaseException | None) -> str:
    parts = [error.message] if error is not None else []
    if cause is not None and cause is not error:
        parts.append(str(cause))
    return "\n".join(parts)
