"""The admin-only demo page for fault rules."""

import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from orderdesk.sandbox import faults
from orderdesk.sandbox.models import FaultRule

URL = reverse("sandbox:faults")

ADD = {
    "action": "add",
    "kind": "rate_limit",
    "method": "POST",
    "path": r"/api/v3/order$",
    "count": "2",
    "rate": "1",
    "status": "",
    "retry_after": "30",
    "delay": "0",
}


def test_anonymous_visitors_are_sent_to_sign_in(db) -> None:
    response = Client().get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role", ["coordinator", "support"])
def test_other_roles_are_refused(make_user, role) -> None:
    client = Client()
    client.force_login(make_user(role))

    assert client.get(URL).status_code == 403
    assert client.post(URL, ADD).status_code == 403
    assert FaultRule.objects.count() == 0


def test_an_admin_sees_the_rules_and_a_labelled_form(admin_client_) -> None:
    faults.inject("status", path=r"/api/v3/kit$", status=502, count=3)

    response = admin_client_.get(URL)

    assert response.status_code == 200
    page = response.content.decode()
    assert "/api/v3/kit$" in page
    assert "502" in page
    for field in ("kind", "method", "path", "count", "rate", "status", "retry_after", "delay"):
        assert re.search(rf'<label\s+for="id_{field}"', page), field
    for label in ("HTTP method", "Number of requests it hits", "Retry-After header"):
        assert label in page
    assert "Clear all rules" in page


def test_an_admin_adds_a_rule(admin_client_) -> None:
    response = admin_client_.post(URL, ADD)

    assert response.status_code == 302
    rule = FaultRule.objects.get()
    assert (rule.kind, rule.method, rule.path, rule.remaining, rule.retry_after) == (
        "rate_limit",
        "POST",
        r"/api/v3/order$",
        2,
        "30",
    )
    assert "was added" in admin_client_.get(URL).content.decode()


def test_an_invalid_rule_shows_the_error_and_keeps_the_input(admin_client_) -> None:
    response = admin_client_.post(URL, {**ADD, "path": "(unclosed"})

    assert response.status_code == 200
    page = response.content.decode()
    assert "Not a valid regular expression" in page
    assert 'value="(unclosed"' in page
    assert FaultRule.objects.count() == 0


def test_an_admin_clears_the_rules(admin_client_) -> None:
    faults.inject("reset")
    faults.inject("latency", delay=1)

    response = admin_client_.post(URL, {"action": "clear"})

    assert response.status_code == 302
    assert FaultRule.objects.count() == 0


def test_the_page_needs_a_csrf_token_but_the_api_does_not(admin_user, local_api) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)

    assert client.post(URL, ADD).status_code == 403
    api = client.post(
        local_api.prefix + "/site",
        json.dumps({"name": "Clinic"}),
        content_type="application/json",
        headers={"Impilo-API-Key": local_api.key},
    )
    assert api.status_code == 201
