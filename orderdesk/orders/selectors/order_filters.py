"""The Orders page's filters, search, sort and pages, read from the query string.

Built to stay fast with a million orders: every filter has an index (models.Order.Meta),
pages are found by keyset (no OFFSET; the sorts and cursors are in orders/cursors.py), and
nothing counts the whole filtered list except the per-state counts, one grouped query over
the indexed state column.
"""

import hashlib
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django import forms
from django.core.cache import cache
from django.db import connection
from django.db.models import Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.db.models.lookups import IContains

from orderdesk.accounts.models import User
from orderdesk.catalog.models import Site
from orderdesk.core import listing
from orderdesk.core.forms import FilterForm
from orderdesk.orders.models import Order, RecipientType, State
from orderdesk.orders.selectors.cursors import (
    SORTS,
    after_cursor,
    before_cursor,
    decode_cursor,
    encode_cursor,
)

PAGE_SIZE = 50
# Into links: the search text travels as its key (selectors/saved_searches.py), never itself.
FILTER_NAMES = (
    "search_id", "state", "impilo_status", "date_from", "date_to", "patient", "site",
    "recipient_type", "created_by", "sort",
)  # fmt: skip

DEFAULT_SORT = "-created"
SORT_LABELS = [
    ("-created", "Newest first"),
    ("created", "Oldest first"),
    ("reference", "Reference A–Z"),
    ("-reference", "Reference Z–A"),
    ("state", "State A–Z"),
    ("-state", "State Z–A"),
    ("impilo_status", "Impilo status A–Z"),
    ("-impilo_status", "Impilo status Z–A"),
]
# The list never loads the stored Impilo order JSON (it can be large) nor the lines.
LIST_COLUMNS = (
    "reference", "state", "recipient_type", "patient_impilo_id", "patient_name",
    "site_impilo_id", "site_name", "created_at", "impilo_id", "impilo_status",
    "created_by__username", "created_by__first_name", "created_by__last_name",
)  # fmt: skip


BAD_POSITION = "The page position in the address was not understood; showing the first page."


class HistoryFilterForm(FilterForm):
    q = forms.CharField(label="Search", max_length=200, required=False)
    state = forms.ChoiceField(
        label="State", choices=[("", "Any state"), *State.choices], required=False
    )
    impilo_status = forms.CharField(label="Impilo status", max_length=64, required=False)
    date_from = forms.DateField(
        label="Created from", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="Created to", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    patient = forms.IntegerField(
        label="Patient (Impilo id)", min_value=1, max_value=listing.MAX_ID, required=False
    )
    site = forms.TypedChoiceField(label="Site", coerce=int, empty_value=None, required=False)
    recipient_type = forms.ChoiceField(
        label="Recipient type",
        choices=[("", "Patients and sites"), *RecipientType.choices],
        required=False,
    )
    created_by = forms.TypedChoiceField(
        label="Created by", coerce=int, empty_value=None, required=False
    )
    sort = forms.ChoiceField(label="Sort by", choices=SORT_LABELS, required=False)
    # Where the previous page ended, or (for "Previous page") where the next one began; not
    # typed by people, so not shown. No link has both: both show the first page, as bad ones.
    cursor = forms.CharField(label="Page", required=False, widget=forms.HiddenInput)
    before = forms.CharField(label="Page", required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        site_field = self.fields["site"]
        assert isinstance(site_field, forms.ChoiceField)
        site_field.choices = [("", "Any site")] + [
            (site.impilo_id, f"{site.name} ({site.impilo_id})")
            for site in Site.objects.only("impilo_id", "name").order_by("name", "impilo_id")
        ]
        creator_field = self.fields["created_by"]
        assert isinstance(creator_field, forms.ChoiceField)
        creator_field.choices = [("", "Anyone")] + [
            (user.pk, user.get_full_name() or user.username)
            for user in User.objects.only("username", "first_name", "last_name").order_by(
                "username"
            )
        ]
        for field in self.fields.values():
            is_select = isinstance(field.widget, forms.Select)
            field.widget.attrs["class"] = "form-select" if is_select else "form-control"

    def clean_q(self) -> str:
        return " ".join(str(self.cleaned_data.get("q") or "").split())

    def clean_impilo_status(self) -> str:
        return str(self.cleaned_data.get("impilo_status") or "").strip()

    def clean_sort(self) -> str:
        return self.cleaned_data.get("sort") or DEFAULT_SORT

    def clean_date_to(self) -> date | None:
        end = self.cleaned_data.get("date_to")
        if end is not None and end >= date.max:
            raise forms.ValidationError("That to date is too far in the future.")
        return end

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The to date is before the from date.")
        positions = [name for name in ("cursor", "before") if data.get(name)]
        if len(positions) > 1:
            del data["before"]
            self.add_error("cursor", BAD_POSITION)
        elif positions:
            name = positions[0]
            try:
                data[name] = decode_cursor(data[name], data.get("sort") or DEFAULT_SORT)
            except ValueError:
                self.add_error(name, BAD_POSITION)
        return data

    def valid_data(self) -> dict[str, Any]:
        data = super().valid_data()
        data.setdefault("sort", DEFAULT_SORT)
        if data.get("q"):
            data["search"] = resolve_search(data["q"])
        return data

    def problems(self) -> list[str]:
        return [
            f"{self.fields[name].label if name in self.fields else 'Filters'}: {message}"
            for name, messages in self.errors.items()
            for message in messages
        ]


# --- Query building -------------------------------------------------------------------------


REFERENCE = re.compile(r"OD-[0-9A-Z]{4,12}")
REFERENCE_PART = re.compile(r"[0-9A-Z-]+")  # what a piece of a reference can look like


def identifier_q(text: str) -> Q | None:
    """An exact, indexed match when the text looks like a reference or an Impilo id."""
    if REFERENCE.fullmatch(text.upper()):
        return Q(reference=text.upper())
    if text.isdigit() and int(text) <= listing.MAX_ID:
        return Q(impilo_id=int(text)) | Q(patient_impilo_id=int(text))
    return None


def text_q(text: str) -> Q:
    """Recipient name, external order id or part of a reference: a scan, so only used when
    no identifier matched.

    External ids live in a JSON list; JSON "contains" does not exist on SQLite, so the list
    is searched as text (its JSON spelling), which both databases can do. A text no
    reference could contain (a full name: a space, an accent) skips the reference index,
    about a sixth of the match query at a million orders on PostgreSQL.
    """
    found = (
        Q(patient_name__icontains=text)
        | Q(site_name__icontains=text)
        | Q(IContains(Cast("external_ids", output_field=TextField()), text))
    )
    if REFERENCE_PART.fullmatch(text.upper()):
        found |= Q(reference__icontains=text)
    return found


def resolve_search(text: str) -> tuple[str, Q]:
    """("id", exact match) when some order has this reference or Impilo id, else
    ("text", substring match). One indexed EXISTS decides, so pasting a reference or an
    order number finds it at once even among a million orders."""
    exact = identifier_q(text)
    if exact is not None and Order.objects.filter(exact).exists():
        return "id", exact
    return "text", text_q(text)


def filter_orders(data: dict[str, Any], *, by_state: bool = True) -> QuerySet[Order]:
    """The orders matching the valid filters (without the state filter for the counts)."""
    orders = Order.objects.all()
    if by_state and data.get("state"):
        orders = orders.filter(state=data["state"])
    if data.get("impilo_status"):
        orders = orders.filter(impilo_status=data["impilo_status"])
    if data.get("date_from"):
        orders = orders.filter(created_at__gte=listing.day_start(data["date_from"]))
    if data.get("date_to"):
        orders = orders.filter(
            created_at__lt=listing.day_start(data["date_to"] + timedelta(days=1))
        )
    if data.get("patient"):
        orders = orders.filter(patient_impilo_id=data["patient"])
    if data.get("site"):
        orders = orders.filter(site_impilo_id=data["site"])
    if data.get("recipient_type"):
        orders = orders.filter(recipient_type=data["recipient_type"])
    if data.get("created_by"):
        orders = orders.filter(created_by_id=data["created_by"])
    if data.get("q"):
        orders = orders.filter(data["search"][1])
    return orders


def ordering(sort: str, *, backwards: bool = False) -> list[str]:
    return [f"-{name}" if desc != backwards else name for name, desc in SORTS[sort]]


def sorted_orders(data: dict[str, Any]) -> QuerySet[Order]:
    return filter_orders(data).order_by(*ordering(data["sort"]))


# A text search matching at most this many orders is read once, as (id, state) pairs, for
# both the page and the counts: the trigram lookup is most of a search's cost.
SMALL_SEARCH = 500


def text_matches(data: dict[str, Any]) -> list[tuple[int, str]] | None:
    """Every order a text search matches under the other filters (any state), as (id,
    state), or None when it is no text search or matches more than SMALL_SEARCH."""
    if not data.get("q") or data["search"][0] != "text":
        return None
    found = list(
        filter_orders(data, by_state=False)
        .order_by()
        .values_list("id", "state")[: SMALL_SEARCH + 1]
    )
    return found if len(found) <= SMALL_SEARCH else None


@dataclass(frozen=True)
class Page:
    rows: list[Order]
    next_cursor: str  # "" on the last page
    previous_cursor: str  # "" on the first page
    later: bool  # not the first page: "First page" is offered


def page_of_orders(data: dict[str, Any], matches: list[tuple[int, str]] | None = None) -> Page:
    """The page after data["cursor"], before data["before"], or the first; among `matches`
    (text_matches()) only, when given: found by id, not searched again.

    Going back reads the rows before, nearest first, and turns them round; one row more
    than a page tells whether there are more. Coming back to a short first page (orders
    were added or removed since) shows the first page instead, full.
    """
    sort = data["sort"]
    if matches is None:
        orders = sorted_orders(data)
    else:
        # They passed every other filter in text_matches(): only the state is left to apply,
        # not the text again (at a million orders, ~0.4 ms for a name on 276 of them).
        state = data.get("state")
        ids = [pk for pk, found_state in matches if not state or found_state == state]
        orders = Order.objects.filter(pk__in=ids).order_by(*ordering(sort))
    orders = orders.select_related("created_by").only(*LIST_COLUMNS)
    if data.get("before"):
        back = orders.filter(before_cursor(sort, data["before"]))
        rows = list(back.order_by(*ordering(sort, backwards=True))[: PAGE_SIZE + 1])
        if len(rows) >= PAGE_SIZE:
            more = len(rows) > PAGE_SIZE
            rows = rows[:PAGE_SIZE][::-1]
            previous = encode_cursor(rows[0], sort) if more else ""
            return Page(rows, encode_cursor(rows[-1], sort), previous, later=more)
    elif data.get("cursor"):
        orders = orders.filter(after_cursor(sort, data["cursor"]))
    rows = list(orders[: PAGE_SIZE + 1])
    later = bool(data.get("cursor"))
    previous = encode_cursor(rows[0], sort) if later and rows else ""
    following = encode_cursor(rows[PAGE_SIZE - 1], sort) if len(rows) > PAGE_SIZE else ""
    return Page(rows[:PAGE_SIZE], following, previous, later)


COUNTS_CACHE_SECONDS = 20
# Each state is counted up to this many; past it the page says "10,000+". A person
# choosing a filter needs to know "a lot", and counting exactly grows with the data.
COUNT_CAP = 10_000


def state_counts(
    data: dict[str, Any], matches: list[tuple[int, str]] | None = None
) -> list[tuple[str, str, str]]:
    """(state, label, how many in words) for every state, under the other filters
    (counted from `matches` when given: text_matches() holds them all).

    Cached briefly per filter, so paging and refreshing do not count again.
    """
    filters = {
        k: v
        for k, v in sorted(data.items())
        if k not in ("cursor", "before", "sort", "search_id") and v
    }
    key = "order-state-counts:" + hashlib.sha256(repr(filters).encode()).hexdigest()
    found = cache.get(key)
    if found is None and matches is not None:
        found = dict(Counter(state for _, state in matches))
        cache.set(key, found, COUNTS_CACHE_SECONDS)
    elif found is None:
        found = _count_by_state(filter_orders(data, by_state=False).order_by())
        cache.set(key, found, COUNTS_CACHE_SECONDS)
    return [(value, label, count_in_words(found.get(value, 0))) for value, label in State.choices]


def count_in_words(found: int) -> str:
    return f"{COUNT_CAP:,}+" if found > COUNT_CAP else str(found)


def _count_by_state(orders: QuerySet[Order]) -> dict[str, int]:
    """{state: count}, each count exact up to COUNT_CAP and COUNT_CAP + 1 beyond it.

    First one grouped count over at most COUNT_CAP + 1 matching rows: when fewer match
    (a search, a narrow filter) that is every count, exactly, in one pass. Otherwise each
    state is counted on its own index range and stops at the cap, so the cost stays flat
    however many orders there are.
    """
    # Django compiled `sql` (values are parameters); wrapped to count a bounded sample.
    sql, params = orders.values("state")[: COUNT_CAP + 1].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT few.state, COUNT(*) FROM ({sql}) AS few GROUP BY few.state",  # noqa: S608
            params,
        )
        grouped = dict(cursor.fetchall())
    if sum(grouped.values()) <= COUNT_CAP:
        return grouped
    parts: list[str] = []
    capped_params: list[Any] = []
    for value in State.values:
        capped = orders.filter(state=value).values("pk")[: COUNT_CAP + 1]
        sql, part_params = capped.query.sql_with_params()
        # Django compiled `sql`; every value in it is a parameter.
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS capped)")  # noqa: S608
        capped_params.extend(part_params)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), capped_params)
        counts = cursor.fetchone()
    return dict(zip(State.values, counts, strict=True))


# --- Links ---------------------------------------------------------------------------------


def query_string(
    data: dict[str, Any], *, cursor: str = "", before: str = "", **changes: Any
) -> str:
    """The valid filters as a query string, with some changed (e.g. sort, state)."""
    values = {name: data.get(name) for name in FILTER_NAMES} | changes
    if values.get("sort") == DEFAULT_SORT:
        values["sort"] = None
    return listing.query_string(values, FILTER_NAMES, cursor=cursor, before=before)


def column_sort(current: str, column: str) -> tuple[str, str]:
    """For a sortable column header: (the sort its link applies, its aria-sort value)."""
    if current == column:
        return f"-{column}", "ascending"
    if current == f"-{column}":
        return column, "descending"
    return (f"-{column}" if column == "created" else column), "none"
