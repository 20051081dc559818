"""The audit list's filters, read from the query string (GET), and its keyset cursor."""

from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.db.models import QuerySet

from orderdesk.audit.actions import Action
from orderdesk.audit.models import ApiCall, Outcome
from orderdesk.core import listing
from orderdesk.core.forms import FilterForm

FILTER_NAMES = ("action", "outcome", "status", "date_from", "date_to", "order")


def encode_cursor(call: ApiCall) -> str:
    """The position after `call` in (at, id) descending order."""
    return listing.encode_time_id(call.at, call.pk)


class ApiCallFilterForm(FilterForm):
    action = forms.ChoiceField(choices=[("", "Any action"), *Action.choices], required=False)
    outcome = forms.ChoiceField(choices=[("", "Any outcome"), *Outcome.choices], required=False)
    # A text box: a number input would blank a mistyped value instead of showing it.
    status = forms.IntegerField(
        label="Status code",
        min_value=100,
        max_value=599,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "size": 5}),
    )
    date_from = forms.DateField(
        label="From date", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="To date", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    order = forms.CharField(label="Order reference", max_length=16, required=False)
    # Where the previous page ended; not typed by people, so not shown.
    cursor = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            is_select = isinstance(field.widget, forms.Select)
            field.widget.attrs["class"] = "form-select" if is_select else "form-control"

    def clean_order(self) -> str:
        return str(self.cleaned_data.get("order") or "").strip().upper()

    def clean_cursor(self) -> tuple[datetime, int] | None:
        text = self.cleaned_data.get("cursor") or ""
        if not text:
            return None
        try:
            return listing.decode_time_id(text)
        except (ValueError, OverflowError):
            raise forms.ValidationError(
                "The page position in the address was not understood; showing the newest calls."
            ) from None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The to date is before the from date.")
        return data


def filter_calls(data: dict[str, Any]) -> QuerySet[ApiCall]:
    calls = ApiCall.objects.all()
    if data.get("action"):
        calls = calls.filter(action=data["action"])
    if data.get("outcome"):
        calls = calls.filter(outcome=data["outcome"])
    if data.get("status") is not None:
        calls = calls.filter(status_code=data["status"])
    if data.get("date_from"):
        calls = calls.filter(at__gte=listing.day_start(data["date_from"]))
    if data.get("date_to"):
        calls = calls.filter(at__lt=listing.day_start(data["date_to"] + timedelta(days=1)))
    if data.get("order"):
        # Look the order up first: joined, a reference with no calls made PostgreSQL walk
        # the whole log by time looking for one.
        # The order model is reached through audit's own foreign key: audit sits below
        # orders and imports nothing from it.
        order_model = ApiCall.order.field.related_model
        assert not isinstance(order_model, str)  # a model class once apps are loaded
        orders = order_model._default_manager
        order_pk = orders.filter(reference=data["order"]).values_list("pk", flat=True).first()
        calls = calls.filter(order_id=order_pk) if order_pk else calls.none()
    if data.get("cursor"):
        at, pk = data["cursor"]
        # (at, id) < (cursor): written as a range on `at` so the index seeks to the cursor;
        # an OR of the two cases makes SQLite scan from the newest row every time.
        calls = calls.filter(at__lte=at).exclude(at=at, pk__gte=pk)
    return calls


def query_string(data: dict[str, Any], cursor: str = "") -> str:
    """The valid filters (and a cursor) as a query string, for the page links."""
    return listing.query_string(data, FILTER_NAMES, cursor=cursor)
