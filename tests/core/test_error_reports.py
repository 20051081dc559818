"""Even Django's DEBUG error page never shows the Impilo key held by the code that failed."""

import secrets
import sys

import pytest
from django.test import RequestFactory, override_settings
from django.views.debug import technical_500_response

from orderdesk.audit.models import request_columns
from orderdesk.impilo.errors import ImpiloError

# Made at run time: the page shows source lines, and a literal would be found there.
KEY = f"live-key-{secrets.token_hex(12)}"


class Unprintable:
    """A header value whose text cannot be made: the audit fails while holding the key."""

    def __str__(self) -> str:
        raise RuntimeError("this header value cannot be shown")


def debug_page_for(failing_call) -> str:
    try:
        failing_call()
    except (RuntimeError, TypeError):
        request = RequestFactory().get("/orders/new/")
        response = technical_500_response(request, *sys.exc_info())
    else:
        pytest.fail("the call was expected to fail")
    assert response.status_code == 500
    return response.content.decode()


@override_settings(DEBUG=True, IMPILO_API_KEY=KEY)
def test_the_debug_page_hides_the_key_held_by_the_audit_of_a_call() -> None:
    def audit_a_call() -> None:
        request_columns(
            action="search_patients",
            method="GET",
            url="https://impilo.example.org/api/v3/patient",
            request_headers={"Impilo-API-Key": KEY, "X-Trace": Unprintable()},
        )

    page = debug_page_for(audit_a_call)
    assert "request_columns" in page  # the failing frames are on the page
    assert "this header value cannot be shown" in page
    assert KEY not in page


@override_settings(DEBUG=True, IMPILO_API_KEY=KEY)
def test_the_debug_page_hides_the_key_read_by_an_impilo_error() -> None:
    def fail_while_redacting() -> None:
        ImpiloError(Unprintable())  # type: ignore[arg-type]

    page = debug_page_for(fail_while_redacting)
    assert "ImpiloError" in page or "__init__" in page
    assert KEY not in page
