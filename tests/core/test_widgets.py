"""The lean widgets write exactly the HTML Django's widget templates write."""

import pytest
from django import forms
from django.http import QueryDict

from orderdesk.audit.forms import ApiCallFilterForm
from orderdesk.core.widgets import make_lean
from orderdesk.orders.selectors.order_filters import HistoryFilterForm

pytestmark = pytest.mark.django_db

QUERIES = [
    "",
    "q=lopez&state=failed&sort=reference&date_from=2026-01-02&patient=7&recipient_type=site",
    "q=%3Cb%3E%22x%22&date_from=yesterday&patient=abc&site=nope&state=exploded&cursor=zz&before=zz",
    "action=order_create&outcome=ambiguous&status=503&order=od-1&date_to=2026-02-03",
    "status=abc&date_from=2026-13-01&cursor=%%%",
]


def as_django_renders(form: forms.Form) -> list[str]:
    """Each field rendered by Django's own widget templates (the lean class undone)."""
    html = []
    for bound in form:
        widget = bound.field.widget
        lean_class = type(widget)
        widget.__class__ = lean_class.__mro__[2]  # Lean<X> -> Lean base -> Django's X
        html.append(str(bound))
        widget.__class__ = lean_class
    return html


@pytest.mark.parametrize("form_class", [HistoryFilterForm, ApiCallFilterForm])
@pytest.mark.parametrize("query", QUERIES)
def test_lean_widgets_write_the_same_html_as_django(form_class, query) -> None:
    form = form_class(QueryDict(query))
    form.valid_data()
    lean = [str(bound) for bound in form]
    assert all(type(bound.field.widget).__name__.startswith("Lean") for bound in form)
    assert lean == as_django_renders(form)


def test_a_widget_django_does_not_render_plainly_is_left_alone() -> None:
    widget = forms.CheckboxSelectMultiple()
    make_lean(widget)
    assert type(widget) is forms.CheckboxSelectMultiple
