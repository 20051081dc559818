"""The audit log's rows, written in Python, are the HTML the template wrote."""

from pathlib import Path

import pytest
from django.template import engines

from orderdesk.audit.models import PROCESS_STOPPED, ApiCall, Outcome
from orderdesk.audit.templatetags.audit_rows import apicall_rows
from orderdesk.audit.views import LIST_COLUMNS, _add_links
from orderdesk.orders.models import State
from tests.audit.test_views import make_call
from tests.orders.factories import make_order

pytestmark = pytest.mark.django_db

# templates/audit/apicall_list.html's rows as they were written in the template language.
TEMPLATE_ROWS = (Path(__file__).parent / "apicall_rows_template.html").read_text()


def test_the_rows_are_the_html_the_template_wrote(coordinator) -> None:
    order = make_order(coordinator, State.SUBMITTED)
    make_call()
    make_call(order=order, outcome=Outcome.AMBIGUOUS, status_code=None, duration_ms=None)
    make_call(order=order, outcome="weird", duration_ms=0, url="http://x.test/a?<b>=1&key=s")
    make_call(action="<script>", method="POST", request_id='r"1', status_code=503)
    make_call(status_code=None, error_class=PROCESS_STOPPED, outcome=Outcome.AMBIGUOUS)
    calls = list(ApiCall.objects.select_related("order").only(*LIST_COLUMNS).order_by("id"))
    _add_links(calls)
    calls[2].order_url = ""  # type: ignore[attr-defined]  # as when reverse() would fail
    expected = engines["django"].from_string(TEMPLATE_ROWS).render({"calls": calls})
    assert apicall_rows(calls) == expected
    assert "&lt;script&gt;" in expected
    assert "no response" in expected
    assert "no response recorded (process stopped)" in expected
