"""Who may do what, written out by hand: role × URL × method → the exact status code.

Nothing here is read from the product's decorators or role table, so a view given the wrong
permission, or a page that answers 404 where it should answer 200, fails here.

Columns: anonymous visitor, signed-in user without a role, coordinator, support, admin.
302 for the anonymous visitor is the redirect to sign in (checked separately in
test_views.py); 302 for a signed-in user is the action's own redirect.
"""

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from orderdesk.accounts.models import User
from orderdesk.orders.models import Order
from tests.audit.test_views import make_call
from tests.core.urlmap import all_pages
from tests.orders.factories import catalog, make_order

pytestmark = pytest.mark.django_db

WHO = ("anonymous", "no_role", "coordinator", "support", "admin")


@dataclass(frozen=True)
class Row:
    route: str  # the URL's name, to check that every routed page has a row
    method: str
    path: str  # {failed}, {draft}, {rejected}, {sent} and {call} are filled in per test
    expected: tuple[int, int, int, int, int]  # in the order of WHO
    data: tuple[tuple[str, str], ...] = ()


TABLE = [
    Row("home", "GET", "/", (302, 302, 302, 302, 302)),
    Row("healthz", "GET", "/healthz", (200, 200, 200, 200, 200)),
    Row("healthz", "POST", "/healthz", (405, 405, 405, 405, 405)),
    Row("login", "GET", "/accounts/login/", (200, 302, 302, 302, 302)),
    Row("logout", "POST", "/accounts/logout/", (302, 302, 302, 302, 302)),
    # Sign-in with an identity provider is off unless OIDC_ISSUER is set: no such page.
    Row("oidc_start", "GET", "/accounts/oidc/start/", (404, 404, 404, 404, 404)),
    Row("oidc_callback", "GET", "/accounts/oidc/callback/", (404, 404, 404, 404, 404)),
    Row("orders:list", "GET", "/orders/", (302, 403, 200, 200, 200)),
    # The filter form is posted (its search text stays out of the URL), then redirected.
    Row("orders:list", "POST", "/orders/", (302, 403, 302, 302, 302)),
    Row("orders:export", "GET", "/orders/export.csv", (302, 403, 403, 403, 200)),
    Row("orders:chart", "GET", "/orders/chart/", (302, 403, 200, 200, 200)),
    Row("orders:webhooks", "GET", "/orders/webhooks/", (302, 403, 403, 403, 200)),
    Row(
        "orders:sync_stopped_export",
        "GET",
        "/orders/webhooks/not-checked.csv",
        (302, 403, 403, 403, 200),
    ),
    Row("orders:attention", "GET", "/orders/attention/", (302, 403, 403, 200, 200)),
    Row("orders:attention_badge", "GET", "/orders/attention/badge/", (302, 403, 403, 200, 200)),
    Row(
        "orders:bulk_resubmit",
        "POST",
        "/orders/attention/bulk-resubmit/",
        (302, 403, 403, 200, 200),
        (("reference", "{failed}"),),
    ),
    Row(
        "orders:bulk_resubmit",
        "GET",
        "/orders/attention/bulk-resubmit/",
        (302, 403, 403, 405, 405),
    ),
    Row("orders:new", "GET", "/orders/new/", (302, 403, 200, 200, 200)),
    Row("orders:new", "PUT", "/orders/new/", (302, 403, 405, 405, 405)),
    # Patient search and the chosen patient's card are posted: names stay out of URLs.
    Row(
        "orders:patient_search",
        "POST",
        "/orders/new/patients/",
        (302, 403, 200, 200, 200),
        (("patient_query", "x"),),
    ),
    Row("orders:patient_search", "GET", "/orders/new/patients/", (302, 403, 405, 405, 405)),
    Row("orders:patient_card", "POST", "/orders/new/patient-card/", (302, 403, 200, 200, 200)),
    Row("orders:patient_card", "GET", "/orders/new/patient-card/", (302, 403, 405, 405, 405)),
    Row(
        "orders:patient_card",
        "POST",
        "/orders/new/patient-card/",
        (302, 403, 400, 400, 400),
        (("action", "choose:forged"),),
    ),
    Row("orders:line_row", "GET", "/orders/new/line/?kind=item", (302, 403, 200, 200, 200)),
    Row("orders:line_row", "GET", "/orders/new/line/?kind=x", (302, 403, 400, 400, 400)),
    Row("orders:detail", "GET", "/orders/{failed}/", (302, 403, 200, 200, 200)),
    Row("orders:detail", "GET", "/orders/OD-NOSUCH00/", (302, 403, 404, 404, 404)),
    Row("orders:detail", "POST", "/orders/{failed}/", (302, 403, 405, 405, 405)),
    Row("orders:edit", "GET", "/orders/{draft}/edit/", (302, 403, 200, 200, 200)),
    Row("orders:edit", "GET", "/orders/{failed}/edit/", (302, 403, 404, 404, 404)),
    Row(
        "orders:edit_resubmit",
        "GET",
        "/orders/{rejected}/edit-resubmit/",
        (302, 403, 403, 200, 200),
    ),
    Row(
        "orders:edit_resubmit",
        "GET",
        "/orders/{failed}/edit-resubmit/",
        (302, 403, 403, 404, 404),
    ),
    # An order already sent: the check answers "nothing to check" without calling Impilo.
    Row("orders:check", "POST", "/orders/{sent}/check/", (302, 403, 403, 302, 302)),
    Row("orders:check", "GET", "/orders/{sent}/check/", (302, 403, 403, 405, 405)),
    Row("orders:refresh", "GET", "/orders/{sent}/refresh/", (302, 403, 405, 405, 405)),
    Row("orders:requests", "GET", "/orders/{failed}/requests/", (302, 403, 403, 200, 200)),
    Row("orders:action", "GET", "/orders/{failed}/resubmit/", (302, 403, 403, 200, 200)),
    Row(
        "orders:action",
        "POST",
        "/orders/{failed}/resubmit/",
        (302, 403, 403, 302, 302),
        (("reason", "Impilo is back"),),
    ),
    Row("orders:action", "GET", "/orders/{failed}/resolve/", (302, 403, 403, 200, 200)),
    Row(
        "orders:action",
        "POST",
        "/orders/{failed}/resolve/",
        (302, 403, 403, 302, 302),
        (("reason", "Placed by phone"),),
    ),
    Row("orders:action", "DELETE", "/orders/{failed}/resubmit/", (302, 403, 403, 405, 405)),
    Row("orders:action", "GET", "/orders/{failed}/explode/", (302, 403, 403, 404, 404)),
    Row("audit:list", "GET", "/audit/", (302, 403, 403, 200, 200)),
    Row("audit:detail", "GET", "/audit/{call}/", (302, 403, 403, 200, 200)),
    Row("audit:detail", "GET", "/audit/999999/", (302, 403, 403, 404, 404)),
    # Impilo's webhook signs in with its shared secret, not a session: none is given here.
    Row("impilo_webhook", "POST", "/webhooks/impilo", (401, 401, 401, 401, 401)),
    Row("impilo_webhook", "GET", "/webhooks/impilo", (405, 405, 405, 405, 405)),
    Row("sandbox:faults", "GET", "/sandbox/impilo/faults/", (302, 403, 403, 403, 200)),
]
# The sandbox's Impilo API answers Impilo's API key, whoever is signed in; it has its own tests.
NOT_IN_TABLE = {"sandbox:api_orders", "sandbox:api_order", "sandbox:api_patients"}
NOT_IN_TABLE |= {"sandbox:api_kits", "sandbox:api_sites", "sandbox:api_not_found"}
SIGN_IN_PAGES = ("login", "logout")


def client_for(who: str) -> Client:
    client = Client()
    if who == "anonymous":
        return client
    user = User.objects.create_user(username=f"{who}-user")  # no password: no slow hashing
    if who != "no_role":
        user.groups.add(Group.objects.get(name=who))
    user.is_staff = who == "admin"
    user.save()
    client.force_login(user)
    return client


def samples(who: str) -> dict[str, str]:
    creator = User.objects.create_user(username=f"creator-for-{who}")
    catalog()
    return {
        "failed": make_order(creator, "failed").reference,
        "draft": make_order(creator, "draft").reference,
        "rejected": make_order(creator, "rejected").reference,
        "sent": make_order(creator, "submitted", impilo_id=7000 + WHO.index(who)).reference,
        "call": str(make_call().pk),
    }


def test_every_routed_page_has_a_row() -> None:
    routed = {page.name for page in all_pages()}
    assert routed - NOT_IN_TABLE == {row.route for row in TABLE}


@pytest.mark.parametrize("row", TABLE, ids=lambda row: f"{row.method} {row.path}")
def test_access(row: Row) -> None:
    answers = tuple(status_for(row, who) for who in WHO)
    assert dict(zip(WHO, answers, strict=True)) == dict(zip(WHO, row.expected, strict=True))


def status_for(row: Row, who: str) -> int:
    """The status `who` gets, with the checks that go with it; each on fresh samples."""
    values = samples(who)
    path = row.path.format(**values)
    body = "&".join(f"{name}={value.format(**values)}" for name, value in row.data)
    response = client_for(who).generic(
        row.method, path, body, content_type="application/x-www-form-urlencoded"
    )
    if response.status_code == 403:
        assert b"This page needs the" in response.content, (who, path)
    if who == "anonymous" and response.status_code == 302 and row.route not in SIGN_IN_PAGES:
        assert response["Location"].startswith("/accounts/login/?next="), path
    if row.method == "POST" and row.route == "orders:action":
        state = Order.objects.values_list("state", flat=True).get(reference=values["failed"])
        assert (state != "failed") == (who in ("support", "admin")), (who, path)  # who may act
    return response.status_code
