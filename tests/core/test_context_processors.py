import re

import pytest
from django.test import RequestFactory
from django.urls import reverse

from orderdesk.core.context_processors import navigation

pytestmark = pytest.mark.django_db

ALL = ["Orders", "New order", "Needs attention", "Audit log"]
NAV_BY_ROLE = {
    "coordinator": ["Orders", "New order"],
    "support": ALL,
    "admin": ALL,
}


def nav_labels(html: str) -> list[str]:
    nav = re.search(r'<nav[^>]*aria-label="Main".*?</nav>', html, re.S)
    assert nav, "the page has no main navigation"
    labels = re.findall(r"<a class=\"nav-link[^>]*>\s*([^<]*?)\s*</a>", nav.group(0))
    return [re.sub(r"\s+\d+$", "", label) for label in labels]  # drop a count badge


def nav_links(request) -> list[dict]:
    links = navigation(request)["nav_links"]
    assert isinstance(links, list)
    return links


@pytest.mark.parametrize("role", NAV_BY_ROLE)
def test_each_role_sees_only_its_navigation_links(make_user, role: str) -> None:
    request = RequestFactory().get("/orders/")
    request.user = make_user(role)
    labels = [link["label"] for link in nav_links(request)]
    assert labels == NAV_BY_ROLE[role]


@pytest.mark.parametrize("role", NAV_BY_ROLE)
def test_each_role_sees_its_navigation_and_log_out_on_a_page(make_user, client, role) -> None:
    client.force_login(make_user(role))
    html = client.get(reverse("orders:list")).content.decode()
    assert nav_labels(html) == NAV_BY_ROLE[role]
    assert re.search(r'<button type="submit"[^>]*>\s*Log out\s*</button>', html)


def test_anonymous_visitors_get_no_navigation(client) -> None:
    html = client.get(reverse("login")).content.decode()
    assert nav_labels(html) == []
    assert "Log out" not in html


@pytest.mark.parametrize(
    ("path", "current"),
    [
        ("/orders/", "Orders"),
        ("/orders/OD-00000000/", "Orders"),
        ("/orders/new/", "New order"),
        ("/orders/attention/", "Needs attention"),
        ("/audit/", "Audit log"),
    ],
)
def test_only_the_current_section_is_marked_active(make_user, path: str, current: str) -> None:
    request = RequestFactory().get(path)
    request.user = make_user("support")
    active = [link["label"] for link in nav_links(request) if link["active"]]
    assert active == [current]
